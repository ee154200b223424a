// Grouping for GraphView (view.js): processes folded by the Group by mode
// from webd's per-node group ids (node.groups), and the labelled boxes drawn
// behind each container's nodes.  Methods of GraphView.

import {containerText} from './format.js';
import {FONT} from './view_looks.js';

export const GROUP_MODES = ['process', 'program', 'service', 'container', 'user', 'host'];

// A group's title from its key (webd's group id) and its members.  On the
// fleet map a group id is its host's ("web1/s:nginx.service"), the host
// mode's is "h:web1".
function groupTitle(mode, key, members) {
	const root = members.find((n) => n.id === key) || members[0];
	if (mode === 'host' && key.startsWith('h:'))
		return key.slice(2);
	const gid = root.host && key.startsWith(root.host + '/') ?
	    key.slice(root.host.length + 1) : key;
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

	// Which drawn nodes hold each container's processes, and on the fleet
	// map each host's nodes (its processes and the endpoints it sees).
	boxContainers(m, viewOf) {
		const containers = new Map(), hosts = new Map();
		for (const n of m.nodes.values()) {
			if (typeof n.host === 'string' && n.host) {
				let hb = hosts.get(n.host);
				if (!hb)
					hosts.set(n.host, hb = {title: n.host, ids: new Set(), host: true});
				if (n.stale)
					hb.title = n.host + ' (stale)';
				hb.ids.add(viewOf.get(n.id) ?? n.id);
			}
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
		this.hostBoxes = hosts;
	},

	// A labelled box behind each host's nodes, then each container's (vis
	// 'beforeDrawing'): a host's box holds its containers'.
	drawContainers(ctx) {
		for (const box of (this.hostBoxes ?? new Map()).values())
			this.drawBox(ctx, box, 30, 22, 'rgba(100,116,139,0.05)', 'rgba(71,85,105,0.75)',
			    '#334155');
		for (const [cid, box] of this.containers) {
			if (this.filters.hiddenContainers.has(cid))
				continue;
			this.drawBox(ctx, box, 14, 18, 'rgba(14,165,233,0.06)', 'rgba(2,132,199,0.7)',
			    '#0369a1');
		}
	},

	// One labelled box around the drawn nodes of box.ids.
	drawBox(ctx, box, pad, head, fill, stroke, text) {
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
			return;
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
		ctx.fillStyle = fill;
		ctx.fill();
		ctx.setLineDash(box.host ? [] : [6, 4]);
		ctx.strokeStyle = stroke;
		ctx.lineWidth = box.host ? 1.5 : 1.2;
		ctx.stroke();
		ctx.setLineDash([]);
		ctx.font = '600 12px ' + FONT;
		ctx.fillStyle = text;
		ctx.textBaseline = 'top';
		ctx.fillText(box.title, x0 + 8, y0 + 5);
		ctx.restore();
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
