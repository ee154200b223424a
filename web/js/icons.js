// Node pictures.  webd serves the user's PNG per type at /icons/<type>.png
// and answers 404 when it has none; then we draw our own SVG.  Each type is
// asked once per page load.

import {FALLBACK_TYPE, knownType} from './config.js';

const server = new Map();	// type -> null (asking) | true | false
let changed = () => {};
// Whether webd has an icons folder at all (/api/status "icons"); until it
// says so we ask for nothing, so a server without one never sees a request
// that can only 404.
let serverHasIcons = false;

export function setServerIcons(on) {
	if (on === serverHasIcons)
		return;
	serverHasIcons = on;
	changed();
}

export function onIconsChanged(fn) {
	changed = fn;
}

export function builtinIcon(name) {
	return 'img/' + (knownType(name) ? name : FALLBACK_TYPE) + '.svg';
}

function probe(type) {
	server.set(type, null);
	const img = new Image();
	// vis-network shrinks every image into halves, quarters, eighths and
	// fails on pictures under 16 pixels: those get our own icon too.
	img.onload = () => {
		const ok = img.naturalWidth >= 16 && img.naturalHeight >= 16;
		server.set(type, ok);
		if (ok)
			changed();
	};
	img.onerror = () => server.set(type, false);
	img.src = serverIcon(type);
}

function serverIcon(type) {
	return 'icons/' + encodeURIComponent(type) + '.png';
}

// Only plain type names are sent to the server: anything else gets the
// built-in picture without asking.
const TYPE_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function iconFor(node) {
	if (node.kind === 'endpoint')
		return builtinIcon('endpoint');
	const type = node.kind === 'external' ? 'external' : String(node.type || FALLBACK_TYPE);
	if (!TYPE_RE.test(type))
		return builtinIcon(FALLBACK_TYPE);
	if (!serverHasIcons)
		return builtinIcon(type);
	if (!server.has(type))
		probe(type);
	return server.get(type) ? serverIcon(type) : builtinIcon(type);
}
