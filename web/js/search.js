// The search box: finds processes by name, label, pid, port, address or
// command line, or remote hosts by address or DNS name, and focuses them.

import {el, clear, $, ellipsize} from './dom.js';
import {knownType} from './config.js';
import {builtinIcon} from './icons.js';
import {focusNode} from './format.js';

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
		const model = this.view.model;
		for (const n of model.nodes.values()) {
			const hay = [n.label, n.name, n.pid, n.addr, model.nameOf(n.addr), n.exe,
			    n.cmdline, n.user,
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
