// The live map in headless Chromium against the real procnet-collector and
// procnet-webd, with a population of python3 peers on loopback.  Every wait
// is bounded; nothing asserts on timing.
//
// Needs PROCNET_BUILD_ROOT (meson sets it); playwright-core comes from the
// build tree's npm install (web/meson.build); Chromium from Debian.

import {describe, it, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {createRequire} from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';

const BUILD = process.env.PROCNET_BUILD_ROOT;
const SOURCE = process.env.PROCNET_SOURCE_ROOT || path.resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.PROCNET_CHROMIUM || '/usr/bin/chromium';
const PEER = path.join(SOURCE, 'tests', 'ui', 'peer.py');
const ARTIFACTS = path.join(SOURCE, 'tests', 'artifacts');

if (!BUILD)
	throw new Error('PROCNET_BUILD_ROOT is not set (run through meson test)');
const require = createRequire(path.join(BUILD, 'web', 'npm', 'node_modules', '/'));
const {chromium} = require('playwright-core');

const RULES = `# UI test population
- match_cmd: "--role=db"
  type: database
  label: "orders-db"
- match_cmd: "--role=cache"
  type: cache
  label: "session-cache"
- match_cmd: "--role=broker"
  type: message_broker
  label: "event-bus"
- match_cmd: "--role=metrics"
  type: service
  label: "metrics-agent"
- match_cmd: "--role=api"
  type: service
  label: "api"
- match_cmd: "--role=lb"
  type: load_balancer
  label: "edge-proxy"
- match_cmd: "--role=desktop"
  type: qt_desktop
  label: "ops-dashboard"
- match_cmd: "--role=worker"
  type: app
  label: "worker"
- match_cmd: "--role=late"
  type: app
  label: "late-client"
- match_cmd: "--role=auth"
  type: service
  label: "auth"
- match_cmd: "--role=scheduler"
  type: app
  label: "scheduler"
- match_cmd: "--role=browser"
  type: app
  label: "browser"
- match_cmd: "--role=held"
  type: app
  label: "held-client"
`;

const HOSTILE = '<img src=x onerror=alert(1)>';
// webd's recent window, short so that what closed goes within the test.
const WINDOW_S = 20;

// A disc of one colour on a transparent square, as a PNG for the user's
// icons folder.
function png(size, [r, g, b]) {
	const crcTable = [];
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		crcTable.push(c >>> 0);
	}
	const crc = (buf) => {
		let c = 0xffffffff;
		for (const x of buf)
			c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
		return (c ^ 0xffffffff) >>> 0;
	};
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		len.writeUInt32BE(data.length);
		const td = Buffer.concat([Buffer.from(type), data]);
		const c = Buffer.alloc(4);
		c.writeUInt32BE(crc(td));
		return Buffer.concat([len, td, c]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(size, 0);
	ihdr.writeUInt32BE(size, 4);
	ihdr[8] = 8;	// bit depth
	ihdr[9] = 6;	// RGBA
	const rows = [];
	const c = (size - 1) / 2;
	for (let y = 0; y < size; y++) {
		const px = [0];	// filter: none
		for (let x = 0; x < size; x++) {
			const a = Math.max(0, Math.min(1, size / 2 - Math.hypot(x - c, y - c)));
			px.push(r, g, b, Math.round(a * 255));
		}
		rows.push(Buffer.from(px));
	}
	const raw = Buffer.concat(rows);
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
	    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const kids = [];	// every process we started, stopped by pid in after()
let tmp, webdUrl, ctx, page, webdDown = false;
const consoleErrors = [];
const peers = {};	// role -> {pid, tcp, udp, proc}

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what, fn, timeoutMs = 20000, stepMs = 200) {
	const end = Date.now() + timeoutMs;
	let last;
	for (;;) {
		try {
			last = await fn();
			if (last)
				return last;
		} catch (e) {
			last = e;
		}
		if (Date.now() > end)
			throw new Error('timed out waiting for ' + what + (last instanceof Error ? ': ' + last.message : ''));
		await sleep(stepMs);
	}
}

// If the runner is stopped (a timeout, Ctrl-C), take our processes along.
function killAll() {
	for (const p of kids) {
		if (p.exitCode === null && p.signalCode === null) {
			try { process.kill(p.pid, 'SIGKILL'); } catch (e) { /* gone */ }
		}
	}
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		killAll();
		if (tmp && !process.env.PROCNET_KEEP_TMP)
			fs.rmSync(tmp, {recursive: true, force: true});
		process.exit(1);
	});
}

function start(cmd, args, name) {
	const p = spawn(cmd, args, {stdio: ['pipe', 'pipe', 'pipe']});
	const log = fs.createWriteStream(path.join(tmp, name + '.log'));
	p.stdout.pipe(log);
	p.stderr.pipe(log);
	p.name = name;
	kids.push(p);
	return p;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const {port} = s.address();
			s.close(() => resolve(port));
		});
	});
}

async function startPeer(role, opts = []) {
	const p = spawn('python3', [PEER, '--role=' + role, ...opts], {stdio: ['pipe', 'pipe', 'pipe']});
	p.name = role;
	kids.push(p);
	let err = '';
	p.stderr.on('data', (d) => { err += d; });
	const rl = readline.createInterface({input: p.stdout});
	const line = await Promise.race([
		new Promise((r) => rl.once('line', r)),
		new Promise((_, rej) => p.once('exit', (c) => rej(new Error(role + ' exited ' + c + ': ' + err)))),
		sleep(15000).then(() => { throw new Error(role + ' did not start'); }),
	]);
	const ports = JSON.parse(line);
	return (peers[role] = {pid: p.pid, proc: p, ...ports});
}

function stopProc(p) {
	if (p.exitCode !== null || p.signalCode !== null)
		return Promise.resolve();
	return new Promise((resolve) => {
		const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch (e) {} }, 3000);
		p.once('exit', () => { clearTimeout(t); resolve(); });
		try { process.kill(p.pid, 'SIGTERM'); } catch (e) { clearTimeout(t); resolve(); }
	});
}

let webd, webdArgs, collector, collectorArgs;
async function startWebd() {
	webd = start(path.join(BUILD, 'webd', 'procnet-webd'), webdArgs, 'webd');
	await waitFor('webd answering with the collector connected', async () => {
		const r = await fetch(webdUrl + 'api/status');
		return r.ok && (await r.json()).collector.state === 'connected';
	}, 20000);
}

// ---- helpers that run in the page ----

function nodeOfPid(pid) {
	return page.evaluate((pid) => {
		const n = window.procnet.nodes.get({filter: (n) => n.pid === pid ||
		    (Array.isArray(n.pids) && n.pids.includes(pid))});
		return n.length ? n[0] : null;
	}, pid);
}

function edgesBetween(from, to, proto) {
	return page.evaluate(([from, to, proto]) => window.procnet.edges.get({
		filter: (e) => e.from === from && e.to === to && (!proto || e.proto === proto) && !e.closing,
	}), [from, to, proto]);
}

function positions() {
	return page.evaluate(() => window.procnet.network.getPositions());
}

describe('live map in the browser', {concurrency: false}, () => {
	before(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'procnet-ui-'));
		const sock = path.join(tmp, 'collector.sock');
		const rules = path.join(tmp, 'rules.yaml');
		fs.writeFileSync(rules, RULES);
		collectorArgs = ['--foreground', '--socket', sock];
		collector = start(path.join(BUILD, 'collector-svc', 'procnet-collector'),
		    collectorArgs, 'collector');
		await waitFor('collector socket', () => fs.existsSync(sock), 15000);

		// The population, servers first.
		const db = await startPeer('db', ['--listen', 'tcp']);
		const cache = await startPeer('cache', ['--listen', 'tcp']);
		const broker = await startPeer('broker', ['--listen', 'tcp']);
		const metrics = await startPeer('metrics', ['--listen', 'udp']);
		const auth = await startPeer('auth', ['--listen', 'tcp',
		    '--connect', 'tcp:' + db.tcp + ':1', '--connect', 'tcp:' + cache.tcp + ':2']);
		const apis = [];
		for (let i = 1; i <= 3; i++) {
			apis.push(await startPeer('api' + i, ['--listen', 'tcp',
			    '--connect', 'tcp:' + db.tcp + ':2', '--connect', 'tcp:' + cache.tcp + ':1',
			    '--connect', 'tcp:' + broker.tcp + ':1', '--connect', 'tcp:' + auth.tcp + ':1',
			    '--connect', 'udp:' + metrics.udp + ':1']));
		}
		const lb = await startPeer('lb', ['--listen', 'tcp',
		    ...apis.flatMap((a) => ['--connect', 'tcp:' + a.tcp + ':2'])]);
		for (let i = 1; i <= 5; i++) {
			await startPeer('worker' + i, ['--connect', 'tcp:' + broker.tcp + ':1',
			    '--connect', 'tcp:' + db.tcp + ':1']);
		}
		await startPeer('scheduler', ['--connect', 'tcp:' + broker.tcp + ':2',
		    '--connect', 'udp:' + metrics.udp + ':1']);
		for (let i = 1; i <= 3; i++)
			await startPeer('browser' + i, ['--connect', 'tcp:' + lb.tcp + ':' + i]);
		await startPeer('desktop', ['--connect', 'tcp:' + lb.tcp + ':2',
		    '--connect', 'tcp:' + auth.tcp + ':1', '--note', HOSTILE]);

		// The user's icons: one usable picture, one too small to draw; the
		// other types 404 and get the UI's own.
		const icons = path.join(tmp, 'icons');
		fs.mkdirSync(icons);
		fs.writeFileSync(path.join(icons, 'database.png'), png(48, [217, 119, 6]));
		fs.writeFileSync(path.join(icons, 'mq.png'), png(2, [219, 39, 119]));
		const port = await freePort();
		webdArgs = ['--collector', sock, '--port', String(port), '--web-root',
		    path.join(BUILD, 'web', 'root'), '--udp', '--rules', rules, '--interval', '0.5',
		    '--icons-dir', icons, '--history', path.join(tmp, 'history.sqlite'),
		    '--window', String(WINDOW_S)];
		webdUrl = 'http://127.0.0.1:' + port + '/';
		await startWebd();

		const profile = fs.mkdtempSync(path.join(tmp, 'chromium-'));
		ctx = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			headless: true,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			    '--no-first-run', '--disable-background-networking',
			    '--disable-component-update', '--disable-sync'],
			viewport: {width: 1440, height: 900},
		});
		page = ctx.pages()[0] || await ctx.newPage();
		page.on('console', (m) => {
			if (m.type() !== 'error')
				return;
			// A 404 for /icons/<type>.png is the documented way webd says
			// "no icon of yours, draw the built-in one".
			const loc = m.location() && m.location().url || '';
			if (/\/icons\/[A-Za-z0-9_-]+\.png$/.test(loc) && /404/.test(m.text()))
				return;
			// While webd is down on purpose, and until it has its first
			// sample (503), failed requests are expected.
			if (webdDown && /Failed to load resource: (net::|the server responded with a status of 503)|WebSocket connection to/.test(m.text()))
				return;
			consoleErrors.push(m.text() + ' @ ' + loc);
		});
		page.on('pageerror', (e) => consoleErrors.push('page error: ' + e.message));
	});

	after(async () => {
		if (page && !page.isClosed()) {
			try {
				fs.mkdirSync(ARTIFACTS, {recursive: true});
				await page.screenshot({path: path.join(ARTIFACTS, 'ui-final.png')});
			} catch (e) { /* best effort */ }
		}
		if (ctx)
			await ctx.close().catch(() => {});
		await Promise.all(kids.slice().reverse().map(stopProc));
		if (process.env.PROCNET_KEEP_TMP)
			console.log('# kept ' + tmp);
		else if (tmp)
			fs.rmSync(tmp, {recursive: true, force: true});
	});

	it('loads with no console errors and shows the test processes', async () => {
		await page.goto(webdUrl);
		await waitFor('the page to publish window.procnet', () =>
		    page.evaluate(() => !!(window.procnet && window.procnet.network)));
		for (const [role, p] of Object.entries(peers)) {
			const n = await waitFor('node for ' + role + ' (pid ' + p.pid + ')', () => nodeOfPid(p.pid));
			assert.equal(n.kind, 'process', role);
			assert.equal(n.pid, p.pid, role);
			assert.ok(typeof n.id === 'string' && n.id.startsWith('p:' + p.pid + ':'), n.id);
		}
		let db = await nodeOfPid(peers.db.pid);
		assert.equal(db.type, 'database');
		assert.match(db.label, /^orders-db/);
		db = await waitFor('the server\'s database icon', async () => {
			const n = await nodeOfPid(peers.db.pid);
			return n.image === 'icons/database.png' ? n : null;
		});
		assert.equal((await nodeOfPid(peers.cache.pid)).image, 'img/cache.svg', 'built-in icon on 404');
		assert.equal((await nodeOfPid(peers.broker.pid)).image, 'img/message_broker.svg',
		    'built-in icon instead of a 2-pixel PNG');
		// Client -> server: each api is the client of the database.
		for (const r of ['api1', 'api2', 'api3']) {
			const a = await nodeOfPid(peers[r].pid);
			const e = await waitFor(r + ' -> orders-db edge', async () => {
				const l = await edgesBetween(a.id, db.id, 'tcp');
				return l.length ? l[0] : null;
			});
			assert.equal(e.server_port, peers.db.tcp);
			assert.ok(e.count >= 2, 'count ' + e.count);
			assert.equal(e.arrows.to.enabled, true);
		}
		const status = await page.textContent('#status');
		assert.match(status, /Live/);
		assert.match(status, /connected/);
		assert.deepEqual(consoleErrors, []);
	});

	it('draws UDP edges differently from TCP edges', async () => {
		const api = await nodeOfPid(peers.api1.pid);
		const m = await nodeOfPid(peers.metrics.pid);
		const udp = await waitFor('api1 -> metrics-agent UDP edge', async () => {
			const l = await edgesBetween(api.id, m.id, 'udp');
			return l.length ? l[0] : null;
		});
		const db = await nodeOfPid(peers.db.pid);
		const tcp = (await edgesBetween(api.id, db.id, 'tcp'))[0];
		assert.ok(Array.isArray(udp.dashes) && udp.dashes.length > 0, 'UDP is dashed');
		assert.equal(tcp.dashes, false, 'TCP is solid');
		assert.notEqual(udp.color.color, tcp.color.color, 'UDP has its own colour');
	});

	it('escapes hostile command lines in the panels', async () => {
		const d = await nodeOfPid(peers.desktop.pid);
		assert.ok(String(d.cmdline).includes(HOSTILE), 'cmdline carried: ' + d.cmdline);
		await page.evaluate((id) => {
			window.procnet.network.selectNodes([id]);
			window.procnet.view.network.emit('click', {nodes: [id], edges: []});
		}, d.id);
		await page.waitForSelector('#details:not([hidden])');
		const text = await page.textContent('#details');
		assert.ok(text.includes(HOSTILE), 'shown as text');
		assert.equal(await page.locator('#details img[src="x"]').count(), 0, 'no element made from it');
	});

	it('search finds and focuses a process', async () => {
		await page.fill('#search', 'session-cache');
		await waitFor('a match listed', async () =>
		    (await page.textContent('#search-results')).includes('pid ' + peers.cache.pid));
		// By pid, which is ours alone even when another run shares the host.
		await page.fill('#search', String(peers.cache.pid));
		await page.press('#search', 'Enter');
		const c = await nodeOfPid(peers.cache.pid);
		try {
			await waitFor('cache selected', async () =>
			    (await page.evaluate(() => window.procnet.network.getSelectedNodes()))[0] === c.id);
		} catch (e) {
			const st = await page.evaluate(() => ({
				value: document.getElementById('search').value,
				list: document.getElementById('search-results').textContent,
				selected: window.procnet.network.getSelectedNodes(),
			}));
			throw new Error(e.message + ': want ' + c.id + ', page ' + JSON.stringify(st));
		}
		assert.match(await page.textContent('#details'), /session-cache/);
		await page.fill('#search', '');
		await page.click('#details .close');
	});

	it('lists connections in a table, and a row selects its edge', async () => {
		const a = await nodeOfPid(peers.api3.pid);
		const db = await nodeOfPid(peers.db.pid);
		const e = (await edgesBetween(a.id, db.id, 'tcp'))[0];
		await page.click('#btn-table');
		const row = page.locator('#table tr.row[data-edge="' + e.id + '"]');
		await row.waitFor();
		assert.match(await row.textContent(), new RegExp('orders-db \\(' + peers.db.pid + '\\)'));
		await row.click();
		await waitFor('edge selected', async () =>
		    (await page.evaluate(() => window.procnet.network.getSelectedEdges()))[0] === e.id);
		assert.match(await page.textContent('#details'), new RegExp(String(peers.db.tcp)));
		await page.click('#btn-table');
		await page.click('#details .close');
		assert.equal(await page.locator('#table').isHidden(), true);
	});

	it('shows nothing removed and re-added, and nothing moving, while nothing changes', async () => {
		await waitFor('first layout to settle', () =>
		    page.evaluate(() => !window.procnet.view.layoutRunning), 30000);
		const ours = [];
		for (const p of Object.values(peers))
			ours.push((await nodeOfPid(p.pid)).id);
		// Removals the server asked for (a process or endpoint that really
		// went) are churn on a shared machine; a node dropped while the
		// server still lists it would be the UI's own flicker.
		await page.evaluate(() => {
			const log = window.__dsLog = {add: [], remove: [], dropped: []};
			const pn = window.procnet;
			pn.nodes.on('add', (_, p) => log.add.push(...p.items));
			pn.nodes.on('remove', (_, p) => {
				log.remove.push(...p.items);
				for (const id of p.items) {
					if (pn.model.nodes.has(id))
						log.dropped.push(id);
				}
			});
		});
		const before = await positions();
		const seq0 = await page.evaluate(() => window.procnet.stats.messages);
		// Several samples (webd samples every 0.5 s here).
		await waitFor('four more updates', async () =>
		    (await page.evaluate(() => window.procnet.stats.messages)) >= seq0 + 4, 20000);
		const log = await page.evaluate(() => window.__dsLog);
		const readded = log.dropped.filter((id) => log.add.includes(id));
		assert.deepEqual(readded, [], 'removed and added again while the server kept them');
		assert.deepEqual(log.dropped, [], 'removed while the server kept them');
		for (const id of ours)
			assert.ok(!log.remove.includes(id), id + ' was removed');
		const now = await positions();
		for (const id of ours) {
			const d = Math.hypot(now[id].x - before[id].x, now[id].y - before[id].y);
			assert.ok(d < 1, id + ' moved by ' + d);
		}
	});

	it('a new connection appears next to its server, highlighted, without moving the others', async () => {
		const before = await positions();
		const linked = await page.evaluate(() => {
			const ids = new Set();
			for (const e of window.procnet.edges.get())
				ids.add(e.from).add(e.to);
			return [...ids];
		});
		const api = await nodeOfPid(peers.api2.pid);
		const late = await startPeer('late', ['--connect', 'tcp:' + peers.api2.tcp + ':1']);
		const n = await waitFor('late client node', () => nodeOfPid(late.pid), 20000, 100);
		assert.equal(n.fresh, true, 'highlighted as new');
		const e = await waitFor('late -> api2 edge', async () => {
			const l = await edgesBetween(n.id, api.id, 'tcp');
			return l.length ? l[0] : null;
		}, 20000, 100);
		assert.equal(e.server_port, peers.api2.tcp);
		const now = await positions();
		// A node with no edge yet may be moved once to the side of its first
		// peer; every other node must stay put.
		let moved = 0;
		for (const [id, p] of Object.entries(before)) {
			if (now[id] && linked.includes(id))
				moved = Math.max(moved, Math.hypot(now[id].x - p.x, now[id].y - p.y));
		}
		assert.ok(moved < 5, 'existing nodes moved by up to ' + moved);
		// "Next to": nearer its server than most nodes are (a crowded map may
		// push it a ring or two out, never across the map).
		const from = (id) => Math.hypot(now[id].x - now[api.id].x, now[id].y - now[api.id].y);
		const d = from(n.id);
		const others = Object.keys(now).filter((id) => id !== n.id && id !== api.id).map(from);
		const nearer = others.filter((x) => x < d).length;
		assert.ok(nearer <= others.length / 3,
		    'new node ' + Math.round(d) + ' from its server, ' + nearer + ' of ' + others.length + ' nodes nearer');
		fs.mkdirSync(ARTIFACTS, {recursive: true});
		await page.screenshot({path: path.join(ARTIFACTS, 'ui-new-connection.png')});
	});

	it('a closed connection stays dotted and its exited process faded for the window', async () => {
		const late = peers.late;
		// The model's (raw) ids: the collector sees every process on the
		// machine, and above 150 the view groups them by name.
		const raw = await page.evaluate((pid) => {
			const n = [...window.procnet.model.nodes.values()].find((x) => x.pid === pid);
			return n ? {id: n.id, name: n.name} : null;
		}, late.pid);
		assert.ok(raw, 'late client in the model');
		const api = await page.evaluate((pid) =>
		    [...window.procnet.model.nodes.values()].find((x) => x.pid === pid).id, peers.api2.pid);
		const edgeId = 'tcp:' + raw.id + '>' + api + ':' + peers.api2.tcp;
		await stopProc(late.proc);
		const seen = [];
		try {
			await waitFor('late client exited in the model', async () => {
				const g = await (await fetch(webdUrl + 'api/graph')).json();
				const n = g.nodes.find((x) => x.id === raw.id);
				const m = await page.evaluate((id) => window.procnet.model.nodes.get(id) ?? null, raw.id);
				seen.push((n ? (n.exited ? 'X' : 'n') : '-') + (m ? (m.exited ? 'X' : 'n') : '-'));
				return m?.exited === true;
			}, 20000, 100);
		} catch (err) {
			const st = await (await fetch(webdUrl + 'api/status')).json();
			throw new Error(err.message + '; webd/model per poll: ' + seen.join(' ') +
			    '; status ' + JSON.stringify(st.sample) + JSON.stringify(st.events));
		}
		// drawn on its own, not folded into a group of its name
		await page.evaluate((name) => {
			const v = window.procnet.view;
			v.expand(name);
			v.dirty = true;
			v.render();
		}, raw.name);
		const gone = await waitFor('late client drawn faded', async () => {
			const it = await page.evaluate((id) => window.procnet.nodes.get(id), raw.id);
			return it && it.gone ? it : null;
		}, 10000, 100);
		assert.ok(gone.opacity < 1, 'faded: ' + gone.opacity);
		assert.match(gone.label, /exited/);
		const e = await waitFor('late -> api2 edge dotted', async () => {
			const it = await page.evaluate((id) => window.procnet.edges.get(id), edgeId);
			return it && it.past ? it : null;
		}, 20000, 100);
		assert.equal(e.count, 0);
		assert.ok(Array.isArray(e.dashes) && e.dashes.length > 0, 'dotted');
		assert.equal(e.width, 1, 'thin');
		assert.equal(e.recent.window_s, WINDOW_S);
		assert.equal(e.recent.opened, 1, JSON.stringify(e.recent));
		// the tooltip says what it is
		await page.evaluate((id) => window.procnet.view.network.emit('hoverEdge',
		    {edge: id, pointer: {DOM: {x: 300, y: 200}}}), edgeId);
		assert.match(await page.textContent('#tooltip'),
		    new RegExp('1 connection in the last ' + WINDOW_S + ' s'));
		assert.match(await page.textContent('#tooltip'), /none open now/);
		await page.evaluate(() => window.procnet.view.network.emit('blurEdge', {}));
		// the legend explains it
		assert.match(await page.textContent('#legend'), /dotted = closed, none open now/);
		await page.evaluate(() => window.procnet.network.fit({animation: false}));
		fs.mkdirSync(ARTIFACTS, {recursive: true});
		await page.screenshot({path: path.join(ARTIFACTS, 'ui-recent.png')});
		// (the Filters toggle that hides such edges is view_fuzz's)
		// (that both go once the window has passed is test_window's)
		await page.evaluate((name) => window.procnet.view.collapse(name), raw.name);
	});

	it('saves a screenshot', async () => {
		// One fresh connection, so the picture shows how new ones look.
		const fresh = await startPeer('browser4', ['--connect', 'tcp:' + peers.lb.tcp + ':1']);
		await waitFor('browser4 drawn', () => nodeOfPid(fresh.pid));
		await page.evaluate(() => {
			window.procnet.network.unselectAll();
			window.procnet.network.fit({animation: false});
		});
		await sleep(300);
		fs.mkdirSync(ARTIFACTS, {recursive: true});
		const file = path.join(ARTIFACTS, 'ui-map.png');
		await page.screenshot({path: file});
		assert.ok(fs.statSync(file).size > 10000);
	});

	it('groups by the selector, expands a group in place, and goes back', async () => {
		const pid = peers.db.pid;
		// What is drawn for a pid, as plain values.
		const drawn = () => page.evaluate((pid) => {
			const l = window.procnet.nodes.get({filter: (n) => n.pid === pid ||
			    (Array.isArray(n.pids) && n.pids.includes(pid))});
			if (!l.length)
				return null;
			const n = l[0];
			const at = window.procnet.network.getPositions([n.id])[n.id];
			return {id: n.id, kind: n.kind, count: n.count || 0, label: String(n.label),
			    groupKey: n.groupKey || null, x: at ? at.x : null, y: at ? at.y : null};
		}, pid);
		// webd gives every process its group per mode
		const groups = await page.evaluate((pid) => {
			for (const n of window.procnet.model.nodes.values())
				if (n.pid === pid)
					return JSON.stringify(n.groups || null);
			return 'null';
		}, pid).then(JSON.parse);
		assert.ok(groups && groups.program && groups.user && groups.service && groups.container,
		    'no groups on the db peer: ' + JSON.stringify(groups));
		assert.equal(await page.inputValue('#group-by'), 'program');
		try {
			// Every peer runs as one user: by user they are one node.
			await page.selectOption('#group-by', 'user');
			const g = await waitFor('a user group holding the db peer', async () => {
				const n = await drawn();
				return n && n.kind === 'group' && n.count >= 5 ? n : null;
			});
			assert.equal(g.id, 'g:' + groups.user);
			assert.match(g.label, new RegExp('×' + g.count));
			assert.match(await page.textContent('#status'), /by user/);
			// Double-click expands it where it was.
			await page.evaluate((id) => window.procnet.network.emit('doubleClick',
			    {nodes: [id], edges: []}), g.id);
			const alone = await waitFor('the db peer drawn alone', async () => {
				const n = await drawn();
				return n && n.kind === 'process' ? n : null;
			});
			assert.equal(alone.groupKey, groups.user);
			assert.ok(Math.hypot(alone.x - g.x, alone.y - g.y) < 1500,
			    'expanded far from the group: ' + JSON.stringify([g, alone]));
			assert.equal(await page.evaluate((id) => Boolean(window.procnet.nodes.get(id)), g.id),
			    false);
		} finally {
			// Back to programs: the peers are their own programs again.
			await page.selectOption('#group-by', 'program');
		}
		await waitFor('db alone by program', async () => {
			const n = await drawn();
			return n && n.kind === 'process' && n.id === groups.program;
		});
		assert.equal(await page.evaluate(() => localStorage.getItem('procnet.groupBy')), 'program');
	});

	it('holds changes while paused and applies them on resume', async () => {
		await page.click('#btn-pause');
		const held = await startPeer('held', ['--connect', 'tcp:' + peers.db.tcp + ':1']);
		const m0 = await page.evaluate(() => window.procnet.model.version);
		await waitFor('two updates to arrive while paused', async () =>
		    (await page.evaluate(() => window.procnet.model.version)) >= m0 + 2);
		await waitFor('the server to list the held client', async () => {
			const g = await (await fetch(webdUrl + 'api/graph')).json();
			return g.nodes.some((n) => n.pid === held.pid);
		});
		await waitFor('one more update', async () =>
		    (await page.evaluate(() => window.procnet.model.version)) >= m0 + 3);
		assert.equal(await nodeOfPid(held.pid), null, 'drawn while paused');
		assert.match(await page.textContent('#status'), /Paused/);
		await page.click('#btn-pause');
		await waitFor('held client drawn after resume', () => nodeOfPid(held.pid), 5000, 100);
		await stopProc(held.proc);
	});

	it('pins a dragged node, across a reload', async () => {
		const n = await nodeOfPid(peers.broker.pid);
		const box = await page.locator('#map').boundingBox();
		const at = await page.evaluate((id) => {
			const net = window.procnet.network;
			return net.canvasToDOM(net.getPositions([id])[id]);
		}, n.id);
		await page.mouse.move(box.x + at.x, box.y + at.y);
		await page.mouse.down();
		for (let i = 1; i <= 10; i++)
			await page.mouse.move(box.x + at.x + i * 6, box.y + at.y + i * 4);
		await page.mouse.up();
		const pinned = await waitFor('pin stored', () => page.evaluate((id) =>
		    JSON.parse(localStorage.getItem('procnet.pins.v1') || '{}')[id], n.id), 5000);
		const after = await page.evaluate((id) => window.procnet.network.getPositions([id])[id], n.id);
		assert.ok(Math.hypot(after.x - pinned.x, after.y - pinned.y) < 2, 'pin is where it was dropped');
		await page.reload();
		await waitFor('broker after reload', () => nodeOfPid(peers.broker.pid));
		await waitFor('first layout to settle', () =>
		    page.evaluate(() => window.procnet.view && !window.procnet.view.layoutRunning), 30000);
		const again = await page.evaluate((id) => window.procnet.network.getPositions([id])[id], n.id);
		assert.ok(Math.hypot(again.x - pinned.x, again.y - pinned.y) < 2,
		    'pinned node kept its place across a reload');
		// A pinned node can be moved again, and the pin follows.
		const at2 = await page.evaluate((id) => {
			const net = window.procnet.network;
			return net.canvasToDOM(net.getPositions([id])[id]);
		}, n.id);
		await page.mouse.move(box.x + at2.x, box.y + at2.y);
		await page.mouse.down();
		for (let i = 1; i <= 10; i++)
			await page.mouse.move(box.x + at2.x - i * 5, box.y + at2.y + i * 5);
		await page.mouse.up();
		const moved = await waitFor('pin moved', () => page.evaluate(([id, old]) => {
			const p = JSON.parse(localStorage.getItem('procnet.pins.v1') || '{}')[id];
			return p && Math.hypot(p.x - old.x, p.y - old.y) > 10 ? p : null;
		}, [n.id, pinned]), 5000);
		const last = await page.evaluate((id) => window.procnet.network.getPositions([id])[id], n.id);
		assert.ok(Math.hypot(last.x - moved.x, last.y - moved.y) < 2);
		// Re-layout runs physics until it settles, then stops; the pin stays.
		await page.click('#btn-relayout');
		await waitFor('re-layout to settle', () =>
		    page.evaluate(() => !window.procnet.view.layoutRunning), 30000);
		const kept = await page.evaluate((id) => window.procnet.network.getPositions([id])[id], n.id);
		assert.ok(Math.hypot(kept.x - moved.x, kept.y - moved.y) < 2, 'pin moved by re-layout');
		const item = await nodeOfPid(peers.broker.pid);
		assert.deepEqual(item.fixed, {x: false, y: false}, 'released after the layout');
	});

	it('reconnects after webd restarts without redrawing what it has', async () => {
		await waitFor('live', () => page.evaluate(() => window.procnet.stream.mode === 'live'));
		const ids = await page.evaluate(() => window.procnet.nodes.getIds());
		await page.evaluate(() => {
			const log = window.__reLog = {dropped: []};
			const pn = window.procnet;
			pn.nodes.on('remove', (_, p) => {
				for (const id of p.items) {
					if (pn.model.nodes.has(id))
						log.dropped.push(id);
				}
			});
		});
		webdDown = true;
		await stopProc(webd);
		await waitFor('the page to notice', () => page.evaluate(() =>
		    window.procnet.stream.mode !== 'live'), 20000);
		assert.match(await page.textContent('#status'), /Offline|Polling/);
		await startWebd();
		await waitFor('live again', () => page.evaluate(() =>
		    window.procnet.stream.mode === 'live'), 30000);
		// Let any request that failed while webd was down report first.
		await sleep(500);
		webdDown = false;
		const m0 = await page.evaluate(() => window.procnet.model.version);
		await waitFor('fresh data', async () =>
		    (await page.evaluate(() => window.procnet.model.version)) > m0 + 1);
		const log = await page.evaluate(() => window.__reLog);
		assert.deepEqual(log.dropped, [], 'nodes dropped while still listed');
		for (const p of Object.values(peers)) {
			if (p.proc.exitCode === null && p.proc.signalCode === null)
				assert.ok(ids.includes((await nodeOfPid(p.pid)).id), 'same node for pid ' + p.pid);
		}
	});

	it('shows the collector going down and coming back', async () => {
		const state = () => page.textContent('#status b[class^="col-"]');
		assert.equal(await state(), 'connected');
		await stopProc(collector);
		await waitFor('collector shown as not connected', async () =>
		    /down|connecting/.test(await state()), 20000);
		collector = start(path.join(BUILD, 'collector-svc', 'procnet-collector'),
		    collectorArgs, 'collector2');
		await waitFor('collector shown as connected again', async () =>
		    (await state()) === 'connected', 30000);
		await waitFor('db still drawn', () => nodeOfPid(peers.db.pid));
	});

	it('keeps working on polling when the WebSocket is refused', async () => {
		const p2 = await ctx.newPage();
		p2.on('pageerror', (e) => consoleErrors.push('page error (polling): ' + e.message));
		await p2.routeWebSocket(/\/api\/stream(\?.*)?$/, (ws) => ws.close());
		await p2.goto(webdUrl);
		await waitFor('polling mode with the graph', () => p2.evaluate(() =>
		    window.procnet && window.procnet.stream.mode === 'polling' &&
		    window.procnet.nodes.length > 0), 20000);
		const pid = peers.db.pid;
		await waitFor('db node by polling', () => p2.evaluate((pid) =>
		    window.procnet.nodes.get({filter: (n) => n.pid === pid}).length === 1, pid));
		assert.match(await p2.textContent('#status'), /Polling/);
		await p2.close();
	});



	it('time bar: a past minute with what vanished since, sparklines, back to live', async () => {
		// A past minute with a process that is gone now, talking to the db,
		// written into webd's history file beside webd (WAL lets both).
		const db = await nodeOfPid(peers.db.pid);
		const file = path.join(tmp, 'history.sqlite');
		await waitFor('the history file', () => fs.existsSync(file));
		const minute = Math.floor(Date.now() / 60000) - 5;
		const py = spawnSync('python3', ['-c', `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
m, key = int(sys.argv[2]), sys.argv[3]
for k, name in (("p:99999:1", "gone-proc"), (key, "db")):
    db.execute("INSERT INTO nodes(key, kind, label, name, pid, start_ms, first_ms, last_ms)"
               " VALUES(?, 0, ?, ?, 99999, 1, ?, ?) ON CONFLICT(key) DO UPDATE SET"
               " first_ms=min(first_ms, excluded.first_ms)",
               (k, name, name, m * 60000, m * 60000 + 59000))
ids = [db.execute("SELECT id FROM nodes WHERE key=?", (k,)).fetchone()[0]
       for k in ("p:99999:1", key)]
db.execute("INSERT INTO edge_minutes VALUES(?,?,?,0,?,3,3,1,5000,700)",
           (m, ids[0], ids[1], int(sys.argv[4])))
db.commit()
`, file, String(minute), db.id, String(peers.db.tcp)], {encoding: 'utf8'});
		assert.equal(py.status, 0, py.stderr);
		// webd looks at its file's range every few seconds
		await waitFor('the past minute in the status', async () => {
			const h = (await (await fetch(webdUrl + 'api/status')).json()).history;
			return h.oldest_ms !== null && h.oldest_ms <= minute * 60000;
		});

		await page.evaluate(() => window.procnet.timebar.refreshRange());
		await waitFor('the time bar', async () => !(await page.isHidden('#timebar')));
		await page.evaluate((t) => {
			const s = document.getElementById('tb-range');
			s.value = String(t);
			s.dispatchEvent(new Event('change'));
		}, minute * 60000);
		const gone = await waitFor('the vanished process drawn', () => page.evaluate(() =>
		    window.procnet.nodes.get('p:99999:1')));
		assert.equal(gone.hist, 'vanished');
		const e = await page.evaluate((dbid) => window.procnet.edges.get({
		    filter: (x) => x.from === 'p:99999:1' && x.to === dbid}), db.id);
		assert.equal(e.length, 1, 'the past edge');
		assert.equal(e[0].hist, 'vanished');
		assert.match(await page.textContent('#tb-note'), /\d+ appeared · \d+ vanished since/);
		assert.match(await page.textContent('#tb-when'), /\d\d:\d\d/);
		assert.equal(await page.isDisabled('#tb-live'), false);
		// live items the past did not have are marked as appeared
		assert.ok(await page.evaluate(() => window.procnet.nodes.get({
		    filter: (n) => n.hist === 'appeared'}).length > 0));

		// the edge's details: a sparkline from the history
		await page.evaluate((id) => {
			window.procnet.network.selectEdges([id]);
			window.procnet.view.network.emit('click', {nodes: [], edges: [id]});
		}, e[0].id);
		await page.waitForSelector('#details:not([hidden])');
		await waitFor('the sparkline', () => page.evaluate(() => {
			const c = document.querySelector('#details .spark-canvas');
			return c && Number(c.dataset.points) >= 1;
		}));
		assert.match(await page.textContent('#details .spark-cap'), /Bytes per minute/);
		fs.mkdirSync(ARTIFACTS, {recursive: true});
		await page.screenshot({path: path.join(ARTIFACTS, 'ui-history.png')});

		await page.click('#tb-live');
		await waitFor('live again without the vanished process', () => page.evaluate(() =>
		    window.procnet.nodes.get('p:99999:1') === null && !window.procnet.timebar.showingPast));
		assert.equal(await page.textContent('#tb-when'), 'Live');
		assert.equal(await page.isDisabled('#tb-live'), true);
		await waitFor('db drawn live', () => nodeOfPid(peers.db.pid));
		await page.keyboard.press('Escape');
	});

	it('logged no console errors throughout', () => {
		assert.deepEqual(consoleErrors, []);
	});
});
