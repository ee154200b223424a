// The hover card for nodes and edges, drawn next to the pointer.

import {el, clear, $, ellipsize} from './dom.js';
import {typeInfo} from './config.js';
import {builtinIcon} from './icons.js';
import {listenText, reasonText, statesText, nodeName, kv, endpointText,
    addrNameText, containerText} from './format.js';
import {recentText, recentBytesText, rateOf, rateText, rttText} from './recent.js';

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
		    n.gone ? el('span', {class: 'tag exited', text: 'exited'}) :
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
			    ['service', n.service], ['container', containerText(n.container)],
			    ['cmdline', ellipsize(n.cmdline, 300), 'mono'],
			    ['address', n.addr], ['DNS name', addrNameText(this.view.model, n.addr)],
			    ['port', n.port],
			    ['listening', listenText(n.listen), 'mono'],
			]));
			if (n.gone)
				this.box.append(el('div', {class: 'tt-hint',
				    text: 'Exited: shown for what it did in the last ' +
				    (this.view.model.meta?.window_s || 60) + ' s'}));
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
		    e.past ? el('span', {class: 'tag past', text: 'closed'}) :
		    e.fresh ? el('span', {class: 'tag new', text: 'new'}) : null));
		const recent = recentText(e.count, e.recent);
		const conns = this.view.connsOf(id);
		const ports = [...new Set(conns.slice(0, 8).map((c) => endpointText(this.view.model, c.client)))];
		this.box.append(kv([
		    ['client → server', nodeName(this.view, e.from) + ' → ' + nodeName(this.view, e.to)],
		    ['server port', e.server_port],
		    ['client ends', ports.join(', ') + (conns.length > 8 ? ' …' : ''), 'mono'],
		    ['connections', recent && e.count === 0 ? '' : e.count],
		    ['recent', recent],
		    ['traffic now', rateText(rateOf([e]))],
		    ['RTT', rttText(rateOf([e]))],
		    ['in the window', recentBytesText(e.recent)],
		    ['states', statesText(e.states)],
		    ['direction', reasonText(e.reason)],
		]), el('div', {class: 'tt-hint', text: 'Click for the connection list'}));
		this.place(pt);
	}

	hide() {
		this.box.hidden = true;
	}
}
