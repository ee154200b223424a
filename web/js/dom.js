// DOM helpers.  Every string that reaches the page goes through
// textContent or a DOM attribute setter, never through innerHTML: command
// lines and process names are hostile input.

export function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k === 'class')
				e.className = v;
			else if (k === 'text')
				e.textContent = String(v);
			else if (k.startsWith('on') && typeof v === 'function')
				e.addEventListener(k.slice(2), v);
			else
				e.setAttribute(k, v === true ? '' : String(v));
		}
	}
	append(e, children);
	return e;
}

function append(parent, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false)
			continue;
		if (Array.isArray(c))
			append(parent, c);
		else if (c instanceof Node)
			parent.appendChild(c);
		else
			parent.appendChild(document.createTextNode(String(c)));
	}
}

export function clear(e) {
	while (e.firstChild)
		e.removeChild(e.firstChild);
}

export function $(id) {
	return document.getElementById(id);
}

// Cuts a string for display; full text stays available in the details panel.
export function ellipsize(s, max) {
	s = String(s ?? '');
	return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function fmtAge(ms) {
	if (ms < 0 || !Number.isFinite(ms))
		return '–';
	const s = Math.round(ms / 1000);
	if (s < 60)
		return s + ' s';
	if (s < 3600)
		return Math.floor(s / 60) + ' min';
	return Math.floor(s / 3600) + ' h';
}
