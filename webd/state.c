/*
 * The per-sample pipeline.  Two locks: build_lock serialises the pipeline
 * (subscriber thread, and a rules reload from the main thread) and guards
 * the rules, the previous graph and the last snapshot; pub_lock is held only
 * to swap or copy the published references.
 */
#include "state.h"
#include "fs.h"

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

/* Interfaces change rarely (DHCP, VPN up); re-read them this often. */
#define LOCAL_ADDRS_REFRESH_MS	30000
/* A group mode asked for by /api/graph is kept computed this long after
 * the last request; stream clients keep theirs for as long as they stay. */
#define MODE_KEEP_MS		60000

/* What is published for one group mode. */
struct mode_pub {
	struct state_buf *graph, *full, *delta;
	uint64_t seq;		/* the sample these are of; 0 none */
};

struct state {
	pthread_mutex_t build_lock;
	/* under build_lock */
	struct rules *rules;
	char *rules_path;
	struct fs_stamp rules_stat;	/* of the file last tried */
	bool rules_stat_valid;
	struct snapshot *last_snap;
	struct graph *prev;		/* process graph */
	struct graph *prev_mode[GRAPH_GROUP_MAX];	/* folded; [PROCESS] unused */
	uint64_t prev_mode_seq[GRAPH_GROUP_MAX];
	struct snap_addr *local_addrs;
	size_t n_local_addrs;
	int64_t local_addrs_ms;
	uint16_t *svc_ports;
	size_t n_svc_ports;
	bool udp, p2p_only, icons;
	struct graph_json_opts json;
	struct resolver *resolver;
	struct publish *publish;
	struct fleet *fleet;

	pthread_mutex_t pub_lock;
	/* under pub_lock */
	struct mode_pub pub[GRAPH_GROUP_MAX];
	struct state_buf *status;
	uint64_t seq, status_seq;
	int64_t mode_wanted_ms[GRAPH_GROUP_MAX];	/* mono; 0 never */
	unsigned mode_streams[GRAPH_GROUP_MAX];
	size_t n_nodes, n_edges, n_processes, n_sockets;
	int64_t sample_time_ms;
	uint32_t sample_us;
	uint32_t build_us;
	bool privileged;
	uint64_t n_build_errors;
	char rules_error[1200];
	int64_t rules_loaded_ms;
	size_t n_rules;
	enum subscriber_state collector;
	char collector_error[256];

	void (*on_publish)(void *);
	void *user;
	struct history *history;
};

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

/* A JSON string for text that may not be UTF-8 (paths and error texts
 * come from the command line and the OS): jansson refuses such text, so
 * bad bytes become U+FFFD instead of the whole document failing. */
static json_t *
json_text(const char *text)
{
	size_t n = strlen(text), i, j = 0, k;
	char *fixed;
	json_t *v;

	if (utf8_valid(text, n))
		return json_string(text);
	fixed = malloc(n * 3 + 1);
	if (fixed == NULL)
		return NULL;
	for (i = 0; i < n; i += k) {
		k = utf8_seq((const unsigned char *)text + i, n - i);
		if (k == 0) {
			memcpy(fixed + j, "\xEF\xBF\xBD", 3);
			j += 3;
			k = 1;
		} else {
			memcpy(fixed + j, text + i, k);
			j += k;
		}
	}
	fixed[j] = '\0';
	v = json_string(fixed);
	free(fixed);
	return v;
}

/* Builds the stream's status message; called with pub_lock held. */
static struct state_buf *
status_message(struct state *st)
{
	json_t *o;
	char *text;
	struct state_buf *b = NULL;

	o = json_pack("{s:s, s:s, s:o, s:I}",
	    "type", "status",
	    "collector", subscriber_state_name(st->collector),
	    "error", json_text(st->collector_error),
	    "seq", (json_int_t)st->seq);
	if (o == NULL)
		return NULL;
	if (st->rules_error[0] != '\0')
		json_object_set_new(o, "rules_error",
		    json_text(st->rules_error));
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (text != NULL)
		b = state_buf_new(text, strlen(text));
	free(text);
	return b;
}

/* Refreshes the status message and tells the stream; pub_lock not held. */
static void
publish_status(struct state *st)
{
	struct state_buf *b, *old;

	pthread_mutex_lock(&st->pub_lock);
	b = status_message(st);
	old = st->status;
	if (b != NULL) {
		st->status = b;
		st->status_seq++;
	} else
		old = NULL;
	pthread_mutex_unlock(&st->pub_lock);
	state_buf_unref(old);
	if (b != NULL && st->on_publish != NULL)
		st->on_publish(st->user);
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
	if ((st->status = status_message(st)) == NULL)
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

/* Appends the graph text inside a full message, without encoding twice. */
static struct state_buf *
full_message(uint64_t seq, const char *graph, size_t glen)
{
	char head[64];
	int hlen;
	struct state_buf *b;

	hlen = snprintf(head, sizeof(head), "{\"type\":\"full\",\"seq\":%"
	    PRIu64 ",\"graph\":", seq);
	b = malloc(sizeof(*b) + (size_t)hlen + glen + 2);
	if (b == NULL)
		return NULL;
	atomic_init((_Atomic unsigned *)&b->refs, 1);
	memcpy(b->data, head, (size_t)hlen);
	memcpy(b->data + hlen, graph, glen);
	b->data[hlen + glen] = '}';
	b->data[hlen + glen + 1] = '\0';
	b->len = (size_t)hlen + glen + 1;
	return b;
}

/* Is mode m to be computed with each sample?  pub_lock held. */
static bool
mode_active(const struct state *st, unsigned m, int64_t now)
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
	if ((pub->full = full_message(seq, text, len)) == NULL)
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
static void
mode_publish(struct state *st, unsigned m, struct mode_pub *pub,
    struct mode_pub *old)
{
	*old = st->pub[m];
	st->pub[m] = *pub;
}

static void
mode_pub_release(struct mode_pub *p)
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

	if ((rc = graph_build(st->last_snap, st->rules, &go, &g)) != 0)
		goto fail;

	pthread_mutex_lock(&st->pub_lock);
	seq = st->seq + 1;	/* only this (locked) pipeline writes seq */
	for (m = 0; m < GRAPH_GROUP_MAX; m++)
		active[m] = mode_active(st, m, now);
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
			mode_publish(st, m, &pub[m], &old[m]);
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
	st->build_us = (uint32_t)(clock_mono_us() - t0);
	pthread_mutex_unlock(&st->pub_lock);

	for (m = 0; m < GRAPH_GROUP_MAX; m++) {
		mode_pub_release(&old[m]);
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
		mode_pub_release(&pub[m]);
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
		mode_publish(st, mode, &pub, &old);
		pthread_mutex_unlock(&st->pub_lock);
		mode_pub_release(&old);
		mode_keep(st, mode, gm, seq);
	}
	pthread_mutex_unlock(&st->build_lock);
	return rc;
}

int
state_publish_external(struct state *st, const char *graph, size_t glen,
    const char *delta, size_t dlen, const struct state_counts *counts)
{
	struct state_buf *gb, *fb = NULL, *db = NULL;
	char head[64];
	uint64_t seq;
	int hlen;

	pthread_mutex_lock(&st->build_lock);
	pthread_mutex_lock(&st->pub_lock);
	seq = st->seq + 1;
	pthread_mutex_unlock(&st->pub_lock);
	hlen = snprintf(head, sizeof(head), "{\"type\":\"delta\",\"seq\":%"
	    PRIu64 ",", seq);
	if ((gb = state_buf_new(graph, glen)) == NULL ||
	    (fb = full_message(seq, graph, glen)) == NULL ||
	    (db = malloc(sizeof(*db) + (size_t)hlen + dlen + 2)) == NULL) {
		pthread_mutex_unlock(&st->build_lock);
		state_buf_unref(gb);
		state_buf_unref(fb);
		return -ENOMEM;
	}
	atomic_init((_Atomic unsigned *)&db->refs, 1);
	memcpy(db->data, head, (size_t)hlen);
	memcpy(db->data + hlen, delta, dlen);
	db->data[hlen + dlen] = '}';
	db->data[hlen + dlen + 1] = '\0';
	db->len = (size_t)hlen + dlen + 1;

	/* Every group mode serves the same: groups fold one host's
	 * processes, and the fleet's are already several hosts'. */
	pthread_mutex_lock(&st->pub_lock);
	for (unsigned mo = 0; mo < GRAPH_GROUP_MAX; mo++) {
		struct mode_pub pub = { state_buf_ref(gb), state_buf_ref(fb),
		    state_buf_ref(db), seq }, old;

		mode_publish(st, mo, &pub, &old);
		mode_pub_release(&old);
	}
	st->seq = seq;
	st->n_nodes = counts->nodes;
	st->n_edges = counts->edges;
	st->n_processes = counts->processes;
	st->n_sockets = counts->sockets;
	st->sample_time_ms = counts->time_ms;
	st->build_us = counts->build_us;
	st->privileged = true;
	pthread_mutex_unlock(&st->pub_lock);
	pthread_mutex_unlock(&st->build_lock);
	state_buf_unref(gb);
	state_buf_unref(fb);
	state_buf_unref(db);
	if (st->on_publish != NULL)
		st->on_publish(st->user);
	return 0;
}

void
state_on_snapshot(struct snapshot *snap, void *user)
{
	struct state *st = user;
	int rc;

	pthread_mutex_lock(&st->build_lock);
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
	publish_status(st);
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
		publish_status(st);
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
	publish_status(st);
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

static json_t *
fleet_status(struct fleet *f)
{
	struct fleet_stats fs;

	if (f == NULL)
		return json_null();
	fleet_get_stats(f, &fs);
	return json_pack("{s:b, s:i, s:i, s:I, s:I, s:I, s:I, s:f, s:s}",
	    "connected", fs.connected,
	    "hosts", (int)fs.hosts, "stale", (int)fs.stale,
	    "messages", (json_int_t)fs.messages,
	    "bad_messages", (json_int_t)fs.bad_messages,
	    "resyncs", (json_int_t)fs.resyncs,
	    "merges", (json_int_t)fs.merges,
	    "merge_ms", fs.merge_ms, "error", fs.error);
}

static json_t *
nats_status(struct publish *p)
{
	struct publish_stats ps;

	if (p == NULL)
		return json_null();
	publish_get_stats(p, &ps);
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
	    "connected", ps.connected,
	    "sent_full", (json_int_t)ps.sent_full,
	    "sent_delta", (json_int_t)ps.sent_delta,
	    "bytes", (json_int_t)ps.bytes,
	    "skipped", (json_int_t)ps.skipped,
	    "too_big", (json_int_t)ps.too_big,
	    "reconnects", (json_int_t)ps.reconnects,
	    "error", ps.error);
}

static json_t *
names_status(struct resolver *r)
{
	struct resolver_stats ns;

	resolver_get_stats(r, &ns);
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i}",
	    "mode", r != NULL ? resolve_mode_name(ns.mode) : "off",
	    "queries", (json_int_t)ns.queries,
	    "answers", (json_int_t)ns.answers,
	    "no_name", (json_int_t)ns.no_name,
	    "failures", (json_int_t)ns.failures,
	    "rate_limited", (json_int_t)ns.rate_limited,
	    "cached", (int)ns.cached,
	    "in_flight", (int)ns.in_flight,
	    "queued", (int)ns.queued);
}

char *
state_status_json(struct state *st, const struct subscriber_status *sub,
    const struct stream_stats *streams, size_t *len)
{
	json_t *o, *c, *s, *r, *counts;
	int64_t now = clock_real_ms();
	char *text;

	o = json_object();
	pthread_mutex_lock(&st->pub_lock);
	c = json_pack("{s:s, s:o}",
	    "state", subscriber_state_name(sub != NULL ? sub->state :
	    st->collector),
	    /* as in the stream's status message: no error while connected */
	    "error", json_text(sub == NULL ? st->collector_error :
	    sub->state == SUBSCRIBER_CONNECTED ? "" : sub->error));
	if (c != NULL && sub != NULL) {
		json_object_set_new(c, "last_error", json_text(sub->error));
		json_object_set_new(c, "endpoint", json_text(sub->endpoint));
		json_object_set_new(c, "snapshots",
		    json_integer((json_int_t)sub->n_snapshots));
		json_object_set_new(c, "connects",
		    json_integer((json_int_t)sub->n_connects));
		json_object_set_new(c, "protocol", json_integer(sub->version));
	}
	s = json_pack("{s:I, s:b, s:I, s:f, s:I}",
	    "seq", (json_int_t)st->seq,
	    "privileged", st->privileged,
	    "time_ms", (json_int_t)st->sample_time_ms,
	    "sample_ms", st->sample_us / 1000.0,
	    "build_errors", (json_int_t)st->n_build_errors);
	if (s != NULL) {
		/* Age from our clock at receipt when known: the collector's
		 * clock need not agree with ours. */
		int64_t at = sub != NULL && sub->last_receive_ms != 0 ?
		    sub->last_receive_ms : st->sample_time_ms;

		json_object_set_new(s, "age_ms", at != 0 ?
		    json_integer(now - at) : json_null());
		json_object_set_new(s, "build_ms",
		    json_real(st->build_us / 1000.0));
	}
	counts = json_pack("{s:I, s:I, s:I, s:I}",
	    "processes", (json_int_t)st->n_processes,
	    "sockets", (json_int_t)st->n_sockets,
	    "nodes", (json_int_t)st->n_nodes,
	    "edges", (json_int_t)st->n_edges);
	r = json_pack("{s:o, s:I, s:o}",
	    "file", st->rules_path != NULL ? json_text(st->rules_path) :
	    json_null(),
	    "count", (json_int_t)st->n_rules,
	    "error", st->rules_error[0] != '\0' ?
	    json_text(st->rules_error) : json_null());
	if (r != NULL)
		json_object_set_new(r, "loaded_ms",
		    json_integer(st->rules_loaded_ms));
	pthread_mutex_unlock(&st->pub_lock);

	if (o == NULL || c == NULL || s == NULL || counts == NULL ||
	    r == NULL) {
		json_decref(o);
		json_decref(c);
		json_decref(s);
		json_decref(counts);
		json_decref(r);
		return NULL;
	}
	json_object_set_new(o, "version", json_string(PROCNET_VERSION));
	json_object_set_new(o, "collector", c);
	json_object_set_new(o, "sample", s);
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "rules", r);
	json_object_set_new(o, "cmdline",
	    json_string(redact_mode_name(st->json.cmdline)));
	if (streams != NULL)
		json_object_set_new(o, "stream", json_pack(
		    "{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		    "clients", (int)streams->clients,
		    "accepted", (json_int_t)streams->accepted,
		    "refused", (json_int_t)streams->refused,
		    "refused_frames", (json_int_t)streams->refused_frames,
		    "sent_full", (json_int_t)streams->sent_full,
		    "sent_delta", (json_int_t)streams->sent_delta,
		    "sent_status", (json_int_t)streams->sent_status,
		    "resyncs", (json_int_t)streams->resyncs,
		    "dropped", (json_int_t)streams->dropped));
	json_object_set_new(o, "history", st->history != NULL ?
	    history_status_json(st->history) : json_pack("{s:s}", "state",
	    "off"));
	json_object_set_new(o, "icons", json_boolean(st->icons));
	json_object_set_new(o, "names", names_status(st->resolver));
	json_object_set_new(o, "publish", nats_status(st->publish));
	json_object_set_new(o, "fleet", fleet_status(st->fleet));
	json_object_set_new(o, "options", json_pack("{s:b, s:b}",
	    "udp", st->udp, "p2p_only", st->p2p_only));
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (text != NULL && len != NULL)
		*len = strlen(text);
	return text;
}
