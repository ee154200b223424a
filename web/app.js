// Procnet Live in the browser: wires the live feed, the model, the map and
// the panels together.

import {Model} from './js/model.js';
import {GraphView} from './js/view.js';
import {Stream} from './js/stream.js';
import {onIconsChanged, setServerIcons} from './js/icons.js';
import {Tooltip} from './js/tooltip.js';
import {Details} from './js/details.js';
import {Filters} from './js/filters.js';
import {Search} from './js/search.js';
import {StatusBar} from './js/statusbar.js';
import {Table} from './js/table.js';
import {TimeBar} from './js/timebar.js';
import {buildLegend} from './js/legend.js';
import {$} from './js/dom.js';
import {TICK_MS} from './js/config.js';

const model = new Model();
const view = new GraphView($('map'), model);
const status = new StatusBar(view, model);
const details = new Details(view);
new Tooltip(view);
new Filters(view);
new Search(view, details);
new Table(view, details);
buildLegend(view);
const timebar = new TimeBar(view, model);

const stats = view.stats;
stats.lastApplyMs = 0;
stats.maxApplyMs = 0;
stats.messages = 0;
stats.recentApplyMs = [];	// the last 100, for measurements

function onMessage(msg) {
	const t0 = performance.now();
	if (msg.type === 'full' && msg.graph && typeof msg.graph === 'object')
		model.applyFull(msg.graph);
	else if (msg.type === 'delta')
		model.applyDelta(msg);
	else if (msg.type === 'status') {
		model.collector = msg;
		status.update();
		return;
	} else
		return;
	// Showing the past: the live model moves on unseen until "back to live".
	if (timebar.showingPast)
		return;
	view.dirty = true;
	view.render();
	const ms = performance.now() - t0;
	stats.messages++;
	stats.lastApplyMs = ms;
	stats.maxApplyMs = Math.max(stats.maxApplyMs, ms);
	stats.recentApplyMs.push(Math.round(ms * 10) / 10);
	if (stats.recentApplyMs.length > 100)
		stats.recentApplyMs.shift();
	const empty = $('empty');
	empty.hidden = model.nodes.size > 0;
	if (model.loaded)
		empty.textContent = 'No process with a TCP or UDP socket is visible yet.';
	status.update();
}

const stream = new Stream({
	message: onMessage,
	mode: (m) => status.setMode(m),
});

onIconsChanged(() => {
	view.dirty = true;
});
fetch('/api/status', {cache: 'no-store'})
	.then((r) => r.ok ? r.json() : null)
	.then((st) => setServerIcons(Boolean(st && st.icons === true)))
	.catch(() => {});

setInterval(() => {
	if (view.needsTick(Date.now()))
		view.render();
}, TICK_MS);
// Group by host only means something on the fleet map (webd --fleet).
const hostOption = $('group-by-host');
setInterval(() => {
	status.update();
	hostOption.hidden = !model.meta.fleet;
}, 1000);

const pause = $('btn-pause');
pause.addEventListener('click', () => {
	view.setPaused(!view.paused);
	pause.textContent = view.paused ? 'Resume' : 'Pause';
	pause.classList.toggle('active', view.paused);
	status.update();
});
const groupBy = $('group-by');
groupBy.value = view.groupBy;
groupBy.addEventListener('change', () => {
	view.setGroupBy(groupBy.value);
	status.update();
});
$('btn-fit').addEventListener('click', () => view.network.fit({animation: {duration: 400}}));
$('btn-relayout').addEventListener('click', () => view.relayout());
document.addEventListener('keydown', (ev) => {
	if (ev.key !== 'Escape' || document.activeElement === $('search'))
		return;
	details.close();
	$('filters').hidden = true;
	view.network.unselectAll();
});

window.procnet = {network: view.network, nodes: view.nodes, edges: view.edges, model, view,
    stream, stats, timebar};

status.update();
stream.start();
