/*
 * The recent window in the graph (window.h): connections that opened,
 * closed or moved bytes since the last samples, paired by their swapped
 * 4-tuple like the table's sockets and added to their edges' recent
 * figures and rates once each; processes gone within the window stay
 * nodes; aggregates go to the edge of their client and server.
 */
#include "graph_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The process of (pid, start): in the snapshot, else among the window's
 * gone ones (start 0: the latest with that pid).  -1 when neither. */
static long
proc_lookup(const struct build *b, int32_t pid, uint64_t start)
{
	const struct snap_process *p = snapshot_find_process(b->s, pid);
	const struct window_proc *g;

	if (pid < 0)
		return -1;
	if (p != NULL && (start == 0 || p->start_time == start))
		return (long)(p - b->s->processes);
	if ((g = window_find_gone(b->win, pid, start)) == NULL)
		return -1;
	return (long)(b->s->n_processes + (size_t)(g - b->win->gone));
}

static void
xsock_of_end(const struct build *b, const struct window_end *e,
    struct xsock *x)
{
	memset(x, 0, sizeof(*x));
	x->l = e->local;
	x->r = e->remote;
	x->lp = e->local_port;
	x->rp = e->remote_port;
	x->proto = e->proto;
	x->ns = e->netns;
	x->role = e->role;
	x->state = e->close_ms != 0 ? SNAP_STATE_CLOSE :
	    SNAP_STATE_ESTABLISHED;
	x->owner = e->owner;
	x->proc = e->owner == SNAP_OWNER_KNOWN ?
	    proc_lookup(b, e->pid, e->start_time) : -1;
	if (x->proc < 0 && x->owner == SNAP_OWNER_KNOWN)
		x->owner = SNAP_OWNER_EXITED;
	/* No owner (a close event of a socket no dump ever saw, as sock_diag
	 * destroy events are): one on a listener's address and port was
	 * accepted there, and is the listening process's. */
	if (x->proc < 0 && e->role != SNAP_ROLE_CONNECT) {
		long li = graph_listener_find(b, x->ns, x->proto, &x->l, x->lp);

		if (li >= 0 && b->xs[li].proc >= 0) {
			x->proc = b->xs[li].proc;
			x->owner = SNAP_OWNER_KNOWN;
		}
	}
	x->ev = e;
}

/* Two records of one 4-tuple are one connection only if their lives
 * overlap: a port reused later is another connection. */
static bool
lives_overlap(const struct window_end *a, const struct window_end *c)
{
	if (a->close_ms != 0 && c->open_ms != 0 && c->open_ms > a->close_ms)
		return false;
	if (c->close_ms != 0 && a->open_ms != 0 && a->open_ms > c->close_ms)
		return false;
	return true;
}

/* How much max(a, b) grew, given each counter now and what it grew by
 * since the previous sample. */
static uint64_t
max_growth(uint64_t a, uint64_t da, uint64_t b, uint64_t db)
{
	uint64_t now = a > b ? a : b;
	uint64_t pa = a - da, pb = b - db;
	uint64_t before = pa > pb ? pa : pb;

	return now > before ? now - before : 0;
}

/* One connection's figures from its one or two ends, from x's side. */
static void
recent_of(const struct build *b, const struct window_end *x,
    const struct window_end *y, struct recent_add *ra)
{
	int64_t cut = b->win->now_ms - (int64_t)b->win->window_s * 1000;
	int64_t open = x->open_ms, close = x->close_ms;

	if (y != NULL) {
		if (y->open_ms != 0 && (open == 0 || y->open_ms < open))
			open = y->open_ms;
		/* closed when every end seen has closed */
		close = x->close_ms != 0 && y->close_ms != 0 ?
		    (x->close_ms > y->close_ms ? x->close_ms : y->close_ms) : 0;
	}
	memset(ra, 0, sizeof(*ra));
	ra->opened = open != 0 && open >= cut;
	ra->closed = close != 0 && close >= cut;
	/* bytes only of connections that count in the window */
	if (ra->opened || ra->closed) {
		ra->sent = x->bytes_sent;
		ra->received = x->bytes_received;
		if (y != NULL) {
			if (y->bytes_received > ra->sent)
				ra->sent = y->bytes_received;
			if (y->bytes_sent > ra->received)
				ra->received = y->bytes_sent;
		}
	}
	/* Both ends count the same bytes, a little apart in time (one's
	 * bytes_acked trails the other's bytes_received): what moved is the
	 * growth of the larger reading, so that over the connection's life
	 * it adds up to its bytes once.  The larger of each sample's moves
	 * would add up every sample's lead. */
	ra->moved_sent = x->moved_sent;
	ra->moved_received = x->moved_received;
	if (y != NULL) {
		ra->moved_sent = max_growth(x->bytes_sent, x->moved_sent,
		    y->bytes_received, y->moved_received);
		ra->moved_received = max_growth(x->bytes_received,
		    x->moved_received, y->bytes_sent, y->moved_sent);
	}
}

/* An aggregate's unknown server: the process listening on its port (at
 * its address when known, else on a wildcard or loopback).  -1 if none. */
static long
agg_listener(const struct build *b, const struct window_agg *a)
{
	struct snap_addr tries[5];
	size_t n = 0;
	long li = -1;

	memset(tries, 0, sizeof(tries));
	if (a->server_addr.family != 0)
		tries[n++] = a->server_addr;
	tries[n++].family = 4;			/* 0.0.0.0 */
	tries[n++].family = 6;			/* :: */
	tries[n].family = 4;			/* 127.0.0.1 */
	tries[n].bytes[0] = 127;
	tries[n++].bytes[3] = 1;
	tries[n].family = 6;			/* ::1 */
	tries[n++].bytes[15] = 1;
	for (size_t i = 0; i < n && li < 0; i++)
		li = graph_listener_find(b, 0, a->proto, &tries[i],
		    a->server_port);
	return li >= 0 ? b->xs[li].proc : -1;
}

static int
recent_aggs(struct build *b)
{
	for (size_t i = 0; i < b->win->n_aggs; i++) {
		const struct window_agg *a = &b->win->aggs[i];
		/* an aggregate counts for the rate in the sample it came in */
		bool now = a->time_ms == b->win->now_ms;
		struct recent_add ra = { a->opened, a->closed, a->bytes_sent,
		    a->bytes_received, now ? a->bytes_sent : 0,
		    now ? a->bytes_received : 0 };
		long cp = proc_lookup(b, a->client_pid, a->client_start);
		long sp = proc_lookup(b, a->server_pid, a->server_start);
		long from, to;
		int r;

		if (sp < 0 && a->server_pid < 0)
			sp = agg_listener(b, a);

		if (a->proto == SNAP_PROTO_UDP && !b->opts.udp)
			continue;
		if (cp < 0 || sp < 0) {
			b->n_unattributed += a->opened > a->closed ?
			    a->opened : a->closed;
			continue;
		}
		if ((from = graph_process_node(b, cp)) < 0)
			return (int)from;
		if ((to = graph_process_node(b, sp)) < 0)
			return (int)to;
		if ((r = graph_edge_add(b, from, to, a->proto, GRAPH_REASON_CONNECT,
		    NULL, 0, NULL, a->server_port, SNAP_STATE_NONE, &ra, 0)) < 0)
			return r;
	}
	return 0;
}

/* Connections that opened or closed within the window: paired by their
 * swapped 4-tuple like the table's sockets, each added to its edge's
 * recent figures once.  Processes gone within the window stay nodes. */
int
graph_recent_run(struct build *b)
{
	size_t base = b->n_xs, n = 0;
	struct kmap tuples;
	int r = 0;

	for (size_t i = 0; i < b->n_gone; i++) {
		long ni = graph_process_node(b, (long)(b->s->n_processes + i));

		if (ni < 0)
			return (int)ni;
	}
	for (size_t i = 0; i < b->win->n_ends; i++)
		/* UDP flows only with the udp option, as for the table */
		if (window_end_active(b->win, &b->win->ends[i]) &&
		    (b->win->ends[i].proto != SNAP_PROTO_UDP || b->opts.udp))
			xsock_of_end(b, &b->win->ends[i], &b->xs[base + n++]);
	if (kmap_init(&tuples, sizeof(struct tkey), n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct xsock *x = &b->xs[base + i];
		struct tkey k;
		bool added;
		long o;

		memset(&k, 0, sizeof(k));
		k.proto = x->proto;
		k.a = x->l;
		k.ap = x->lp;
		k.b = x->r;
		k.bp = x->rp;
		o = kmap_put(&tuples, &k, &added);
		if (o >= 0) {
			/* a chain of the ends of one 4-tuple, latest first */
			b->ev_next[i] = added ? 0 : b->conn_ev[o] + 1;
			b->conn_ev[o] = (uint32_t)(base + i);
		}
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		size_t xi = base + i;
		const struct xsock *x = &b->xs[xi];
		struct recent_add ra;
		struct tkey k;
		long o, j = -1;

		if (b->ev_done[i])
			continue;
		b->ev_done[i] = true;
		memset(&k, 0, sizeof(k));
		k.proto = x->proto;
		k.a = x->r;
		k.ap = x->rp;
		k.b = x->l;
		k.bp = x->lp;
		if ((o = kmap_find(&tuples, &k)) >= 0) {
			/* the first end of the swapped tuple free to pair whose
			 * life overlaps ours */
			for (j = b->conn_ev[o];; j = (long)b->ev_next[j - base] - 1) {
				if ((size_t)j != xi && !b->ev_done[j - base] &&
				    lives_overlap(x->ev, b->xs[j].ev))
					break;
				if (b->ev_next[j - base] == 0) {
					j = -1;
					break;
				}
			}
			if (j >= 0)
				b->ev_done[j - base] = true;
		}
		recent_of(b, x->ev, j >= 0 ? b->xs[j].ev : NULL, &ra);
		if (ra.opened == 0 && ra.closed == 0 && ra.moved_sent == 0 &&
		    ra.moved_received == 0)
			continue;
		if (x->proc < 0) {
			if (j >= 0 && b->xs[j].proc >= 0) {
				recent_of(b, b->xs[j].ev, x->ev, &ra);
				r = graph_edge_half(b, (size_t)j, (long)xi, &ra);
			}
		} else if (j >= 0 && b->xs[j].proc >= 0) {
			r = graph_edge_pair(b, xi, (size_t)j, &ra);
		} else {
			r = graph_edge_half(b, xi, j, &ra);
		}
	}
	kmap_free(&tuples);
	if (r == 0)
		r = recent_aggs(b);
	return r;
}
