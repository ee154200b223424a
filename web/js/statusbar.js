// The status bar: feed, collector state, age of the last update, counts.

import {el, clear, $, ellipsize, fmtAge} from './dom.js';

export class StatusBar {
	constructor(view, model) {
		this.view = view;
		this.model = model;
		this.mode = 'connecting';
		this.box = $('status');
	}

	setMode(m) {
		this.mode = m;
		this.update();
	}

	update() {
		const m = this.model;
		const v = this.view;
		const meta = m.meta || {};
		const c = meta.counts || {};
		const col = m.collector && typeof m.collector.collector === 'string' ?
		    m.collector.collector : (m.loaded ? 'connected' : 'unknown');
		const feed = v.paused ? 'paused' : this.mode;
		clear(this.box);
		this.box.append(
		    el('span', {class: 'st-item'}, el('span', {class: 'dot ' + feed}),
		        {live: 'Live', polling: 'Polling (stream unavailable)', offline: 'Offline',
		         connecting: 'Connecting…', paused: 'Paused'}[feed] || feed),
		    el('span', {class: 'st-item'}, 'Collector: ',
		        el('b', {class: 'col-' + col, text: col})),
		    el('span', {class: 'st-item', id: 'st-age'}, 'Updated ',
		        el('b', {text: m.updatedAt ? fmtAge(Date.now() - m.updatedAt) + ' ago' : 'never'})),
		    el('span', {class: 'st-item'},
		        el('b', {text: String(c.processes ?? countKind(m, 'process'))}), ' processes · ',
		        el('b', {text: String(c.edges ?? m.edges.size)}), ' edges · ',
		        el('b', {text: String(c.sockets ?? '–')}), ' sockets'),
		    el('span', {class: 'st-item muted'}, 'shown ' + visibleCount(v.shownN) + ' nodes, ' +
		        visibleCount(v.shownE) + ' edges' + (v.groupBy !== 'process' ? ' · by ' + v.groupBy : '') +
		        (v.grouped ? ' · crowded names grouped' : '')));
		if (meta.privileged === false)
			this.box.append(el('span', {class: 'st-item warn', text: 'Not privileged: other users\' processes are not shown'}));
		if (m.collector && m.collector.error)
			this.box.append(el('span', {class: 'st-item warn', text: ellipsize(m.collector.error, 120)}));
		if (m.collector && typeof m.collector.rules_error === 'string' && m.collector.rules_error)
			this.box.append(el('span', {class: 'st-item warn',
			    text: 'Rules: ' + ellipsize(m.collector.rules_error, 120)}));
		const right = el('span', {class: 'st-right'});
		if (meta.host)
			right.append(el('span', {class: 'st-item', text: ellipsize(meta.host, 64) + (meta.os ? ' · ' + meta.os : '')}));
		right.append(el('span', {class: 'st-item muted', text: 'render ' + v.stats.lastRenderMs.toFixed(1) + ' ms'}));
		this.box.append(right);
	}
}

function countKind(m, kind) {
	let n = 0;
	for (const x of m.nodes.values()) {
		if (x.kind === kind)
			n++;
	}
	return n;
}

function visibleCount(shown) {
	let n = 0;
	for (const s of shown.values()) {
		if (!s.item.hidden && !s.item.closing)
			n++;
	}
	return n;
}
