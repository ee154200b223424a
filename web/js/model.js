// The graph as the server last described it: nodes and edges by id, plus
// meta and the collector state.  Full graphs and deltas both land here;
// the view derives what to draw from it.

import {MAX_ITEMS} from './config.js';

function valid(item) {
	return item && typeof item === 'object' && typeof item.id === 'string' &&
	    item.id.length > 0 && item.id.length < 1024;
}

function validEdge(e) {
	return valid(e) && typeof e.from === 'string' && typeof e.to === 'string';
}

export class Model {
	constructor() {
		this.nodes = new Map();
		this.edges = new Map();
		this.meta = {};
		// address -> {name, source}: webd's names for the graph's addresses
		this.names = new Map();
		this.collector = null;		// last status message
		this.updatedAt = 0;		// local time of the last graph data
		this.loaded = false;
		this.version = 0;		// bumps on every change
	}

	applyFull(g) {
		const nodes = new Map();
		const edges = new Map();
		for (const n of g.nodes || []) {
			if (valid(n) && nodes.size < MAX_ITEMS)
				nodes.set(n.id, this.nodes.get(n.id) && same(this.nodes.get(n.id), n) ?
				    this.nodes.get(n.id) : n);
		}
		for (const e of g.edges || []) {
			if (validEdge(e) && edges.size < MAX_ITEMS)
				edges.set(e.id, this.edges.get(e.id) && same(this.edges.get(e.id), e) ?
				    this.edges.get(e.id) : e);
		}
		this.nodes = nodes;
		this.edges = edges;
		if (g.meta && typeof g.meta === 'object')
			this.meta = g.meta;
		this.names = new Map();
		setNames(this.names, g.names, g.names_source);
		this.touch();
	}

	applyDelta(d) {
		apply(this.nodes, d.nodes, valid);
		apply(this.edges, d.edges, validEdge);
		if (d.meta && typeof d.meta === 'object')
			this.meta = d.meta;
		if (d.names && typeof d.names === 'object') {
			setNames(this.names, d.names.set, d.names.source);
			if (Array.isArray(d.names.remove)) {
				for (const a of d.names.remove)
					this.names.delete(a);
			}
		}
		this.touch();
	}

	// The name webd knows for an address, or undefined.
	nameOf(addr) {
		const n = this.names.get(addr);
		return n ? n.name : undefined;
	}

	touch() {
		this.updatedAt = Date.now();
		this.loaded = true;
		this.version++;
	}
}

function setNames(map, names, sources) {
	if (!names || typeof names !== 'object')
		return;
	const src = sources && typeof sources === 'object' ? sources : {};
	for (const [addr, name] of Object.entries(names)) {
		if (typeof name === 'string' && name.length < 256 &&
		    (map.has(addr) || map.size < MAX_ITEMS))
			map.set(addr, {name, source: typeof src[addr] === 'string' ? src[addr] : ''});
	}
}

// Keeping the old object when nothing changed lets the view skip it cheaply.
const texts = new WeakMap();
function text(o) {
	let t = texts.get(o);
	if (t === undefined) {
		t = JSON.stringify(o);
		texts.set(o, t);
	}
	return t;
}

function same(a, b) {
	return a === b || text(a) === text(b);
}

function apply(map, part, ok) {
	if (!part || typeof part !== 'object')
		return;
	for (const list of [part.add, part.update]) {
		if (!Array.isArray(list))
			continue;
		for (const it of list) {
			if (ok(it) && (map.has(it.id) || map.size < MAX_ITEMS))
				map.set(it.id, it);
		}
	}
	if (Array.isArray(part.remove)) {
		for (const id of part.remove) {
			if (typeof id === 'string')
				map.delete(id);
		}
	}
}
