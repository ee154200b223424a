// Everything around the map: tooltips, the details panel, the legend,
// filters, search and the status bar.  All text goes in through el()/
// textContent.

import {el, clear, $, ellipsize, fmtAge} from './dom.js';
import {TYPES, REASONS, MAX_CONNS_SHOWN, typeInfo, knownType} from './config.js';
import {builtinIcon} from './icons.js';

function listenText(l) {
	if (!Array.isArray(l) || !l.length)
		return '';
	return l.slice(0, 30).map((x) => (x.proto || '') + ' ' + (x.addr || '*') + ':' + x.port)
	    .join(', ') + (l.length > 30 ? ' …' : '');
}

function reasonText(r) {
	if (typeof r !== 'string' || !r)
		return '';
	return Object.prototype.hasOwnProperty.call(REASONS, r) ? r + ': ' + REASONS[r] : r;
}

function statesText(s) {
	if (!s || typeof s !== 'object')
		return '';
	return Object.entries(s).map(([k, v]) => (k || 'bound') + ' ' + v).join(', ');
}

function nodeName(view, id) {
	const it = view.nodes.get(id);
	if (!it)
		return id;
	if (it.kind === 'group')
		return it.name + ' ×' + it.count;
	if (it.kind === 'process')
		return (it.apiLabel ?? it.name) + ' (' + it.pid + ')';
	return it.apiLabel ?? it.addr ?? id;
}

function kv(rows) {
	const dl = el('dl', {class: 'kv'});
	for (const [k, v, cls] of rows) {
		if (v === undefined || v === null || v === '')
			continue;
		dl.append(el('dt', {text: k}), el('dd', {class: cls, text: String(v)}));
	}
	return dl;
}

// ---- tooltip ---------------------------------------------------------

export class Tooltip {
	constructor(view) {
		this.view = view;
		this.box = $('tooltip');
		const net = view.network;
		net.on('hoverNode', (p) => this.showNode(p.node, p.pointer.DOM));
		net.on('hoverEdge', (p) => this.showEdge(p.edge, p.pointer.DOM));
		net.on('blurNode', () => this.hide());
		net.on('blurEdge', () => this.hide());
		net.on('dragStart', () => this.hide());
		net.on('zoom', () => this.hide());
		net.on('click', () => this.hide());
	}

	place(pt) {
		const map = $('map').getBoundingClientRect();
		this.box.hidden = false;
		const w = this.box.offsetWidth, h = this.box.offsetHeight;
		let x = pt.x + 16, y = pt.y + 16;
		if (x + w > map.width - 8)
			x = Math.max(8, pt.x - w - 16);
		if (y + h > map.height - 8)
			y = Math.max(8, pt.y - h - 16);
		this.box.style.left = x + 'px';
		this.box.style.top = y + 'px';
	}

	showNode(id, pt) {
		const n = this.view.nodes.get(id);
		if (!n)
			return;
		clear(this.box);
		const t = typeInfo(n.typeKey);
		this.box.append(el('div', {class: 'tt-title'},
		    el('img', {src: builtinIcon(n.typeKey), alt: ''}),
		    el('span', {text: n.kind === 'group' ? n.name + ' ×' + n.count :
		        (n.apiLabel ?? n.name ?? n.addr ?? id)}),
		    n.closing ? el('span', {class: 'tag closed', text: 'closed'}) :
		    n.fresh ? el('span', {class: 'tag new', text: 'new'}) : null));
		if (n.kind === 'group') {
			this.box.append(kv([
			    ['type', n.type], ['processes', n.count],
			    ['pids', n.pids.slice(0, 12).join(', ') + (n.pids.length > 12 ? ' …' : '')],
			]), el('div', {class: 'tt-hint', text: 'Double-click to expand'}));
		} else {
			this.box.append(kv([
			    ['name', n.name], ['label', n.apiLabel !== n.name ? n.apiLabel : ''],
			    ['type', n.kind === 'process' ? n.type : t.label],
			    ['pid', n.pid], ['user', n.user], ['exe', n.exe, 'mono'],
			    ['cmdline', ellipsize(n.cmdline, 300), 'mono'],
			    ['address', n.addr], ['port', n.port],
			    ['listening', listenText(n.listen), 'mono'],
			]));
		}
		this.place(pt);
	}

	showEdge(id, pt) {
		const e = this.view.edges.get(id);
		if (!e)
			return;
		clear(this.box);
		const udp = e.proto === 'udp';
		this.box.append(el('div', {class: 'tt-title'},
		    el('span', {class: 'proto ' + (udp ? 'udp' : 'tcp'), text: udp ? 'UDP' : 'TCP'}),
		    el('span', {text: nodeName(this.view, e.from) + ' → ' + nodeName(this.view, e.to)}),
		    e.closing ? el('span', {class: 'tag closed', text: 'closed'}) :
		    e.fresh ? el('span', {class: 'tag new', text: 'new'}) : null));
		const conns = this.view.connsOf(id);
		const ports = [...new Set(conns.slice(0, 8).map((c) => c.client))];
		this.box.append(kv([
		    ['client → server', nodeName(this.view, e.from) + ' → ' + nodeName(this.view, e.to)],
		    ['server port', e.server_port],
		    ['client ends', ports.join(', ') + (conns.length > 8 ? ' …' : ''), 'mono'],
		    ['connections', e.count],
		    ['states', statesText(e.states)],
		    ['direction', reasonText(e.reason)],
		]), el('div', {class: 'tt-hint', text: 'Click for the connection list'}));
		this.place(pt);
	}

	hide() {
		this.box.hidden = true;
	}
}

// ---- details panel ---------------------------------------------------

export class Details {
	constructor(view) {
		this.view = view;
		this.box = $('details');
		this.sel = null;	// {kind:'node'|'edge', id}
		const net = view.network;
		net.on('click', (p) => {
			if (p.nodes.length)
				this.open('node', p.nodes[0]);
			else if (p.edges.length)
				this.open('edge', p.edges[0]);
			else
				this.close();
		});
		net.on('doubleClick', (p) => {
			if (!p.nodes.length)
				return;
			const n = view.nodes.get(p.nodes[0]);
			if (n && n.kind === 'group') {
				view.expand(n.name);
				this.close();
			}
		});
		view.onChange(() => {
			if (this.sel && !this.box.hidden)
				this.refresh();
		});
	}

	open(kind, id) {
		this.sel = {kind, id};
		this.lastSig = null;
		this.refresh();
	}

	close() {
		this.sel = null;
		this.box.hidden = true;
	}

	refresh() {
		const {kind, id} = this.sel;
		const item = kind === 'node' ? this.view.nodes.get(id) : this.view.edges.get(id);
		// Redraw only when the data or the look changed, so text selection
		// and opened connection lists survive.
		const shown = this.view[kind === 'node' ? 'shownN' : 'shownE'].get(id);
		const key = this.view.model.version + '|' + (shown ? shown.style : 'gone') + '|' +
		    this.view.pins.has(id);
		if (key === this.lastSig)
			return;
		this.lastSig = key;
		const open = new Set([...this.box.querySelectorAll('details[open]')].map((d) => d.dataset.edge));
		clear(this.box);
		this.box.hidden = false;
		const head = el('div', {class: 'd-head'});
		this.box.append(head);
		head.append(el('button', {class: 'close', title: 'Close', 'aria-label': 'Close',
		    text: '×', onclick: () => this.close()}));
		if (!item) {
			head.append(el('h2', {text: 'Gone'}));
			this.box.append(el('p', {class: 'muted', text: 'This item has closed.'}));
			return;
		}
		if (kind === 'node')
			this.node(item, head);
		else
			this.edge(item, head);
		for (const d of this.box.querySelectorAll('details')) {
			if (open.has(d.dataset.edge))
				d.open = true;
		}
	}

	node(n, head) {
		const v = this.view;
		head.append(el('img', {src: n.image, alt: '', class: 'd-icon'}),
		    el('h2', {text: n.kind === 'group' ? n.name + ' ×' + n.count :
		        (n.apiLabel ?? n.name ?? n.addr ?? n.id)}));
		const btns = el('div', {class: 'd-buttons'});
		btns.append(el('button', {text: 'Focus', onclick: () => focusNode(v, n.id)}));
		if (v.pins.has(n.id))
			btns.append(el('button', {text: 'Unpin', onclick: () => v.unpin(n.id)}));
		if (n.kind === 'group')
			btns.append(el('button', {text: 'Expand', onclick: () => {
				this.close();
				v.expand(n.name);
			}}));
		else if (v.expanded.has(n.name) && n.kind === 'process')
			btns.append(el('button', {text: 'Collapse ' + n.name, onclick: () => v.collapse(n.name)}));
		this.box.append(btns);

		if (n.kind === 'group') {
			this.box.append(kv([['type', n.type], ['processes', n.count]]));
			const ul = el('ul', {class: 'members'});
			for (const id of n.members.slice(0, MAX_CONNS_SHOWN)) {
				const m = v.model.nodes.get(id);
				if (!m)
					continue;
				ul.append(el('li', null, el('b', {text: String(m.pid)}), ' ',
				    el('span', {class: 'mono', text: ellipsize(m.cmdline || m.exe || m.name, 160)})));
			}
			this.box.append(el('h3', {text: 'Processes'}), ul);
		} else {
			this.box.append(kv([
			    ['kind', n.kind], ['type', n.type], ['name', n.name], ['pid', n.pid],
			    ['ppid', n.ppid], ['user', n.user], ['exe', n.exe, 'mono'],
			    ['command line', n.cmdline, 'mono wrap'], ['address', n.addr],
			    ['port', n.port], ['listening', listenText(n.listen), 'mono'],
			    ['pinned', v.pins.has(n.id) ? 'yes (drag to move, Unpin to release)' : ''],
			]));
		}
		const edges = [];
		for (const s of v.shownE.values()) {
			if (s.item.from === n.id || s.item.to === n.id)
				edges.push(s.item);
		}
		this.box.append(el('h3', {text: 'Connections (' + edges.reduce((a, e) => a + (e.count || 0), 0) + ')'}));
		if (!edges.length)
			this.box.append(el('p', {class: 'muted', text: 'None right now.'}));
		edges.sort((a, b) => (b.count || 0) - (a.count || 0));
		for (const e of edges.slice(0, 100))
			this.box.append(edgeBlock(v, e, n.id));
	}

	edge(e, head) {
		const v = this.view;
		const udp = e.proto === 'udp';
		head.append(el('span', {class: 'proto ' + (udp ? 'udp' : 'tcp'), text: udp ? 'UDP' : 'TCP'}),
		    el('h2', {text: nodeName(v, e.from) + ' → ' + nodeName(v, e.to)}));
		this.box.append(kv([
		    ['client', nodeName(v, e.from)], ['server', nodeName(v, e.to)],
		    ['server port', e.server_port], ['connections', e.count],
		    ['states', statesText(e.states)],
		    ['direction', reasonText(e.reason)],
		]));
		this.box.append(el('h3', {text: 'Connections'}), connTable(v.connsOf(e.id), e.count));
	}
}

function edgeBlock(v, e, self) {
	const out = e.from === self;
	const peer = out ? e.to : e.from;
	const udp = e.proto === 'udp';
	const d = el('details', {class: 'conn', 'data-edge': e.id});
	d.append(el('summary', null,
	    el('span', {class: 'proto ' + (udp ? 'udp' : 'tcp'), text: udp ? 'UDP' : 'TCP'}), ' ',
	    el('span', {class: 'dir', text: out ? '→' : '←'}), ' ',
	    el('b', {text: nodeName(v, peer)}), ' ',
	    el('span', {class: 'muted', text: ':' + e.server_port + ' · ' + e.count + ' conn' +
	        (e.count === 1 ? '' : 's')})));
	d.append(connTable(v.connsOf(e.id), e.count));
	return d;
}

function connTable(conns, count) {
	const t = el('table', {class: 'conns'});
	t.append(el('tr', null, el('th', {text: 'client'}), el('th', {text: 'server'}),
	    el('th', {text: 'state'})));
	const list = Array.isArray(conns) ? conns : [];
	for (const c of list.slice(0, MAX_CONNS_SHOWN)) {
		t.append(el('tr', null, el('td', {class: 'mono', text: c.client}),
		    el('td', {class: 'mono', text: c.server}), el('td', {text: c.state || '—'})));
	}
	const more = Math.max(0, (count || 0) - Math.min(list.length, MAX_CONNS_SHOWN));
	const f = el('div');
	f.append(t);
	if (more > 0)
		f.append(el('p', {class: 'muted', text: '+ ' + more + ' more'}));
	return f;
}

export function focusNode(view, id) {
	view.network.focus(id, {scale: Math.max(view.network.getScale(), 1.1),
	    animation: {duration: 450, easingFunction: 'easeInOutQuad'}});
	view.network.selectNodes([id]);
}

// ---- legend ----------------------------------------------------------

export function buildLegend(view) {
	const box = $('legend');
	const body = el('div', {class: 'lg-body'});
	const toggle = el('button', {class: 'lg-toggle', text: 'Legend',
	    'aria-expanded': 'true', onclick: () => {
		body.hidden = !body.hidden;
		toggle.setAttribute('aria-expanded', String(!body.hidden));
		box.classList.toggle('folded', body.hidden);
	}});
	box.append(toggle, body);
	// On a small screen the map needs the room: start folded.
	if (window.matchMedia && window.matchMedia('(max-width: 1200px), (max-height: 760px)').matches) {
		body.hidden = true;
		toggle.setAttribute('aria-expanded', 'false');
		box.classList.add('folded');
	}
	const types = el('ul', {class: 'lg-types'});
	for (const [k, t] of Object.entries(TYPES))
		types.append(el('li', null, el('img', {src: builtinIcon(k), alt: ''}), t.label));
	body.append(types);
	const lines = el('ul', {class: 'lg-lines'});
	lines.append(el('li', null, el('span', {class: 'ln tcp'}), 'TCP  client → server'));
	lines.append(el('li', null, el('span', {class: 'ln udp'}), 'UDP'));
	lines.append(el('li', null, el('span', {class: 'ln fresh'}), 'new (a few seconds)'));
	lines.append(el('li', null, el('span', {class: 'ln closing'}), 'closed, fading out'));
	lines.append(el('li', null, el('span', {class: 'ln thick'}), 'thicker = more connections'));
	body.append(lines);
	body.append(el('p', {class: 'lg-hint', text: 'Drag a node to pin it · click for details · double-click a group to expand'}));
}

// ---- filters ---------------------------------------------------------

export class Filters {
	constructor(view) {
		this.view = view;
		this.box = $('filters');
		this.btn = $('btn-filters');
		this.btn.addEventListener('click', () => {
			this.box.hidden = !this.box.hidden;
			this.btn.setAttribute('aria-expanded', String(!this.box.hidden));
		});
		this.known = new Set(Object.keys(TYPES));
		view.onChange(() => this.syncTypes());
		this.build();
	}

	check(label, checked, onchange, icon) {
		const input = el('input', {type: 'checkbox'});
		input.checked = checked;
		input.addEventListener('change', () => onchange(input.checked));
		return el('label', {class: 'chk'}, input, icon ? el('img', {src: icon, alt: ''}) : null, label);
	}

	build() {
		const f = this.view.filters;
		const v = this.view;
		clear(this.box);
		this.box.append(el('h3', {text: 'Show'}));
		const rerender = () => {
			v.filterVersion++;
			v.dirty = true;
			v.render();
			this.btn.classList.toggle('active', this.active());
		};
		this.box.append(this.check('TCP', f.tcp, (c) => { f.tcp = c; rerender(); }));
		this.box.append(this.check('UDP', f.udp, (c) => { f.udp = c; rerender(); }));
		this.box.append(this.check('External hosts', f.externals, (c) => { f.externals = c; rerender(); }));
		this.box.append(this.check('Port labels on edges', f.ports, (c) => { f.ports = c; rerender(); }));
		this.box.append(el('h3', {text: 'Types'}));
		this.typesBox = el('div', {class: 'types'});
		this.box.append(this.typesBox);
		for (const k of this.known) {
			this.typesBox.append(this.check(knownType(k) ? TYPES[k].label : k, !f.hiddenTypes.has(k), (c) => {
				if (c)
					f.hiddenTypes.delete(k);
				else
					f.hiddenTypes.add(k);
				rerender();
			}, builtinIcon(k)));
		}
	}

	active() {
		const f = this.view.filters;
		return !f.tcp || !f.udp || !f.externals || f.hiddenTypes.size > 0;
	}

	// Types from user rules that we have no name for get a checkbox too.
	syncTypes() {
		let added = false;
		for (const it of this.view.shownN.values()) {
			const k = it.item.typeKey;
			if (k && !this.known.has(k)) {
				this.known.add(k);
				added = true;
			}
		}
		if (added)
			this.build();
	}
}

// ---- search ----------------------------------------------------------

export class Search {
	constructor(view, details) {
		this.view = view;
		this.details = details;
		this.input = $('search');
		this.list = $('search-results');
		this.matches = [];
		this.cursor = -1;
		this.input.addEventListener('input', () => this.update());
		this.input.addEventListener('keydown', (ev) => {
			if (ev.key === 'Enter') {
				ev.preventDefault();
				this.next();
			} else if (ev.key === 'Escape') {
				this.input.value = '';
				this.update();
				this.input.blur();
			}
		});
		this.input.addEventListener('blur', () => setTimeout(() => { this.list.hidden = true; }, 200));
		this.input.addEventListener('focus', () => { if (this.matches.length) this.list.hidden = false; });
		document.addEventListener('keydown', (ev) => {
			if (ev.key === '/' && document.activeElement !== this.input) {
				ev.preventDefault();
				this.input.focus();
			}
		});
	}

	find(q) {
		q = q.trim().toLowerCase();
		if (!q)
			return [];
		const out = [];
		for (const n of this.view.model.nodes.values()) {
			const hay = [n.label, n.name, n.pid, n.addr, n.exe, n.cmdline, n.user,
			    ...(Array.isArray(n.listen) ? n.listen.map((l) => l.port) : [])];
			let score = -1;
			for (let i = 0; i < hay.length; i++) {
				if (hay[i] === undefined || hay[i] === null)
					continue;
				const s = String(hay[i]).toLowerCase();
				if (s === q) {
					score = 100 - i;
					break;
				}
				if (s.includes(q))
					score = Math.max(score, 50 - i);
			}
			if (score >= 0)
				out.push({n, score});
			if (out.length > 2000)
				break;
		}
		out.sort((a, b) => b.score - a.score || String(a.n.label).localeCompare(String(b.n.label)));
		return out.map((x) => x.n);
	}

	update() {
		this.matches = this.find(this.input.value);
		this.cursor = -1;
		clear(this.list);
		if (!this.input.value.trim()) {
			this.list.hidden = true;
			return;
		}
		if (!this.matches.length) {
			this.list.append(el('div', {class: 'sr-none', text: 'No process matches'}));
		}
		for (const n of this.matches.slice(0, 8)) {
			this.list.append(el('button', {class: 'sr-item', type: 'button',
			    onmousedown: (ev) => { ev.preventDefault(); this.go(n); }},
			    el('img', {src: builtinIcon(n.kind === 'external' ? 'external' : n.kind === 'endpoint' ? 'endpoint' : (knownType(n.type) ? n.type : 'app')), alt: ''}),
			    el('b', {text: ellipsize(n.label ?? n.name ?? n.addr, 40)}),
			    el('span', {class: 'muted', text: n.pid !== undefined ? ' pid ' + n.pid : ''}),
			    el('span', {class: 'sr-cmd mono', text: ellipsize(n.cmdline || n.exe || '', 60)})));
		}
		if (this.matches.length > 8)
			this.list.append(el('div', {class: 'sr-none', text: (this.matches.length - 8) + ' more — press Enter to step through'}));
		this.list.hidden = false;
	}

	next() {
		if (!this.matches.length)
			return;
		this.cursor = (this.cursor + 1) % this.matches.length;
		this.go(this.matches[this.cursor]);
	}

	go(n) {
		const v = this.view;
		const id = v.shownAs(n.id);
		if (!id)
			return;
		const it = v.nodes.get(id);
		if (it && it.hidden) {
			this.list.hidden = false;
			clear(this.list);
			this.list.append(el('div', {class: 'sr-none', text: 'That node is hidden by a filter'}));
			return;
		}
		focusNode(v, id);
		this.details.open('node', id);
	}
}

// ---- status bar ------------------------------------------------------

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
		        visibleCount(v.shownE) + ' edges' + (v.grouped ? ' · grouped by name' : '')));
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


// ---- table -----------------------------------------------------------

const TABLE_ROWS = 500;

// Every drawn edge as a row, busiest first: the map's fallback when it is
// too dense to read.  Clicking a row selects the edge on the map.
export class Table {
	constructor(view, details) {
		this.view = view;
		this.details = details;
		this.box = $('table');
		this.btn = $('btn-table');
		this.last = 0;
		this.btn.addEventListener('click', () => {
			this.box.hidden = !this.box.hidden;
			this.btn.setAttribute('aria-expanded', String(!this.box.hidden));
			this.btn.classList.toggle('active', !this.box.hidden);
			this.lastKey = null;
			this.refresh();
		});
		view.onChange(() => this.refresh());
	}

	refresh() {
		if (this.box.hidden)
			return;
		const v = this.view;
		const key = v.model.version + '|' + v.filterVersion + '|' + v.shownE.size;
		if (key === this.lastKey)
			return;
		this.lastKey = key;
		const rows = [];
		for (const s of v.shownE.values()) {
			if (!s.item.hidden)
				rows.push(s.item);
		}
		rows.sort((a, b) => (b.count || 0) - (a.count || 0) || (a.id < b.id ? -1 : 1));
		clear(this.box);
		this.box.append(el('div', {class: 't-head'},
		    el('h3', {text: 'Connections (' + rows.length + ' edges)'}),
		    el('button', {class: 'close', title: 'Close', 'aria-label': 'Close', text: '×',
		        onclick: () => this.btn.click()})));
		const t = el('table', {class: 'conns edges'});
		t.append(el('tr', null, el('th', {text: 'proto'}), el('th', {text: 'client'}),
		    el('th', {text: 'server'}), el('th', {text: 'port'}), el('th', {text: 'count'}),
		    el('th', {text: 'states'}), el('th', {text: 'direction'})));
		for (const e of rows.slice(0, TABLE_ROWS)) {
			const udp = e.proto === 'udp';
			const tr = el('tr', {class: 'row' + (e.fresh ? ' fresh' : '') + (e.closing ? ' closing' : ''),
			    'data-edge': e.id, onclick: () => this.pick(e)},
			    el('td', null, el('span', {class: 'proto ' + (udp ? 'udp' : 'tcp'), text: udp ? 'UDP' : 'TCP'})),
			    el('td', {text: nodeName(v, e.from)}), el('td', {text: nodeName(v, e.to)}),
			    el('td', {class: 'mono', text: e.server_port ?? ''}), el('td', {text: e.count ?? ''}),
			    el('td', {text: statesText(e.states)}), el('td', {class: 'muted', text: e.reason || ''}));
			t.append(tr);
		}
		this.box.append(el('div', {class: 't-body'}, t));
		if (rows.length > TABLE_ROWS)
			this.box.append(el('p', {class: 'muted', text: '+ ' + (rows.length - TABLE_ROWS) + ' more, smallest first left out'}));
	}

	pick(e) {
		const net = this.view.network;
		net.selectEdges([e.id]);
		net.fit({nodes: [e.from, e.to], animation: {duration: 400, easingFunction: 'easeInOutQuad'}});
		this.details.open('edge', e.id);
	}
}
