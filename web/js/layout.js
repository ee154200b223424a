// Where new nodes go, and the pins a user set by dragging.  Existing nodes
// never move on their own after the first layout: a new node is put in the
// nearest free spot next to the nodes it is connected to.

import {PIN_KEY, PIN_MAX} from './config.js';

const SPACING = 110;		// minimum distance to any other node
const CELL = SPACING;

export function hash(s) {
	let h = 2166136261;
	for (let i = 0; i < s.length; i++) {
		h ^= s.charCodeAt(i);
		h = Math.imul(h, 16777619);
	}
	return h >>> 0;
}

// A coarse grid of occupied spots so a free-spot search costs O(1) per try.
export class Occupancy {
	constructor(positions) {
		this.grid = new Map();
		this.minX = Infinity; this.maxX = -Infinity;
		this.minY = Infinity; this.maxY = -Infinity;
		for (const p of Object.values(positions))
			this.add(p.x, p.y);
	}

	key(cx, cy) {
		return cx + ',' + cy;
	}

	add(x, y) {
		const k = this.key(Math.floor(x / CELL), Math.floor(y / CELL));
		let c = this.grid.get(k);
		if (!c)
			this.grid.set(k, c = []);
		c.push(x, y);
		this.minX = Math.min(this.minX, x); this.maxX = Math.max(this.maxX, x);
		this.minY = Math.min(this.minY, y); this.maxY = Math.max(this.maxY, y);
	}

	free(x, y) {
		const cx = Math.floor(x / CELL), cy = Math.floor(y / CELL);
		for (let i = cx - 1; i <= cx + 1; i++) {
			for (let j = cy - 1; j <= cy + 1; j++) {
				const c = this.grid.get(this.key(i, j));
				if (!c)
					continue;
				for (let k = 0; k < c.length; k += 2) {
					const dx = c[k] - x, dy = c[k + 1] - y;
					if (dx * dx + dy * dy < SPACING * SPACING)
						return false;
				}
			}
		}
		return true;
	}

	empty() {
		return this.grid.size === 0;
	}

	// Rings of growing radius around (x, y), starting at an angle taken
	// from the id so siblings spread out instead of piling up.
	spot(x, y, seed) {
		const a0 = (seed % 360) * Math.PI / 180;
		for (let ring = 1; ring < 60; ring++) {
			const r = SPACING * (0.9 + ring * 0.55);
			const steps = 6 + ring * 4;
			for (let s = 0; s < steps; s++) {
				const a = a0 + s * 2 * Math.PI / steps;
				const px = x + r * Math.cos(a), py = y + r * Math.sin(a);
				if (this.free(px, py)) {
					this.add(px, py);
					return {x: px, y: py};
				}
			}
		}
		const p = {x: this.maxX + SPACING, y: y};
		this.add(p.x, p.y);
		return p;
	}
}

// Places each new node next to its already placed neighbours.  A group of
// new nodes that only know each other starts in a row below the map and
// grows from there; a node with no edge at all waits in that row, a loner,
// until its first edge says where it belongs (GraphView.moveLoners).
export function placeNew(newIds, neighbours, positions) {
	const occ = new Occupancy(positions);
	const placed = {};
	const pos = (id) => placed[id] || positions[id];
	const loners = [];
	let rowX = occ.empty() ? 0 : occ.minX;
	const rowY = occ.empty() ? 0 : occ.maxY + SPACING * 1.5;
	const inRow = (id) => {
		placed[id] = occ.spot(rowX, rowY, 0);
		rowX = placed[id].x;
	};
	let todo = newIds.filter((id) => !positions[id]);
	for (let round = 0; todo.length && round < newIds.length + 8; round++) {
		const next = [];
		for (const id of todo) {
			const ps = (neighbours.get(id) || []).map(pos).filter(Boolean);
			if (!ps.length) {
				next.push(id);
				continue;
			}
			let x = 0, y = 0;
			for (const p of ps) {
				x += p.x; y += p.y;
			}
			placed[id] = occ.spot(x / ps.length, y / ps.length, hash(id));
		}
		if (next.length === todo.length) {
			// No progress: seed one connected newcomer in the row.
			const seed = next.findIndex((id) => (neighbours.get(id) || []).length > 0);
			if (seed < 0)
				break;
			inRow(next[seed]);
			next.splice(seed, 1);
		}
		todo = next;
	}
	for (const id of todo) {
		if (placed[id])
			continue;
		inRow(id);
		loners.push(id);
	}
	return {placed, loners};
}

// A free spot next to the given peers, for a node that had none so far.
export function spotNear(peers, positions, self) {
	const others = {};
	for (const [id, p] of Object.entries(positions)) {
		if (id !== self)
			others[id] = p;
	}
	const occ = new Occupancy(others);
	let x = 0, y = 0;
	for (const p of peers) {
		x += p.x; y += p.y;
	}
	return occ.spot(x / peers.length, y / peers.length, hash(self));
}

// Starting points for the first layout: a loose spiral, so physics has
// less to untangle.
// hostOf(id) names a node's host on the fleet map ('' elsewhere): each
// host's nodes get a spiral of their own, the hosts side by side, so the
// physics starts from host clusters rather than one mixed disc.
export function seedPositions(ids, hostOf = () => '') {
	const out = {};
	const golden = Math.PI * (3 - Math.sqrt(5));
	const byHost = new Map();
	for (const id of ids) {
		const h = hostOf(id) || '';
		if (!byHost.has(h))
			byHost.set(h, []);
		byHost.get(h).push(id);
	}
	const hosts = [...byHost.keys()].sort();
	const cols = Math.ceil(Math.sqrt(hosts.length));
	const cell = 80 * Math.sqrt(Math.max(...[...byHost.values()].map((l) => l.length), 1)) + 200;
	hosts.forEach((h, k) => {
		const cx = hosts.length > 1 ? (k % cols) * cell : 0;
		const cy = hosts.length > 1 ? Math.floor(k / cols) * cell : 0;
		byHost.get(h).forEach((id, i) => {
			const r = 40 * Math.sqrt(i + 1);
			out[id] = {x: cx + r * Math.cos(i * golden), y: cy + r * Math.sin(i * golden)};
		});
	});
	return out;
}

export class Pins {
	constructor() {
		this.map = {};
		try {
			const v = JSON.parse(localStorage.getItem(PIN_KEY) || '{}');
			if (v && typeof v === 'object') {
				for (const [k, p] of Object.entries(v)) {
					if (p && Number.isFinite(p.x) && Number.isFinite(p.y) &&
					    Number.isFinite(p.t))
						this.map[k] = p;
				}
			}
		} catch (e) {
			this.map = {};
		}
	}

	get(id) {
		return this.map[id];
	}

	has(id) {
		return Object.prototype.hasOwnProperty.call(this.map, id);
	}

	set(id, x, y) {
		this.map[id] = {x: Math.round(x), y: Math.round(y), t: Date.now()};
		const keys = Object.keys(this.map);
		if (keys.length > PIN_MAX) {
			keys.sort((a, b) => this.map[a].t - this.map[b].t);
			for (const k of keys.slice(0, keys.length - PIN_MAX))
				delete this.map[k];
		}
		this.save();
	}

	remove(id) {
		delete this.map[id];
		this.save();
	}

	clear() {
		this.map = {};
		this.save();
	}

	save() {
		try {
			localStorage.setItem(PIN_KEY, JSON.stringify(this.map));
		} catch (e) {
			// Storage full or disabled: pins last for this page only.
		}
	}
}
