// The connections table: every drawn edge, busiest first; the map's
// fallback when it is too dense to read.

import {el, clear, $} from './dom.js';
import {statesText, nodeName} from './format.js';

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
			this.lastShown = null;
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
		// Redrawn only when what it shows changed: a row being clicked
		// must not be replaced under the pointer by an update that only
		// touched something else (a rate, a recent count).
		const shown = rows.slice(0, TABLE_ROWS).map((e) => [e.id, e.fresh, e.closing,
		    nodeName(v, e.from), nodeName(v, e.to), e.count, statesText(e.states),
		    e.reason].join('\u0001')).join('\u0002') + '|' + rows.length;
		if (shown === this.lastShown)
			return;
		this.lastShown = shown;
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
