// A traffic sparkline for the details panel: one point a minute from
// /api/history/series, bytes each way when the history has them, else the
// connections at once.  Answers are cached for a short while, since the
// panel redraws on every live change.

import {el} from './dom.js';

const CACHE_MS = 30000;
const SPAN_MS = 3600 * 1000;
const W = 260, H = 44;
const cache = new Map();	// query -> {t, data} or {t, error}
let available = false;		// the time bar says whether webd keeps history

// Set from /api/status by the time bar: without a history there is
// nothing to ask for (and every request would be a 404).
export function setHistoryAvailable(on) {
	available = Boolean(on);
}

export function sparkBox(kind, id, at) {
	const box = el('div', {class: 'spark'});
	if (!available || typeof id !== 'string' || !id || id.startsWith('g:'))
		return box;
	const end = at !== null && at !== undefined ? at + SPAN_MS / 2 : Date.now();
	const from = Math.floor((end - SPAN_MS) / 60000) * 60000;
	const to = Math.ceil(end / 60000) * 60000;
	const q = (kind === 'node' ? 'node=' : 'edge=') + encodeURIComponent(id) +
	    '&from=' + from + '&to=' + to;
	const canvas = el('canvas', {width: String(W), height: String(H), class: 'spark-canvas'});
	const cap = el('div', {class: 'spark-cap muted', text: 'Traffic, last hour: loading…'});
	box.append(canvas, cap);
	// the panel redraws on every live change: one request per item and
	// half minute, failures included
	const key = q.replace(/&from=.*$/, '');
	const hit = cache.get(key);
	if (hit && Date.now() - hit.t < CACHE_MS) {
		if (hit.error) {
			cap.textContent = 'No history: ' + hit.error;
			canvas.hidden = true;
		} else
			draw(canvas, cap, hit.data, hit.from, hit.to, at);
		return box;
	}
	fetch('/api/history/series?' + q, {cache: 'no-store'})
		.then((r) => r.ok ? r.json() : r.json().then((b) => {
			throw new Error(b && b.error ? b.error : 'HTTP ' + r.status);
		}))
		.then((data) => {
			remember(key, {t: Date.now(), data, from, to});
			draw(canvas, cap, data, from, to, at);
		})
		.catch((e) => {
			remember(key, {t: Date.now(), error: e.message});
			cap.textContent = 'No history: ' + e.message;
			canvas.hidden = true;
		});
	return box;
}

function remember(key, v) {
	cache.set(key, v);
	if (cache.size > 200)
		cache.delete(cache.keys().next().value);
}

// Forgets what was fetched (the time bar moved: another range).
export function forgetSparklines() {
	cache.clear();
}

function draw(canvas, cap, data, from, to, at) {
	const pts = Array.isArray(data && data.points) ? data.points : [];
	const bytes = pts.some((p) => p[4] + p[5] > 0);
	const val = (p) => bytes ? p[4] + p[5] : p[1];
	const max = Math.max(1, ...pts.map(val));
	const ctx = canvas.getContext('2d');
	if (!ctx)
		return;
	ctx.clearRect(0, 0, W, H);
	const x = (t) => (t - from) / Math.max(1, to - from) * (W - 2) + 1;
	const y = (v) => H - 3 - v / max * (H - 8);
	ctx.strokeStyle = '#e2e8f0';
	ctx.beginPath();
	ctx.moveTo(0, H - 2.5);
	ctx.lineTo(W, H - 2.5);
	ctx.stroke();
	if (at !== null && at !== undefined) {
		ctx.strokeStyle = '#f59e0b';
		ctx.beginPath();
		ctx.moveTo(x(at), 0);
		ctx.lineTo(x(at), H);
		ctx.stroke();
	}
	ctx.fillStyle = 'rgba(37,99,235,0.18)';
	ctx.strokeStyle = '#2563eb';
	ctx.lineWidth = 1.5;
	ctx.beginPath();
	pts.forEach((p, i) => {
		const px = x(p[0] + 30000), py = y(val(p));
		if (i === 0)
			ctx.moveTo(px, py);
		else
			ctx.lineTo(px, py);
	});
	ctx.stroke();
	for (const p of pts)
		ctx.fillRect(x(p[0]) , y(val(p)), Math.max(1, (W - 2) / 60 - 1), H - 3 - y(val(p)));
	const total = pts.reduce((a, p) => a + val(p), 0);
	cap.textContent = pts.length === 0 ? 'No traffic recorded in this hour.' :
	    bytes ? 'Bytes per minute (peak ' + fmtBytes(max) + ', total ' + fmtBytes(total) + ')' :
	    'Connections per minute (peak ' + max + ')';
	canvas.dataset.points = String(pts.length);
}

function fmtBytes(n) {
	const u = ['B', 'KB', 'MB', 'GB', 'TB'];
	let i = 0;
	while (n >= 1000 && i < u.length - 1) {
		n /= 1000;
		i++;
	}
	return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}
