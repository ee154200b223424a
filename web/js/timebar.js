// The time bar under the map: live by default; drag back to see the map as
// it was at a past minute (from /api/graph?at=), with what appeared or
// vanished since then marked; "Back to live" returns.  While it shows the
// past, the live feed keeps landing in the live model, unseen.

import {el, clear, $} from './dom.js';
import {Model} from './model.js';
import {setHistoryAvailable, forgetSparklines} from './sparkline.js';

const SPAN_MS = 24 * 3600 * 1000;	// how far back the bar reaches at most
const STATUS_MS = 30000;		// how often the history range is asked

export class TimeBar {
	constructor(view, liveModel) {
		this.view = view;
		this.live = liveModel;
		this.at = null;		// the minute shown (ms), null when live
		this.oldest = null;
		this.seq = 0;		// answers to older requests are dropped
		this.box = $('timebar');
		this.build();
		this.refreshRange();
		setInterval(() => this.refreshRange(), STATUS_MS);
	}

	build() {
		clear(this.box);
		this.slider = el('input', {type: 'range', id: 'tb-range', min: '0', max: '0',
		    step: '60000', value: '0', 'aria-label': 'Time: drag back to see the past'});
		this.label = el('span', {class: 'tb-when', id: 'tb-when', text: 'Live'});
		this.note = el('span', {class: 'tb-note muted', id: 'tb-note'});
		this.liveBtn = el('button', {type: 'button', id: 'tb-live', text: 'Back to live',
		    disabled: true, onclick: () => this.goLive()});
		this.box.append(el('span', {class: 'tb-title', text: 'History'}), this.slider,
		    this.label, this.note, this.liveBtn);
		this.slider.addEventListener('input', () => this.showLabel(Number(this.slider.value)));
		this.slider.addEventListener('change', () => {
			const t = Number(this.slider.value);
			if (t >= Number(this.slider.max))
				this.goLive();
			else
				this.goTo(t);
		});
	}

	async refreshRange() {
		let h = null;
		try {
			const r = await fetch('/api/status', {cache: 'no-store'});
			if (r.ok)
				h = (await r.json()).history;
		} catch (e) {
			return;
		}
		setHistoryAvailable(h && h.state !== 'off' && typeof h.oldest_ms === 'number');
		if (!h || h.state === 'off' || typeof h.oldest_ms !== 'number') {
			// nothing to go back to (yet)
			this.box.hidden = this.at === null;
			return;
		}
		this.box.hidden = false;
		const now = Date.now();
		const max = Math.floor(now / 60000) * 60000;
		const min = Math.max(h.oldest_ms, max - SPAN_MS);
		this.slider.min = String(min);
		this.slider.max = String(max);
		if (this.at === null)
			this.slider.value = String(max);
		this.box.classList.toggle('tb-error', h.state === 'error');
		this.note.textContent = this.at === null && h.state === 'error' ?
		    'history not written: ' + (h.error || 'error') : this.note.textContent;
	}

	showLabel(t) {
		this.label.textContent = t >= Number(this.slider.max) ? 'Live' : fmtMinute(t);
	}

	async goTo(t) {
		const seq = ++this.seq;
		this.showLabel(t);
		this.note.textContent = 'loading…';
		let g;
		try {
			const r = await fetch('/api/graph?at=' + encodeURIComponent(String(t)),
			    {cache: 'no-store'});
			g = await r.json();
			if (!r.ok)
				throw new Error(g && g.error ? g.error : 'HTTP ' + r.status);
		} catch (e) {
			if (seq === this.seq)
				this.note.textContent = 'cannot show that minute: ' + e.message;
			return;
		}
		if (seq !== this.seq)
			return;
		this.at = t;
		this.view.historyAt = t;
		forgetSparklines();
		const past = new Model();
		past.applyFull(g);
		const {appeared, vanished} = markSince(past, this.live);
		past.meta = Object.assign({}, this.live.meta, {history: g.meta && g.meta.history});
		this.view.switchModel(past);
		this.liveBtn.disabled = false;
		this.box.classList.add('tb-past');
		const rec = g.meta && g.meta.history && g.meta.history.recorded;
		this.note.textContent = rec ?
		    appeared + ' appeared · ' + vanished + ' vanished since' :
		    'nothing recorded in that minute';
	}

	goLive() {
		this.seq++;
		if (this.at === null)
			return;
		this.at = null;
		this.view.historyAt = null;
		forgetSparklines();
		this.view.switchModel(this.live);
		this.slider.value = this.slider.max;
		this.showLabel(Number(this.slider.max));
		this.note.textContent = '';
		this.liveBtn.disabled = true;
		this.box.classList.remove('tb-past');
	}

	get showingPast() {
		return this.at !== null;
	}
}

// Marks what the past picture has that the live one lost (vanished), and
// adds what the live one has that the past did not (appeared), flagged.
export function markSince(past, live) {
	let appeared = 0, vanished = 0;
	for (const [id, n] of past.nodes) {
		if (!live.nodes.has(id)) {
			past.nodes.set(id, Object.assign({}, n, {hist: 'vanished'}));
			vanished++;
		}
	}
	for (const [id, e] of past.edges) {
		if (!live.edges.has(id)) {
			past.edges.set(id, Object.assign({}, e, {hist: 'vanished'}));
			vanished++;
		}
	}
	for (const [id, e] of live.edges) {
		if (past.edges.has(id))
			continue;
		for (const end of [e.from, e.to]) {
			if (!past.nodes.has(end) && live.nodes.has(end))
				past.nodes.set(end, Object.assign({}, live.nodes.get(end), {hist: 'appeared'}));
		}
		past.edges.set(id, Object.assign({}, e, {hist: 'appeared'}));
		appeared++;
	}
	for (const [id, n] of live.nodes) {
		if (!past.nodes.has(id) && n.kind === 'process') {
			past.nodes.set(id, Object.assign({}, n, {hist: 'appeared'}));
			appeared++;
		}
	}
	return {appeared, vanished};
}

// The look of an item marked by markSince: vanished ones in red, appeared
// ones faint green and dashed.
export function histLook(it, hist) {
	if (hist === 'vanished') {
		if (it.color && typeof it.color === 'object')
			it.color = Object.assign({}, it.color, {color: '#dc2626', opacity: 0.9});
		else
			it.shadow = {enabled: true, color: 'rgba(220,38,38,0.85)', size: 18, x: 0, y: 0};
		it.hist = hist;
	} else if (hist === 'appeared') {
		if (it.color && typeof it.color === 'object') {
			it.color = Object.assign({}, it.color, {color: '#16a34a', opacity: 0.45});
			it.dashes = [3, 4];
		} else {
			it.opacity = 0.45;
			it.shadow = {enabled: true, color: 'rgba(22,163,74,0.7)', size: 14, x: 0, y: 0};
		}
		it.hist = hist;
	}
}

function pad(n) {
	return String(n).padStart(2, '0');
}

// Local time, to the minute, with the date when it is not today.
export function fmtMinute(ms) {
	const d = new Date(ms);
	const today = new Date();
	const hm = pad(d.getHours()) + ':' + pad(d.getMinutes());
	if (d.toDateString() === today.toDateString())
		return 'today ' + hm;
	return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + hm;
}
