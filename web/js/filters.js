// The Filters popover: TCP, UDP, external hosts, port labels, and types.

import {el, clear, $} from './dom.js';
import {TYPES, knownType} from './config.js';
import {builtinIcon} from './icons.js';

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
		this.containersBox = el('div', {class: 'types'});
		this.knownContainers = this.knownContainers || new Map();
		if (this.knownContainers.size) {
			this.box.append(el('h3', {text: 'Containers'}));
			this.box.append(this.containersBox);
		}
		for (const [cid, title] of this.knownContainers) {
			this.containersBox.append(this.check(title, !f.hiddenContainers.has(cid), (c) => {
				if (c)
					f.hiddenContainers.delete(cid);
				else
					f.hiddenContainers.add(cid);
				rerender();
			}));
		}
		this.box.append(this.check('Closed connections (recent window)', f.recentOnly,
		    (c) => { f.recentOnly = c; rerender(); }));
		this.box.append(el('h3', {text: 'Edge width'}));
		for (const [v, label] of [['count', 'Connections'], ['traffic', 'Traffic (bytes/s)']]) {
			const input = el('input', {type: 'radio', name: 'width-by', value: v});
			input.checked = f.widthBy === v;
			input.addEventListener('change', () => {
				if (input.checked) {
					f.widthBy = v;
					rerender();
				}
			});
			this.box.append(el('label', {class: 'chk'}, input, label));
		}
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
		return !f.tcp || !f.udp || !f.externals || !f.recentOnly || f.hiddenTypes.size > 0 ||
		    f.hiddenContainers.size > 0;
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
		// Each container seen gets its own checkbox.
		for (const [cid, box] of this.view.containers) {
			if (!this.knownContainers.has(cid)) {
				this.knownContainers.set(cid, box.title);
				added = true;
			}
		}
		if (added)
			this.build();
	}
}
