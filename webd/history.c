/*
 * The history writer.  history_offer() only queues the graph (a pointer
 * under a short lock); the thread folds each graph into the current
 * minute's aggregate and writes the minute when the next one starts.
 * Graphs come sorted by id, so folding is a merge of sorted arrays, and the
 * previous graph gives opened/closed by the change in each edge's count.
 * Bytes are what each edge's sockets moved since the previous sample (the
 * recent window's counter differences), added up over the minute.
 */
#include "history.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addrfmt.h"
#include "clock.h"
#include "history_db.h"
#include "log.h"
#include "statedir.h"

/* How often the file is checked for deletion or damage, and how soon a
 * file that could not be opened is tried again. */
#define CHECK_MS	5000
#define REOPEN_MS	30000
/* Retention pruning per minute written: small transactions, a bounded
 * number, so a long backlog drains over a few minutes. */
#define PRUNE_STEPS	32

struct agg_edge {
	char *id, *from, *to;	/* from/to: node keys */
	uint8_t proto;
	uint16_t port;
	uint32_t conns, opened, closed;
	uint64_t bytes_out, bytes_in;
};

struct history {
	char *path;
	int64_t retention_s;
	uint64_t max_size;
	pthread_t thread;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	struct graph *queue[HISTORY_QUEUE_MAX];
	size_t n_queue;
	bool stop;
	char state[16];		/* "ok", "error", "starting" */
	char error[1200];	/* current error; "" when ok */
	char problem[1200];	/* the last thing that went wrong */
	int64_t problem_ms;
	uint64_t size, minutes_written, rows_pruned, dropped, samples;
	uint64_t recovered;
	int64_t oldest_min, newest_min, last_write_ms;
	uint32_t last_write_us;
	int64_t cpu_us;

	/* the writer thread's own */
	struct hdb *db;
	int64_t next_open_ms, next_check_ms;
	struct graph *prev;
	int64_t minute;		/* of the aggregate; 0: empty */
	struct hdb_node *nodes;
	size_t n_nodes, cap_nodes;
	struct agg_edge *edges;
	size_t n_edges, cap_edges;
};

static void
set_state(struct history *h, const char *state, const char *error)
{
	pthread_mutex_lock(&h->lock);
	snprintf(h->state, sizeof(h->state), "%s", state);
	snprintf(h->error, sizeof(h->error), "%s", error);
	if (*error != '\0') {
		snprintf(h->problem, sizeof(h->problem), "%s", error);
		h->problem_ms = clock_real_ms();
	}
	pthread_mutex_unlock(&h->lock);
}

/* Something went wrong but was dealt with: the state stays as it is. */
static void
note_problem(struct history *h, const char *text)
{
	pthread_mutex_lock(&h->lock);
	snprintf(h->problem, sizeof(h->problem), "%s", text);
	h->problem_ms = clock_real_ms();
	h->recovered++;
	pthread_mutex_unlock(&h->lock);
	log_warnx("history: %s", text);
}

/* ---- the minute's aggregate ---- */

static void
node_clear(struct hdb_node *n)
{
	free(n->key);
	free(n->label);
	free(n->type);
	free(n->name);
	free(n->exe);
	free(n->user);
	free(n->service);
	free(n->container);
	free(n->addr);
}

static void
minute_clear(struct history *h)
{
	for (size_t i = 0; i < h->n_nodes; i++)
		node_clear(&h->nodes[i]);
	for (size_t i = 0; i < h->n_edges; i++) {
		free(h->edges[i].id);
		free(h->edges[i].from);
		free(h->edges[i].to);
	}
	h->n_nodes = h->n_edges = 0;
	h->minute = 0;
}

static char *
dup_or_null(const char *s, bool *ok)
{
	char *d;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((d = strdup(s)) == NULL)
		*ok = false;
	return d;
}

static int
node_from_graph(struct hdb_node *x, const struct graph_node *n, int64_t t)
{
	bool ok = true;

	memset(x, 0, sizeof(*x));
	x->key = dup_or_null(n->id, &ok);
	x->kind = n->kind;
	x->label = dup_or_null(n->label, &ok);
	x->type = dup_or_null(n->type, &ok);
	if (n->kind == GRAPH_NODE_PROCESS) {
		x->name = dup_or_null(n->name, &ok);
		x->exe = dup_or_null(n->exe, &ok);
		x->user = dup_or_null(n->user, &ok);
		x->pid = n->pid;
		x->start_ms = n->start_time;
	} else {
		char a[SNAP_ADDRSTRLEN];

		addrfmt_addr(&n->addr, a);
		x->addr = dup_or_null(a, &ok);
		x->port = n->port;
	}
	x->first_ms = x->last_ms = t;
	if (!ok || x->key == NULL) {
		node_clear(x);
		return -ENOMEM;
	}
	return 0;
}

static int
grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap != 0 ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((p = realloc(*arr, n * size)) == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

/* Index of key in the minute's nodes, or where it would go (*found false). */
static size_t
find_node(const struct history *h, const char *key, bool *found)
{
	size_t lo = 0, hi = h->n_nodes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(h->nodes[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* The minute's record of n, added when missing; NULL when out of memory. */
static struct hdb_node *
ensure_node(struct history *h, const struct graph_node *n, int64_t t)
{
	bool found;
	size_t i = find_node(h, n->id, &found);

	if (found)
		return &h->nodes[i];
	if (grow((void **)&h->nodes, &h->cap_nodes, h->n_nodes + 1,
	    sizeof(*h->nodes)) != 0)
		return NULL;
	memmove(&h->nodes[i + 1], &h->nodes[i],
	    (h->n_nodes - i) * sizeof(*h->nodes));
	if (node_from_graph(&h->nodes[i], n, t) != 0) {
		memmove(&h->nodes[i], &h->nodes[i + 1],
		    (h->n_nodes - i) * sizeof(*h->nodes));
		return NULL;
	}
	h->n_nodes++;
	return &h->nodes[i];
}

/* Merges g's nodes (sorted by id) into the minute's (sorted by key). */
static int
fold_nodes(struct history *h, const struct graph *g, int64_t t)
{
	struct hdb_node *out;
	size_t i = 0, j = 0, k = 0, n = h->n_nodes + g->n_nodes;

	if ((out = malloc((n > 0 ? n : 1) * sizeof(*out))) == NULL)
		return -ENOMEM;
	while (i < h->n_nodes || j < g->n_nodes) {
		int c = i == h->n_nodes ? 1 : j == g->n_nodes ? -1 :
		    strcmp(h->nodes[i].key, g->nodes[j].id);

		if (c < 0) {
			out[k++] = h->nodes[i++];
		} else if (c == 0) {
			out[k] = h->nodes[i++];
			out[k++].last_ms = t;
			j++;
		} else {
			if (node_from_graph(&out[k], &g->nodes[j], t) != 0) {
				/* keep what is merged so far consistent */
				while (i < h->n_nodes)
					out[k++] = h->nodes[i++];
				free(h->nodes);
				h->nodes = out;
				h->n_nodes = k;
				h->cap_nodes = n;
				return -ENOMEM;
			}
			k++;
			j++;
		}
	}
	free(h->nodes);
	h->nodes = out;
	h->n_nodes = k;
	h->cap_nodes = n > 0 ? n : 1;
	return 0;
}

static struct agg_edge *
find_edge(struct history *h, const char *id, size_t *at)
{
	size_t lo = 0, hi = h->n_edges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(h->edges[mid].id, id);

		if (c == 0)
			return &h->edges[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return NULL;
}

static struct agg_edge *
ensure_edge(struct history *h, const struct graph *g,
    const struct graph_edge *e)
{
	struct agg_edge *a, x;
	size_t at = 0;

	if ((a = find_edge(h, e->id, &at)) != NULL)
		return a;
	memset(&x, 0, sizeof(x));
	x.id = strdup(e->id);
	x.from = strdup(g->nodes[e->from].id);
	x.to = strdup(g->nodes[e->to].id);
	x.proto = e->proto;
	x.port = e->server_port;
	if (x.id == NULL || x.from == NULL || x.to == NULL ||
	    grow((void **)&h->edges, &h->cap_edges, h->n_edges + 1,
	    sizeof(*h->edges)) != 0) {
		free(x.id);
		free(x.from);
		free(x.to);
		return NULL;
	}
	memmove(&h->edges[at + 1], &h->edges[at],
	    (h->n_edges - at) * sizeof(*h->edges));
	h->edges[at] = x;
	h->n_edges++;
	return &h->edges[at];
}

/*
 * Folds g's edges into the minute, comparing each with the previous
 * graph: a count that rose opened connections, one that fell (or an edge
 * that vanished) closed them.
 */
static int
fold_edges(struct history *h, const struct graph *g, const struct graph *prev,
    int64_t t)
{
	size_t i = 0, j = 0;
	size_t np = prev != NULL ? prev->n_edges : 0;
	/* A graph rebuilt from the sample before (a rules reload) carries
	 * the same bytes again. */
	bool new_sample = prev == NULL || g->time_ms != prev->time_ms;

	while (i < np || j < g->n_edges) {
		const struct graph_edge *pe = i < np ? &prev->edges[i] : NULL;
		const struct graph_edge *ne = j < g->n_edges ? &g->edges[j] :
		    NULL;
		int c = pe == NULL ? 1 : ne == NULL ? -1 :
		    strcmp(pe->id, ne->id);
		struct agg_edge *a;

		if (c < 0) {
			/* gone since the previous sample: all closed */
			if (ensure_node(h, &prev->nodes[pe->from], t) == NULL ||
			    ensure_node(h, &prev->nodes[pe->to], t) == NULL ||
			    (a = ensure_edge(h, prev, pe)) == NULL)
				return -ENOMEM;
			a->closed += pe->count;
			i++;
			continue;
		}
		if ((a = ensure_edge(h, g, ne)) == NULL)
			return -ENOMEM;
		if (ne->count > a->conns)
			a->conns = ne->count;
		if (new_sample) {
			a->bytes_out += ne->moved_sent;
			a->bytes_in += ne->moved_received;
		}
		if (c == 0) {
			if (ne->count > pe->count)
				a->opened += ne->count - pe->count;
			else
				a->closed += pe->count - ne->count;
			i++;
		} else if (prev != NULL) {
			/* new since the previous sample; with no previous
			 * sample (start-up) nothing is known to have opened */
			a->opened += ne->count;
		}
		j++;
	}
	return 0;
}

/* Processes in prev that g no longer has exited at t. */
static int
fold_exits(struct history *h, const struct graph *g, const struct graph *prev,
    int64_t t)
{
	size_t i = 0, j = 0;

	if (prev == NULL)
		return 0;
	while (i < prev->n_nodes) {
		const struct graph_node *pn = &prev->nodes[i];
		int c = j == g->n_nodes ? -1 : strcmp(pn->id, g->nodes[j].id);
		struct hdb_node *x;

		if (c > 0) {
			j++;
			continue;
		}
		if (c < 0 && pn->kind == GRAPH_NODE_PROCESS) {
			if ((x = ensure_node(h, pn, prev->time_ms)) == NULL)
				return -ENOMEM;
			x->exit_ms = t;
		}
		if (c == 0)
			j++;
		i++;
	}
	return 0;
}

/* ---- the file ---- */

static void
refresh_counts(struct history *h)
{
	int64_t oldest = 0, newest = 0;
	uint64_t size = h->db != NULL ? hdb_size(h->db) : 0;

	if (h->db != NULL)
		hdb_range(h->db, &oldest, &newest);
	pthread_mutex_lock(&h->lock);
	h->size = size;
	h->oldest_min = oldest;
	h->newest_min = newest;
	pthread_mutex_unlock(&h->lock);
}

static void
move_aside(struct history *h)
{
	char aside[4200], side[4200];

	snprintf(aside, sizeof(aside), "%s.corrupt", h->path);
	remove(aside);
	rename(h->path, aside);
	/* the log and index of the old file mean nothing to a new one */
	snprintf(side, sizeof(side), "%s-wal", h->path);
	remove(side);
	snprintf(side, sizeof(side), "%s-shm", h->path);
	remove(side);
}

static void
open_file(struct history *h)
{
	enum hdb_fault fault;
	char err[600], text[1200];
	int rc;

	h->next_open_ms = clock_mono_ms() + REOPEN_MS;
	if ((rc = statedir_make_parent(h->path)) != 0) {
		snprintf(text, sizeof(text), "cannot create the directory of "
		    "%s: %s", h->path, strerror(-rc));
		set_state(h, "error", text);
		log_warnx_limited("history-open", 300, "history: %s", text);
		return;
	}
	rc = hdb_open(h->path, h->max_size, &h->db, &fault, err, sizeof(err));
	if (rc != 0 && fault == HDB_FAULT_CORRUPT) {
		snprintf(text, sizeof(text), "%s; moved to %s.corrupt and "
		    "started a new file", err, h->path);
		move_aside(h);
		note_problem(h, text);
		rc = hdb_open(h->path, h->max_size, &h->db, &fault, err,
		    sizeof(err));
	}
	if (rc != 0) {
		h->db = NULL;
		set_state(h, "error", err);
		log_warnx_limited("history-open", 300, "history: %s", err);
		return;
	}
	h->next_check_ms = clock_mono_ms() + CHECK_MS;
	if (hdb_size(h->db) > h->max_size) {
		/* made under a larger cap: the oldest goes now */
		if ((rc = hdb_shrink(h->db, err, sizeof(err))) != 0)
			log_warnx("history: %s is larger than its cap and "
			    "cannot be made smaller: %s", h->path, err);
		else
			log_info("history: %s cut to its size cap", h->path);
	}
	set_state(h, "ok", "");
	refresh_counts(h);
}

static void
close_file(struct history *h)
{
	hdb_close(h->db);
	h->db = NULL;
}

/* What happened to the file under us, and starting again from it. */
static void
check_file(struct history *h)
{
	char text[1200];
	int rc;

	h->next_check_ms = clock_mono_ms() + CHECK_MS;
	if (h->db == NULL)
		return;
	if ((rc = hdb_check_file(h->db)) == 0) {
		/* size and range move with pruning and other writers too */
		refresh_counts(h);
		return;
	}
	close_file(h);
	if (rc == -EBADMSG) {
		snprintf(text, sizeof(text), "%s was overwritten while webd "
		    "ran (not an SQLite file any more): moved to %s.corrupt "
		    "and started a new file", h->path, h->path);
		move_aside(h);
	} else if (rc == -ENOENT)
		snprintf(text, sizeof(text), "%s was deleted while webd ran: "
		    "started a new file; the history before is gone", h->path);
	else
		snprintf(text, sizeof(text), "%s was replaced by another file "
		    "while webd ran: writing to that one now", h->path);
	/* the new file first, so that once the status tells, it is there */
	open_file(h);
	note_problem(h, text);
}

static void
write_minute(struct history *h)
{
	struct hdb_edge *edges = NULL;
	char err[600], text[1200];
	int64_t t0 = clock_mono_us(), cutoff;
	uint64_t pruned = 0;
	int rc = 0;

	if (h->minute == 0)
		return;
	/* Look at the file first: the checkpoint after the write would copy
	 * its pages back over a header someone overwrote, hiding the damage
	 * (and whatever else was overwritten outside those pages). */
	if (h->db != NULL)
		check_file(h);
	if (h->db == NULL && clock_mono_ms() >= h->next_open_ms)
		open_file(h);
	if (h->db == NULL) {
		minute_clear(h);
		return;
	}
	if (h->n_edges > 0 &&
	    (edges = calloc(h->n_edges, sizeof(*edges))) == NULL)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < h->n_edges; i++) {
		const struct agg_edge *a = &h->edges[i];
		bool f1, f2;

		edges[i].from = find_node(h, a->from, &f1);
		edges[i].to = find_node(h, a->to, &f2);
		/* every edge's ends were folded in with it */
		if (!f1 || !f2)
			rc = -EPROTO;
		edges[i].proto = a->proto;
		edges[i].port = a->port;
		edges[i].conns = a->conns;
		edges[i].opened = a->opened;
		edges[i].closed = a->closed;
		edges[i].bytes_out = a->bytes_out;
		edges[i].bytes_in = a->bytes_in;
	}
	if (rc == 0)
		rc = hdb_write_minute(h->db, h->minute, h->nodes, h->n_nodes,
		    edges, h->n_edges, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	free(edges);
	minute_clear(h);
	if (rc == -EBADMSG) {
		snprintf(text, sizeof(text), "%s is corrupt (%s): moved to "
		    "%s.corrupt and started a new file", h->path, err,
		    h->path);
		close_file(h);
		move_aside(h);
		open_file(h);
		note_problem(h, text);
		return;
	}
	if (rc != 0) {
		snprintf(text, sizeof(text), "cannot write to %s: %s", h->path,
		    err);
		set_state(h, "error", text);
		log_warnx_limited("history-write", 300, "history: %s", text);
		/* a full disk or a lost file: start again from opening */
		close_file(h);
		h->next_open_ms = clock_mono_ms() + REOPEN_MS;
		return;
	}
	cutoff = (clock_real_ms() / 1000 - h->retention_s) / 60;
	for (int i = 0; i < PRUNE_STEPS; i++) {
		int n = hdb_prune_step(h->db, cutoff, err, sizeof(err));

		if (n <= 0)
			break;
		pruned += (uint64_t)n;
	}
	hdb_checkpoint(h->db);
	refresh_counts(h);
	pthread_mutex_lock(&h->lock);
	if (strcmp(h->state, "ok") != 0) {
		snprintf(h->state, sizeof(h->state), "ok");
		h->error[0] = '\0';
	}
	h->minutes_written++;
	h->rows_pruned += pruned;
	h->last_write_ms = clock_real_ms();
	h->last_write_us = (uint32_t)(clock_mono_us() - t0);
	pthread_mutex_unlock(&h->lock);
}

/* Folds one graph in (taking it); writes the minute before when g starts
 * a new one. */
static void
fold(struct history *h, struct graph *g)
{
	int64_t t = g->time_ms > 0 ? g->time_ms : clock_real_ms();
	int64_t minute = t / 60000;
	int rc;

	if (h->minute != 0 && minute != h->minute)
		write_minute(h);
	h->minute = minute;
	if ((rc = fold_nodes(h, g, t)) == 0 &&
	    (rc = fold_edges(h, g, h->prev, t)) == 0)
		rc = fold_exits(h, g, h->prev, t);
	if (rc != 0)
		log_warnx_limited("history-fold", 60, "history: cannot fold a "
		    "sample in: %s", strerror(-rc));
	graph_free(h->prev);
	h->prev = g;
}

static void *
writer(void *arg)
{
	struct history *h = arg;
	struct graph *batch[HISTORY_QUEUE_MAX];
	size_t n;
	bool stop;

	open_file(h);
	pthread_mutex_lock(&h->lock);
	for (;;) {
		if (h->n_queue == 0 && !h->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&h->cond, &h->lock, &ts);
		}
		n = h->n_queue;
		memcpy(batch, h->queue, n * sizeof(*batch));
		h->n_queue = 0;
		stop = h->stop;
		pthread_mutex_unlock(&h->lock);

		for (size_t i = 0; i < n; i++)
			fold(h, batch[i]);
		if (stop) {
			write_minute(h);
			break;
		}
		if (h->db != NULL && clock_mono_ms() >= h->next_check_ms)
			check_file(h);
		else if (h->db == NULL && clock_mono_ms() >= h->next_open_ms)
			open_file(h);
		pthread_mutex_lock(&h->lock);
		h->samples += n;
		h->cpu_us = clock_thread_cpu_us();
	}
	close_file(h);
	return NULL;
}

int
history_new(const struct history_config *c, struct history **out)
{
	struct history *h;
	int rc;

	if (c->path == NULL || c->retention_s <= 0 ||
	    c->max_size < HDB_MIN_SIZE)
		return -EINVAL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	if ((h->path = strdup(c->path)) == NULL) {
		free(h);
		return -ENOMEM;
	}
	h->retention_s = c->retention_s;
	h->max_size = c->max_size;
	snprintf(h->state, sizeof(h->state), "starting");
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	if ((rc = pthread_create(&h->thread, NULL, writer, h)) != 0) {
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->cond);
		free(h->path);
		free(h);
		return -rc;
	}
	*out = h;
	return 0;
}

void
history_free(struct history *h)
{
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	for (size_t i = 0; i < h->n_queue; i++)
		graph_free(h->queue[i]);
	graph_free(h->prev);
	minute_clear(h);
	free(h->nodes);
	free(h->edges);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h->path);
	free(h);
}

void
history_offer(struct history *h, struct graph *g)
{
	struct graph *drop = NULL;

	if (g == NULL)
		return;
	if (h == NULL) {
		graph_free(g);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if (h->n_queue == HISTORY_QUEUE_MAX) {
		/* the writer is behind (a slow disk): lose a sample, never
		 * hold the pipeline */
		drop = h->queue[0];
		memmove(&h->queue[0], &h->queue[1],
		    (HISTORY_QUEUE_MAX - 1) * sizeof(h->queue[0]));
		h->n_queue--;
		h->dropped++;
	}
	h->queue[h->n_queue++] = g;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	graph_free(drop);
}

const char *
history_path(const struct history *h)
{
	return h->path;
}

json_t *
history_status_json(struct history *h)
{
	json_t *o;

	pthread_mutex_lock(&h->lock);
	o = json_pack("{s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:f, s:f}",
	    "state", h->state,
	    "path", h->path,
	    "error", h->error[0] != '\0' ? h->error : NULL,
	    "size_bytes", (json_int_t)h->size,
	    "max_size_bytes", (json_int_t)h->max_size,
	    "retention_s", (json_int_t)h->retention_s,
	    "minutes_written", (json_int_t)h->minutes_written,
	    "rows_pruned", (json_int_t)h->rows_pruned,
	    "samples", (json_int_t)h->samples,
	    "samples_dropped", (json_int_t)h->dropped,
	    "recovered", (json_int_t)h->recovered,
	    "last_write_ms", h->last_write_us / 1000.0,
	    "cpu_s", h->cpu_us / 1e6);
	if (o != NULL) {
		json_object_set_new(o, "oldest_ms", h->oldest_min != 0 ?
		    json_integer(h->oldest_min * 60000) : json_null());
		json_object_set_new(o, "newest_ms", h->newest_min != 0 ?
		    json_integer(h->newest_min * 60000) : json_null());
		json_object_set_new(o, "last_problem", h->problem[0] != '\0' ?
		    json_pack("{s:s, s:I}", "text", h->problem, "time_ms",
		    (json_int_t)h->problem_ms) : json_null());
	}
	pthread_mutex_unlock(&h->lock);
	return o;
}
