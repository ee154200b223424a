/*
 * The recent-connections window (window.h).  Each update rebuilds its two
 * indexes (end identity, 4-tuple) from the records that stay: simpler than
 * deletions in a hash table, and linear in what is kept.
 */
#include "window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrfmt.h"
#include "kmap.h"
#include "window_priv.h"

int
window_grow(void **arr, size_t *alloc, size_t need, size_t size)
{
	size_t n = *alloc ? *alloc : 64;
	void *p;

	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	if ((p = realloc(*arr, n * size)) == NULL)
		return -ENOMEM;
	*arr = p;
	*alloc = n;
	return 0;
}

int64_t
window_cutoff(const struct window *w)
{
	return w->now_ms - (int64_t)w->window_s * 1000;
}

/* An end's identity: the socket cookie, else 4-tuple + owner. */
struct idkey {
	uint64_t cookie;
	uint64_t start;
	struct snap_addr l, r;
	uint16_t lp, rp;
	int32_t pid;
	uint8_t proto;
	uint8_t pad[7];
};

struct tuplekey {
	struct snap_addr l, r;
	uint16_t lp, rp;
	uint8_t proto;
	uint8_t pad[3];
};

struct aggkey {
	uint64_t cstart, sstart;
	int32_t cpid, spid;
	uint16_t port;
	uint8_t proto;
	uint8_t pad[5];
};

int
window_new(uint32_t window_s, size_t cap, struct window **out)
{
	struct window *w;

	if (window_s < 1 || window_s > WINDOW_MAX_S)
		return -EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->window_s = window_s;
	w->cap = cap ? cap : WINDOW_DEFAULT_CAP;
	strcpy(w->source, "none");
	*out = w;
	return 0;
}

void
window_free(struct window *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n_gone; i++)
		window_gone_release(&w->gone[i]);
	free(w->gone);
	free(w->ends);
	free(w->aggs);
	snapshot_unref(w->prev);
	free(w);
}

static bool
end_recent(int64_t cut, const struct window_end *e)
{
	return (e->open_ms != 0 && e->open_ms >= cut) ||
	    (e->close_ms != 0 && e->close_ms >= cut);
}

bool
window_end_recent(const struct window_view *v, const struct window_end *e)
{
	return end_recent(v->now_ms - (int64_t)v->window_s * 1000, e);
}

bool
window_end_active(const struct window_view *v, const struct window_end *e)
{
	return e->moved_sent != 0 || e->moved_received != 0 ||
	    e->peer_moved || window_end_recent(v, e);
}

static void
idkey_of(struct idkey *k, const struct window_end *e)
{
	memset(k, 0, sizeof(*k));
	k->proto = e->proto;
	if (e->cookie != 0) {
		k->cookie = e->cookie;
		return;
	}
	k->l = e->local;
	k->r = e->remote;
	k->lp = e->local_port;
	k->rp = e->remote_port;
	k->pid = e->pid;
	k->start = e->start_time;
}

static void
tuplekey_of(struct tuplekey *k, const struct window_end *e, bool swapped)
{
	memset(k, 0, sizeof(*k));
	k->proto = e->proto;
	k->l = swapped ? e->remote : e->local;
	k->r = swapped ? e->local : e->remote;
	k->lp = swapped ? e->remote_port : e->local_port;
	k->rp = swapped ? e->local_port : e->remote_port;
}

/* ---- aggregates ---- */

static int
agg_add(struct window *w, struct kmap *idx, const struct window_agg *a)
{
	struct aggkey k;
	struct window_agg *t;
	bool added;
	long o;

	memset(&k, 0, sizeof(k));
	k.proto = a->proto;
	k.port = a->server_port;
	k.cpid = a->client_pid;
	k.spid = a->server_pid;
	k.cstart = a->client_start;
	k.sstart = a->server_start;
	/* the index covers this update's entries, the last idx->n */
	if ((o = kmap_find(idx, &k)) >= 0) {
		t = &w->aggs[w->n_aggs - idx->n + (size_t)o];
		t->opened += a->opened;
		t->closed += a->closed;
		t->bytes_sent += a->bytes_sent;
		t->bytes_received += a->bytes_received;
		return 0;
	}
	if (w->n_aggs >= WINDOW_MAX_AGGS || idx->n >= idx->cap) {
		w->dropped += a->opened > a->closed ? a->opened : a->closed;
		return 0;
	}
	if (window_grow((void **)&w->aggs, &w->alloc_aggs, w->n_aggs + 1,
	    sizeof(*w->aggs)) < 0)
		return -ENOMEM;
	(void)kmap_put(idx, &k, &added);
	w->aggs[w->n_aggs++] = *a;
	return 0;
}

/* An end that does not fit under the cap: counted per (client, server,
 * port).  Its peer is known when the other end is a record. */
static int
overflow(struct window *w, struct kmap *aidx, const struct kmap *tuples,
    const struct window_end *e)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	struct window_agg a;
	struct tuplekey k;
	bool self_server;
	int32_t ppid = -1;
	uint64_t pstart = 0;
	long o;

	if (e->role == SNAP_ROLE_CONNECT)
		self_server = false;
	else if (e->role == SNAP_ROLE_ACCEPT)
		self_server = true;
	else
		self_server = e->local_port < e->remote_port;
	/* a server end whose client is on this host: the client's end is
	 * counted, not this one too */
	if (self_server && (e->remote.family == 4 ?
	    e->remote.bytes[0] == 127 : memcmp(e->remote.bytes, lo6, 16) == 0))
		return 0;
	tuplekey_of(&k, e, true);
	if ((o = kmap_find(tuples, &k)) >= 0) {
		ppid = w->ends[w->tuple_end[o]].pid;
		pstart = w->ends[w->tuple_end[o]].start_time;
	}
	memset(&a, 0, sizeof(a));
	a.time_ms = w->now_ms;
	a.proto = e->proto;
	a.server_port = self_server ? e->local_port : e->remote_port;
	a.server_addr = self_server ? e->local : e->remote;
	a.client_pid = self_server ? ppid : e->pid;
	a.client_start = self_server ? pstart : e->start_time;
	a.server_pid = self_server ? e->pid : ppid;
	a.server_start = self_server ? e->start_time : pstart;
	/* its close is reported too: it opened only if since the last
	 * sample */
	a.opened = e->open_ms != 0 && e->open_ms >= w->prev_ms ? 1 : 0;
	a.closed = e->close_ms != 0 ? 1 : 0;
	a.bytes_sent = self_server ? e->bytes_received : e->bytes_sent;
	a.bytes_received = self_server ? e->bytes_sent : e->bytes_received;
	w->aggregated++;
	return agg_add(w, aidx, &a);
}

/* ---- one update ---- */

/* Takes a later report of an end's byte counters: they only grow (a
 * smaller value is an older or reset reading, and moves nothing); what
 * they grew by is what moved since the previous sample. */
static void
bytes_take(struct window_end *r, uint64_t sent, uint64_t received)
{
	if (sent > r->bytes_sent) {
		r->moved_sent += sent - r->bytes_sent;
		r->bytes_sent = sent;
	}
	if (received > r->bytes_received) {
		r->moved_received += received - r->bytes_received;
		r->bytes_received = received;
	}
}

/* A new record: what it carried moved since the previous sample when it
 * opened since then; one of our first sample was there before. */
static void
bytes_new(const struct window *w, struct window_end *r)
{
	if (w->started && r->open_ms >= w->prev_ms) {
		r->moved_sent = r->bytes_sent;
		r->moved_received = r->bytes_received;
	}
}

static void
expire(struct window *w, const struct snapshot *s)
{
	int64_t cut = window_cutoff(w);
	size_t k = 0;

	for (size_t i = 0; i < w->n_ends; i++) {
		const struct window_end *e = &w->ends[i];
		bool keep = end_recent(cut, e) ||
		    (e->close_ms == 0 && (e->in_table || e->seen_ms >= cut));

		if (keep)
			w->ends[k++] = *e;
	}
	w->n_ends = k;
	k = 0;
	for (size_t i = 0; i < w->n_aggs; i++)
		if (w->aggs[i].time_ms >= cut)
			w->aggs[k++] = w->aggs[i];
	w->n_aggs = k;
	window_gone_expire(w, s);
}

/* Indexes record i (it just joined, or is being indexed anew). */
static void
index_one(struct window *w, struct kmap *ids, struct kmap *tuples, size_t i)
{
	struct idkey ik;
	struct tuplekey tk;
	bool added;
	long o;

	idkey_of(&ik, &w->ends[i]);
	tuplekey_of(&tk, &w->ends[i], false);
	/* one record per identity: a second one (cannot be) stays unseen */
	if ((o = kmap_put(ids, &ik, &added)) >= 0 && added)
		w->id_end[o] = (uint32_t)i;
	/* one 4-tuple used again: the latest record answers */
	if ((o = kmap_put(tuples, &tk, &added)) >= 0)
		w->tuple_end[o] = (uint32_t)i;
}

static int
index_ends(struct window *w, struct kmap *ids, struct kmap *tuples,
    size_t room)
{
	size_t cap = w->n_ends + room;

	if (kmap_init(ids, sizeof(struct idkey), cap) < 0 ||
	    kmap_init(tuples, sizeof(struct tuplekey), cap) < 0)
		return -ENOMEM;
	w->id_end = malloc((cap + 1) * sizeof(*w->id_end));
	w->tuple_end = malloc((cap + 1) * sizeof(*w->tuple_end));
	if (w->id_end == NULL || w->tuple_end == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < w->n_ends; i++)
		index_one(w, ids, tuples, i);
	return 0;
}

/* Finds e's record or adds it.  Returns its index, -1 when it went to
 * the aggregates (cap reached), or -ENOMEM - 1. */
static long
end_put(struct window *w, struct kmap *ids, struct kmap *tuples,
    struct kmap *aidx, const struct window_end *e, bool *added)
{
	struct idkey ik;
	long o;

	idkey_of(&ik, e);
	*added = false;
	if ((o = kmap_find(ids, &ik)) >= 0)
		return (long)w->id_end[o];
	/* No cookie, and the owner gone (a socket orphaned when its process
	 * exited, FIN_WAIT2 and the like): the open record of its 4-tuple,
	 * whoever owned it, is the same socket. */
	if (e->cookie == 0 && e->pid < 0) {
		struct tuplekey tk;

		tuplekey_of(&tk, e, false);
		if ((o = kmap_find(tuples, &tk)) >= 0 &&
		    w->ends[w->tuple_end[o]].close_ms == 0)
			return (long)w->tuple_end[o];
	}
	if (w->n_ends >= w->cap) {
		/* a table socket is there every sample: counting it each
		 * time would invent connections; it is just not tracked */
		if (e->in_table) {
			w->untracked++;
			return -1;
		}
		if (overflow(w, aidx, tuples, e) < 0)
			return -ENOMEM - 1;
		return -1;
	}
	if (window_grow((void **)&w->ends, &w->alloc_ends, w->n_ends + 1,
	    sizeof(*w->ends)) < 0)
		return -ENOMEM - 1;
	/* the maps were sized for every end this update can add */
	if (ids->n >= ids->cap || tuples->n >= tuples->cap)
		return -ENOMEM - 1;
	w->ends[w->n_ends] = *e;
	index_one(w, ids, tuples, w->n_ends);
	*added = true;
	return (long)w->n_ends++;
}

static int
take_events(struct window *w, struct snapshot *s, struct kmap *ids,
    struct kmap *tuples, struct kmap *aidx)
{
	for (size_t i = 0; i < s->n_conns; i++) {
		const struct snap_conn *c = &s->conns[i];
		struct window_end e, *r;
		bool added;
		long o;

		if (c->proto >= SNAP_PROTO_MAX || c->remote_port == 0)
			continue;
		memset(&e, 0, sizeof(e));
		e.proto = c->proto;
		e.role = c->role < SNAP_ROLE_MAX ? c->role : SNAP_ROLE_UNKNOWN;
		e.owner = c->owner < SNAP_OWNER_MAX ? c->owner :
		    SNAP_OWNER_NO_PRIVILEGE;
		addrfmt_canon(&c->local, &e.local);
		addrfmt_canon(&c->remote, &e.remote);
		e.local_port = c->local_port;
		e.remote_port = c->remote_port;
		e.pid = e.owner == SNAP_OWNER_KNOWN ? c->pid : -1;
		e.start_time = e.owner == SNAP_OWNER_KNOWN ? c->start_time : 0;
		e.cookie = c->cookie;
		e.netns = c->netns;
		e.open_ms = c->open_ms > 0 ? c->open_ms : 0;
		e.close_ms = c->close_ms > 0 ? c->close_ms : 0;
		/* Never in a table we saw, so it opened after our first
		 * snapshot even when the source cannot say when (destroy
		 * events): between the previous sample and this one. */
		if (e.open_ms == 0 && w->started)
			e.open_ms = w->prev_ms;
		e.bytes_sent = c->bytes_sent;
		e.bytes_received = c->bytes_received;
		e.seen_ms = w->now_ms;
		if ((o = end_put(w, ids, tuples, aidx, &e, &added)) < -1)
			return -ENOMEM;
		if (added)
			bytes_new(w, &w->ends[o]);
		if (e.pid >= 0 && !window_in_snapshot(s, e.pid, e.start_time) &&
		    !window_gone_has(w, e.pid, e.start_time) &&
		    window_gone_add_bare(w, e.pid, e.start_time) < 0)
			return -ENOMEM;
		if (o < 0 || added)
			continue;
		/* a later report of the same end */
		r = &w->ends[o];
		if (r->role == SNAP_ROLE_UNKNOWN)
			r->role = e.role;
		if (r->pid < 0 && e.pid >= 0) {
			r->pid = e.pid;
			r->start_time = e.start_time;
			r->owner = e.owner;
		}
		if (c->open_ms > 0 && (r->open_ms == 0 || c->open_ms < r->open_ms))
			r->open_ms = c->open_ms;
		if (e.close_ms != 0)
			r->close_ms = e.close_ms;
		bytes_take(r, e.bytes_sent, e.bytes_received);
		r->seen_ms = w->now_ms;
	}
	for (size_t i = 0; i < s->n_conn_aggs; i++) {
		const struct snap_conn_agg *c = &s->conn_aggs[i];
		struct window_agg a;

		if (c->proto >= SNAP_PROTO_MAX)
			continue;
		memset(&a, 0, sizeof(a));
		a.time_ms = w->now_ms;
		a.proto = c->proto;
		a.server_port = c->server_port;
		a.client_pid = c->client_pid;
		a.server_pid = c->server_pid;
		a.opened = c->opened;
		a.closed = c->closed;
		a.bytes_sent = c->bytes_sent;
		a.bytes_received = c->bytes_received;
		if (agg_add(w, aidx, &a) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Sockets in the table, which a connection's open and close events need
 * not cover: TCP with a peer.  TIME_WAIT and SYN_RECV entries are the
 * kernel's stand-ins (their own cookies), not the connection's socket. */
static bool
table_tracked(const struct snap_socket *so)
{
	return so->proto == SNAP_PROTO_TCP && so->remote_port != 0 &&
	    so->state != SNAP_STATE_TIME_WAIT &&
	    so->state != SNAP_STATE_SYN_RECV &&
	    so->state != SNAP_STATE_LISTEN;
}

static int
take_table(struct window *w, const struct snapshot *s, struct kmap *ids,
    struct kmap *tuples, struct kmap *aidx)
{
	/* bit 1: in the previous table; bit 0: in this one */
	for (size_t i = 0; i < w->n_ends; i++)
		w->ends[i].in_table = (w->ends[i].in_table & 1) ? 2 : 0;
	w->untracked = 0;
	for (size_t i = 0; i < s->n_sockets; i++) {
		const struct snap_socket *so = &s->sockets[i];
		const struct snap_process *p = NULL;
		struct window_end e, *r;
		bool added;
		long o;

		if (!table_tracked(so))
			continue;
		memset(&e, 0, sizeof(e));
		e.proto = so->proto;
		e.owner = so->owner < SNAP_OWNER_MAX ? so->owner :
		    SNAP_OWNER_NO_PRIVILEGE;
		if (e.owner == SNAP_OWNER_KNOWN)
			p = snapshot_find_process(s, so->pid);
		e.pid = p != NULL ? p->pid : -1;
		e.start_time = p != NULL ? p->start_time : 0;
		if (p == NULL && e.owner == SNAP_OWNER_KNOWN)
			e.owner = SNAP_OWNER_EXITED;
		addrfmt_canon(&so->local, &e.local);
		addrfmt_canon(&so->remote, &e.remote);
		e.local_port = so->local_port;
		e.remote_port = so->remote_port;
		e.cookie = so->cookie;
		e.netns = so->netns;
		e.open_ms = w->started ? w->now_ms : 0;
		if (so->has_info) {
			e.bytes_sent = so->bytes_sent;
			e.bytes_received = so->bytes_received;
		}
		e.in_table = 1;
		e.seen_ms = w->now_ms;
		if ((o = end_put(w, ids, tuples, aidx, &e, &added)) < -1)
			return -ENOMEM;
		if (added)
			bytes_new(w, &w->ends[o]);
		if (o < 0 || added)
			continue;
		r = &w->ends[o];
		r->in_table |= 1;
		r->seen_ms = w->now_ms;
		if (r->pid < 0 && e.pid >= 0) {
			r->pid = e.pid;
			r->start_time = e.start_time;
			r->owner = e.owner;
		}
		bytes_take(r, e.bytes_sent, e.bytes_received);
	}
	return 0;
}

/* The other end of a connection that moved bytes goes to the graph too,
 * so the two pair there and count once. */
static void
mark_peers(struct window *w, const struct kmap *tuples)
{
	for (size_t i = 0; i < w->n_ends; i++) {
		const struct window_end *e = &w->ends[i];
		struct tuplekey k;
		long o;

		if (e->moved_sent == 0 && e->moved_received == 0)
			continue;
		tuplekey_of(&k, e, true);
		if ((o = kmap_find(tuples, &k)) >= 0)
			w->ends[w->tuple_end[o]].peer_moved = 1;
	}
}

int
window_update(struct window *w, struct snapshot *s,
    bool (*is_node)(void *user, int32_t pid, uint64_t start_time),
    void *user)
{
	struct kmap ids, tuples, aidx;
	size_t n_tab = 0;
	size_t cut;
	int rc;

	if (w->started && s->time_ms < w->now_ms)
		return -EINVAL;
	w->prev_ms = w->started ? w->now_ms : s->time_ms;
	w->now_ms = s->time_ms;
	snprintf(w->source, sizeof(w->source), "%s",
	    s->events_source != NULL ? s->events_source : "none");
	snprintf(w->reason, sizeof(w->reason), "%s",
	    s->events_reason != NULL ? s->events_reason : "");
	w->lost = s->events_lost;

	expire(w, s);
	for (size_t i = 0; i < w->n_ends; i++) {
		w->ends[i].moved_sent = 0;
		w->ends[i].moved_received = 0;
		w->ends[i].peer_moved = 0;
	}
	for (size_t i = 0; i < s->n_sockets; i++)
		n_tab += table_tracked(&s->sockets[i]);
	memset(&ids, 0, sizeof(ids));
	memset(&tuples, 0, sizeof(tuples));
	memset(&aidx, 0, sizeof(aidx));
	cut = s->n_conns + s->n_conn_aggs + n_tab;
	rc = index_ends(w, &ids, &tuples, s->n_conns + n_tab);
	if (rc == 0)
		rc = kmap_init(&aidx, sizeof(struct aggkey),
		    cut < WINDOW_MAX_AGGS ? cut : WINDOW_MAX_AGGS);
	if (rc == 0)
		rc = take_events(w, s, &ids, &tuples, &aidx);
	if (rc == 0)
		rc = take_table(w, s, &ids, &tuples, &aidx);
	if (rc == 0) {
		/* gone from the table with no close event: closed now */
		for (size_t i = 0; i < w->n_ends; i++) {
			struct window_end *e = &w->ends[i];

			if (e->in_table == 2 && e->close_ms == 0)
				e->close_ms = w->now_ms;
		}
		rc = window_gone_departures(w, s, is_node, user);
		mark_peers(w, &tuples);
	}
	kmap_free(&ids);
	kmap_free(&tuples);
	kmap_free(&aidx);
	free(w->id_end);
	free(w->tuple_end);
	w->id_end = w->tuple_end = NULL;
	window_gone_sort(w);
	snapshot_unref(w->prev);
	w->prev = snapshot_ref(s);
	w->started = true;
	return rc;
}

void
window_view(const struct window *w, struct window_view *v)
{
	memset(v, 0, sizeof(*v));
	v->window_s = w->window_s;
	v->now_ms = w->now_ms;
	v->dt_ms = w->now_ms - w->prev_ms;
	v->n_ends = w->n_ends;
	v->ends = w->ends;
	v->n_aggs = w->n_aggs;
	v->aggs = w->aggs;
	v->n_gone = w->n_gone;
	v->gone = w->gone;
}

void
window_get_stats(const struct window *w, struct window_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->window_s = w->window_s;
	st->cap = w->cap;
	st->records = w->n_ends;
	st->aggs = w->n_aggs;
	st->gone = w->n_gone;
	st->aggregated = w->aggregated;
	st->dropped = w->dropped;
	st->untracked = w->untracked;
	st->source = w->source;
	st->reason = w->reason;
	st->lost = w->lost;
}
