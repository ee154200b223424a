/*
 * The per-sample pipeline.  Two locks: build_lock serialises the pipeline
 * (subscriber thread, and a rules reload from the main thread) and guards
 * the rules, the previous graph and the last snapshot; pub_lock is held only
 * to swap or copy the published references.
 */
#include "state_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "group.h"
#include "log.h"
#include "netif.h"
#include "fleet.h"
#include "publish.h"
#include "stream.h"
#include "utf8.h"
#include "window.h"

struct state_buf *
state_buf_new(const char *data, size_t len)
{
	struct state_buf *b = malloc(sizeof(*b) + len + 1);

	if (b == NULL)
		return NULL;
	atomic_init((_Atomic unsigned *)&b->refs, 1);
	b->len = len;
	if (len > 0)
		memcpy(b->data, data, len);
	b->data[len] = '\0';
	return b;
}

struct state_buf *
state_buf_ref(struct state_buf *b)
{
	if (b != NULL)
		atomic_fetch_add((_Atomic unsigned *)&b->refs, 1);
	return b;
}

void
state_buf_unref(struct state_buf *b)
{
	if (b != NULL && atomic_fetch_sub((_Atomic unsigned *)&b->refs, 1) == 1)
		free(b);
}

int
state_new(const struct state_config *c, struct state **out)
{
	struct state *st;

	if (c->rules_path != NULL && c->rules == NULL)
		return -EINVAL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	pthread_mutex_init(&st->build_lock, NULL);
	pthread_mutex_init(&st->pub_lock, NULL);
	st->udp = c->udp;
	st->p2p_only = c->p2p_only;
	st->resolver = c->resolver;
	st->icons = c->icons;
	st->json = c->json;
	st->on_publish = c->on_publish;
	st->user = c->user;
	st->history = c->history;
	st->collector = SUBSCRIBER_CONNECTING;
	if (window_new(c->window_s ? c->window_s : WINDOW_DEFAULT_S,
	    c->window_cap, &st->window) != 0) {
		/* the options checked the range: only memory fails here */
		st->window = NULL;
		goto nomem;
	}
	window_get_stats(st->window, &st->window_stats);
	snprintf(st->events_source, sizeof(st->events_source), "none");
	if (c->n_svc_ports > 0) {
		st->svc_ports = calloc(c->n_svc_ports, sizeof(uint16_t));
		if (st->svc_ports == NULL)
			goto nomem;
		memcpy(st->svc_ports, c->svc_ports,
		    c->n_svc_ports * sizeof(uint16_t));
		st->n_svc_ports = c->n_svc_ports;
	}
	if (c->rules_path != NULL) {
		if ((st->rules_path = strdup(c->rules_path)) == NULL)
			goto nomem;
		if (fs_stamp(st->rules_path, &st->rules_stat) == 0)
			st->rules_stat_valid = true;
		st->n_rules = rules_count(c->rules);
	}
	st->rules_loaded_ms = clock_real_ms();
	if ((st->status = state_status_message(st)) == NULL)
		goto nomem;
	/* Taken over last, so a failure above leaves the caller's rules. */
	st->rules = c->rules;
	*out = st;
	return 0;
nomem:
	state_free(st);
	return -ENOMEM;
}

void
state_free(struct state *st)
{
	if (st == NULL)
		return;
	rules_free(st->rules);
	free(st->rules_path);
	snapshot_unref(st->last_snap);
	/* the last graph is history too */
	history_offer(st->history, st->prev);
	for (unsigned m = 0; m < GRAPH_GROUP_MAX; m++) {
		graph_free(st->prev_mode[m]);
		state_buf_unref(st->pub[m].graph);
		state_buf_unref(st->pub[m].full);
		state_buf_unref(st->pub[m].delta);
	}
	window_free(st->window);
	free(st->local_addrs);
	free(st->svc_ports);
	state_buf_unref(st->status);
	pthread_mutex_destroy(&st->build_lock);
	pthread_mutex_destroy(&st->pub_lock);
	free(st);
}

static void
refresh_local_addrs(struct state *st)
{
	int64_t now = clock_mono_ms();
	struct snap_addr *addrs;
	size_t n;
	int rc;

	if (st->local_addrs_ms != 0 &&
	    now - st->local_addrs_ms < LOCAL_ADDRS_REFRESH_MS)
		return;
	st->local_addrs_ms = now;
	if ((rc = netif_local_addrs(&addrs, &n)) != 0) {
		/* Keep the last list; loopback is local regardless. */
		log_warnx_limited("netif", 60, "cannot list interface "
		    "addresses: %s", strerror(-rc));
		return;
	}
	free(st->local_addrs);
	st->local_addrs = addrs;
	st->n_local_addrs = n;
	resolver_set_local(st->resolver, addrs, n, st->last_snap != NULL ?
	    st->last_snap->host : NULL);
}

/* {"type":kind,"seq":seq,<lead><body>}: a stream message around text
 * already encoded (the graph of a full message, the inside of a delta's),
 * without encoding it twice. */
struct state_buf *
state_message(const char *kind, uint64_t seq, const char *lead,
    const char *body, size_t len)
{
	char head[96];
	int hlen;
	struct state_buf *b;

	hlen = snprintf(head, sizeof(head), "{\"type\":\"%s\",\"seq\":%"
	    PRIu64 ",%s", kind, seq, lead);
	if (hlen < 0 || (size_t)hlen >= sizeof(head) ||
	    (b = malloc(sizeof(*b) + (size_t)hlen + len + 2)) == NULL)
		return NULL;
	atomic_init((_Atomic unsigned *)&b->refs, 1);
	memcpy(b->data, head, (size_t)hlen);
	memcpy(b->data + hlen, body, len);
	b->data[hlen + len] = '}';
	b->data[hlen + len + 1] = '\0';
	b->len = (size_t)hlen + len + 1;
	return b;
}

/* Is mode m to be computed with each sample?  pub_lock held. */
bool
state_mode_active(const struct state *st, unsigned m, int64_t now)
{
	return st->mode_streams[m] > 0 || (st->mode_wanted_ms[m] != 0 &&
	    now - st->mode_wanted_ms[m] < MODE_KEEP_MS);
}

/*
 * The graph of mode m from the process graph g of sample seq: folded,
 * diffed against the last one of that mode (when it is of the sample
 * before; else the delta is left out and stream clients resync), encoded.
 * Called with build_lock held; *pub gets new buffers, *gm the folded graph
 * (g itself for the process mode, not to be freed).
 */
static int
mode_build(struct state *st, unsigned m, struct graph *g, uint64_t seq,
    struct mode_pub *pub, struct graph **gm)
{
	struct graph_delta *d = NULL;
	struct graph *prev;
	char *text = NULL;
	size_t len;
	int rc;

	memset(pub, 0, sizeof(*pub));
	*gm = NULL;
	if (m == GRAPH_GROUP_PROCESS) {
		*gm = g;
		prev = st->prev;
	} else {
		if ((rc = graph_group(g, m, gm)) != 0)
			return rc;
		prev = st->prev_mode_seq[m] + 1 == seq ? st->prev_mode[m] : NULL;
	}
	rc = -ENOMEM;
	if ((text = graph_json(*gm, &st->json, &len)) == NULL)
		goto fail;
	if ((pub->graph = state_buf_new(text, len)) == NULL)
		goto fail;
	if ((pub->full = state_message("full", seq, "\"graph\":", text,
	    len)) == NULL)
		goto fail;
	free(text);
	text = NULL;
	if (prev != NULL || m == GRAPH_GROUP_PROCESS) {
		if ((rc = graph_delta(prev, *gm, &d)) != 0)
			goto fail;
		rc = -ENOMEM;
		if ((text = graph_delta_json(d, seq, &st->json, &len)) == NULL)
			goto fail;
		if ((pub->delta = state_buf_new(text, len)) == NULL)
			goto fail;
		free(text);
		graph_delta_free(d);
	}
	pub->seq = seq;
	return 0;
fail:
	free(text);
	graph_delta_free(d);
	state_buf_unref(pub->graph);
	state_buf_unref(pub->full);
	state_buf_unref(pub->delta);
	memset(pub, 0, sizeof(*pub));
	if (*gm != g)
		graph_free(*gm);
	*gm = NULL;
	return rc;
}

/* Keeps gm as mode m's previous graph (build_lock held). */
static void
mode_keep(struct state *st, unsigned m, struct graph *gm, uint64_t seq)
{
	if (m == GRAPH_GROUP_PROCESS)
		return;
	graph_free(st->prev_mode[m]);
	st->prev_mode[m] = gm;
	st->prev_mode_seq[m] = seq;
}

/* Swaps in mode m's publication; pub_lock held.  The old buffers go to
 * *old for release outside the lock. */
void
state_mode_publish(struct state *st, unsigned m, struct mode_pub *pub,
    struct mode_pub *old)
{
	*old = st->pub[m];
	st->pub[m] = *pub;
}

void
state_mode_pub_release(struct mode_pub *p)
{
	state_buf_unref(p->graph);
	state_buf_unref(p->full);
	state_buf_unref(p->delta);
	memset(p, 0, sizeof(*p));
}

/* Builds, diffs, encodes and publishes the graph of st->last_snap in each
 * active group mode.  Called with build_lock held.  Returns 0 or a
 * negative code (the old publication stays). */
static int
pipeline_run(struct state *st)
{
	struct graph_options go;
	struct window_view wv;
	struct graph *g = NULL, *gm[GRAPH_GROUP_MAX];
	struct mode_pub pub[GRAPH_GROUP_MAX], old[GRAPH_GROUP_MAX];
	bool active[GRAPH_GROUP_MAX];
	uint64_t seq;
	int64_t t0 = clock_mono_us(), now = clock_mono_ms();
	unsigned m;
	int rc;

	if (st->last_snap == NULL)
		return 0;
	memset(pub, 0, sizeof(pub));
	memset(old, 0, sizeof(old));
	memset(gm, 0, sizeof(gm));
	refresh_local_addrs(st);
	memset(&go, 0, sizeof(go));
	go.udp = st->udp;
	go.p2p_only = st->p2p_only;
	go.svc_ports = st->svc_ports;
	go.n_svc_ports = st->n_svc_ports;
	go.local_addrs = st->local_addrs;
	go.n_local_addrs = st->n_local_addrs;
	if (st->resolver != NULL) {
		go.name_of = resolver_name_of;
		go.name_ctx = st->resolver;
	}
	window_view(st->window, &wv);
	go.window = &wv;

	if ((rc = graph_build(st->last_snap, st->rules, &go, &g)) != 0)
		goto fail;

	pthread_mutex_lock(&st->pub_lock);
	seq = st->seq + 1;	/* only this (locked) pipeline writes seq */
	for (m = 0; m < GRAPH_GROUP_MAX; m++)
		active[m] = state_mode_active(st, m, now);
	pthread_mutex_unlock(&st->pub_lock);

	/* The process mode is always diffed (its previous graph is the base
	 * of every other mode); the others only while someone looks. */
	for (m = 0; m < GRAPH_GROUP_MAX; m++) {
		if (!active[m] && m != GRAPH_GROUP_PROCESS)
			continue;
		if ((rc = mode_build(st, m, g, seq, &pub[m], &gm[m])) != 0)
			goto fail;
	}

	pthread_mutex_lock(&st->pub_lock);
	for (m = 0; m < GRAPH_GROUP_MAX; m++) {
		if (pub[m].seq != 0)
			state_mode_publish(st, m, &pub[m], &old[m]);
		else {
			/* not computed: nothing stale stays published */
			old[m] = st->pub[m];
			memset(&st->pub[m], 0, sizeof(st->pub[m]));
		}
	}
	st->seq = seq;
	st->n_nodes = g->n_nodes;
	st->n_edges = g->n_edges;
	st->n_processes = g->n_processes;
	st->n_sockets = g->n_sockets;
	st->sample_time_ms = g->time_ms;
	st->sample_us = g->sample_us;
	st->privileged = g->privileged;
	st->n_unattributed = g->n_unattributed;
	window_get_stats(st->window, &st->window_stats);
	snprintf(st->events_source, sizeof(st->events_source), "%s",
	    st->window_stats.source);
	snprintf(st->events_reason, sizeof(st->events_reason), "%s",
	    st->window_stats.reason);
	st->build_us = (uint32_t)(clock_mono_us() - t0);
	pthread_mutex_unlock(&st->pub_lock);

	for (m = 0; m < GRAPH_GROUP_MAX; m++) {
		state_mode_pub_release(&old[m]);
		if (gm[m] != NULL)
			mode_keep(st, m, gm[m], seq);
		else if (m != GRAPH_GROUP_PROCESS) {
			graph_free(st->prev_mode[m]);
			st->prev_mode[m] = NULL;
		}
	}
	/* the writer takes the graph it replaces (and frees it) */
	history_offer(st->history, st->prev);
	st->prev = g;
	return 0;
fail:
	for (m = 0; m < GRAPH_GROUP_MAX; m++) {
		state_mode_pub_release(&pub[m]);
		if (gm[m] != g)
			graph_free(gm[m]);
	}
	graph_free(g);
	pthread_mutex_lock(&st->pub_lock);
	st->n_build_errors++;
	pthread_mutex_unlock(&st->pub_lock);
	log_warnx_limited("pipeline", 10, "cannot build the graph: %s",
	    strerror(-rc));
	return rc;
}

int
state_want(struct state *st, unsigned mode, int streams)
{
	struct mode_pub pub, old;
	struct graph *gm = NULL;
	bool have;
	int rc = 0;

	if (mode >= GRAPH_GROUP_MAX)
		return -EINVAL;
	pthread_mutex_lock(&st->pub_lock);
	st->mode_wanted_ms[mode] = clock_mono_ms();
	if (streams > 0)
		st->mode_streams[mode]++;
	else if (streams < 0 && st->mode_streams[mode] > 0)
		st->mode_streams[mode]--;
	have = st->seq == 0 || st->pub[mode].seq == st->seq;
	pthread_mutex_unlock(&st->pub_lock);
	if (have || streams < 0)
		return 0;
	/* The fleet view folds its merged graph itself. */
	if (st->fleet != NULL)
		return fleet_want(st->fleet, mode);

	/* Not computed for the last sample: fold it now from the process
	 * graph, once; later samples keep it up to date. */
	pthread_mutex_lock(&st->build_lock);
	pthread_mutex_lock(&st->pub_lock);
	have = st->seq == 0 || st->pub[mode].seq == st->seq ||
	    st->prev == NULL;
	uint64_t seq = st->seq;
	pthread_mutex_unlock(&st->pub_lock);
	if (!have && (rc = mode_build(st, mode, st->prev, seq, &pub,
	    &gm)) == 0) {
		pthread_mutex_lock(&st->pub_lock);
		state_mode_publish(st, mode, &pub, &old);
		pthread_mutex_unlock(&st->pub_lock);
		state_mode_pub_release(&old);
		mode_keep(st, mode, gm, seq);
	}
	pthread_mutex_unlock(&st->build_lock);
	return rc;
}

/* window_update's question: was this process a node of the last graph? */
static bool
was_node(void *user, int32_t pid, uint64_t start)
{
	const struct graph *g = user;
	char id[64];

	snprintf(id, sizeof(id), "p:%ld:%llu", (long)pid,
	    (unsigned long long)start);
	return g != NULL && graph_find_node(g, id) != NULL;
}

void
state_on_snapshot(struct snapshot *snap, void *user)
{
	struct state *st = user;
	int rc;

	pthread_mutex_lock(&st->build_lock);
	/* An older snapshot (a collector restarted with its clock set
	 * back) cannot go into the window: start the window over. */
	rc = window_update(st->window, snap, was_node, st->prev);
	if (rc == -EINVAL) {
		struct window *nw;

		log_warnx("snapshot older than the last one: the recent "
		    "connections window starts over");
		if (window_new(st->window_stats.window_s,
		    st->window_stats.cap, &nw) == 0) {
			window_free(st->window);
			st->window = nw;
			rc = window_update(st->window, snap, was_node, NULL);
		}
	}
	if (rc != 0)
		log_warnx_limited("window", 10, "recent connections window: "
		    "%s", strerror(-rc));
	snapshot_unref(st->last_snap);
	st->last_snap = snapshot_ref(snap);
	rc = pipeline_run(st);
	pthread_mutex_unlock(&st->build_lock);
	if (rc == 0 && st->on_publish != NULL)
		st->on_publish(st->user);
}

void
state_on_collector(enum subscriber_state s, const char *error, void *user)
{
	struct state *st = user;

	pthread_mutex_lock(&st->pub_lock);
	st->collector = s;
	/* A connected collector has no error, whatever went before. */
	snprintf(st->collector_error, sizeof(st->collector_error), "%s",
	    error != NULL && s != SUBSCRIBER_CONNECTED ? error : "");
	pthread_mutex_unlock(&st->pub_lock);
	if (s == SUBSCRIBER_CONNECTED)
		log_info("collector connected");
	else if (error != NULL && *error != '\0')
		log_warnx("collector %s: %s", subscriber_state_name(s), error);
	else
		log_info("collector %s", subscriber_state_name(s));
	state_publish_status(st);
}

int
state_check_rules(struct state *st, bool force, char *errbuf, size_t errlen)
{
	struct fs_stamp sb;
	struct rules *nr = NULL, *old;
	struct rules_error err;
	bool have_stat;
	int rc;

	if (errlen > 0)
		errbuf[0] = '\0';
	if (st->rules_path == NULL)
		return 0;

	pthread_mutex_lock(&st->build_lock);
	/* Full-resolution write time and the file's identity (fs.h): a
	 * same-size edit within a second is still a change. */
	have_stat = fs_stamp(st->rules_path, &sb) == 0;
	if (!force) {
		/* Unchanged, or still missing: nothing to do. */
		if (have_stat && st->rules_stat_valid &&
		    fs_stamp_same(&sb, &st->rules_stat)) {
			pthread_mutex_unlock(&st->build_lock);
			return 0;
		}
		if (!have_stat && !st->rules_stat_valid) {
			pthread_mutex_unlock(&st->build_lock);
			return 0;
		}
	}
	st->rules_stat_valid = have_stat;
	if (have_stat)
		st->rules_stat = sb;
	pthread_mutex_unlock(&st->build_lock);

	/* Parse outside the lock: samples keep flowing meanwhile. */
	memset(&err, 0, sizeof(err));
	rc = rules_load(st->rules_path, &nr, &err);
	if (rc != 0) {
		char text[sizeof(st->rules_error)];

		rules_error_format(&err, text, sizeof(text));
		snprintf(errbuf, errlen, "%s", text);
		pthread_mutex_lock(&st->pub_lock);
		snprintf(st->rules_error, sizeof(st->rules_error), "%s", text);
		pthread_mutex_unlock(&st->pub_lock);
		state_publish_status(st);
		return rc < 0 ? rc : -EINVAL;
	}

	pthread_mutex_lock(&st->build_lock);
	old = st->rules;
	st->rules = nr;
	pthread_mutex_lock(&st->pub_lock);
	st->rules_error[0] = '\0';
	st->n_rules = rules_count(nr);
	st->rules_loaded_ms = clock_real_ms();
	pthread_mutex_unlock(&st->pub_lock);
	rc = pipeline_run(st);
	pthread_mutex_unlock(&st->build_lock);
	rules_free(old);
	state_publish_status(st);
	if (rc == 0 && st->on_publish != NULL)
		st->on_publish(st->user);
	return 1;
}

void
state_get(struct state *st, struct state_view *v)
{
	state_get_mode(st, GRAPH_GROUP_PROCESS, v);
}

void
state_get_mode(struct state *st, unsigned mode, struct state_view *v)
{
	struct mode_pub *p;

	if (mode >= GRAPH_GROUP_MAX)
		mode = GRAPH_GROUP_PROCESS;
	pthread_mutex_lock(&st->pub_lock);
	p = &st->pub[mode];
	/* Only what is of the current sample: a mode not yet folded for it
	 * has nothing to give (the caller asks state_want first). */
	v->graph = p->seq == st->seq ? state_buf_ref(p->graph) : NULL;
	v->full = p->seq == st->seq ? state_buf_ref(p->full) : NULL;
	v->delta = p->seq == st->seq ? state_buf_ref(p->delta) : NULL;
	v->status = state_buf_ref(st->status);
	v->seq = st->seq;
	v->status_seq = st->status_seq;
	pthread_mutex_unlock(&st->pub_lock);
}

void
state_view_release(struct state_view *v)
{
	state_buf_unref(v->graph);
	state_buf_unref(v->full);
	state_buf_unref(v->delta);
	state_buf_unref(v->status);
	memset(v, 0, sizeof(*v));
}

void
state_set_publish(struct state *st, struct publish *p)
{
	st->publish = p;
}

void
state_set_fleet(struct state *st, struct fleet *f)
{
	st->fleet = f;
}

