// The look of the vis-network items GraphView draws: icon, label, colour,
// width and curve, and the timed looks (new items glow for HIGHLIGHT_MS,
// closed ones fade over FADE_MS).  Methods of GraphView (view.js).

import {EDGE, HIGHLIGHT_MS, FADE_MS, LABEL_MAX, FALLBACK_TYPE} from './config.js';
import {iconFor} from './icons.js';
import {ellipsize} from './dom.js';
import {histLook} from './timebar.js';
import {recentOf, recentOnly, rateOf, rateWidth, RECENT_DASHES, EXITED_OPACITY} from './recent.js';

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

// The API fields copied onto vis items (tests and tooltips read them).
export const NODE_FIELDS = ['kind', 'pid', 'ppid', 'name', 'type', 'user', 'exe', 'cmdline',
    'listen', 'addr', 'port', 'start_ms', 'service', 'container', 'netns', 'exited'];
// Edge items leave out the connection list (it can be long); the panels
// read it from the model.
export const EDGE_FIELDS = ['proto', 'count', 'server_port', 'reason', 'states', 'recent',
    'bytes_per_s', 'rtt_ms'];

export function typeKey(n) {
	if (n.kind === 'external')
		return 'external';
	if (n.kind === 'endpoint')
		return 'endpoint';
	return typeof n.type === 'string' && n.type ? n.type : FALLBACK_TYPE;
}

export const looks = {
	nodeItem(b, now, ghost) {
		let it;
		let label;
		const k = b.group ? typeKey(b.members[0]) : typeKey(b.raw);
		if (b.group) {
			const types = new Map();
			for (const n of b.members)
				types.set(n.type, (types.get(n.type) || 0) + 1);
			const type = [...types.entries()].sort((a, c) => c[1] - a[1])[0][0];
			it = {id: b.id, kind: 'group', name: b.name, type, expandKey: b.key,
			    count: b.members.length, pids: b.members.map((n) => n.pid),
			    members: b.members.map((n) => n.id)};
			const cids = new Set(b.members.map((n) => n.container && n.container.id));
			if (cids.size === 1 && [...cids][0])
				it.containerId = [...cids][0];
			label = ellipsize(b.name, LABEL_MAX) + '  ×' + b.members.length;
		} else {
			const n = b.raw;
			it = {id: n.id};
			for (const f of NODE_FIELDS) {
				if (n[f] !== undefined)
					it[f] = n[f];
			}
			it.apiLabel = n.label;
			if (n.container && n.container.id)
				it.containerId = n.container.id;
			if (n.groups && typeof n.groups[this.groupBy] === 'string')
				it.groupKey = n.groups[this.groupBy];
			label = ellipsize(n.label ?? n.name ?? n.addr ?? n.id, LABEL_MAX);
			if (n.kind === 'process' && n.pid !== undefined)
				label += '\n' + n.pid;
		}
		const fresh = !ghost && this.isFresh(b.members.map((n) => n.id), now);
		const outer = it.kind === 'external' || it.kind === 'endpoint';
		// gone: there for what it did within the recent window
		const exited = b.group ? b.members.every((n) => n.exited === true) :
		    b.raw.exited === true;
		const alpha = ghost ? Math.max(0.1, 1 - (now - ghost.since) / FADE_MS) :
		    exited ? EXITED_OPACITY : 1;
		const pinned = this.pins.has(b.id);
		if (exited && !b.group)
			label += ' · exited';
		Object.assign(it, {
			label,
			shape: 'image',
			image: iconFor(b.group ? {kind: 'process', type: it.type} : b.raw),
			size: b.group ? 24 : outer ? 13 : 17,
			font: {
				color: ghost ? '#b91c1c' : fresh ? '#15803d' : outer || exited ? '#64748b' : '#0f172a',
				size: outer ? 11 : b.group ? 14 : 13,
			},
			shadow: fresh ? {enabled: true, color: 'rgba(34,197,94,0.95)', size: 24, x: 0, y: 0} :
			    ghost ? {enabled: true, color: 'rgba(220,38,38,0.8)', size: 16, x: 0, y: 0} :
			    {enabled: false},
			opacity: Math.round(alpha * 10) / 10,
			hidden: this.nodeHidden(k, it.kind, it.containerId),
			// Pins hold only while physics runs: vis will not let anyone
			// drag a fixed node, and the user may want to move a pin.
			fixed: pinned && this.layoutRunning ? {x: true, y: true} : {x: false, y: false},
			typeKey: k,
			fresh: fresh,
			gone: exited,
			closing: !!ghost,
		});
		if (b.raw && b.raw.hist)
			histLook(it, b.raw.hist);
		return it;
	},

	nodeHidden(k, kind, containerId) {
		if (kind === 'external' && !this.filters.externals)
			return true;
		if (containerId && this.filters.hiddenContainers.has(containerId))
			return true;
		return this.filters.hiddenTypes.has(k);
	},

	edgeItem(b, now, ghost, smooth, hiddenNodes) {
		const it = {id: b.id, from: b.from, to: b.to};
		if (b.raws.length === 1 && b.raw) {
			for (const f of EDGE_FIELDS) {
				if (b.raw[f] !== undefined)
					it[f] = b.raw[f];
			}
		} else {
			let count = 0;
			const states = {};
			const reasons = new Set();
			for (const e of b.raws) {
				count += e.count || 0;
				for (const [s, c] of Object.entries(e.states || {}))
					states[s] = (states[s] || 0) + c;
				reasons.add(e.reason);
			}
			Object.assign(it, {proto: b.proto, count, server_port: b.raws[0].server_port,
			    reason: [...reasons].join(', '), states, recent: recentOf(b.raws)});
			const rate = rateOf(b.raws);
			Object.assign(it, {bytes_per_s: {sent: rate.sent, received: rate.received},
			    rtt_ms: rate.rtt_ms});
		}
		it.rawIds = b.rawIds;
		const udp = b.proto === 'udp';
		const fresh = !ghost && this.isFresh(b.rawIds, now);
		const alpha = ghost ? Math.max(0.08, 1 - (now - ghost.since) / FADE_MS) : 1;
		const count = Math.max(1, it.count || 1);
		// on the map only for connections that closed within the window
		const past = recentOnly(it.count, it.recent);
		const base = udp ? EDGE.udp : EDGE.tcp;
		const col = ghost ? EDGE.closing : fresh ? EDGE.fresh : base;
		const hidden = hiddenNodes.has(b.from) || hiddenNodes.has(b.to) ||
		    (udp ? !this.filters.udp : !this.filters.tcp) ||
		    (past && !this.filters.recentOnly);
		Object.assign(it, {
			arrows: {to: {enabled: true, scaleFactor: 0.55, type: 'arrow'}},
			color: {color: col, highlight: udp ? '#c2410c' : '#0f172a',
			    hover: udp ? '#c2410c' : '#334155',
			    opacity: Math.round(alpha * (fresh ? 1 : past ? 0.6 : 0.75) * 20) / 20},
			dashes: past ? RECENT_DASHES : udp ? EDGE.dashes : false,
			width: past ? 1 : (this.filters.widthBy === 'traffic' ? rateWidth(rateOf([it])) :
			    Math.min(1.3 + Math.log2(count) * 1.3, 9)) + (fresh ? 1.2 : 0),
			smooth: smooth,
			label: this.filters.ports && !this.big && it.server_port !== undefined ?
			    ':' + it.server_port : '',
			hidden,
			fresh,
			past,
			closing: !!ghost,
		});
		if (b.raws.length === 1 && b.raw && b.raw.hist)
			histLook(it, b.raw.hist);
		return it;
	},

	isFresh(ids, now) {
		for (const id of ids) {
			const t = this.firstSeen.get(id);
			if (t && now - t < HIGHLIGHT_MS) {
				this.activeUntil = Math.max(this.activeUntil, t + HIGHLIGHT_MS);
				return true;
			}
		}
		return false;
	},

	// Parallel edges between one pair bend apart; a lone edge is straight.
	smoothing(edges) {
		const pairs = new Map();
		for (const b of edges) {
			if (b.from === b.to)
				continue;
			const k = b.from < b.to ? b.from + '\n' + b.to : b.to + '\n' + b.from;
			let l = pairs.get(k);
			if (!l)
				pairs.set(k, l = []);
			l.push(b);
		}
		const out = new Map();
		for (const l of pairs.values()) {
			if (l.length === 1) {
				out.set(l[0].id, false);
				continue;
			}
			l.sort((a, c) => (a.id < c.id ? -1 : a.id > c.id ? 1 : 0));
			const mid = (l.length - 1) / 2;
			l.forEach((b, i) => {
				const off = i - mid;
				if (off === 0) {
					out.set(b.id, false);
					return;
				}
				// Direction matters to vis: CW from a to b is CCW from b to a.
				const canon = b.from < b.to;
				const cw = (off > 0) === canon;
				out.set(b.id, {enabled: true, type: cw ? 'curvedCW' : 'curvedCCW',
				    roundness: Math.min(0.12 + 0.2 * (Math.abs(off) - (mid % 1 ? 0.5 : 0)), 0.9)});
			});
		}
		return out;
	}
};
