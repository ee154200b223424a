// The UI's pure parts under node, no browser: the model's handling of full
// graphs and deltas, placement of new nodes, pins, and the bending of
// parallel edges.  (web/package.json says "type": "module", so node loads
// web/js/*.js as the browser does.)

import {describe, it, beforeEach} from 'node:test';
import assert from 'node:assert/strict';

// What the modules touch of the browser, at call time only.
const store = new Map();
globalThis.localStorage = {
	getItem: (k) => (store.has(k) ? store.get(k) : null),
	setItem: (k, v) => store.set(k, String(v)),
};

const {Model} = await import('../../web/js/model.js');
const {placeNew, seedPositions, spotNear, Pins, Occupancy} = await import('../../web/js/layout.js');
const {GraphView, typeKey} = await import('../../web/js/view.js');
const {PIN_KEY, PIN_MAX, typeInfo, knownType} = await import('../../web/js/config.js');

const proc = (pid, extra = {}) => ({id: `p:${pid}:1`, kind: 'process', pid, name: 'n' + pid,
    label: 'n' + pid, type: 'app', ...extra});
const edge = (a, b, port, extra = {}) => ({id: `tcp:${a}>${b}:${port}`, from: a, to: b,
    proto: 'tcp', count: 1, server_port: port, reason: 'listener', ...extra});

describe('model', () => {
	it('applies a full graph, then deltas as upserts and removals', () => {
		const m = new Model();
		m.applyFull({nodes: [proc(1), proc(2)], edges: [edge('p:1:1', 'p:2:1', 80)],
		    meta: {host: 'h'}});
		assert.equal(m.nodes.size, 2);
		assert.equal(m.meta.host, 'h');
		assert.ok(m.loaded);
		m.applyDelta({nodes: {add: [proc(3)], update: [proc(2, {label: 'two'})], remove: ['p:1:1']},
		    edges: {remove: ['tcp:p:1:1>p:2:1:80']}, meta: {host: 'h2'}});
		assert.deepEqual([...m.nodes.keys()].sort(), ['p:2:1', 'p:3:1']);
		assert.equal(m.nodes.get('p:2:1').label, 'two');
		assert.equal(m.edges.size, 0);
		assert.equal(m.meta.host, 'h2');
		// Removing what is not there and adding what is are harmless.
		m.applyDelta({nodes: {add: [proc(3)], remove: ['nope']}});
		assert.equal(m.nodes.size, 2);
	});

	it('keeps the object of an item a full graph did not change', () => {
		const m = new Model();
		m.applyFull({nodes: [proc(1), proc(2)], edges: []});
		const one = m.nodes.get('p:1:1'), two = m.nodes.get('p:2:1');
		m.applyFull({nodes: [proc(1), proc(2, {user: 'bob'})], edges: []});
		assert.equal(m.nodes.get('p:1:1'), one, 'unchanged: same object');
		assert.notEqual(m.nodes.get('p:2:1'), two, 'changed: the new object');
	});

	it('keeps names from full graphs and name deltas', async () => {
		const {endpointText, addrNameText} = await import('../../web/js/format.js');
		const m = new Model();
		m.applyFull({nodes: [], edges: [], names: {'203.0.113.7': 'www.example.org',
		    '2001:db8::1': 'v6.example'}, names_source: {'203.0.113.7': 'ptr'}});
		assert.equal(m.nameOf('203.0.113.7'), 'www.example.org');
		assert.equal(addrNameText(m, '203.0.113.7'), 'www.example.org (ptr)');
		assert.equal(endpointText(m, '203.0.113.7:443'), 'www.example.org:443 (203.0.113.7)');
		assert.equal(endpointText(m, '[2001:db8::1]:22'), 'v6.example:22 (2001:db8::1)');
		assert.equal(endpointText(m, '10.0.0.1:80'), '10.0.0.1:80', 'no name: as it was');
		m.applyDelta({names: {set: {'10.0.0.1': 'db.internal'}, source: {'10.0.0.1': 'hosts'},
		    remove: ['203.0.113.7']}});
		assert.equal(m.nameOf('10.0.0.1'), 'db.internal');
		assert.equal(m.names.get('10.0.0.1').source, 'hosts');
		assert.equal(m.nameOf('203.0.113.7'), undefined);
		// junk is ignored, a full graph without names clears them
		m.applyDelta({names: {set: {'1.2.3.4': 7}, remove: 'x'}});
		assert.equal(m.nameOf('1.2.3.4'), undefined);
		m.applyFull({nodes: [], edges: []});
		assert.equal(m.names.size, 0);
	});

	it('skips malformed items instead of failing', () => {
		const m = new Model();
		m.applyFull({nodes: [null, 7, {}, {id: 5}, {id: ''}, proc(1)],
		    edges: [{id: 'e'}, {id: 'e2', from: 'a'}, edge('p:1:1', 'p:1:1', 1)]});
		assert.deepEqual([...m.nodes.keys()], ['p:1:1']);
		assert.equal(m.edges.size, 1);
		m.applyDelta({nodes: 'junk', edges: {add: 'junk', remove: [3, null]}});
		assert.equal(m.nodes.size, 1);
	});

	it('types nodes for filters and icons', () => {
		assert.equal(typeKey({kind: 'external', type: 'external'}), 'external');
		assert.equal(typeKey({kind: 'endpoint', type: 'service'}), 'endpoint');
		assert.equal(typeKey({kind: 'process', type: 'database'}), 'database');
		assert.equal(typeKey({kind: 'process', type: 'custom_kind'}), 'custom_kind');
		assert.equal(typeKey({kind: 'process'}), 'app');
		// Rules may name any type; our tables are looked up by own keys only.
		for (const t of ['constructor', '__proto__', 'toString'])
			assert.equal(typeInfo(t).label, 'Application', t);
		assert.equal(knownType('database'), true);
	});
});

describe('placement', () => {
	const dist = (a, b) => Math.hypot(a.x - b.x, a.y - b.y);

	it('puts a new node next to its neighbour, clear of every other node', () => {
		const positions = {};
		for (let i = 0; i < 40; i++)
			positions['n' + i] = {x: (i % 8) * 250, y: Math.floor(i / 8) * 250};
		const {placed, loners} = placeNew(['new'], new Map([['new', ['n20']]]), positions);
		assert.deepEqual(loners, []);
		const p = placed.new;
		assert.ok(dist(p, positions.n20) < 200, 'near its neighbour: ' + dist(p, positions.n20));
		for (const q of Object.values(positions))
			assert.ok(dist(p, q) >= 109, 'overlaps a node at ' + JSON.stringify(q));
	});

	it('seeds a first layout without two nodes on one spot', () => {
		const ps = Object.values(seedPositions(Array.from({length: 300}, (_, i) => 'n' + i)));
		const keys = new Set(ps.map((p) => Math.round(p.x) + ',' + Math.round(p.y)));
		assert.equal(keys.size, 300);
	});

	it('seeds each host of the fleet map apart from the others', () => {
		const ids = Array.from({length: 90}, (_, i) => 'h' + (i % 3) + '/n' + i);
		const ps = seedPositions(ids, (id) => id.slice(0, 2));
		const box = (h) => {
			const xs = ids.filter((id) => id.startsWith(h)).map((id) => ps[id]);
			return {x0: Math.min(...xs.map((p) => p.x)), x1: Math.max(...xs.map((p) => p.x)),
			    y0: Math.min(...xs.map((p) => p.y)), y1: Math.max(...xs.map((p) => p.y))};
		};
		const [a, b, c] = ['h0', 'h1', 'h2'].map(box);
		const apart = (p, q) => p.x1 < q.x0 || q.x1 < p.x0 || p.y1 < q.y0 || q.y1 < p.y0;
		assert.ok(apart(a, b) && apart(a, c) && apart(b, c), JSON.stringify([a, b, c]));
	});

	it('places chains of new nodes and spreads siblings', () => {
		const positions = {hub: {x: 0, y: 0}};
		const nb = new Map([['a', ['hub']], ['b', ['hub']], ['c', ['a']]]);
		const {placed, loners} = placeNew(['c', 'a', 'b'], nb, positions);
		assert.deepEqual(loners, []);
		assert.ok(dist(placed.a, placed.b) >= 109);
		assert.ok(dist(placed.c, placed.a) < 300);
	});

	it('sends nodes with no neighbour to a row below the map', () => {
		const positions = {a: {x: 0, y: 0}, b: {x: 0, y: 500}};
		const {placed, loners} = placeNew(['x', 'y'], new Map(), positions);
		assert.deepEqual(loners.sort(), ['x', 'y']);
		assert.ok(placed.x.y > 500 && placed.y.y > 500);
		const s = spotNear([{x: 0, y: 0}], {...positions, ...placed}, 'x');
		assert.ok(dist(s, positions.a) < 300);
	});

	it('starts newcomers that only know each other together in the row', () => {
		const positions = {a: {x: 0, y: 0}};
		const nb = new Map([['x', ['y']], ['y', ['x', 'z']], ['z', ['y']]]);
		const {placed, loners} = placeNew(['x', 'y', 'z', 'w'], nb, positions);
		assert.deepEqual(loners, ['w']);
		assert.ok(placed.x.y > 0 && dist(placed.x, placed.y) < 300 && dist(placed.y, placed.z) < 300);
	});

	it('finds free spots in a crowd', () => {
		const occ = new Occupancy({});
		const spots = [];
		for (let i = 0; i < 200; i++)
			spots.push(occ.spot(0, 0, i * 37));
		for (let i = 0; i < spots.length; i++) {
			for (let j = i + 1; j < spots.length; j++)
				assert.ok(dist(spots[i], spots[j]) >= 109);
		}
	});
});

describe('pins', () => {
	beforeEach(() => store.clear());

	it('survive a reload and are capped', () => {
		const p = new Pins();
		p.set('a', 10.4, 20.6);
		assert.deepEqual(new Pins().get('a').x, 10);
		for (let i = 0; i < PIN_MAX + 10; i++)
			p.set('k' + i, i, i);
		assert.equal(Object.keys(JSON.parse(store.get(PIN_KEY))).length, PIN_MAX);
		p.remove('k' + (PIN_MAX + 9));
		assert.equal(new Pins().has('k' + (PIN_MAX + 9)), false);
	});

	it('ignore a corrupt store', () => {
		store.set(PIN_KEY, '{not json');
		assert.equal(new Pins().has('a'), false);
		store.set(PIN_KEY, JSON.stringify({a: {x: 'no'}, b: {x: 1, y: 2, t: 3}}));
		const p = new Pins();
		assert.equal(p.has('a'), false);
		assert.equal(p.get('b').y, 2);
	});
});

describe('parallel edges', () => {
	const smoothing = GraphView.prototype.smoothing;
	const shape = (e, s) => {
		if (!s)
			return 'straight';
		const flip = e.from > e.to;
		return (s.type === 'curvedCW') !== flip ? 'CW' + s.roundness : 'CCW' + s.roundness;
	};

	it('keeps a lone edge straight and bends the others apart', () => {
		for (const n of [2, 3, 4, 5]) {
			const edges = [];
			for (let i = 0; i < n; i++) {
				const back = i % 2 === 1;
				edges.push({id: 'e' + i, from: back ? 'B' : 'A', to: back ? 'A' : 'B'});
			}
			edges.push({id: 'lone', from: 'A', to: 'C'});
			const out = smoothing(edges);
			assert.equal(out.get('lone'), false);
			const shapes = new Set(edges.slice(0, n).map((e) => shape(e, out.get(e.id))));
			assert.equal(shapes.size, n, n + ' edges, shapes ' + [...shapes]);
		}
	});
});

describe('recent window text', async () => {
	const {recentOf, recentOnly, recentText, bytesText, recentBytesText, rateOf, rateWidth,
	    rateText, rttText} = await import('../../web/js/recent.js');

	it('says how many connections, and whether any is open', () => {
		const r = {window_s: 60, opened: 37, closed: 37, bytes_sent: 0, bytes_received: 0};
		assert.equal(recentText(0, r), '37 connections in the last 60 s, none open now');
		assert.equal(recentText(0, {...r, opened: 1, closed: 1}),
		    '1 connection in the last 60 s, none open now');
		assert.equal(recentText(2, {...r, opened: 5, closed: 3}),
		    '5 connections in the last 60 s (5 opened, 3 closed), 2 open now');
		assert.equal(recentText(3, {...r, opened: 0, closed: 0}), '');
		assert.equal(recentText(0, undefined), '');
		assert.equal(recentText(0, {window_s: 'x', opened: -4, closed: null}), '');
	});

	it('tells edges on the map only for closed connections', () => {
		assert.equal(recentOnly(0, {opened: 2, closed: 2}), true);
		assert.equal(recentOnly(0, {opened: 0, closed: 1}), true);
		assert.equal(recentOnly(1, {opened: 2, closed: 2}), false);
		assert.equal(recentOnly(0, {opened: 0, closed: 0}), false);
		assert.equal(recentOnly(0, null), false);
	});

	it('adds up several edges, ignoring junk', () => {
		const r = recentOf([{recent: {window_s: 60, opened: 1, closed: 2, bytes_sent: 3,
		    bytes_received: 4}}, {recent: {window_s: 60, opened: 10, closed: 20,
		    bytes_sent: 30, bytes_received: 40}}, {}, {recent: 'x'}, null]);
		assert.deepEqual(r, {window_s: 60, opened: 11, closed: 22, bytes_sent: 33,
		    bytes_received: 44});
	});

	it('writes bytes in decimal units', () => {
		assert.equal(bytesText(0), '0 B');
		assert.equal(bytesText(999), '999 B');
		assert.equal(bytesText(1536), '1.54 kB');
		assert.equal(bytesText(10485760), '10.5 MB');
		assert.equal(bytesText(250e9), '250 GB');
		assert.equal(bytesText(-1), '0 B');
		assert.equal(recentBytesText({bytes_sent: 2000, bytes_received: 1e6}),
		    '2.00 kB to the server, 1.00 MB back');
		assert.equal(recentBytesText({bytes_sent: 0, bytes_received: 0}), '');
	});

	it('adds up traffic, averages RTT, and sizes by traffic', () => {
		const r = rateOf([{bytes_per_s: {sent: 1000, received: 10}, rtt_ms: 0.05},
		    {bytes_per_s: {sent: 2000, received: 0}, rtt_ms: null},
		    {bytes_per_s: {sent: 0, received: 5}, rtt_ms: 0.15}, {bytes_per_s: 7}, null]);
		assert.deepEqual({sent: r.sent, received: r.received}, {sent: 3000, received: 15});
		assert.ok(Math.abs(r.rtt_ms - 0.1) < 1e-9);
		assert.equal(rateOf([{}]).rtt_ms, null);
		assert.equal(rateText(r), '3.00 kB/s to the server, 15 B/s back');
		assert.equal(rateText({sent: 0, received: 0}), '');
		assert.equal(rttText(r), '0.100 ms');
		assert.equal(rttText({rtt_ms: 123.4}), '123 ms');
		assert.equal(rttText({rtt_ms: null}), '');
		assert.equal(rateWidth({sent: 0, received: 0}), 1);
		assert.ok(rateWidth({sent: 1e6, received: 0}) > rateWidth({sent: 1e3, received: 0}));
		assert.equal(rateWidth({sent: 1e12, received: 1e12}), 9);
	});
});
