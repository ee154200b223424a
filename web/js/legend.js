// The legend card: types with their icons and what the lines mean.

import {el, $} from './dom.js';
import {TYPES} from './config.js';
import {builtinIcon} from './icons.js';

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
	lines.append(el('li', {title: 'Or more traffic: Filters → Edge width'}, el('span', {class: 'ln thick'}),
	    'thicker = more connections'));
	lines.append(el('li', {title: 'Only short-lived connections within the recent window ' +
	    '(webd --window, 60 s by default), none open now'}, el('span', {class: 'ln past'}),
	    'dotted = closed, none open now'));
	lines.append(el('li', {title: 'Shown for what it did within the recent window'},
	    el('span', {class: 'nd exited'}), 'faded = process exited'));
	body.append(lines);
	body.append(el('p', {class: 'lg-hint', text: 'Drag a node to pin it · click for details · double-click a group to expand'}));
}
