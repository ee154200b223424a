// Look and timing constants shared by the view, the legend and the panels.

export const TYPES = {
	app:            {label: 'Application', color: '#2563eb'},
	service:        {label: 'Service', color: '#7c3aed'},
	database:       {label: 'Database', color: '#d97706'},
	message_broker: {label: 'Message broker', color: '#db2777'},
	cache:          {label: 'Cache', color: '#0d9488'},
	load_balancer:  {label: 'Load balancer', color: '#0891b2'},
	qt_desktop:     {label: 'Qt desktop app', color: '#16a34a'},
	external:       {label: 'External host', color: '#64748b'},
	endpoint:       {label: 'Local endpoint', color: '#94a3b8'},
};

// Types the server may send that we have no drawing for fall back to this.
export const FALLBACK_TYPE = 'app';

export const EDGE = {
	tcp: '#64748b',
	udp: '#ea580c',
	fresh: '#16a34a',
	closing: '#dc2626',
	dashes: [7, 5],
};

export const HIGHLIGHT_MS = 6000;	// how long a new node or edge glows
export const FADE_MS = 5000;		// how long a closed one takes to fade out
export const TICK_MS = 250;

// Grouping of processes by name: on above GROUP_ON processes, off again
// below GROUP_OFF, so a count hovering near the line does not flap.
export const GROUP_ON = 150;
export const GROUP_OFF = 120;

// Large graphs trade a little eye candy for smooth panning.
export const BIG_GRAPH = 300;

export const MAX_ITEMS = 50000;		// caps on what we accept from the server
export const MAX_CONNS_SHOWN = 200;	// connection rows in the details panel
export const LABEL_MAX = 26;

export const PIN_KEY = 'procnet.pins.v1';
export const PIN_MAX = 2000;

export const REASONS = {
	pair: 'both ends seen: the side on the listening port is the server',
	listener: 'the server side owns a listening socket on this port',
	'service-port': 'the server port is a well-known service port',
	heuristic: 'no listener known: the lower port is taken as the server',
};

// Type names come from the user's rules: look them up as own keys only
// ("constructor" or "__proto__" are not types of ours).
export function knownType(t) {
	return typeof t === 'string' && Object.prototype.hasOwnProperty.call(TYPES, t);
}

export function typeInfo(t) {
	return knownType(t) ? TYPES[t] : TYPES[FALLBACK_TYPE];
}
