/*
 * The recent-connections window and what the graph makes of it: short-lived
 * connections between samples, each counted once whether events, the table
 * or both saw it; closed-only edges; exited processes; the window's expiry,
 * caps and aggregates; direction from the connecting end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "snapfix.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "graph_json.h"
#include "window.h"

#define TCP	SNAP_PROTO_TCP
#define EST	SNAP_STATE_ESTABLISHED
#define LISTEN	SNAP_STATE_LISTEN
#define T0	1700000000000LL

/* One sample being put together, then the window and graph after it. */
struct fix {
	struct window *w;
	struct graph *g;		/* the last graph */
	struct graph *prev;		/* the one before */
	struct snapshot_builder *b;
	struct snap_conn conns[256];
	size_t n_conns;
	struct snap_conn_agg aggs[16];
	size_t n_aggs;
	const char *source;
};

static void
fix_init(struct fix *f, uint32_t window_s, size_t cap)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(window_new(window_s, cap, &f->w), 0);
	f->source = "ebpf";
}

static void
fix_free(struct fix *f)
{
	graph_free(f->g);
	graph_free(f->prev);
	window_free(f->w);
	snapshot_builder_free(f->b);
}

static struct snapshot_builder *
sample(struct fix *f)
{
	if (f->b == NULL) {
		assert_non_null(f->b = snapshot_builder_new());
		f->n_conns = 0;
		f->n_aggs = 0;
	}
	return f->b;
}

static void
proc(struct fix *f, int32_t pid, const char *name, uint32_t flags)
{
	struct snap_process p = { .pid = pid, .ppid = 1,
	    .start_time = (uint64_t)pid * 10, .user = "u", .name = name,
	    .exe = "/usr/bin/x", .cmdline = name, .flags = flags,
	    .service = "", .container_runtime = "", .container_id = "",
	    .container_name = "" };

	assert_int_equal(snapshot_builder_add_process(sample(f), &p), 0);
}

static void
sock(struct fix *f, int state, int32_t pid, const char *la, uint16_t lp,
    const char *ra, uint16_t rp, uint64_t cookie)
{
	struct snap_socket s;

	memset(&s, 0, sizeof(s));
	s.proto = TCP;
	s.state = (uint8_t)state;
	s.owner = pid >= 0 ? SNAP_OWNER_KNOWN : (uint8_t)-pid;
	s.pid = pid >= 0 ? pid : -1;
	assert_int_equal(snap_addr_parse(la, &s.local), 0);
	if (ra != NULL)
		assert_int_equal(snap_addr_parse(ra, &s.remote), 0);
	else
		s.remote.family = s.local.family;
	s.family = s.local.family;
	s.local_port = lp;
	s.remote_port = rp;
	s.cookie = cookie;
	assert_int_equal(snapshot_builder_add_socket(sample(f), &s), 0);
}

/* A table socket whose TCP info was read. */
static void
sock_info(struct fix *f, int32_t pid, uint16_t lp, uint16_t rp,
    uint64_t cookie, uint64_t sent, uint64_t recvd, uint32_t rtt_us)
{
	struct snap_socket s;

	memset(&s, 0, sizeof(s));
	s.proto = TCP;
	s.state = EST;
	s.owner = SNAP_OWNER_KNOWN;
	s.pid = pid;
	assert_int_equal(snap_addr_parse("127.0.0.1", &s.local), 0);
	assert_int_equal(snap_addr_parse("127.0.0.1", &s.remote), 0);
	s.family = 4;
	s.local_port = lp;
	s.remote_port = rp;
	s.cookie = cookie;
	s.has_info = 1;
	s.bytes_sent = sent;
	s.bytes_received = recvd;
	s.rtt_us = rtt_us;
	assert_int_equal(snapshot_builder_add_socket(sample(f), &s), 0);
}

/* One end's event.  open/close are offsets from T0 (-1: none, 0 stays
 * 0 = unknown). */
static void
ev(struct fix *f, int role, int32_t pid, const char *la, uint16_t lp,
    const char *ra, uint16_t rp, uint64_t cookie, int64_t open,
    int64_t close, uint64_t sent, uint64_t recvd)
{
	struct snap_conn *c;

	(void)sample(f);
	assert_true(f->n_conns < sizeof(f->conns) / sizeof(f->conns[0]));
	c = &f->conns[f->n_conns++];
	memset(c, 0, sizeof(*c));
	c->proto = TCP;
	c->role = (uint8_t)role;
	c->owner = pid >= 0 ? SNAP_OWNER_KNOWN : SNAP_OWNER_NO_PRIVILEGE;
	c->pid = pid >= 0 ? pid : -1;
	c->start_time = pid >= 0 ? (uint64_t)pid * 10 : 0;
	assert_int_equal(snap_addr_parse(la, &c->local), 0);
	assert_int_equal(snap_addr_parse(ra, &c->remote), 0);
	c->family = c->local.family;
	c->local_port = lp;
	c->remote_port = rp;
	c->cookie = cookie;
	c->open_ms = open > 0 ? T0 + open : 0;
	c->close_ms = close > 0 ? T0 + close : 0;
	c->bytes_sent = sent;
	c->bytes_received = recvd;
}

/* Both ends of a loopback connection from client port cp to server port
 * sp, opened and closed (close -1: still open) at offsets from T0; the
 * client sent `sent` bytes and got `recvd`. */
static void
conn_ev(struct fix *f, int32_t cpid, uint16_t cp, int32_t spid, uint16_t sp,
    int64_t open, int64_t close, uint64_t sent, uint64_t recvd)
{
	ev(f, SNAP_ROLE_CONNECT, cpid, "127.0.0.1", cp, "127.0.0.1", sp,
	    1000000u + cp, open, close, sent, recvd);
	ev(f, SNAP_ROLE_ACCEPT, spid, "127.0.0.1", sp, "127.0.0.1", cp,
	    2000000u + cp, open, close, recvd, sent);
}

static bool
was_node(void *user, int32_t pid, uint64_t start)
{
	char id[64];

	snprintf(id, sizeof(id), "p:%ld:%llu", (long)pid,
	    (unsigned long long)start);
	return user != NULL && graph_find_node(user, id) != NULL;
}

/* Finishes the sample at T0 + at ms and builds its graph. */
static const struct graph *
step(struct fix *f, int64_t at)
{
	struct snapshot *s;
	struct window_view v;
	struct graph_options o;
	struct graph *g;

	(void)sample(f);
	assert_int_equal(snapshot_builder_set_meta(f->b, "h", "linux", T0 + at,
	    true), 0);
	for (size_t i = 0; i < f->n_conns; i++)
		assert_int_equal(snapshot_builder_add_conn(f->b, &f->conns[i]),
		    0);
	for (size_t i = 0; i < f->n_aggs; i++)
		assert_int_equal(snapshot_builder_add_conn_agg(f->b,
		    &f->aggs[i]), 0);
	assert_int_equal(snapshot_builder_set_events(f->b, f->source, "", 0),
	    0);
	assert_int_equal(snapshot_builder_finish(f->b, &s), 0);
	f->b = NULL;
	assert_int_equal(window_update(f->w, s, was_node, f->g), 0);
	window_view(f->w, &v);
	memset(&o, 0, sizeof(o));
	o.window = &v;
	assert_int_equal(graph_build(s, NULL, &o, &g), 0);
	snapshot_unref(s);
	graph_free(f->prev);
	f->prev = f->g;
	f->g = g;
	return g;
}

static const struct graph_edge *
edge(const struct graph *g, const char *id)
{
	const struct graph_edge *e = graph_find_edge(g, id);

	if (e == NULL) {
		char *j = graph_json(g, NULL, NULL);

		fail_msg("no edge %s in %s", id, j);
	}
	return e;
}

static void
expect_recent(const struct graph *g, const char *id, uint32_t count,
    uint32_t opened, uint32_t closed, uint64_t sent, uint64_t recvd)
{
	const struct graph_edge *e = edge(g, id);

	assert_int_equal(e->count, count);
	assert_int_equal(e->recent.opened, opened);
	assert_int_equal(e->recent.closed, closed);
	assert_int_equal(e->recent.bytes_sent, sent);
	assert_int_equal(e->recent.bytes_received, recvd);
}

#define EDGE	"tcp:p:20:200>p:10:100:7000"

/* A server (pid 10) listening on 7000 and a client (pid 20) that made
 * short connections between two samples: no socket of them is in any
 * table, yet the edge is there, count 0. */
static void
test_short_lived(void **state)
{
	struct fix f;
	const struct graph *g;
	char *j;

	(void)state;
	fix_init(&f, 60, 0);
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	step(&f, 0);

	proc(&f, 10, "server", 0);
	proc(&f, 20, "client", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	for (uint16_t i = 0; i < 20; i++)
		conn_ev(&f, 20, (uint16_t)(40000 + i), 10, 7000, 100 + i * 50,
		    102 + i * 50, 100, 1000);
	g = step(&f, 1000);
	expect_recent(g, EDGE, 0, 20, 20, 2000, 20000);
	assert_string_equal(graph_reason_name(edge(g, EDGE)->reason),
	    "connect");
	j = graph_json(g, NULL, NULL);
	assert_non_null(strstr(j, "\"count\":0,\"recent\":{\"window_s\":60,"
	    "\"opened\":20,\"closed\":20,\"bytes_sent\":2000,"
	    "\"bytes_received\":20000}"));
	assert_non_null(strstr(j, "\"window_s\":60"));
	free(j);

	/* the next samples add nothing: the figures stay for the window,
	 * and the client, gone from the snapshot, stays marked exited; the
	 * delta says so */
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	g = step(&f, 30000);
	{
		struct graph_delta *d;

		assert_int_equal(graph_delta(f.prev, g, &d), 0);
		assert_int_equal(d->n_nodes_update, 1);
		assert_string_equal(d->nodes_update[0]->id, "p:20:200");
		/* its bytes moved in the sample before: the rate is back to 0 */
		assert_int_equal(d->n_edges_update, 1);
		assert_int_equal(d->edges_update[0]->sent_per_s, 0);
		assert_int_equal(f.prev->edges[0].sent_per_s, 2000);
		graph_delta_free(d);
	}
	expect_recent(g, EDGE, 0, 20, 20, 2000, 20000);
	assert_true(graph_find_node(g, "p:20:200")->exited);
	assert_false(graph_find_node(g, "p:10:100")->exited);
	j = graph_json(g, NULL, NULL);
	assert_non_null(strstr(j, "\"exited\":true"));
	free(j);

	/* past the window the connections are gone; the client left the
	 * snapshot at 30 s and stays until 90 s */
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	g = step(&f, 61100);
	assert_null(graph_find_edge(g, EDGE));
	assert_true(graph_find_node(g, "p:20:200")->exited);
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	g = step(&f, 90100);
	assert_null(graph_find_node(g, "p:20:200"));
	{
		struct window_stats st;

		window_get_stats(f.w, &st);
		assert_int_equal(st.records, 0);
		assert_int_equal(st.gone, 0);
		assert_string_equal(st.source, "ebpf");
	}
	fix_free(&f);
}

/* Opened in one sample, in the table for two, closed in the next: events
 * and table agree on the cookie, so it is one connection, opened once and
 * closed once, while count follows the table. */
static void
test_events_and_table_once(void **state)
{
	struct fix f;
	const struct graph *g;

	(void)state;
	fix_init(&f, 60, 0);
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	step(&f, 0);

	for (int k = 0; k < 2; k++) {
		proc(&f, 10, "server", 0);
		proc(&f, 20, "client", 0);
		sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
		sock(&f, EST, 20, "127.0.0.1", 40000, "127.0.0.1", 7000,
		    1040000);
		sock(&f, EST, 10, "127.0.0.1", 7000, "127.0.0.1", 40000,
		    2040000);
		if (k == 0)
			conn_ev(&f, 20, 40000, 10, 7000, 500, -1, 10, 0);
		g = step(&f, 1000 + k * 1000);
		expect_recent(g, EDGE, 1, 1, 0, 10, 0);
	}
	proc(&f, 10, "server", 0);
	proc(&f, 20, "client", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	conn_ev(&f, 20, 40000, 10, 7000, 500, 2500, 300, 40);
	g = step(&f, 3000);
	expect_recent(g, EDGE, 0, 1, 1, 300, 40);
	assert_string_equal(graph_reason_name(edge(g, EDGE)->reason),
	    "connect");
	fix_free(&f);
}

/* No events at all: a socket that appears in the table after the first
 * sample opened, one that vanishes closed; those of the first sample were
 * there before us. */
static void
test_table_only(void **state)
{
	struct fix f;
	const struct graph *g;

	(void)state;
	fix_init(&f, 60, 0);
	f.source = "none";
	proc(&f, 10, "server", 0);
	proc(&f, 20, "client", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	sock(&f, EST, 20, "127.0.0.1", 40000, "127.0.0.1", 7000, 0);
	sock(&f, EST, 10, "127.0.0.1", 7000, "127.0.0.1", 40000, 0);
	g = step(&f, 0);
	expect_recent(g, EDGE, 1, 0, 0, 0, 0);

	proc(&f, 10, "server", 0);
	proc(&f, 20, "client", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	sock(&f, EST, 20, "127.0.0.1", 40000, "127.0.0.1", 7000, 0);
	sock(&f, EST, 10, "127.0.0.1", 7000, "127.0.0.1", 40000, 0);
	sock(&f, EST, 20, "127.0.0.1", 40001, "127.0.0.1", 7000, 0);
	sock(&f, EST, 10, "127.0.0.1", 7000, "127.0.0.1", 40001, 0);
	g = step(&f, 1000);
	expect_recent(g, EDGE, 2, 1, 0, 0, 0);
	assert_string_equal(graph_reason_name(edge(g, EDGE)->reason), "pair");

	/* the client exits: its sockets linger ownerless (FIN_WAIT2) and
	 * are still the same sockets, not new connections */
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	sock(&f, SNAP_STATE_FIN_WAIT2, -SNAP_OWNER_KERNEL, "127.0.0.1", 40000,
	    "127.0.0.1", 7000, 0);
	sock(&f, SNAP_STATE_CLOSE_WAIT, 10, "127.0.0.1", 7000, "127.0.0.1",
	    40000, 0);
	sock(&f, SNAP_STATE_FIN_WAIT2, -SNAP_OWNER_KERNEL, "127.0.0.1", 40001,
	    "127.0.0.1", 7000, 0);
	sock(&f, SNAP_STATE_CLOSE_WAIT, 10, "127.0.0.1", 7000, "127.0.0.1",
	    40001, 0);
	g = step(&f, 1500);
	expect_recent(g, EDGE, 0, 1, 0, 0, 0);
	assert_true(graph_find_node(g, "p:20:200")->exited);
	{
		struct window_stats st;

		window_get_stats(f.w, &st);
		assert_int_equal(st.records, 4);
	}

	/* all gone; the client process stays (it has no socket, so it is
	 * not in the snapshot) */
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	g = step(&f, 2000);
	expect_recent(g, EDGE, 0, 1, 2, 0, 0);
	assert_true(graph_find_node(g, "p:20:200")->exited);
	fix_free(&f);
}

/* sock_diag destroy events: closes only, no open time, owner from the
 * cookie's last dump.  A close never seen in a table opened since the
 * previous sample; one seen in the table is the same connection. */
static void
test_destroy_only(void **state)
{
	struct fix f;
	const struct graph *g;

	(void)state;
	fix_init(&f, 60, 0);
	f.source = "sock_diag-destroy";
	proc(&f, 10, "server", 0);
	proc(&f, 20, "client", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	sock(&f, EST, 20, "127.0.0.1", 39999, "127.0.0.1", 7000, 1039999);
	sock(&f, EST, 10, "127.0.0.1", 7000, "127.0.0.1", 39999, 2039999);
	step(&f, 0);

	proc(&f, 10, "server", 0);
	proc(&f, 20, "client", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	for (uint16_t i = 0; i < 5; i++) {
		uint16_t p = (uint16_t)(40000 + i);

		ev(&f, SNAP_ROLE_UNKNOWN, 20, "127.0.0.1", p, "127.0.0.1",
		    7000, 1000000u + p, 0, 600, 7, 9);
		ev(&f, SNAP_ROLE_UNKNOWN, 10, "127.0.0.1", 7000, "127.0.0.1",
		    p, 2000000u + p, 0, 600, 9, 7);
	}
	/* the connection of the first sample closes too: not opened */
	ev(&f, SNAP_ROLE_UNKNOWN, 20, "127.0.0.1", 39999, "127.0.0.1", 7000,
	    1039999, 0, 700, 1, 1);
	g = step(&f, 1000);
	expect_recent(g, EDGE, 0, 5, 6, 36, 46);
	/* no role: the listener decides, as for the table */
	assert_string_equal(graph_reason_name(edge(g, EDGE)->reason), "pair");

	/* sockets no dump ever saw have no owner: the accepted end is the
	 * listener's, the clients are unseen ones of their address */
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	for (uint16_t i = 0; i < 3; i++) {
		uint16_t p = (uint16_t)(41000 + i);

		ev(&f, SNAP_ROLE_UNKNOWN, -1, "127.0.0.1", p, "127.0.0.1",
		    7000, 1000000u + p, 0, 1500, 7, 9);
		ev(&f, SNAP_ROLE_UNKNOWN, -1, "127.0.0.1", 7000, "127.0.0.1",
		    p, 2000000u + p, 0, 1500, 9, 7);
	}
	g = step(&f, 2000);
	expect_recent(g, "tcp:l:127.0.0.1:0>p:10:100:7000", 0, 3, 3, 21, 27);
	fix_free(&f);
}

/* A client that exits between samples: the collector names it in the
 * snapshot, flagged exited; an event whose process nobody describes
 * still gets a node. */
static void
test_exited_processes(void **state)
{
	struct fix f;
	const struct graph *g;
	const struct graph_node *n;

	(void)state;
	fix_init(&f, 60, 0);
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	step(&f, 0);

	proc(&f, 10, "server", 0);
	proc(&f, 20, "curl", SNAP_PROC_EXITED);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	conn_ev(&f, 20, 40000, 10, 7000, 100, 120, 1, 2);
	conn_ev(&f, 30, 40001, 10, 7000, 150, 170, 1, 2);
	g = step(&f, 1000);
	n = graph_find_node(g, "p:20:200");
	assert_non_null(n);
	assert_true(n->exited);
	assert_string_equal(n->name, "curl");
	n = graph_find_node(g, "p:30:300");
	assert_non_null(n);
	assert_true(n->exited);
	expect_recent(g, "tcp:p:30:300>p:10:100:7000", 0, 1, 1, 1, 2);

	/* later: curl's details were kept */
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	g = step(&f, 2000);
	n = graph_find_node(g, "p:20:200");
	assert_non_null(n);
	assert_true(n->exited);
	assert_string_equal(n->name, "curl");
	assert_string_equal(n->cmdline, "curl");
	expect_recent(g, "tcp:p:20:200>p:10:100:7000", 0, 1, 1, 1, 2);
	fix_free(&f);
}

/* The connecting end decides the direction even against the port
 * heuristics (no listener left, the server's port the higher). */
static void
test_role_direction(void **state)
{
	struct fix f;
	const struct graph *g;

	(void)state;
	fix_init(&f, 60, 0);
	proc(&f, 10, "a", 0);
	proc(&f, 20, "b", 0);
	step(&f, 0);
	proc(&f, 10, "a", 0);
	proc(&f, 20, "b", 0);
	ev(&f, SNAP_ROLE_CONNECT, 10, "127.0.0.1", 1000, "127.0.0.1", 50000,
	    1, 100, 200, 5, 6);
	ev(&f, SNAP_ROLE_ACCEPT, 20, "127.0.0.1", 50000, "127.0.0.1", 1000,
	    2, 100, 200, 6, 5);
	/* a half-seen connection to an external host, accepted here */
	ev(&f, SNAP_ROLE_ACCEPT, 20, "127.0.0.1", 50001, "192.0.2.7", 80,
	    3, 100, 200, 11, 12);
	g = step(&f, 1000);
	expect_recent(g, "tcp:p:10:100>p:20:200:50000", 0, 1, 1, 5, 6);
	expect_recent(g, "tcp:e:192.0.2.7>p:20:200:50001", 0, 1, 1, 12, 11);
	fix_free(&f);
}

/* A 4-tuple used again later is another connection: ends pair only with
 * an end whose life overlaps theirs. */
static void
test_tuple_reuse(void **state)
{
	struct fix f;
	const struct graph *g;

	(void)state;
	fix_init(&f, 60, 0);
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	step(&f, 0);
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	proc(&f, 20, "client", 0);
	ev(&f, SNAP_ROLE_CONNECT, 20, "127.0.0.1", 40000, "127.0.0.1", 7000,
	    11, 100, 200, 1, 0);
	ev(&f, SNAP_ROLE_ACCEPT, 10, "127.0.0.1", 7000, "127.0.0.1", 40000,
	    12, 100, 200, 0, 1);
	ev(&f, SNAP_ROLE_CONNECT, 20, "127.0.0.1", 40000, "127.0.0.1", 7000,
	    13, 500, 600, 2, 0);
	ev(&f, SNAP_ROLE_ACCEPT, 10, "127.0.0.1", 7000, "127.0.0.1", 40000,
	    14, 500, 600, 0, 2);
	g = step(&f, 1000);
	expect_recent(g, EDGE, 0, 2, 2, 3, 0);
	assert_int_equal(g->n_edges, 1);
	fix_free(&f);
}

/* Past the cap, ends are aggregated per (client, server, port) and still
 * reach the edge; the collector's own aggregates too; what has no
 * process at one end is counted as unattributed. */
static void
test_cap_and_aggregates(void **state)
{
	struct fix f;
	const struct graph *g;
	struct window_stats st;

	(void)state;
	fix_init(&f, 60, 4);
	proc(&f, 10, "server", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	step(&f, 0);

	proc(&f, 10, "server", 0);
	proc(&f, 20, "client", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	for (uint16_t i = 0; i < 10; i++)
		conn_ev(&f, 20, (uint16_t)(40000 + i), 10, 7000, 100, 200,
		    10, 1);
	f.aggs[f.n_aggs++] = (struct snap_conn_agg){ .proto = TCP,
	    .client_pid = 20, .server_pid = 10, .server_port = 7000,
	    .opened = 100, .closed = 90, .bytes_sent = 1000,
	    .bytes_received = 50 };
	f.aggs[f.n_aggs++] = (struct snap_conn_agg){ .proto = TCP,
	    .client_pid = -1, .server_pid = 10, .server_port = 7000,
	    .opened = 7, .closed = 7 };
	g = step(&f, 1000);
	window_get_stats(f.w, &st);
	assert_int_equal(st.records, 4);
	assert_int_equal(st.cap, 4);
	/* 16 ends past the cap: 8 client ends counted, the 8 server ends
	 * of local clients not (their clients' ends are) */
	assert_int_equal(st.aggregated, 8);
	expect_recent(g, EDGE, 0, 110, 100, 1100, 60);
	assert_int_equal(g->n_unattributed, 7);
	fix_free(&f);
}

/* Two ends' readings of one connection lead each other by turns (the
 * receiver's bytes_received runs ahead of the sender's bytes_acked): the
 * moves add up to the bytes once, not to every sample's lead. */
static void
test_rates_lead(void **state)
{
	struct fix f;
	const struct graph_edge *e;
	uint64_t total = 0;
	static const uint64_t cli[] = { 1000, 5000, 11000, 11000 };
	static const uint64_t srv[] = { 1000, 8000, 9000, 11000 };

	(void)state;
	fix_init(&f, 60, 0);
	for (int i = 0; i < 4; i++) {
		proc(&f, 10, "server", 0);
		proc(&f, 20, "client", 0);
		sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
		sock_info(&f, 20, 40000, 7000, 11, cli[i], 0, 0);
		sock_info(&f, 10, 7000, 40000, 12, 0, srv[i], 0);
		e = edge(step(&f, 1000 * i), EDGE);
		total += e->moved_sent;
		assert_int_equal(e->sent_per_s, e->moved_sent);
	}
	assert_int_equal(total, 11000 - 1000);
	fix_free(&f);
}

/* Bytes per second from the growth of the sockets' counters between
 * samples: both ends of a connection count once, a counter that goes back
 * moves nothing, a connection that opened since the last sample counts
 * whole, one that closed counts to its close; RTT from the table. */
static void
test_rates(void **state)
{
	struct fix f;
	const struct graph *g;
	const struct graph_edge *e;
	char *j;

	(void)state;
	fix_init(&f, 60, 0);
#define BOTH(cs, cr, ss, sr, rtt) do { \
		proc(&f, 10, "server", 0); \
		proc(&f, 20, "client", 0); \
		sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1); \
		sock_info(&f, 20, 40000, 7000, 11, cs, cr, rtt); \
		sock_info(&f, 10, 7000, 40000, 12, ss, sr, 0); \
	} while (0)
	BOTH(1000, 100, 100, 1000, 2500);
	g = step(&f, 0);
	e = edge(g, EDGE);
	assert_int_equal(e->sent_per_s, 0);	/* nothing to compare with */
	assert_int_equal(e->rtt_us, 2500);
	j = graph_json(g, NULL, NULL);
	assert_non_null(strstr(j, "\"bytes_per_s\":{\"sent\":0,\"received\":0},"
	    "\"rtt_ms\":2.500,"));
	free(j);

	BOTH(11000, 600, 600, 11000, 2500);
	g = step(&f, 1000);
	e = edge(g, EDGE);
	{
		struct graph_delta *d;

		/* the table alone is the same: the rate is the change */
		assert_int_equal(graph_delta(f.prev, g, &d), 0);
		assert_int_equal(d->n_edges_update, 1);
		graph_delta_free(d);
	}
	assert_int_equal(e->sent_per_s, 10000);
	assert_int_equal(e->received_per_s, 500);
	assert_int_equal(e->recent.opened, 0);	/* it was there before us */

	/* the client's reading goes back (ignored), the server's goes on */
	BOTH(5000, 600, 700, 21000, 0);
	g = step(&f, 3000);
	e = edge(g, EDGE);
	assert_int_equal(e->sent_per_s, 5000);
	assert_int_equal(e->received_per_s, 50);
	assert_int_equal(e->rtt_us, 0);

	/* a second connection opens with 3000 bytes sent already; the first
	 * closes, its close event saying 1000 more went out than the larger
	 * reading so far (the server's) and 100 more came back */
	proc(&f, 10, "server", 0);
	proc(&f, 20, "client", 0);
	sock(&f, LISTEN, 10, "0.0.0.0", 7000, NULL, 0, 1);
	sock_info(&f, 20, 40001, 7000, 13, 3000, 0, 100);
	ev(&f, SNAP_ROLE_CONNECT, 20, "127.0.0.1", 40000, "127.0.0.1", 7000,
	    11, 0, 3500, 22000, 800);
	g = step(&f, 4000);
	e = edge(g, EDGE);
	assert_int_equal(e->count, 1);
	assert_int_equal(e->sent_per_s, 4000);
	assert_int_equal(e->received_per_s, 100);
	assert_int_equal(e->recent.opened, 1);
	assert_int_equal(e->recent.closed, 1);
	/* the recent bytes are those of connections in the window: the
	 * first one (closed within it) and the new one */
	assert_int_equal(e->recent.bytes_sent, 22000 + 3000);
#undef BOTH
	fix_free(&f);
}

static void
test_bad_input(void **state)
{
	struct window *w;
	struct fix f;
	struct snapshot *s;

	(void)state;
	assert_int_equal(window_new(0, 0, &w), -EINVAL);
	assert_int_equal(window_new(WINDOW_MAX_S + 1, 0, &w), -EINVAL);
	window_free(NULL);

	/* a snapshot older than the last is refused, nothing changes */
	fix_init(&f, 60, 0);
	step(&f, 5000);
	assert_non_null(f.b = snapshot_builder_new());
	assert_int_equal(snapshot_builder_set_meta(f.b, "h", "linux", T0,
	    true), 0);
	assert_int_equal(snapshot_builder_finish(f.b, &s), 0);
	f.b = NULL;
	assert_int_equal(window_update(f.w, s, NULL, NULL), -EINVAL);
	snapshot_unref(s);

	/* an event with no peer port is not a connection */
	proc(&f, 10, "server", 0);
	ev(&f, SNAP_ROLE_CONNECT, 10, "127.0.0.1", 1, "127.0.0.1", 0, 9, 5100,
	    5200, 1, 1);
	f.conns[f.n_conns - 1].remote_port = 0;
	step(&f, 6000);
	{
		struct window_stats st;

		window_get_stats(f.w, &st);
		assert_int_equal(st.records, 0);
	}
	fix_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_lived),
		cmocka_unit_test(test_events_and_table_once),
		cmocka_unit_test(test_table_only),
		cmocka_unit_test(test_destroy_only),
		cmocka_unit_test(test_exited_processes),
		cmocka_unit_test(test_role_direction),
		cmocka_unit_test(test_tuple_reuse),
		cmocka_unit_test(test_cap_and_aggregates),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_rates_lead),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
