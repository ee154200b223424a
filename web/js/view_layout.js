// Placement glue between GraphView (view.js) and the pure placement in
// layout.js: where new nodes go, moving loners next to their first peer,
// the physics layout's start and end, and pins.  Methods of GraphView.

import {placeNew, seedPositions, spotNear} from './layout.js';

export const layoutGlue = {
	position(adds, shownE, first) {
		if (first) {
			const byId = new Map(adds.map((it) => [it.id, it]));
			const hostOf = (id) => {
				const it = byId.get(id);
				const n = it && this.model.nodes.get(it.members?.[0] ?? id);
				return n?.host ?? '';
			};
			const seeds = seedPositions(adds.map((it) => it.id), hostOf);
			for (const it of adds) {
				const p = this.pins.get(it.id) || seeds[it.id];
				it.x = p.x;
				it.y = p.y;
			}
			return;
		}
		const positions = this.network.getPositions();
		const anchors = {};
		const isNew = new Set(adds.map((it) => it.id));
		for (const it of adds) {
			const pin = this.pins.get(it.id);
			if (pin) {
				it.x = pin.x;
				it.y = pin.y;
				continue;
			}
			// Group appearing: where its members were.  Member appearing
			// (group expanded): where the group was.
			let ps = [];
			if (it.kind === 'group')
				ps = it.members.map((id) => positions[id]).filter(Boolean);
			else {
				// by mode (groupKey) or, above 150 processes, by name
				const g = [it.groupKey, it.name].find((k) => k !== undefined &&
				    positions['g:' + k]);
				if (g !== undefined)
					ps = [positions['g:' + g]];
			}
			if (ps.length) {
				let x = 0, y = 0;
				for (const p of ps) {
					x += p.x; y += p.y;
				}
				anchors[it.id] = {x: x / ps.length, y: y / ps.length};
			}
		}
		const nb = new Map();
		const link = (a, c) => {
			let l = nb.get(a);
			if (!l)
				nb.set(a, l = []);
			l.push(c);
		};
		for (const {item: e} of shownE.values()) {
			if (isNew.has(e.from))
				link(e.from, e.to);
			if (isNew.has(e.to))
				link(e.to, e.from);
		}
		for (const [id, a] of Object.entries(anchors)) {
			nb.set(id, ['@' + id]);
			positions['@' + id] = a;
		}
		const todo = adds.filter((it) => it.x === undefined).map((it) => it.id);
		const {placed, loners} = placeNew(todo, nb, positions);
		for (const id of loners)
			this.loners.add(id);
		for (const it of adds) {
			if (placed[it.id]) {
				it.x = placed[it.id].x;
				it.y = placed[it.id].y;
			}
		}
	},

	// A node that appeared with no edge sits in a row below the map; when
	// its first edge comes, it moves once next to its peers.
	moveLoners() {
		for (const id of this.loners) {
			const s = this.shownN.get(id);
			if (!s || s.item.closing || this.pins.has(id))
				this.loners.delete(id);
		}
		const peers = new Map();
		const add = (a, b) => {
			if (!this.loners.has(a))
				return;
			let l = peers.get(a);
			if (!l)
				peers.set(a, l = []);
			l.push(b);
		};
		for (const e of this.shownE.values()) {
			const it = e.item;
			if (it.closing || it.from === it.to)
				continue;
			add(it.from, it.to);
			add(it.to, it.from);
		}
		if (!peers.size)
			return;
		const positions = this.network.getPositions();
		const moves = [];
		for (const [id, l] of peers) {
			const ps = l.map((p) => positions[p]).filter(Boolean);
			if (!ps.length)
				continue;
			const p = spotNear(ps, positions, id);
			positions[id] = p;
			moves.push({id, x: p.x, y: p.y});
			this.loners.delete(id);
		}
		if (moves.length)
			this.batch(() => this.nodes.update(moves));
	},

	startLayout(n) {
		this.initialDone = true;
		this.layoutRunning = true;
		this.network.setOptions({physics: {enabled: true}});
		this.network.stabilize(Math.min(1000, 150 + n * 3));
	},

	settled() {
		this.layoutRunning = false;
		this.network.setOptions({physics: {enabled: false}});
		this.dirty = true;
		this.render();
		this.network.fit({animation: false});
	},

	relayout() {
		if (!this.nodes.length || this.paused)
			return;
		this.layoutRunning = true;
		this.dirty = true;
		this.render();
		this.network.setOptions({physics: {enabled: true}});
		this.network.stabilize(Math.min(800, 100 + this.nodes.length * 2));
	},

	onDragEnd(p) {
		if (!p.nodes || !p.nodes.length)
			return;
		const pos = this.network.getPositions(p.nodes);
		for (const id of p.nodes) {
			if (!pos[id])
				continue;
			this.pins.set(id, pos[id].x, pos[id].y);
		}
		this.dirty = true;
		this.render();
	},

	unpin(id) {
		this.pins.remove(id);
		this.dirty = true;
		this.render();
	}
};
