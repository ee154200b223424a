// The panel opened by a click: everything about a node or an edge and the
// connections behind it.

import {el, clear, $, ellipsize} from './dom.js';
import {MAX_CONNS_SHOWN} from './config.js';
import {sparkBox} from './sparkline.js';
import {listenText, reasonText, statesText, nodeName, kv, connTable, focusNode,
    addrNameText, containerText} from './format.js';

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
				view.expand(n.expandKey ?? n.name);
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
				v.expand(n.expandKey ?? n.name);
			}}));
		else if (n.groupKey && v.expanded.has(n.groupKey) && n.kind === 'process')
			btns.append(el('button', {text: 'Collapse group', onclick: () => v.collapse(n.groupKey)}));
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
			    ['service', n.service], ['container', containerText(n.container)],
			    ['network namespace', n.netns],
			    ['command line', n.cmdline, 'mono wrap'], ['address', n.addr],
			    ['DNS name', addrNameText(v.model, n.addr)], ['port', n.port], ['listening', listenText(n.listen), 'mono'],
			    ['pinned', v.pins.has(n.id) ? 'yes (drag to move, Unpin to release)' : ''],
			]));
		}
		if (n.kind !== 'group')
			this.box.append(sparkBox('node', n.id, v.historyAt));
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
		if (Array.isArray(e.rawIds) && e.rawIds.length === 1)
			this.box.append(sparkBox('edge', e.rawIds[0], v.historyAt));
		if (e.reason === 'history')
			this.box.append(el('p', {class: 'muted',
			    text: 'A past minute: the history keeps counts, not each connection.'}));
		else
			this.box.append(el('h3', {text: 'Connections'}), connTable(v.connsOf(e.id), e.count, v.model));
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
	d.append(connTable(v.connsOf(e.id), e.count, v.model));
	return d;
}
