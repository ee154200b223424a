// Live feed from webd: the WebSocket /api/stream first; when it cannot be
// opened or drops, poll /api/graph and keep retrying the socket with
// backoff.  Handlers get {type:'full',graph} / {type:'delta',...} /
// {type:'status',...} exactly as the server sends them.

const POLL_MS = 2000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 15000;
const MAX_MESSAGE = 64 * 1024 * 1024;	// far above any real graph

export class Stream {
	constructor(handlers) {
		this.h = handlers;		// {message(msg), mode(text)}
		this.ws = null;
		this.mode = 'connecting';
		this.backoff = BACKOFF_MIN_MS;
		this.retryTimer = null;
		this.pollTimer = null;
		this.lastSeq = null;
		this.stopped = false;
	}

	start() {
		this.openSocket();
	}

	setMode(m) {
		if (this.mode === m)
			return;
		this.mode = m;
		this.h.mode(m);
	}

	openSocket() {
		if (this.stopped)
			return;
		const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
		let ws;
		try {
			ws = new WebSocket(proto + '//' + location.host + '/api/stream?group=process');
		} catch (e) {
			this.socketFailed();
			return;
		}
		this.ws = ws;
		let opened = false;
		ws.onopen = () => {
			opened = true;
			this.backoff = BACKOFF_MIN_MS;
			this.lastSeq = null;
			this.stopPolling();
			this.setMode('live');
		};
		ws.onmessage = (ev) => {
			if (typeof ev.data !== 'string' || ev.data.length > MAX_MESSAGE)
				return;
			let msg;
			try {
				msg = JSON.parse(ev.data);
			} catch (e) {
				return;
			}
			this.onMessage(msg);
		};
		ws.onclose = () => {
			if (this.ws !== ws)
				return;
			this.ws = null;
			this.socketFailed(opened);
		};
		// onerror is always followed by onclose.
		ws.onerror = () => {};
	}

	onMessage(msg) {
		if (!msg || typeof msg !== 'object')
			return;
		// A lost delta would leave a wrong picture: deltas are applied as
		// upserts and removals, so apply this one and resync from the full
		// graph as well.
		if (msg.type === 'delta' && this.lastSeq !== null &&
		    typeof msg.seq === 'number' && msg.seq !== this.lastSeq + 1)
			this.fetchGraph();
		if (typeof msg.seq === 'number' && (msg.type === 'full' || msg.type === 'delta'))
			this.lastSeq = msg.seq;
		this.h.message(msg);
	}

	socketFailed() {
		if (this.stopped)
			return;
		this.setMode('polling');
		this.startPolling();
		clearTimeout(this.retryTimer);
		this.retryTimer = setTimeout(() => this.openSocket(), this.backoff);
		this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
	}

	startPolling() {
		if (this.polling)
			return;
		this.polling = true;
		this.poll();
	}

	// The next poll is timed from the end of the last, so a slow server or
	// a big graph never stacks requests up.
	async poll() {
		await this.fetchGraph();
		if (this.polling)
			this.pollTimer = setTimeout(() => this.poll(), POLL_MS);
	}

	stopPolling() {
		this.polling = false;
		clearTimeout(this.pollTimer);
		this.pollTimer = null;
	}

	async fetchGraph() {
		if (this.fetching)
			return;
		this.fetching = true;
		try {
			const r = await fetch('/api/graph?group=process', {cache: 'no-store'});
			if (!r.ok)
				throw new Error('HTTP ' + r.status);
			const graph = await r.json();
			if (graph && Array.isArray(graph.nodes) && Array.isArray(graph.edges))
				this.h.message({type: 'full', graph, polled: true});
			// Without the stream there are no status messages: ask.
			if (this.mode !== 'live')
				await this.fetchStatus();
			if (this.mode === 'offline')
				this.setMode('polling');
		} catch (e) {
			if (this.mode !== 'live')
				this.setMode('offline');
		} finally {
			this.fetching = false;
		}
	}

	async fetchStatus() {
		try {
			const r = await fetch('/api/status', {cache: 'no-store'});
			if (!r.ok)
				return;
			const st = await r.json();
			const c = st && st.collector;
			if (c && typeof c.state === 'string') {
				this.h.message({type: 'status', collector: c.state,
				    error: typeof c.error === 'string' ? c.error : '',
				    rules_error: st.rules && typeof st.rules.error === 'string' ?
				    st.rules.error : undefined});
			}
		} catch (e) {
			// The graph poll reports the outage.
		}
	}

	stop() {
		this.stopped = true;
		this.stopPolling();
		clearTimeout(this.retryTimer);
		if (this.ws)
			this.ws.close();
	}
}
