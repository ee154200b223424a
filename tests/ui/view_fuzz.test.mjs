// GraphView's diffing against a stand-in for vis-network, under node: a
// random walk of full graphs and deltas (processes coming and going,
// grouping switching on and off around 150 processes, groups expanded,
// filters) must always leave the DataSets drawing exactly the model:
// every process once (alone or in its group), every edge between the
// nodes that stand for its ends, nothing added twice or removed unseen.

import {describe, it} from 'node:test';
import assert from 'node:assert/strict';

const store = new Map();
globalThis.localStorage = {getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v)};
globalThis.Image = class { set src(v) { this._src = v; } };	// icon probes never answer

class DataSet {
	constructor() {
		this.m = new Map();
		this.handlers = {};
	}
	on(ev, fn) {
		(this.handlers[ev] ||= []).push(fn);
	}
	emit(ev, items) {
		for (const fn of this.handlers[ev] || [])
			fn(ev, {items});
	}
	add(items) {
		for (const it of [].concat(items)) {
			if (this.m.has(it.id))
				throw new Error('add of an id already there: ' + it.id);
			this.m.set(it.id, {...it});
		}
		this.emit('add', [].concat(items).map((i) => i.id));
	}
	update(items) {
		for (const it of [].concat(items)) {
			if (!this.m.has(it.id))
				throw new Error('update of an id not there: ' + it.id);
			this.m.set(it.id, {...this.m.get(it.id), ...it});
		}
	}
	remove(ids) {
		for (const id of [].concat(ids)) {
			if (!this.m.delete(id))
				throw new Error('remove of an id not there: ' + id);
		}
		this.emit('remove', [].concat(ids));
	}
	get(id) {
		if (typeof id === 'string')
			return this.m.get(id) ?? null;
		const all = [...this.m.values()];
		return id && id.filter ? all.filter(id.filter) : all;
	}
	getIds() {
		return [...this.m.keys()];
	}
	get length() {
		return this.m.size;
	}
}

class Network {
	constructor(el, data) {
		this.data = data;
		this.handlers = {};
		this.body = {emitter: {emit: () => this}};
	}
	on(ev, fn) {
		(this.handlers[ev] ||= []).push(fn);
	}
	setOptions() {}
	fit() {}
	stabilize() {
		// vis reports the end of stabilisation later, from its own loop.
		setTimeout(() => (this.handlers.stabilizationIterationsDone || []).forEach((f) => f()), 0);
	}
	getPositions(ids) {
		const out = {};
		for (const n of this.data.nodes.get()) {
			if (!ids || ids.includes(n.id))
				out[n.id] = {x: n.x, y: n.y};
		}
		return out;
	}
}
globalThis.vis = {DataSet, Network};

const {Model} = await import('../../web/js/model.js');
const {GraphView} = await import('../../web/js/view.js');

// A small deterministic PRNG, so a failure can be replayed.
function rng(seed) {
	let s = seed >>> 0;
	return () => {
		s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
		return s / 2 ** 32;
	};
}

const MODES = ['process', 'program', 'service', 'container', 'user'];
const NAMES = ['nginx', 'postgres', 'python3', 'node', 'java', 'redis', 'sshd', 'chrome'];

function check(view, model, removed = []) {
	const nodes = view.nodes, edges = view.edges;
	const live = nodes.get({filter: (n) => !n.closing});
	const rep = new Map();	// raw node id -> drawn id
	for (const n of live) {
		if (n.kind === 'group') {
			for (const id of n.members) {
				assert.ok(!rep.has(id), id + ' drawn twice');
				rep.set(id, n.id);
			}
			assert.ok(n.count >= 2);
		} else {
			assert.ok(model.nodes.has(n.id), 'drawn but not in the model: ' + n.id + ' ' + JSON.stringify({closing: n.closing, kind: n.kind, ghost: view.ghostN.has(n.id), shown: view.shownN.has(n.id), shownClosing: view.shownN.get(n.id)?.item.closing, paused: view.paused}));
			assert.ok(!rep.has(n.id), n.id + ' drawn twice');
			rep.set(n.id, n.id);
		}
	}
	for (const id of model.nodes.keys())
		assert.ok(rep.has(id), 'in the model but not drawn: ' + id);
	// A node leaves the map only when the server dropped it or it moved
	// into or out of a group.
	for (const id of removed) {
		if (id.startsWith('g:'))
			assert.ok(!live.some((n) => n.id === id), 'group removed and still drawn: ' + id);
		else if (model.nodes.has(id))
			assert.notEqual(rep.get(id), id, 'removed while in the model and not grouped: ' + id);
	}
	const drawnEdges = new Set();
	for (const e of edges.get()) {
		assert.ok(nodes.get(e.from) && nodes.get(e.to), 'edge to a missing node: ' + e.id);
		if (!e.closing)
			drawnEdges.add(e.from + '>' + e.to + ':' + e.proto + ':' + e.server_port);
	}
	for (const e of model.edges.values()) {
		const f = rep.get(e.from), t = rep.get(e.to);
		if (f === t && f.startsWith('g:'))
			continue;	// inside one group
		assert.ok(drawnEdges.has(f + '>' + t + ':' + e.proto + ':' + e.server_port),
		    'edge not drawn: ' + e.id);
	}
	for (const n of nodes.get())
		assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), 'no position: ' + n.id);
}

describe('GraphView against a fake vis', () => {
	for (const seed of [1, 2, 3]) {
		it('random walk, seed ' + seed, async () => {
			const r = rng(seed);
			const model = new Model();
			const view = new GraphView(null, model);
			let removed = [];
			view.nodes.on('remove', (_, p) => removed.push(...p.items));
			let next = 1;
			const procs = new Map(), edgesById = new Map(), roots = new Map();
			const newProc = () => {
				const pid = next++;
				const name = NAMES[Math.floor(r() * NAMES.length)];
				// webd's group ids: a program tree's top, a unit, a
				// container, a user (the top may be gone: ids are keys)
				if (!roots.has(name) || r() < 0.1)
					roots.set(name, `p:${pid}:1`);
				const inCtr = r() < 0.3;
				const n = {id: `p:${pid}:1`, kind: 'process', pid, name, label: name,
				    type: r() < 0.5 ? 'app' : 'service',
				    groups: {program: roots.get(name), service: 's:' + name + '.service',
				        container: inCtr ? 'c:docker:' + name : roots.get(name),
				        user: 'u:' + (pid % 3)}};
				if (inCtr)
					n.container = {runtime: 'docker', id: name, name: ''};
				procs.set(n.id, n);
				return n;
			};
			const newEdge = () => {
				const ids = [...procs.keys()];
				if (ids.length < 2)
					return null;
				const a = ids[Math.floor(r() * ids.length)], b = ids[Math.floor(r() * ids.length)];
				const proto = r() < 0.2 ? 'udp' : 'tcp', port = 1 + Math.floor(r() * 5);
				const e = {id: `${proto}:${a}>${b}:${port}`, from: a, to: b, proto, count: 1,
				    server_port: port, reason: 'listener', conns: []};
				edgesById.set(e.id, e);
				return e;
			};
			for (let i = 0; i < 140; i++)
				newProc();
			for (let i = 0; i < 200; i++)
				newEdge();
			model.applyFull({nodes: [...procs.values()], edges: [...edgesById.values()]});
			view.render();
			check(view, model);
			await new Promise((res) => setTimeout(res, 5));
			let seq = 0;
			let sawGrouped = false, sawUngroupedAfter = false;
			const modesSeen = new Set();
			for (let step = 0; step < 400; step++) {
				const d = {type: 'delta', seq: ++seq, nodes: {add: [], update: [], remove: []},
				    edges: {add: [], update: [], remove: []}};
				const k = Math.floor(r() * 8);
				const grow = step < 120;	// up past 150 processes, then back down
				for (let j = 0; j < k; j++) {
					const op = r();
					if (op < (grow ? 0.45 : 0.15)) {
						d.nodes.add.push(newProc());
						const e = newEdge();
						if (e)
							d.edges.add.push(e);
					} else if (op < 0.6) {
						const ids = [...procs.keys()];
						const id = ids[Math.floor(r() * ids.length)];
						procs.delete(id);
						d.nodes.remove.push(id);
						for (const [eid, e] of edgesById) {
							if (e.from === id || e.to === id) {
								edgesById.delete(eid);
								d.edges.remove.push(eid);
							}
						}
					} else if (op < 0.75) {
						const e = newEdge();
						if (e)
							d.edges.add.push(e);
					} else if (op < 0.85 && edgesById.size) {
						const ids = [...edgesById.keys()];
						const id = ids[Math.floor(r() * ids.length)];
						edgesById.delete(id);
						d.edges.remove.push(id);
					} else if (procs.size) {
						const ids = [...procs.keys()];
						const n = {...procs.get(ids[Math.floor(r() * ids.length)]), user: 'u' + step};
						procs.set(n.id, n);
						d.nodes.update.push(n);
					}
				}
				// Deltas the way webd sends them; now and then a full graph
				// (a reconnect) instead.
				if (r() < 0.05)
					model.applyFull({nodes: [...procs.values()], edges: [...edgesById.values()]});
				else
					model.applyDelta(d);
				if (r() < 0.05)
					view.expand(NAMES[Math.floor(r() * NAMES.length)]);
				if (r() < 0.05)
					view.collapse(NAMES[Math.floor(r() * NAMES.length)]);
				if (r() < 0.04)
					view.setGroupBy(MODES[Math.floor(r() * MODES.length)]);
				if (r() < 0.05 && procs.size) {
					const ids = [...procs.keys()];
					const g = procs.get(ids[Math.floor(r() * ids.length)]).groups[view.groupBy];
					if (g && r() < 0.5)
						view.expand(g);
					else if (g)
						view.collapse(g);
				}
				if (r() < 0.03) {
					const f = view.filters.hiddenContainers;
					const c = NAMES[Math.floor(r() * NAMES.length)];
					if (f.has(c))
						f.delete(c);
					else
						f.add(c);
					view.filterVersion++;
				}
				modesSeen.add(view.groupBy);
				if (r() < 0.05) {
					view.filters.udp = !view.filters.udp;
					view.filterVersion++;
				}
				view.dirty = true;
				view.render();
				check(view, model, removed);
				removed = [];
				sawGrouped ||= view.grouped;
				sawUngroupedAfter ||= sawGrouped && !view.grouped;
			}
			assert.ok(view.stats.renders > 200);
			assert.ok(sawGrouped, 'grouping never switched on');
			assert.ok(modesSeen.size >= 3, 'group-by barely changed: ' + [...modesSeen]);
			assert.ok(sawUngroupedAfter, 'grouping never switched off again');
		});
	}
});

describe('the recent window on the map', () => {
	const proc = (pid, extra = {}) => ({id: `p:${pid}:1`, kind: 'process', pid, name: 'n' + pid,
	    label: 'n' + pid, type: 'app', ...extra});
	const recent = (opened, closed) => ({window_s: 60, opened, closed, bytes_sent: 10 * opened,
	    bytes_received: 100 * opened});
	const edge = (a, b, port, count, rec) => ({id: `tcp:p:${a}:1>p:${b}:1:${port}`,
	    from: `p:${a}:1`, to: `p:${b}:1`, proto: 'tcp', count, server_port: port,
	    reason: 'connect', recent: rec, conns: []});

	it('draws closed-only edges thin and dotted, faded exited processes, and hides them on request', () => {
		const model = new Model();
		const view = new GraphView(null, model);
		model.applyFull({nodes: [proc(1), proc(2), proc(3, {exited: true})],
		    edges: [edge(1, 2, 80, 2, recent(5, 3)), edge(3, 2, 81, 0, recent(37, 37))],
		    meta: {window_s: 60}});
		view.render();
		const live = view.edges.get('tcp:p:1:1>p:2:1:80');
		const past = view.edges.get('tcp:p:3:1>p:2:1:81');
		assert.equal(live.past, false);
		assert.equal(live.dashes, false);
		assert.ok(live.width > 1);
		assert.equal(past.past, true);
		assert.deepEqual(past.dashes, [2, 4]);
		assert.equal(past.width, 1);
		assert.equal(past.hidden, false);
		assert.deepEqual(past.recent, recent(37, 37));
		const gone = view.nodes.get('p:3:1');
		assert.equal(gone.gone, true);
		assert.equal(gone.opacity, 0.5);	// 0.45, at the item's one-decimal step
		assert.match(gone.label, /exited/);
		assert.equal(view.nodes.get('p:1:1').gone, false);
		assert.equal(view.nodes.get('p:1:1').opacity, 1);

		view.filters.recentOnly = false;
		view.filterVersion++;
		view.dirty = true;
		view.render();
		assert.equal(view.edges.get('tcp:p:3:1>p:2:1:81').hidden, true);
		assert.equal(view.edges.get('tcp:p:1:1>p:2:1:80').hidden, false);

		// a connection opens again: a normal edge once more
		model.applyDelta({nodes: {}, edges: {update: [edge(3, 2, 81, 1, recent(38, 37))]}});
		view.dirty = true;
		view.render();
		const back = view.edges.get('tcp:p:3:1>p:2:1:81');
		assert.equal(back.past, false);
		assert.equal(back.hidden, false);
		assert.equal(back.dashes, false);
	});

	it('sizes edges by traffic when asked', () => {
		const model = new Model();
		const view = new GraphView(null, model);
		const busy = {...edge(1, 2, 80, 1, recent(1, 0)), bytes_per_s: {sent: 5e6, received: 1e5},
		    rtt_ms: 0.04};
		const many = {...edge(3, 2, 81, 40, recent(0, 0)), bytes_per_s: {sent: 10, received: 0},
		    rtt_ms: null};
		model.applyFull({nodes: [proc(1), proc(2), proc(3)], edges: [busy, many]});
		view.render();
		const w = (id) => view.edges.get(id).width;
		assert.ok(w(many.id) > w(busy.id), 'by count: 40 connections are wider');
		view.filters.widthBy = 'traffic';
		view.filterVersion++;
		view.dirty = true;
		view.render();
		assert.ok(w(busy.id) > w(many.id), 'by traffic: 5 MB/s is wider');
		assert.deepEqual(view.edges.get(busy.id).bytes_per_s, {sent: 5e6, received: 1e5});
		assert.equal(view.edges.get(busy.id).rtt_ms, 0.04);
	});

	it('adds up the recent figures of edges folded into a group', () => {
		const model = new Model();
		const view = new GraphView(null, model);
		const nodes = [proc(1, {name: 'srv', label: 'srv'})];
		const edges = [];
		// enough processes of one name to be grouped
		for (let i = 2; i < 200; i++) {
			nodes.push(proc(i, {name: 'curl', label: 'curl', exited: true}));
			edges.push(edge(i, 1, 80, 0, recent(1, 1)));
		}
		model.applyFull({nodes, edges});
		view.render();
		assert.ok(view.grouped);
		const g = view.edges.get({filter: (e) => e.from === 'g:curl'});
		assert.equal(g.length, 1);
		assert.equal(g[0].count, 0);
		assert.equal(g[0].recent.opened, 198);
		assert.equal(g[0].recent.bytes_received, 19800);
		assert.equal(g[0].past, true);
		assert.equal(view.nodes.get('g:curl').opacity, 0.5);
	});
});
