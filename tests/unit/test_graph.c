/*
 * The graph engine: pairing, direction and its reasons, aggregation,
 * options, unknown owners, PID reuse, determinism and deltas.
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
#include "rules.h"

#define TCP	SNAP_PROTO_TCP
#define UDP	SNAP_PROTO_UDP
#define EST	SNAP_STATE_ESTABLISHED
#define LISTEN	SNAP_STATE_LISTEN

/* ---- building snapshots ---- */

static struct snapshot_builder *
snap_new(void)
{
	struct snapshot_builder *b = snapshot_builder_new();

	assert_non_null(b);
	assert_int_equal(snapshot_builder_set_meta(b, "testhost", "linux",
	    1700000000000, true), 0);
	return b;
}

static void
proc(struct snapshot_builder *b, int32_t pid, uint64_t start,
    const char *name, const char *cmd)
{
	struct snap_process p = { .pid = pid, .ppid = 1, .start_time = start,
	    .user = "alice", .name = name, .exe = "/usr/bin/x",
	    .cmdline = cmd };

	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
}

/* pid < 0 means an owner we could not see, for the reason -pid. */
static void
sock(struct snapshot_builder *b, int proto, int state, int32_t pid,
    const char *la, uint16_t lp, const char *ra, uint16_t rp)
{
	snapfix_sock(b, proto, state, pid, la, lp, ra, rp);
}

static void
listener(struct snapshot_builder *b, int32_t pid, const char *a, uint16_t p)
{
	sock(b, TCP, LISTEN, pid, a, p, NULL, 0);
}

/* Both ends of one TCP connection, client first. */
static void
conn(struct snapshot_builder *b, int32_t cpid, const char *ca, uint16_t cp,
    int32_t spid, const char *sa, uint16_t sp)
{
	sock(b, TCP, EST, cpid, ca, cp, sa, sp);
	sock(b, TCP, EST, spid, sa, sp, ca, cp);
}

static struct graph *
build_opts(struct snapshot_builder *b, const struct rules *r,
    const struct graph_options *o)
{
	struct snapshot *s;
	struct graph *g;

	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(graph_build(s, r, o, &g), 0);
	snapshot_unref(s);	/* the graph holds its own reference */
	return g;
}

static struct graph *
build(struct snapshot_builder *b)
{
	return build_opts(b, NULL, NULL);
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

static const struct graph_node *
node(const struct graph *g, const char *id)
{
	const struct graph_node *n = graph_find_node(g, id);

	if (n == NULL)
		fail_msg("no node %s", id);
	return n;
}

static void
expect_edge(const struct graph *g, const char *id, uint32_t count,
    const char *reason)
{
	const struct graph_edge *e = edge(g, id);

	assert_int_equal(e->count, count);
	assert_string_equal(graph_reason_name(e->reason), reason);
	/* from is the client, to the server: the id says so too */
	assert_non_null(strstr(id, g->nodes[e->from].id));
	assert_non_null(strstr(id, g->nodes[e->to].id));
}

/* ---- pairing ---- */

static void
test_pair_with_listener(void **state)
{
	struct snapshot_builder *b = snap_new();
	struct graph *g;
	const struct graph_node *n;
	const struct graph_edge *e;

	(void)state;
	proc(b, 10, 1010, "postgres", "postgres -D /db");
	proc(b, 20, 1020, "app", "app");
	listener(b, 10, "0.0.0.0", 5432);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 5432);
	g = build(b);

	assert_int_equal(g->n_nodes, 2);
	assert_int_equal(g->n_edges, 1);
	expect_edge(g, "tcp:p:20:1020>p:10:1010:5432", 1, "pair");
	e = &g->edges[0];
	assert_string_equal(g->nodes[e->from].id, "p:20:1020");
	assert_string_equal(g->nodes[e->to].id, "p:10:1010");
	assert_int_equal(e->server_port, 5432);
	assert_int_equal(e->states[EST], 1);
	assert_int_equal(e->n_conns, 1);
	assert_int_equal(e->conns[0].client_port, 50000);
	assert_int_equal(e->conns[0].server_port, 5432);
	n = node(g, "p:10:1010");
	assert_string_equal(n->name, "postgres");
	assert_string_equal(n->type, "app");
	assert_string_equal(n->label, "postgres");
	assert_string_equal(n->user, "alice");
	assert_int_equal(n->ppid, 1);
	assert_int_equal(n->n_listen, 1);
	assert_int_equal(n->listen[0].port, 5432);
	assert_int_equal(n->listen[0].addr.family, 4);
	assert_int_equal(node(g, "p:20:1020")->n_listen, 0);
	graph_free(g);
}

static void
test_ipv6_pair(void **state)
{
	struct snapshot_builder *b = snap_new();
	struct graph *g;
	char *j;

	(void)state;
	proc(b, 10, 1, "srv", "");
	proc(b, 20, 2, "cli", "");
	listener(b, 10, "::", 8443);
	conn(b, 20, "::1", 40000, 10, "::1", 8443);
	g = build(b);
	assert_int_equal(g->n_edges, 1);
	expect_edge(g, "tcp:p:20:2>p:10:1:8443", 1, "pair");
	j = graph_json(g, NULL, NULL);
	assert_non_null(strstr(j, "\"client\":\"[::1]:40000\","
	    "\"server\":\"[::1]:8443\""));
	assert_non_null(strstr(j, "\"listen\":[{\"proto\":\"tcp\","
	    "\"addr\":\"::\",\"port\":8443}]"));
	free(j);
	graph_free(g);
}

/* A v4 client of a dual-stack listener: its peer is an AF_INET6 socket
 * with IPv4-mapped addresses.  Still one connection, one edge. */
static void
test_v4_mapped_pair(void **state)
{
	struct snapshot_builder *b = snap_new();
	struct graph *g;

	(void)state;
	proc(b, 10, 1, "srv", "");
	proc(b, 20, 2, "cli", "");
	listener(b, 10, "::", 8080);
	sock(b, TCP, EST, 20, "127.0.0.1", 50001, "127.0.0.1", 8080);
	sock(b, TCP, EST, 10, "::ffff:127.0.0.1", 8080, "::ffff:127.0.0.1",
	    50001);
	g = build(b);
	assert_int_equal(g->n_edges, 1);
	expect_edge(g, "tcp:p:20:2>p:10:1:8080", 1, "pair");
	assert_int_equal(g->edges[0].conns[0].client.family, 4);
	graph_free(g);

	/* only the client end seen: the v6 wildcard listener takes it */
	b = snap_new();
	proc(b, 10, 1, "srv", "");
	proc(b, 20, 2, "cli", "");
	listener(b, 10, "::", 8080);
	sock(b, TCP, EST, 20, "::ffff:127.0.0.1", 50002, "::ffff:127.0.0.1",
	    8080);
	g = build(b);
	expect_edge(g, "tcp:p:20:2>p:10:1:8080", 1, "listener");
	graph_free(g);
}

/* ---- direction, table-driven ---- */

struct dsock {
	int pid;		/* 0 ends the list */
	int state;
	const char *la;
	uint16_t lp;
	const char *ra;
	uint16_t rp;
};

struct dir_case {
	const char *what;
	struct dsock socks[4];
	uint16_t svc[2];
	const char *edge;	/* the one edge expected */
	const char *reason;
	const char *extra_node;	/* an external/endpoint node expected */
};

static const struct dir_case dir_cases[] = {
	{ "pair, no listener: the service port is the server",
	  { { 20, EST, "127.0.0.1", 45000, "127.0.0.1", 6379 },
	    { 10, EST, "127.0.0.1", 6379, "127.0.0.1", 45000 } },
	  { 0 }, "tcp:p:20:20>p:10:10:6379", "service-port", NULL },
	{ "pair, no listener, no service port: the lower port",
	  { { 20, EST, "127.0.0.1", 45000, "127.0.0.1", 40000 },
	    { 10, EST, "127.0.0.1", 40000, "127.0.0.1", 45000 } },
	  { 0 }, "tcp:p:20:20>p:10:10:40000", "heuristic", NULL },
	{ "--svc-ports turns the higher port into the server",
	  { { 20, EST, "127.0.0.1", 3001, "127.0.0.1", 40000 },
	    { 10, EST, "127.0.0.1", 40000, "127.0.0.1", 3001 } },
	  { 40000 }, "tcp:p:20:20>p:10:10:40000", "service-port", NULL },
	{ "...which without it is the client (lower port wins)",
	  { { 20, EST, "127.0.0.1", 3001, "127.0.0.1", 40000 },
	    { 10, EST, "127.0.0.1", 40000, "127.0.0.1", 3001 } },
	  { 0 }, "tcp:p:10:10>p:20:20:3001", "heuristic", NULL },
	{ "a listener beats a service port",
	  { { 10, LISTEN, "127.0.0.1", 40000, NULL, 0 },
	    { 20, EST, "127.0.0.1", 80, "127.0.0.1", 40000 },
	    { 10, EST, "127.0.0.1", 40000, "127.0.0.1", 80 } },
	  { 0 }, "tcp:p:20:20>p:10:10:40000", "pair", NULL },
	{ "far end unseen: the local listener owns it",
	  { { 10, LISTEN, "0.0.0.0", 5432, NULL, 0 },
	    { 20, EST, "127.0.0.1", 50000, "127.0.0.1", 5432 } },
	  { 0 }, "tcp:p:20:20>p:10:10:5432", "listener", NULL },
	{ "far end unseen, no listener: a local endpoint node",
	  { { 20, EST, "127.0.0.1", 50000, "127.0.0.1", 5432 } },
	  { 0 }, "tcp:p:20:20>l:127.0.0.1:5432:5432", "service-port",
	  "l:127.0.0.1:5432" },
	{ "far end unseen, we are the lower port: unseen clients' node",
	  { { 20, EST, "127.0.0.1", 40000, "127.0.0.1", 45000 } },
	  { 0 }, "tcp:l:127.0.0.1:0>p:20:20:40000", "heuristic",
	  "l:127.0.0.1:0" },
	{ "our end is a listener's, client unseen",
	  { { 10, LISTEN, "127.0.0.1", 7000, NULL, 0 },
	    { 10, EST, "127.0.0.1", 7000, "127.0.0.1", 51000 } },
	  { 0 }, "tcp:l:127.0.0.1:0>p:10:10:7000", "listener",
	  "l:127.0.0.1:0" },
	{ "remote web server",
	  { { 20, EST, "192.0.2.10", 50000, "93.184.216.34", 443 } },
	  { 0 }, "tcp:p:20:20>e:93.184.216.34:443", "service-port",
	  "e:93.184.216.34" },
	{ "remote client of our sshd",
	  { { 10, LISTEN, "0.0.0.0", 22, NULL, 0 },
	    { 10, EST, "192.0.2.10", 22, "198.51.100.7", 51000 } },
	  { 0 }, "tcp:e:198.51.100.7>p:10:10:22", "listener",
	  "e:198.51.100.7" },
	{ "remote peer, no hints: the lower port",
	  { { 20, EST, "192.0.2.10", 50000, "203.0.113.5", 40000 } },
	  { 0 }, "tcp:p:20:20>e:203.0.113.5:40000", "heuristic",
	  "e:203.0.113.5" },
	{ "remote IPv6 host",
	  { { 20, EST, "2001:db8::2", 50000, "2001:db8::1", 443 } },
	  { 0 }, "tcp:p:20:20>e:2001:db8::1:443", "service-port",
	  "e:2001:db8::1" },
	{ "a peer at 0.0.0.0 is this host",
	  { { 10, LISTEN, "0.0.0.0", 8081, NULL, 0 },
	    { 20, EST, "127.0.0.1", 50000, "0.0.0.0", 8081 } },
	  { 0 }, "tcp:p:20:20>p:10:10:8081", "listener", NULL },
	{ "a specific listener address beats the wildcard",
	  { { 10, LISTEN, "127.0.0.2", 7001, NULL, 0 },
	    { 30, LISTEN, "0.0.0.0", 7001, NULL, 0 },
	    { 20, EST, "127.0.0.1", 50000, "127.0.0.2", 7001 } },
	  { 0 }, "tcp:p:20:20>p:10:10:7001", "listener", NULL },
	{ "...and the wildcard takes the other addresses",
	  { { 10, LISTEN, "127.0.0.2", 7001, NULL, 0 },
	    { 30, LISTEN, "0.0.0.0", 7001, NULL, 0 },
	    { 20, EST, "127.0.0.1", 50000, "127.0.0.3", 7001 } },
	  { 0 }, "tcp:p:20:20>p:30:30:7001", "listener", NULL },
};

static void
test_direction_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dir_cases) / sizeof(dir_cases[0]); i++) {
		const struct dir_case *c = &dir_cases[i];
		struct snapshot_builder *b = snap_new();
		struct graph_options o = { 0 };
		size_t n_svc = 0;
		struct graph *g;
		const struct graph_edge *e;

		proc(b, 10, 10, "server", "");
		proc(b, 20, 20, "client", "");
		proc(b, 30, 30, "other", "");
		for (const struct dsock *s = c->socks; s->pid != 0; s++)
			sock(b, TCP, s->state, s->pid, s->la, s->lp, s->ra,
			    s->rp);
		while (n_svc < 2 && c->svc[n_svc] != 0)
			n_svc++;
		o.svc_ports = c->svc;
		o.n_svc_ports = n_svc;
		g = build_opts(b, NULL, &o);
		if (g->n_edges != 1)
			fail_msg("%s: %zu edges", c->what, g->n_edges);
		e = graph_find_edge(g, c->edge);
		if (e == NULL)
			fail_msg("%s: edge is %s, want %s", c->what,
			    g->edges[0].id, c->edge);
		if (strcmp(graph_reason_name(e->reason), c->reason) != 0)
			fail_msg("%s: reason %s, want %s", c->what,
			    graph_reason_name(e->reason), c->reason);
		if (c->extra_node != NULL)
			assert_non_null(graph_find_node(g, c->extra_node));
		graph_free(g);
	}
}

static void
test_local_addrs(void **state)
{
	struct snapshot_builder *b;
	struct graph_options o = { 0 };
	struct snap_addr here;
	struct graph *g;

	(void)state;
	/* 10.1.2.3 is remote unless the host says it is one of its own */
	for (int local = 0; local < 2; local++) {
		b = snap_new();
		proc(b, 10, 10, "db", "");
		proc(b, 20, 20, "app", "");
		listener(b, 10, "10.1.2.3", 5432);
		sock(b, TCP, EST, 20, "10.1.2.3", 50000, "10.1.2.3", 5432);
		assert_int_equal(snap_addr_parse("10.1.2.3", &here), 0);
		o.local_addrs = &here;
		o.n_local_addrs = local ? 1 : 0;
		g = build_opts(b, NULL, &o);
		if (local)
			expect_edge(g, "tcp:p:20:20>p:10:10:5432", 1,
			    "listener");
		else
			expect_edge(g, "tcp:p:20:20>e:10.1.2.3:5432", 1,
			    "service-port");
		graph_free(g);
	}
}

/* An address whose socket the dump has is this host's, whatever the
 * interface list says: one fetched before an address was added (a new
 * container bridge, a DHCP lease) must not turn local peers external. */
static void
test_peer_seen_is_local(void **state)
{
	struct snapshot_builder *b;
	struct graph_options o = { 0 };
	struct graph *g;

	(void)state;
	/* our client, the server's end seen but its owner not ours to know */
	b = snap_new();
	proc(b, 20, 20, "app", "");
	conn(b, 20, "10.77.0.1", 50000, -SNAP_OWNER_NO_PRIVILEGE, "10.77.0.2",
	    5432);
	g = build_opts(b, NULL, &o);
	assert_null(graph_find_node(g, "e:10.77.0.2"));
	expect_edge(g, "tcp:p:20:20>l:10.77.0.2:5432:5432", 1,
	    "service-port");
	assert_int_equal(node(g, "l:10.77.0.2:5432")->owner,
	    SNAP_OWNER_NO_PRIVILEGE);
	graph_free(g);

	/* the same from the server's side: the client's end is seen */
	b = snap_new();
	proc(b, 10, 10, "srv", "");
	listener(b, 10, "0.0.0.0", 8080);
	conn(b, -SNAP_OWNER_OTHER_NETNS, "10.77.0.3", 41000, 10, "10.77.0.4",
	    8080);
	g = build_opts(b, NULL, &o);
	assert_null(graph_find_node(g, "e:10.77.0.3"));
	expect_edge(g, "tcp:l:10.77.0.3:0>p:10:10:8080", 1, "listener");
	graph_free(g);

	/* and a peer the dump does not have stays external */
	b = snap_new();
	proc(b, 20, 20, "app", "");
	sock(b, TCP, EST, 20, "10.77.0.1", 50001, "10.77.0.9", 5432);
	g = build_opts(b, NULL, &o);
	expect_edge(g, "tcp:p:20:20>e:10.77.0.9:5432", 1, "service-port");
	graph_free(g);
}

/* ---- identity, owners, odd connections ---- */

static void
test_pid_reuse(void **state)
{
	struct snapshot_builder *b;
	struct graph *g1, *g2;
	struct graph_delta *d;

	(void)state;
	b = snap_new();
	proc(b, 10, 1000, "old", "");
	proc(b, 20, 2000, "cli", "");
	listener(b, 10, "127.0.0.1", 6000);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 6000);
	g1 = build(b);

	/* pid 10 exited and was reused by another program */
	b = snap_new();
	proc(b, 10, 5000, "new", "");
	proc(b, 20, 2000, "cli", "");
	listener(b, 10, "127.0.0.1", 6000);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 6000);
	g2 = build(b);

	assert_non_null(graph_find_node(g1, "p:10:1000"));
	assert_null(graph_find_node(g2, "p:10:1000"));
	assert_string_equal(node(g2, "p:10:5000")->name, "new");
	assert_int_equal(graph_delta(g1, g2, &d), 0);
	assert_int_equal(d->n_nodes_add, 1);
	assert_string_equal(d->nodes_add[0]->id, "p:10:5000");
	assert_int_equal(d->n_nodes_remove, 1);
	assert_string_equal(d->nodes_remove[0], "p:10:1000");
	assert_int_equal(d->n_nodes_update, 0);
	assert_int_equal(d->n_edges_add, 1);
	assert_string_equal(d->edges_add[0]->id, "tcp:p:20:2000>p:10:5000:6000");
	assert_int_equal(d->n_edges_remove, 1);
	assert_string_equal(d->edges_remove[0], "tcp:p:20:2000>p:10:1000:6000");
	graph_delta_free(d);
	graph_free(g1);
	graph_free(g2);
}

static void
test_unknown_owner(void **state)
{
	struct snapshot_builder *b;
	struct graph *g;
	const struct graph_node *n;
	char *j;

	(void)state;
	/* both ends unknown: nothing to draw, but the sockets are counted */
	b = snap_new();
	proc(b, 10, 10, "x", "");
	listener(b, -SNAP_OWNER_NO_PRIVILEGE, "0.0.0.0", 5432);
	conn(b, -SNAP_OWNER_NO_PRIVILEGE, "127.0.0.1", 50000,
	    -SNAP_OWNER_NO_PRIVILEGE, "127.0.0.1", 5432);
	g = build(b);
	assert_int_equal(g->n_nodes, 0);
	assert_int_equal(g->n_edges, 0);
	assert_int_equal(g->n_sockets, 3);
	graph_free(g);

	/* our client, a server we may not look at: an endpoint that says why */
	b = snap_new();
	proc(b, 20, 20, "app", "");
	listener(b, -SNAP_OWNER_NO_PRIVILEGE, "0.0.0.0", 5432);
	conn(b, 20, "127.0.0.1", 50000, -SNAP_OWNER_NO_PRIVILEGE, "127.0.0.1",
	    5432);
	g = build(b);
	assert_int_equal(g->n_edges, 1);
	expect_edge(g, "tcp:p:20:20>l:127.0.0.1:5432:5432", 1, "listener");
	n = node(g, "l:127.0.0.1:5432");
	assert_int_equal(n->kind, GRAPH_NODE_ENDPOINT);
	assert_int_equal(n->owner, SNAP_OWNER_NO_PRIVILEGE);
	j = graph_json(g, NULL, NULL);
	assert_non_null(strstr(j, "{\"id\":\"l:127.0.0.1:5432\",\"kind\":"
	    "\"endpoint\",\"addr\":\"127.0.0.1\",\"port\":5432,\"owner\":"
	    "\"no-privilege\",\"label\":\"127.0.0.1:5432\",\"type\":\"service\"}"));
	free(j);
	graph_free(g);

	/* the server's end in another namespace, reported without an owner,
	 * from the server's side: the client's end is ours */
	b = snap_new();
	proc(b, 10, 10, "srv", "");
	listener(b, 10, "0.0.0.0", 8080);
	conn(b, -SNAP_OWNER_OTHER_NETNS, "127.0.0.1", 50000, 10, "127.0.0.1",
	    8080);
	g = build(b);
	expect_edge(g, "tcp:l:127.0.0.1:0>p:10:10:8080", 1, "listener");
	assert_int_equal(node(g, "l:127.0.0.1:0")->owner,
	    SNAP_OWNER_OTHER_NETNS);
	graph_free(g);

	/* an owner pid that is not among the processes (it exited while
	 * the sample was taken) is an unknown owner */
	b = snap_new();
	proc(b, 20, 20, "app", "");
	sock(b, TCP, EST, 99, "127.0.0.1", 50000, "127.0.0.1", 5432);
	g = build(b);
	assert_int_equal(g->n_nodes, 0);
	assert_int_equal(g->n_edges, 0);
	graph_free(g);

	/* TIME_WAIT left by the kernel pairs with nothing */
	b = snap_new();
	proc(b, 10, 10, "srv", "");
	listener(b, 10, "0.0.0.0", 8080);
	sock(b, TCP, SNAP_STATE_TIME_WAIT, -SNAP_OWNER_KERNEL, "127.0.0.1",
	    50000, "127.0.0.1", 8080);
	g = build(b);
	assert_int_equal(g->n_edges, 0);
	assert_int_equal(g->n_nodes, 1);
	graph_free(g);
}

static void
test_self_connection(void **state)
{
	struct snapshot_builder *b = snap_new();
	struct graph *g;
	const struct graph_edge *e;

	(void)state;
	proc(b, 10, 10, "selfish", "");
	listener(b, 10, "127.0.0.1", 9000);
	conn(b, 10, "127.0.0.1", 50000, 10, "127.0.0.1", 9000);
	g = build(b);
	assert_int_equal(g->n_nodes, 1);
	assert_int_equal(g->n_edges, 1);
	e = edge(g, "tcp:p:10:10>p:10:10:9000");
	assert_int_equal(e->from, e->to);
	assert_int_equal(e->count, 1);
	assert_string_equal(graph_reason_name(e->reason), "pair");
	graph_free(g);

	/* a socket connected to itself (TCP simultaneous open) */
	b = snap_new();
	proc(b, 10, 10, "selfish", "");
	sock(b, TCP, EST, 10, "127.0.0.1", 46000, "127.0.0.1", 46000);
	g = build(b);
	assert_int_equal(g->n_edges, 1);
	e = edge(g, "tcp:p:10:10>p:10:10:46000");
	assert_int_equal(e->count, 1);
	graph_free(g);
}

static void
test_many_connections(void **state)
{
	struct snapshot_builder *b = snap_new();
	struct graph *g;
	const struct graph_edge *e;

	(void)state;
	proc(b, 10, 10, "redis", "");
	proc(b, 20, 20, "worker", "");
	listener(b, 10, "0.0.0.0", 6379);
	listener(b, 10, "0.0.0.0", 6380);
	for (int i = 0; i < 500; i++) {
		int st = i < 450 ? EST : SNAP_STATE_FIN_WAIT2;

		sock(b, TCP, st, 20, "127.0.0.1", (uint16_t)(40000 + i),
		    "127.0.0.1", 6379);
		sock(b, TCP, i < 450 ? EST : SNAP_STATE_CLOSE_WAIT, 10,
		    "127.0.0.1", 6379, "127.0.0.1", (uint16_t)(40000 + i));
	}
	/* a parallel edge: same pair, another server port */
	for (int i = 0; i < 3; i++)
		conn(b, 20, "127.0.0.1", (uint16_t)(41000 + i), 10, "127.0.0.1",
		    6380);
	g = build(b);
	assert_int_equal(g->n_edges, 2);
	e = edge(g, "tcp:p:20:20>p:10:10:6379");
	assert_int_equal(e->count, 500);
	assert_int_equal(e->states[EST], 450);
	assert_int_equal(e->states[SNAP_STATE_FIN_WAIT2], 50);
	assert_int_equal(e->n_conns, GRAPH_EDGE_MAX_CONNS);
	/* the kept connections are the first by client address and port */
	assert_int_equal(e->conns[0].client_port, 40000);
	assert_int_equal(e->conns[GRAPH_EDGE_MAX_CONNS - 1].client_port,
	    40000 + GRAPH_EDGE_MAX_CONNS - 1);
	e = edge(g, "tcp:p:20:20>p:10:10:6380");
	assert_int_equal(e->count, 3);
	assert_int_equal(e->n_conns, 3);
	graph_free(g);
}

/* One socket listed under two pids (shared after fork) is still one
 * connection. */
static void
test_shared_socket(void **state)
{
	struct snapshot_builder *b = snap_new();
	struct graph *g;

	(void)state;
	proc(b, 10, 10, "srv", "");
	proc(b, 20, 20, "parent", "");
	proc(b, 21, 21, "child", "");
	listener(b, 10, "127.0.0.1", 7000);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 7000);
	sock(b, TCP, EST, 21, "127.0.0.1", 50000, "127.0.0.1", 7000);
	g = build(b);
	assert_int_equal(g->n_edges, 1);
	assert_int_equal(g->edges[0].count, 1);
	graph_free(g);
}

/* ---- options ---- */

static void
add_udp_population(struct snapshot_builder *b)
{
	proc(b, 30, 30, "dnsd", "");
	proc(b, 40, 40, "resolver", "");
	proc(b, 50, 50, "tcpapp", "");
	sock(b, UDP, SNAP_STATE_NONE, 30, "127.0.0.1", 5353, NULL, 0);
	sock(b, UDP, SNAP_STATE_NONE, 40, "127.0.0.1", 41000, "127.0.0.1",
	    5353);
	sock(b, UDP, SNAP_STATE_NONE, 40, "192.0.2.10", 41001, "8.8.8.8", 53);
	sock(b, TCP, EST, 50, "192.0.2.10", 50000, "93.184.216.34", 443);
}

static void
test_udp_option(void **state)
{
	struct snapshot_builder *b;
	struct graph_options o = { 0 };
	struct graph *g;
	const struct graph_edge *e;
	char *j;

	(void)state;
	b = snap_new();
	add_udp_population(b);
	g = build_opts(b, NULL, &o);
	assert_int_equal(g->n_edges, 1);
	assert_null(graph_find_node(g, "p:30:30"));	/* UDP only */
	assert_null(graph_find_node(g, "e:8.8.8.8"));
	graph_free(g);

	b = snap_new();
	add_udp_population(b);
	o.udp = true;
	g = build_opts(b, NULL, &o);
	assert_int_equal(g->n_edges, 3);
	e = edge(g, "udp:p:40:40>p:30:30:5353");
	assert_string_equal(graph_reason_name(e->reason), "listener");
	assert_int_equal(e->proto, UDP);
	assert_int_equal(e->states[EST], 0);
	expect_edge(g, "udp:p:40:40>e:8.8.8.8:53", 1, "service-port");
	assert_int_equal(node(g, "p:30:30")->n_listen, 1);
	assert_int_equal(node(g, "p:30:30")->listen[0].proto, UDP);
	j = graph_json(g, NULL, NULL);
	assert_non_null(strstr(j, "\"proto\":\"udp\",\"count\":1,"
	    "\"recent\":{\"window_s\":0,\"opened\":0,\"closed\":0,"
	    "\"bytes_sent\":0,\"bytes_received\":0},"
	    "\"bytes_per_s\":{\"sent\":0,\"received\":0},\"rtt_ms\":null,"
	    "\"server_port\":5353,\"reason\":\"listener\",\"states\":{},"
	    "\"conns\":[{\"client\":\"127.0.0.1:41000\",\"server\":"
	    "\"127.0.0.1:5353\",\"state\":\"\"}]"));
	assert_non_null(strstr(j, "\"options\":{\"udp\":true"));
	free(j);
	graph_free(g);
}

static void
test_p2p_only(void **state)
{
	struct snapshot_builder *b;
	struct graph_options o = { .p2p_only = true };
	struct graph *g;

	(void)state;
	b = snap_new();
	proc(b, 10, 10, "db", "");
	proc(b, 20, 20, "app", "");
	proc(b, 30, 30, "browser", "");
	proc(b, 40, 40, "idle", "");
	listener(b, 10, "0.0.0.0", 5432);
	listener(b, 40, "0.0.0.0", 9999);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 5432);
	/* far end unseen, resolved through the listener: left out */
	sock(b, TCP, EST, 30, "127.0.0.1", 50001, "127.0.0.1", 5432);
	/* external and endpoint: left out */
	sock(b, TCP, EST, 30, "192.0.2.10", 50002, "93.184.216.34", 443);
	sock(b, TCP, EST, 30, "127.0.0.1", 50003, "127.0.0.1", 6000);
	g = build_opts(b, NULL, &o);
	assert_int_equal(g->n_edges, 1);
	expect_edge(g, "tcp:p:20:20>p:10:10:5432", 1, "pair");
	/* only processes with a process<->process edge remain */
	assert_int_equal(g->n_nodes, 2);
	assert_non_null(graph_find_node(g, "p:10:10"));
	assert_non_null(graph_find_node(g, "p:20:20"));
	graph_free(g);
}

static void
test_rules_applied(void **state)
{
	static const char text[] =
	    "- {match_name: postgres, type: database, label: 'Main DB'}\n"
	    "- {match_cmd: '/celery/i', type: message_broker}\n";
	struct snapshot_builder *b = snap_new();
	struct rules *r = NULL;
	struct rules_error err;
	struct graph *g;
	const struct graph_node *n;

	(void)state;
	assert_int_equal(rules_load_buffer(text, strlen(text), "t.yaml",
	    RULES_FORMAT_AUTO, &r, &err), 0);
	proc(b, 10, 10, "postgres", "postgres -D /db");
	proc(b, 20, 20, "python3", "python3 -m Celery worker");
	proc(b, 30, 30, "bash", "bash");
	listener(b, 10, "0.0.0.0", 5432);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 5432);
	listener(b, 30, "127.0.0.1", 7777);
	g = build_opts(b, r, NULL);
	/* the graph keeps copies: the rules may go (a reload) */
	rules_free(r);
	n = node(g, "p:10:10");
	assert_string_equal(n->type, "database");
	assert_string_equal(n->label, "Main DB");
	n = node(g, "p:20:20");
	assert_string_equal(n->type, "message_broker");
	assert_string_equal(n->label, "python3");
	n = node(g, "p:30:30");
	assert_string_equal(n->type, "app");
	assert_string_equal(n->label, "bash");
	graph_free(g);
}

/* ---- determinism and deltas ---- */

static void
shuffled_population(struct snapshot_builder *b, unsigned seed)
{
	struct { int pid; int st; uint16_t lp, rp; const char *la, *ra; }
	    s[64];
	size_t n = 0;

	proc(b, 10, 10, "a", "");
	proc(b, 20, 20, "b", "");
	proc(b, 30, 30, "c", "");
	s[n++] = (typeof(s[0])){ 10, LISTEN, 80, 0, "0.0.0.0", NULL };
	s[n++] = (typeof(s[0])){ 30, LISTEN, 6379, 0, "::", NULL };
	for (int i = 0; i < 10; i++) {
		s[n++] = (typeof(s[0])){ 20, EST, (uint16_t)(50000 + i), 80,
		    "127.0.0.1", "127.0.0.1" };
		s[n++] = (typeof(s[0])){ 10, EST, 80, (uint16_t)(50000 + i),
		    "127.0.0.1", "127.0.0.1" };
	}
	for (int i = 0; i < 5; i++) {
		s[n++] = (typeof(s[0])){ 10, EST, (uint16_t)(51000 + i), 6379,
		    "::1", "::1" };
		s[n++] = (typeof(s[0])){ 30, EST, 6379, (uint16_t)(51000 + i),
		    "::1", "::1" };
	}
	s[n++] = (typeof(s[0])){ 20, EST, 52000, 443, "192.0.2.1",
	    "198.51.100.1" };
	/* Fisher-Yates with a fixed LCG: reproducible */
	for (size_t i = n - 1; seed != 0 && i > 0; i--) {
		size_t j;

		seed = seed * 1103515245u + 12345u;
		j = (seed >> 8) % (i + 1);
		typeof(s[0]) t = s[i];
		s[i] = s[j];
		s[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		sock(b, TCP, s[i].st, s[i].pid, s[i].la, s[i].lp, s[i].ra,
		    s[i].rp);
}

static void
test_deterministic(void **state)
{
	char *first = NULL;

	(void)state;
	for (unsigned seed = 0; seed < 8; seed++) {
		struct snapshot_builder *b = snap_new();
		struct graph *g;
		char *j;

		shuffled_population(b, seed * 7919u);
		g = build(b);
		assert_int_equal(g->n_edges, 3);
		j = graph_json(g, NULL, NULL);
		assert_non_null(j);
		if (first == NULL)
			first = j;
		else {
			assert_string_equal(j, first);
			free(j);
		}
		graph_free(g);
	}
	free(first);
}

static void
test_delta(void **state)
{
	struct snapshot_builder *b;
	struct graph *g1, *g2, *g3;
	struct graph_delta *d;

	(void)state;
	b = snap_new();
	proc(b, 10, 10, "srv", "srv --v1");
	proc(b, 20, 20, "cli", "cli");
	proc(b, 30, 30, "gone", "gone");
	listener(b, 10, "0.0.0.0", 80);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 80);
	conn(b, 30, "127.0.0.1", 50001, 10, "127.0.0.1", 80);
	g1 = build(b);

	b = snap_new();
	proc(b, 10, 10, "srv", "srv --v2");	/* changed: update */
	proc(b, 20, 20, "cli", "cli");		/* same */
	proc(b, 40, 40, "new", "new");		/* added */
	listener(b, 10, "0.0.0.0", 80);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 80);
	conn(b, 20, "127.0.0.1", 50002, 10, "127.0.0.1", 80);	/* count 2 */
	conn(b, 40, "127.0.0.1", 50003, 10, "127.0.0.1", 80);
	g2 = build(b);

	assert_int_equal(graph_delta(g1, g2, &d), 0);
	assert_false(graph_delta_is_empty(d));
	assert_int_equal(d->n_nodes_add, 1);
	assert_string_equal(d->nodes_add[0]->id, "p:40:40");
	assert_int_equal(d->n_nodes_update, 1);
	assert_string_equal(d->nodes_update[0]->id, "p:10:10");
	assert_int_equal(d->n_nodes_remove, 1);
	assert_string_equal(d->nodes_remove[0], "p:30:30");
	assert_int_equal(d->n_edges_add, 1);
	assert_string_equal(d->edges_add[0]->id, "tcp:p:40:40>p:10:10:80");
	assert_int_equal(d->n_edges_update, 1);
	assert_string_equal(d->edges_update[0]->id, "tcp:p:20:20>p:10:10:80");
	assert_int_equal(d->edges_update[0]->count, 2);
	assert_int_equal(d->n_edges_remove, 1);
	assert_string_equal(d->edges_remove[0], "tcp:p:30:30>p:10:10:80");
	graph_delta_free(d);

	/* nothing changed */
	assert_int_equal(graph_delta(g2, g2, &d), 0);
	assert_true(graph_delta_is_empty(d));
	graph_delta_free(d);

	/* from nothing: all added */
	assert_int_equal(graph_delta(NULL, g2, &d), 0);
	assert_int_equal(d->n_nodes_add, g2->n_nodes);
	assert_int_equal(d->n_edges_add, g2->n_edges);
	graph_delta_free(d);

	/* only a connection's state changed: the edge is updated */
	b = snap_new();
	proc(b, 10, 10, "srv", "srv --v2");
	proc(b, 20, 20, "cli", "cli");
	proc(b, 40, 40, "new", "new");
	listener(b, 10, "0.0.0.0", 80);
	conn(b, 20, "127.0.0.1", 50000, 10, "127.0.0.1", 80);
	sock(b, TCP, SNAP_STATE_FIN_WAIT1, 20, "127.0.0.1", 50002, "127.0.0.1",
	    80);
	sock(b, TCP, EST, 10, "127.0.0.1", 80, "127.0.0.1", 50002);
	conn(b, 40, "127.0.0.1", 50003, 10, "127.0.0.1", 80);
	g3 = build(b);
	assert_int_equal(graph_delta(g2, g3, &d), 0);
	assert_int_equal(d->n_edges_update, 1);
	assert_int_equal(d->n_nodes_update + d->n_nodes_add +
	    d->n_nodes_remove + d->n_edges_add + d->n_edges_remove, 0);
	graph_delta_free(d);

	graph_free(g1);
	graph_free(g2);
	graph_free(g3);
}

/* ---- helpers ---- */

static void
test_parse_ports(void **state)
{
	static const struct {
		const char *in;
		int rc;
		uint16_t first, last;
		const char *err;
	} cases[] = {
		{ "80,443,5432", 3, 80, 5432, "" },
		{ " 3000 , 5000 ", 2, 3000, 5000, "" },
		{ "", 0, 0, 0, "" },
		{ "65535", 1, 65535, 65535, "" },
		{ "0", -EINVAL, 0, 0, "'0' is not a port (1..65535)" },
		{ "80,70000", -EINVAL, 0, 0, "'70000' is not a port (1..65535)" },
		{ "80,http", -EINVAL, 0, 0, "'http' is not a port (1..65535)" },
		{ "80,,81", -EINVAL, 0, 0, "'' is not a port (1..65535)" },
		{ "1,2,3,4,5", -E2BIG, 0, 0, "more than 4 ports" },
		{ "-1", -EINVAL, 0, 0, "'-1' is not a port (1..65535)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t ports[4];
		char err[128];
		int rc = graph_parse_ports(cases[i].in, ports, 4, err,
		    sizeof(err));

		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d want %d (%s)", cases[i].in, rc,
			    cases[i].rc, err);
		assert_string_equal(err, cases[i].err);
		if (rc > 0) {
			assert_int_equal(ports[0], cases[i].first);
			assert_int_equal(ports[rc - 1], cases[i].last);
		}
	}
}

static void
test_service_ports(void **state)
{
	uint16_t extra[] = { 3000 };
	struct graph_options o = { .svc_ports = extra, .n_svc_ports = 1 };
	static const uint16_t builtin[] = { 22, 80, 443, 1023, 3306, 5432,
	    6379, 27017, 9092, 5672, 8080, 8443 };

	(void)state;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		assert_true(graph_is_service_port(NULL, builtin[i]));
	assert_false(graph_is_service_port(NULL, 0));
	assert_false(graph_is_service_port(NULL, 3000));
	assert_true(graph_is_service_port(&o, 3000));
	assert_false(graph_is_service_port(&o, 45000));
	assert_string_equal(graph_node_kind_name(GRAPH_NODE_ENDPOINT),
	    "endpoint");
	assert_null(graph_node_kind_name(GRAPH_NODE_KIND_MAX));
	assert_string_equal(graph_reason_name(GRAPH_REASON_SERVICE_PORT),
	    "service-port");
	assert_null(graph_reason_name(GRAPH_REASON_MAX));
}

static void
test_empty_snapshot(void **state)
{
	struct snapshot_builder *b = snap_new();
	struct graph *g = build(b);
	char *j;

	(void)state;
	assert_int_equal(g->n_nodes, 0);
	assert_int_equal(g->n_edges, 0);
	j = graph_json(g, NULL, NULL);
	assert_non_null(strstr(j, "{\"nodes\":[],\"edges\":[],\"meta\":{"));
	free(j);
	graph_free(g);
	graph_free(NULL);
	graph_delta_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_with_listener),
		cmocka_unit_test(test_ipv6_pair),
		cmocka_unit_test(test_v4_mapped_pair),
		cmocka_unit_test(test_direction_table),
		cmocka_unit_test(test_local_addrs),
		cmocka_unit_test(test_peer_seen_is_local),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_unknown_owner),
		cmocka_unit_test(test_self_connection),
		cmocka_unit_test(test_many_connections),
		cmocka_unit_test(test_shared_socket),
		cmocka_unit_test(test_udp_option),
		cmocka_unit_test(test_p2p_only),
		cmocka_unit_test(test_rules_applied),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_parse_ports),
		cmocka_unit_test(test_service_ports),
		cmocka_unit_test(test_empty_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
