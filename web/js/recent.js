// What the map shows of the recent-connections window (docs/api.md,
// edge "recent", node "exited"): edges that only carried connections which
// have closed are drawn thin and dotted, processes that have exited faded,
// and the text for both.  Pure functions of API items: unit-tested in node.

export const RECENT_DASHES = [2, 4];
export const EXITED_OPACITY = 0.45;

function num(v) {
	return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

// The sum of the recent figures of one or more API edges (a group's
// folded edge adds up its members).
export function recentOf(edges) {
	const r = {window_s: 0, opened: 0, closed: 0, bytes_sent: 0, bytes_received: 0};
	for (const e of edges) {
		const x = e && typeof e.recent === 'object' && e.recent ? e.recent : null;
		if (!x)
			continue;
		r.window_s = Math.max(r.window_s, num(x.window_s));
		r.opened += num(x.opened);
		r.closed += num(x.closed);
		r.bytes_sent += num(x.bytes_sent);
		r.bytes_received += num(x.bytes_received);
	}
	return r;
}

// An edge with no connection open now that is on the map only for what
// it carried within the window.
export function recentOnly(count, recent) {
	return num(count) === 0 && !!recent && (num(recent.opened) > 0 || num(recent.closed) > 0);
}

export function plural(n, one, many) {
	return n + ' ' + (n === 1 ? one : many);
}

// "37 connections in the last 60 s, none open now" (and variants).
export function recentText(count, recent) {
	if (!recent || !(num(recent.opened) > 0 || num(recent.closed) > 0))
		return '';
	const w = num(recent.window_s) || 60;
	const n = Math.max(num(recent.opened), num(recent.closed));
	const open = num(count);
	const head = plural(n, 'connection', 'connections') + ' in the last ' + w + ' s';
	if (open === 0)
		return head + ', none open now';
	return head + ' (' + num(recent.opened) + ' opened, ' + num(recent.closed) +
	    ' closed), ' + open + ' open now';
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

// 1536 -> "1.5 kB" (decimal units, as network tools count).
export function bytesText(b) {
	let v = num(b), u = 0;
	while (v >= 1000 && u < UNITS.length - 1) {
		v /= 1000;
		u++;
	}
	return (u === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) :
	    v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ' + UNITS[u];
}

// The traffic of one or more API edges now: bytes per second each way
// (summed) and the mean RTT of those that have one (null when none).
export function rateOf(edges) {
	const r = {sent: 0, received: 0, rtt_ms: null};
	let rtt = 0, n = 0;
	for (const e of edges) {
		const b = e && typeof e.bytes_per_s === 'object' && e.bytes_per_s ? e.bytes_per_s : null;
		if (b) {
			r.sent += num(b.sent);
			r.received += num(b.received);
		}
		if (e && typeof e.rtt_ms === 'number' && Number.isFinite(e.rtt_ms) && e.rtt_ms >= 0) {
			rtt += e.rtt_ms;
			n++;
		}
	}
	if (n > 0)
		r.rtt_ms = rtt / n;
	return r;
}

// Edge width when sized by traffic: 1 px at nothing, growing with the
// logarithm of bytes per second both ways, 9 px at about 1 GB/s.
export function rateWidth(rate) {
	const bps = rate ? num(rate.sent) + num(rate.received) : 0;
	return Math.min(1 + Math.log10(1 + bps) * 0.9, 9);
}

// "1.20 MB/s to the server, 30.0 kB/s back"; '' when nothing moves.
export function rateText(rate) {
	if (!rate || (num(rate.sent) === 0 && num(rate.received) === 0))
		return '';
	return bytesText(rate.sent) + '/s to the server, ' + bytesText(rate.received) + '/s back';
}

export function rttText(rate) {
	if (!rate || typeof rate.rtt_ms !== 'number')
		return '';
	const v = rate.rtt_ms;
	return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(3)) + ' ms';
}

// "1.2 MB → · 30 kB ←" from the client's side; '' when nothing moved.
export function recentBytesText(recent) {
	if (!recent || (num(recent.bytes_sent) === 0 && num(recent.bytes_received) === 0))
		return '';
	return bytesText(recent.bytes_sent) + ' to the server, ' +
	    bytesText(recent.bytes_received) + ' back';
}
