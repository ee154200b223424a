// Grouping for GraphView (view.js): processes folded by the Group by mode
// from webd's per-node group ids (node.groups), and the labelled boxes drawn
// behind each container's nodes.  Methods of GraphView.

import {containerText} from './format.js';
import {FONT} from './view_looks.js';

export const GROUP_MODES = ['process', 'program', 'service', 'container', 'user'];

// A group's title from its key (webd's group id) and its members.
function groupTitle(mode, gid, members) {
	const root = members.find((n) => n.id === gid) || members[0];
	if (gid.startsWith('n:'))
		return gid.slice(2);
	if (mode === 'service' && gid.startsWith('s:'))
		return gid.slice(2).replace(/\.service$/, '');
	if (mode === 'user' && gid.startsWith('u:'))
		return gid.slice(2);
	if (mode === 'container' && gid.startsWith('c:'))
		return containerText(root.container);
	return String(root.label ?? root.name ?? gid);
}

export function savedGroupBy() {
	try {
		const g = localStorage.getItem('procnet.groupBy');
		if (GROUP_MODES.includes(g))
			return g;
	} catch (e) { /* storage refused: the default */ }
	return 'program';
}

export const groups = {
	// Folds processes by this.groupBy into vn/viewOf; the members of a group
	// expanded by hand go into opened (they stay apart).
	foldByMode(m, vn, viewOf, opened) {
		if (this.groupBy === 'process')
			return;
		const byKey = new Map();
		for (const n of m.nodes.values()) {
			if (n.kind !== 'process')
				continue;
			const gid = n.groups && typeof n.groups[this.groupBy] === 'string' ?
			    n.groups[this.groupBy] : n.id;
			let l = byKey.get(gid);
			if (!l)
				byKey.set(gid, l = []);
			l.push(n);
		}
		for (const [gid, members] of byKey) {
			if (this.expanded.has(gid)) {
				for (const n of members)
					opened.add(n.id);
				continue;
			}
			if (members.length < 2)
				continue;
			const id = 'g:' + gid;
			vn.set(id, {id, group: true, name: groupTitle(this.groupBy, gid, members),
			    key: gid, members});
			for (const n of members)
				viewOf.set(n.id, id);
		}
	},

	// Which drawn nodes hold each container's processes.
	boxContainers(m, viewOf) {
		const containers = new Map();
		for (const n of m.nodes.values()) {
			const c = n.kind === 'process' && n.container;
			if (!c || !c.id)
				continue;
			let box = containers.get(c.id);
			if (!box)
				containers.set(c.id, box = {title: containerText(c) +
				    (c.name && c.runtime ? ' (' + c.runtime + ')' : ''), ids: new Set()});
			box.ids.add(viewOf.get(n.id));
		}
		this.containers = containers;
	},

	// A labelled box behind each container's nodes (vis 'beforeDrawing').
	drawContainers(ctx) {
		for (const [cid, box] of this.containers) {
			if (this.filters.hiddenContainers.has(cid))
				continue;
			let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
			for (const id of box.ids) {
				const it = this.nodes.get(id);
				if (!it || it.hidden)
					continue;
				let bb;
				try {
					bb = this.network.getBoundingBox(id);
				} catch (e) {
					continue;
				}
				if (!bb)
					continue;
				x0 = Math.min(x0, bb.left);
				y0 = Math.min(y0, bb.top);
				x1 = Math.max(x1, bb.right);
				y1 = Math.max(y1, bb.bottom);
			}
			if (x0 === Infinity)
				continue;
			const pad = 14, head = 18;
			x0 -= pad;
			y0 -= pad + head;
			x1 += pad;
			y1 += pad;
			ctx.save();
			ctx.beginPath();
			if (ctx.roundRect)
				ctx.roundRect(x0, y0, x1 - x0, y1 - y0, 10);
			else
				ctx.rect(x0, y0, x1 - x0, y1 - y0);
			ctx.fillStyle = 'rgba(14,165,233,0.06)';
			ctx.fill();
			ctx.setLineDash([6, 4]);
			ctx.strokeStyle = 'rgba(2,132,199,0.7)';
			ctx.lineWidth = 1.2;
			ctx.stroke();
			ctx.setLineDash([]);
			ctx.font = '600 12px ' + FONT;
			ctx.fillStyle = '#0369a1';
			ctx.textBaseline = 'top';
			ctx.fillText(box.title, x0 + 8, y0 + 5);
			ctx.restore();
		}
	},

	setGroupBy(mode) {
		if (!GROUP_MODES.includes(mode) || mode === this.groupBy)
			return;
		this.groupBy = mode;
		this.expanded.clear();
		try {
			localStorage.setItem('procnet.groupBy', mode);
		} catch (e) { /* not kept across reloads then */ }
		this.filterVersion++;
		this.dirty = true;
		this.render();
	},
};
