// The map at scale, against tests/ui/mock_server.py (a stand-in for webd
// that serves a generated graph of hundreds of processes and sends a delta
// every half second): grouping by name and expanding a group, filters,
// parallel edges, and the cost of applying deltas (reported, not asserted).

import {describe, it, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {createRequire} from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const BUILD = process.env.PROCNET_BUILD_ROOT;
const SOURCE = process.env.PROCNET_SOURCE_ROOT || path.resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.PROCNET_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = path.join(SOURCE, 'tests', 'artifacts');
if (!BUILD)
	throw new Error('PROCNET_BUILD_ROOT is not set (run through meson test)');
const require = createRequire(path.join(BUILD, 'web', 'npm', 'node_modules', '/'));
const {chromium} = require('playwright-core');

let tmp, mock, url, ctx, page;
const consoleErrors = [];

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what, fn, timeoutMs = 20000, stepMs = 200) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn().catch(() => null);
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('timed out waiting for ' + what);
		await sleep(stepMs);
	}
}

// If the runner is stopped (a timeout, Ctrl-C), take the mock server along.
function killMock() {
	if (mock && mock.exitCode === null && mock.signalCode === null) {
		try { process.kill(mock.pid, 'SIGKILL'); } catch (e) { /* gone */ }
	}
}
process.on('exit', killMock);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		killMock();
		if (tmp)
			fs.rmSync(tmp, {recursive: true, force: true});
		process.exit(1);
	});
}

describe('live map at scale (mock server)', {concurrency: false}, () => {
	before(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'procnet-ui-scale-'));
		mock = spawn('python3', [path.join(SOURCE, 'tests', 'ui', 'mock_server.py'),
		    '--root', path.join(BUILD, 'web', 'root'), '--port', '0', '--procs', '500',
		    '--udp', '--interval', '0.5', '--seed', '7'], {stdio: ['ignore', 'pipe', 'inherit']});
		const rl = readline.createInterface({input: mock.stdout});
		url = await Promise.race([
			new Promise((r) => rl.once('line', r)),
			sleep(20000).then(() => { throw new Error('mock server did not start'); }),
		]);
		ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(tmp, 'chromium-')), {
			executablePath: CHROMIUM,
			headless: true,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
			    '--no-first-run', '--disable-background-networking',
			    '--disable-component-update', '--disable-sync'],
			viewport: {width: 1440, height: 900},
		});
		page = ctx.pages()[0] || await ctx.newPage();
		page.on('console', (m) => {
			const loc = m.location() && m.location().url || '';
			if (m.type() === 'error' && !(/\/icons\/[A-Za-z0-9_-]+\.png$/.test(loc) && /404/.test(m.text())))
				consoleErrors.push(m.text() + ' @ ' + loc);
		});
		page.on('pageerror', (e) => consoleErrors.push('page error: ' + e.message));
		await page.goto(url);
		// Grouping by name above 150 processes is what this file tests:
		// the process mode (webd's groups are ui.test.mjs's).
		await page.selectOption('#group-by', 'process');
		await waitFor('the first layout', () => page.evaluate(() =>
		    window.procnet && window.procnet.nodes.length > 0 && !window.procnet.view.layoutRunning), 60000);
	});

	after(async () => {
		if (ctx)
			await ctx.close().catch(() => {});
		if (mock && mock.exitCode === null) {
			const done = new Promise((r) => mock.once('exit', r));
			mock.kill('SIGTERM');
			await done;
		}
		if (tmp)
			fs.rmSync(tmp, {recursive: true, force: true});
	});

	it('groups processes of one name above the threshold', async () => {
		const r = await page.evaluate(() => {
			const pn = window.procnet;
			const groups = pn.nodes.get({filter: (n) => n.kind === 'group'});
			const procs = pn.nodes.get({filter: (n) => n.kind === 'process'});
			let raw = 0;
			for (const n of pn.model.nodes.values())
				raw += n.kind === 'process' ? 1 : 0;
			return {groups, procs: procs.length, raw};
		});
		assert.ok(r.raw > 150, 'test needs > 150 processes, has ' + r.raw);
		assert.ok(r.groups.length > 0, 'no group nodes');
		for (const g of r.groups) {
			assert.equal(g.count, g.pids.length);
			assert.ok(g.count >= 2);
			assert.match(g.label, new RegExp('×' + g.count + '$'));
		}
		const covered = r.procs + r.groups.reduce((a, g) => a + g.count, 0);
		assert.equal(covered, r.raw, 'every process is drawn once, alone or in a group');
	});

	it('expands a group from its details panel', async () => {
		const g = await page.evaluate(() => {
			const gs = window.procnet.nodes.get({filter: (n) => n.kind === 'group'});
			gs.sort((a, b) => a.count - b.count);
			return gs[0];
		});
		await page.evaluate((id) => {
			window.procnet.network.selectNodes([id]);
			window.procnet.network.emit('click', {nodes: [id], edges: []});
		}, g.id);
		await page.click('#details button:text("Expand")');
		assert.equal(await page.locator('#details').isHidden(), true, 'panel closed with its group');
		await waitFor('members drawn', () => page.evaluate((name) =>
		    window.procnet.nodes.get({filter: (n) => n.kind === 'process' && n.name === name}).length >= 2 &&
		    !window.procnet.nodes.get('g:' + name), g.name));
		// Members start where the group was, not somewhere far away.
		const spread = await page.evaluate((name) => {
			const pn = window.procnet;
			const ids = pn.nodes.getIds({filter: (n) => n.kind === 'process' && n.name === name});
			const pos = Object.values(pn.network.getPositions(ids));
			const xs = pos.map((p) => p.x), ys = pos.map((p) => p.y);
			return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
		}, g.name);
		assert.ok(spread < 3000, 'members spread over ' + spread);
	});

	it('filters hide UDP edges and external hosts, and show them again', async () => {
		const counts = () => page.evaluate(() => ({
			udp: window.procnet.edges.get({filter: (e) => e.proto === 'udp' && !e.hidden}).length,
			ext: window.procnet.nodes.get({filter: (n) => n.kind === 'external' && !n.hidden}).length,
		}));
		const c0 = await counts();
		assert.ok(c0.udp > 0 && c0.ext > 0, JSON.stringify(c0));
		await page.click('#btn-filters');
		await page.click('#filters label:has-text("UDP") input');
		await page.click('#filters label:has-text("External hosts") input');
		const c1 = await counts();
		assert.deepEqual(c1, {udp: 0, ext: 0});
		await page.click('#filters label:has-text("UDP") input');
		await page.click('#filters label:has-text("External hosts") input');
		await page.click('#btn-filters');
		const c2 = await counts();
		assert.ok(c2.udp > 0 && c2.ext > 0, JSON.stringify(c2));
	});

	it('bends parallel edges between one pair apart', async () => {
		const pairs = await page.evaluate(() => {
			const by = new Map();
			for (const e of window.procnet.edges.get()) {
				if (e.from === e.to)
					continue;
				const k = [e.from, e.to].sort().join(' ');
				by.set(k, (by.get(k) || []).concat([e]));
			}
			return [...by.values()].filter((l) => l.length > 1).slice(0, 20);
		});
		assert.ok(pairs.length > 0, 'the fixture has parallel edges');
		for (const l of pairs) {
			const shapes = new Set(l.map((e) => {
				const s = e.smooth;
				if (!s)
					return 'straight';
				// CW from a to b is CCW from b to a: normalise to one direction.
				const flip = e.from > e.to;
				const t = s.type === 'curvedCW' ? (flip ? 'CCW' : 'CW') : (flip ? 'CW' : 'CCW');
				return t + s.roundness;
			}));
			assert.equal(shapes.size, l.length, 'edges of one pair drawn on top of each other: ' +
			    l.map((e) => e.id).join(', '));
		}
	});

	it('applies deltas in place at this size (cost reported)', async (t) => {
		const m0 = await page.evaluate(() => window.procnet.stats.messages);
		await waitFor('ten more deltas', async () =>
		    (await page.evaluate(() => window.procnet.stats.messages)) >= m0 + 10, 30000);
		const s = await page.evaluate(() => ({
			recent: window.procnet.stats.recentApplyMs.slice(-10),
			nodes: window.procnet.nodes.length, edges: window.procnet.edges.length,
			raw: window.procnet.model.nodes.size,
		}));
		const sorted = s.recent.slice().sort((a, b) => a - b);
		t.diagnostic(`delta apply over ${s.raw} API nodes (${s.nodes} drawn, ${s.edges} edges): ` +
		    `median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`);
		// Pan and zoom with the mouse still leave a consistent picture.
		const box = await page.locator('#map').boundingBox();
		await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
		for (let i = 0; i < 5; i++)
			await page.mouse.wheel(0, -120);
		await page.mouse.down();
		await page.mouse.move(box.x + box.width / 2 + 200, box.y + box.height / 2 + 80, {steps: 8});
		await page.mouse.up();
		const scale = await page.evaluate(() => window.procnet.network.getScale());
		assert.ok(scale > 0);
		fs.mkdirSync(ARTIFACTS, {recursive: true});
		await page.evaluate(() => window.procnet.network.fit({animation: false}));
		await sleep(500);	// edges come back after the zoom/drag hiding
		await page.screenshot({path: path.join(ARTIFACTS, 'ui-scale.png')});
		assert.deepEqual(consoleErrors, []);
	});
});
