// Text for the panels: names, states, reasons, key/value lists and connection
// tables, all built with el(), never as HTML.

import {el} from './dom.js';
import {REASONS, MAX_CONNS_SHOWN} from './config.js';

export function listenText(l) {
	if (!Array.isArray(l) || !l.length)
		return '';
	return l.slice(0, 30).map((x) => (x.proto || '') + ' ' + (x.addr || '*') + ':' + x.port)
	    .join(', ') + (l.length > 30 ? ' …' : '');
}

// A container as people name it: its name, else runtime and short id.
export function containerText(c) {
	if (!c || typeof c !== 'object' || !c.id)
		return '';
	if (c.name)
		return String(c.name);
	return (c.runtime ? c.runtime + ' ' : '') + String(c.id).slice(0, 12);
}

export function reasonText(r) {
	if (typeof r !== 'string' || !r)
		return '';
	return Object.prototype.hasOwnProperty.call(REASONS, r) ? r + ': ' + REASONS[r] : r;
}

export function statesText(s) {
	if (!s || typeof s !== 'object')
		return '';
	return Object.entries(s).map(([k, v]) => (k || 'bound') + ' ' + v).join(', ');
}

export function nodeName(view, id) {
	const it = view.nodes.get(id);
	if (!it)
		return id;
	if (it.kind === 'group')
		return it.name + ' ×' + it.count;
	if (it.kind === 'process')
		return (it.apiLabel ?? it.name) + ' (' + it.pid + ')';
	return it.apiLabel ?? it.addr ?? id;
}

// "addr:port" / "[v6]:port" as the name webd found for the address, with
// the address kept beside it: "db.example:5432 (10.0.0.5)".
export function endpointText(model, ep) {
	if (typeof ep !== 'string')
		return '';
	const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(ep);
	const name = m && model ? model.nameOf(m[1]) : undefined;
	return name ? name + ':' + m[2] + ' (' + m[1] + ')' : ep;
}

// "name (source)" for an address, '' when it has none.
export function addrNameText(model, addr) {
	const n = model && typeof addr === 'string' ? model.names.get(addr) : undefined;
	return n ? n.name + (n.source ? ' (' + n.source + ')' : '') : '';
}

export function kv(rows) {
	const dl = el('dl', {class: 'kv'});
	for (const [k, v, cls] of rows) {
		if (v === undefined || v === null || v === '')
			continue;
		dl.append(el('dt', {text: k}), el('dd', {class: cls, text: String(v)}));
	}
	return dl;
}

export function connTable(conns, count, model) {
	const t = el('table', {class: 'conns'});
	t.append(el('tr', null, el('th', {text: 'client'}), el('th', {text: 'server'}),
	    el('th', {text: 'state'})));
	const list = Array.isArray(conns) ? conns : [];
	for (const c of list.slice(0, MAX_CONNS_SHOWN)) {
		t.append(el('tr', null, el('td', {class: 'mono', text: endpointText(model, c.client)}),
		    el('td', {class: 'mono', text: endpointText(model, c.server)}),
		    el('td', {text: c.state || '—'})));
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
