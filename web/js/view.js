// Turns the model into vis-network DataSet items and keeps them in step:
// each render computes what should be drawn (after grouping and filters),
// compares it with what is drawn item by item, and applies only the
// differences as add/update/remove.  The items' looks, timed ones too (new
// items glow for a while, closed ones fade before they go), are built in
// view_looks.js; placement and the physics layout in view_layout.js.

import {FADE_MS, GROUP_ON, GROUP_OFF, BIG_GRAPH, MAX_CONNS_SHOWN} from './config.js';
import {iconFor} from './icons.js';
import {Pins} from './layout.js';
import {FONT, NODE_FIELDS, EDGE_FIELDS, looks} from './view_looks.js';
import {layoutGlue} from './view_layout.js';
import {groups, savedGroupBy} from './view_groups.js';

export {typeKey} from './view_looks.js';
export {GROUP_MODES} from './view_groups.js';

export class GraphView {
	constructor(container, model) {
		this.model = model;
		this.nodes = new vis.DataSet();
		this.edges = new vis.DataSet();
		this.network = new vis.Network(container, {nodes: this.nodes, edges: this.edges},
		    this.options(false));
		this.pins = new Pins();
		this.filters = {hiddenTypes: new Set(), hiddenContainers: new Set(), tcp: true,
		    udp: true, externals: true, ports: true, recentOnly: true,
		    widthBy: 'count'};
		this.filterVersion = 0;	// bumped by the filter panel
		this.expanded = new Set();
		this.grouped = false;
		this.groupBy = savedGroupBy();	// view_groups.js GROUP_MODES
		this.containers = new Map();	// container id -> {title, ids: Set of view ids}
		this.paused = false;
		this.initialDone = false;
		this.big = false;
		this.shownN = new Map();	// id -> {sig, item, base}
		this.shownE = new Map();
		this.ghostN = new Map();	// id -> {since, base}
		this.ghostE = new Map();
		this.firstSeen = new Map();	// raw id -> local ms (0: in the first picture)
		this.activeUntil = 0;
		this.stats = {renders: 0, lastRenderMs: 0, maxRenderMs: 0, adds: 0, updates: 0,
		    removes: 0};
		this.byView = new Map();	// view node id -> base (last render)
		this.viewOf = new Map();	// raw node id -> view node id
		this.edgeBase = new Map();	// view edge id -> base
		this.listeners = [];
		this.loners = new Set();	// placed with no peer; moved once on the first edge

		this.network.on('dragEnd', (p) => this.onDragEnd(p));
		this.network.on('beforeDrawing', (ctx) => this.drawContainers(ctx));
		this.network.on('stabilizationIterationsDone', () => this.settled());
	}

	options(big) {
		return {
			autoResize: true,
			nodes: {
				shape: 'image',
				size: 17,
				font: {face: FONT, size: 13, color: '#0f172a', strokeWidth: 4,
				    strokeColor: '#ffffff'},
				shapeProperties: {interpolation: true},
				// Names stay readable further out than vis's default.
				scaling: {label: {enabled: false, drawThreshold: 3}},
			},
			edges: {
				selectionWidth: 1.5,
				hoverWidth: 0.8,
				font: {face: FONT, size: 10, color: '#475569', strokeWidth: 3,
				    strokeColor: '#ffffff', align: 'middle'},
				arrowStrikethrough: false,
			},
			physics: {
				enabled: false,
				solver: 'forceAtlas2Based',
				forceAtlas2Based: {gravitationalConstant: -120, centralGravity: 0.01,
				    springLength: 170, springConstant: 0.04, damping: 0.5,
				    avoidOverlap: 0.9},
				stabilization: {enabled: true, iterations: 600, updateInterval: 50,
				    fit: true},
				minVelocity: 1.5,
			},
			layout: {improvedLayout: false, randomSeed: 7},
			interaction: {hover: true, tooltipDelay: 150, hideEdgesOnDrag: big,
			    hideEdgesOnZoom: big, multiselect: false, navigationButtons: false,
			    keyboard: false, zoomSpeed: 0.7},
		};
	}

	onChange(fn) {
		this.listeners.push(fn);
	}

	// Shows another model (the time bar's past minute, or live again):
	// what it holds is not "new" and what it lacks does not fade out.
	switchModel(m) {
		this.model = m;
		this.firstSeen.clear();
		for (const id of m.nodes.keys())
			this.firstSeen.set(id, 0);
		for (const id of m.edges.keys())
			this.firstSeen.set(id, 0);
		this.ghostN.clear();
		this.ghostE.clear();
		this.noGhosts = true;
		this.dirty = true;
		const paused = this.paused;
		this.paused = false;
		this.render();
		this.paused = paused;
		this.noGhosts = false;
	}

	// ---- deriving what to draw -------------------------------------

	compute() {
		const m = this.model;
		let procs = 0;
		for (const n of m.nodes.values()) {
			if (n.kind === 'process')
				procs++;
		}
		if (!this.grouped && procs > GROUP_ON)
			this.grouped = true;
		else if (this.grouped && procs < GROUP_OFF)
			this.grouped = false;

		const vn = new Map();
		const viewOf = new Map();
		const opened = new Set();
		this.foldByMode(m, vn, viewOf, opened);
		if (this.grouped) {
			// Above GROUP_ON processes, what is still alone goes by name.
			const byName = new Map();
			for (const n of m.nodes.values()) {
				if (n.kind !== 'process' || viewOf.has(n.id) || opened.has(n.id))
					continue;
				const name = String(n.name ?? n.label ?? '');
				let l = byName.get(name);
				if (!l)
					byName.set(name, l = []);
				l.push(n);
			}
			for (const [name, members] of byName) {
				if (members.length < 2 || this.expanded.has(name))
					continue;
				const gid = 'g:' + name;
				vn.set(gid, {id: gid, group: true, name, key: name, members});
				for (const n of members)
					viewOf.set(n.id, gid);
			}
		}
		for (const n of m.nodes.values()) {
			if (viewOf.has(n.id))
				continue;
			vn.set(n.id, {id: n.id, raw: n, members: [n]});
			viewOf.set(n.id, n.id);
		}

		const ve = new Map();
		for (const e of m.edges.values()) {
			const f = viewOf.get(e.from), t = viewOf.get(e.to);
			if (!f || !t)
				continue;
			const folded = f !== e.from || t !== e.to;
			if (!folded) {
				ve.set(e.id, {id: e.id, raw: e, from: f, to: t, proto: e.proto,
				    rawIds: [e.id], raws: [e]});
				continue;
			}
			if (f === t)
				continue;	// inside one group: listed in its details
			const id = e.proto + ':' + f + '>' + t + ':' + e.server_port;
			let b = ve.get(id);
			if (!b)
				ve.set(id, b = {id, from: f, to: t, proto: e.proto, rawIds: [], raws: []});
			b.rawIds.push(e.id);
			b.raws.push(e);
		}
		this.boxContainers(m, viewOf);
		return {vn, ve, viewOf, procs};
	}

	// Items whose API data (by identity) and look inputs did not change are
	// reused as they are: most of a large graph, most of the time.
	reuse(shown, id, refs, key) {
		const prev = shown.get(id);
		if (!prev || prev.key !== key || prev.refs.length !== refs.length)
			return null;
		for (let i = 0; i < refs.length; i++) {
			if (prev.refs[i] !== refs[i])
				return null;
		}
		return prev;
	}

	nodeEntry(b, now, ghost) {
		const fresh = !ghost && this.isFresh(b.members.map((n) => n.id), now);
		const alpha = ghost ? Math.max(0.1, 1 - (now - ghost.since) / FADE_MS) : 1;
		const key = !!ghost + '|' + fresh + '|' + Math.round(alpha * 10) + '|' + this.pins.has(b.id) + '|' +
		    !!this.layoutRunning + '|' +
		    this.filterVersion + '|' + iconFor(b.group ? {kind: 'process',
		    type: b.members[0].type} : b.raw);
		const prev = this.reuse(this.shownN, b.id, b.members, key);
		if (prev)
			return {refs: b.members, key, style: prev.style, item: prev.item, base: b};
		const item = this.nodeItem(b, now, ghost);
		return {refs: b.members, key, style: styleSig(item), item, base: b};
	}

	edgeEntry(b, now, ghost, smooth, hiddenNodes) {
		const fresh = !ghost && this.isFresh(b.rawIds, now);
		const alpha = ghost ? Math.max(0.08, 1 - (now - ghost.since) / FADE_MS) : 1;
		const key = !!ghost + '|' + fresh + '|' + Math.round(alpha * 20) + '|' + this.filterVersion + '|' +
		    this.big + '|' + hiddenNodes.has(b.from) + hiddenNodes.has(b.to) + '|' +
		    JSON.stringify(smooth);
		const prev = this.reuse(this.shownE, b.id, b.raws, key);
		if (prev)
			return {refs: b.raws, key, style: prev.style, item: prev.item, base: b};
		const item = this.edgeItem(b, now, ghost, smooth, hiddenNodes);
		return {refs: b.raws, key, style: styleSig(item), item, base: b};
	}

	// ---- applying ----------------------------------------------------

	needsTick(now) {
		return this.dirty || this.ghostN.size > 0 || this.ghostE.size > 0 ||
		    now < this.activeUntil + 500;
	}

	render() {
		if (this.paused)
			return;
		const t0 = performance.now();
		const now = Date.now();
		this.dirty = false;
		const m = this.model;
		const first = !this.initialDone;
		if (first && m.nodes.size > 0)
			this.layoutRunning = true;	// so pinned nodes are drawn fixed

		for (const id of m.nodes.keys()) {
			if (!this.firstSeen.has(id))
				this.firstSeen.set(id, first ? 0 : now);
		}
		for (const id of m.edges.keys()) {
			if (!this.firstSeen.has(id))
				this.firstSeen.set(id, first ? 0 : now);
		}
		for (const id of this.firstSeen.keys()) {
			if (!m.nodes.has(id) && !m.edges.has(id))
				this.firstSeen.delete(id);
		}

		const {vn, ve, viewOf, procs} = this.compute();
		const big = procs > BIG_GRAPH || ve.size > BIG_GRAPH * 2;
		if (big !== this.big) {
			this.big = big;
			this.network.setOptions({interaction: {hideEdgesOnDrag: big,
			    hideEdgesOnZoom: big}});
		}

		// Closed items linger as ghosts; items folded into or out of a group
		// are not closed and go at once.
		for (const [id, s] of this.shownN) {
			if (this.noGhosts || vn.has(id) || this.ghostN.has(id) || s.item.closing)
				continue;
			if (s.base.members.every((n) => !m.nodes.has(n.id)))
				this.ghostN.set(id, {since: now, base: s.base});
		}
		for (const [id, g] of this.ghostN) {
			if (vn.has(id) || now - g.since >= FADE_MS)
				this.ghostN.delete(id);
		}
		const nodeThere = (id) => vn.has(id) || this.ghostN.has(id);
		for (const [id, s] of this.shownE) {
			if (this.noGhosts || ve.has(id) || this.ghostE.has(id) || s.item.closing)
				continue;
			if (s.base.rawIds.every((r) => !m.edges.has(r)) && nodeThere(s.base.from) &&
			    nodeThere(s.base.to))
				this.ghostE.set(id, {since: now, base: s.base});
		}
		for (const [id, g] of this.ghostE) {
			if (ve.has(id) || now - g.since >= FADE_MS || !nodeThere(g.base.from) ||
			    !nodeThere(g.base.to))
				this.ghostE.delete(id);
		}

		// Nodes.
		const nAdd = [], nUpd = [], nDel = [], eAdd = [], eUpd = [], eDel = [];
		const newShownN = new Map(), newShownE = new Map();
		for (const b of vn.values())
			newShownN.set(b.id, this.nodeEntry(b, now, null));
		for (const [id, g] of this.ghostN)
			newShownN.set(id, this.nodeEntry(g.base, now, g));
		const hiddenNodes = new Set();
		for (const [id, cur] of newShownN) {
			if (cur.item.hidden)
				hiddenNodes.add(id);
			const prev = this.shownN.get(id);
			if (!prev)
				nAdd.push(cur.item);
			else if (prev.item !== cur.item && changed(prev, cur))
				nUpd.push(withDropped(prev.item, cur.item));
		}
		for (const id of this.shownN.keys()) {
			if (!newShownN.has(id))
				nDel.push(id);
		}

		// Edges.
		const allE = [...ve.values(), ...[...this.ghostE.values()].map((g) => g.base)];
		const smooth = this.smoothing(allE);
		for (const b of ve.values())
			newShownE.set(b.id, this.edgeEntry(b, now, null, smooth.get(b.id) ?? false, hiddenNodes));
		for (const [id, g] of this.ghostE)
			newShownE.set(id, this.edgeEntry(g.base, now, g, smooth.get(id) ?? false, hiddenNodes));
		for (const [id, cur] of newShownE) {
			const prev = this.shownE.get(id);
			if (!prev)
				eAdd.push(cur.item);
			else if (prev.item !== cur.item && changed(prev, cur))
				eUpd.push(withDropped(prev.item, cur.item));
		}
		for (const id of this.shownE.keys()) {
			if (!newShownE.has(id))
				eDel.push(id);
		}

		if (nAdd.length)
			this.position(nAdd, newShownE, first);

		const t1 = performance.now();
		this.batch(() => {
			if (eDel.length)
				this.edges.remove(eDel);
			if (nDel.length)
				this.nodes.remove(nDel);
			if (nUpd.length)
				this.nodes.update(nUpd);
			if (nAdd.length)
				this.nodes.add(nAdd);
			if (eUpd.length)
				this.edges.update(eUpd);
			if (eAdd.length)
				this.edges.add(eAdd);
		});
		this.stats.lastVisMs = performance.now() - t1;
		this.stats.lastChanges = [nAdd.length, nUpd.length, nDel.length, eAdd.length,
		    eUpd.length, eDel.length].join('/');

		this.shownN = newShownN;
		this.shownE = newShownE;
		if (this.loners.size)
			this.moveLoners();
		this.byView = vn;
		this.viewOf = viewOf;
		this.edgeBase = ve;

		if (first && vn.size > 0)
			this.startLayout(vn.size);

		const ms = performance.now() - t0;
		const st = this.stats;
		st.renders++;
		st.lastRenderMs = ms;
		st.maxRenderMs = Math.max(st.maxRenderMs, ms);
		st.adds += nAdd.length + eAdd.length;
		st.updates += nUpd.length + eUpd.length;
		st.removes += nDel.length + eDel.length;
		for (const fn of this.listeners)
			fn();
	}

	// After every DataSet event vis-network redoes its O(nodes + edges)
	// bookkeeping and, with physics off, redraws the whole canvas at once:
	// a render sends up to six such events.  Within fn they are folded into
	// one, and the redraw waits for the next animation frame.
	// (body.emitter is vis-internal; without it fn just runs.)
	batch(fn) {
		const em = this.network.body && this.network.body.emitter;
		if (!em || typeof em.emit !== 'function') {
			fn();
			return;
		}
		const own = Object.prototype.hasOwnProperty.call(em, 'emit');
		const emit = em.emit;
		const held = new Set();
		let pass = false;
		em.emit = function (ev, ...args) {
			if (ev === '_redraw' || (!pass && (ev === '_dataChanged' || ev === '_dataUpdated'))) {
				held.add(ev);
				return this;
			}
			return emit.call(this, ev, ...args);
		};
		try {
			fn();
			pass = true;
			if (held.has('_dataChanged'))
				em.emit('_dataChanged');
			else if (held.has('_dataUpdated'))
				em.emit('_dataUpdated');
		} finally {
			if (own)
				em.emit = emit;
			else
				delete em.emit;
			if (held.has('_redraw'))
				em.emit('_requestRedraw');
		}
	}

	setPaused(p) {
		this.paused = p;
		if (!p) {
			this.dirty = true;
			this.render();
		}
	}

	expand(name) {
		this.expanded.add(name);
		this.dirty = true;
		this.render();
	}

	collapse(name) {
		this.expanded.delete(name);
		this.dirty = true;
		this.render();
	}

	// The connections behind a drawn edge, from the model.
	connsOf(id) {
		const s = this.shownE.get(id);
		const out = [];
		if (!s)
			return out;
		for (const e of s.base.raws) {
			if (!Array.isArray(e.conns))
				continue;
			for (const c of e.conns) {
				if (out.length >= MAX_CONNS_SHOWN)
					return out;
				out.push(c);
			}
		}
		return out;
	}

	// The drawn node a raw node id is shown as (itself or its group).
	shownAs(rawId) {
		return this.viewOf.get(rawId);
	}
}

Object.assign(GraphView.prototype, looks, layoutGlue, groups);

// Keys the diff looks at besides the API data; API fields are compared
// through the raw signature.
const API_KEYS = new Set([...NODE_FIELDS, ...EDGE_FIELDS, 'apiLabel', 'pids', 'members',
    'rawIds']);
function styleSig(it) {
	const o = {};
	for (const k of Object.keys(it)) {
		if (!API_KEYS.has(k))
			o[k] = it[k];
	}
	return JSON.stringify(o);
}

// The model keeps an item's object when the server did not change it, so
// identity tells whether the API data changed; the look is compared as text.
function changed(prev, cur) {
	if (prev.style !== cur.style || prev.refs.length !== cur.refs.length)
		return true;
	for (let i = 0; i < cur.refs.length; i++) {
		if (prev.refs[i] !== cur.refs[i])
			return true;
	}
	return false;
}

// DataSet.update merges: a field the new item lacks must be cleared.
function withDropped(prev, it) {
	for (const k of Object.keys(prev)) {
		if (!(k in it) && k !== 'x' && k !== 'y')
			it[k] = null;
	}
	return it;
}

