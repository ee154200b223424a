/*
 * group.c: group ids per mode, folding a process graph (members, labels,
 * listeners, edges added up, self edges), the query parameter, and a
 * ppid loop in a bad snapshot.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graph.h"
#include "graph_json.h"
#include "group.h"
#include "rules.h"
#include "snapfix.h"

static void
proc(struct snapshot_builder *b, int32_t pid, int32_t ppid, const char *name,
    const char *exe, const char *user)
{
	struct snap_process p;
	char cmd[64];

	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.ppid = ppid;
	p.start_time = 1000u + (uint64_t)pid;
	p.name = name;
	p.exe = exe;
	p.user = user;
	snprintf(cmd, sizeof(cmd), "%s --id %d", name, (int)pid);
	p.cmdline = cmd;
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
}

/*
 * A postmaster (100) with n backends (101..) each holding one accepted
 * connection from a client process (200, another program) on 5432; an
 * nginx master (300) with two workers sharing its listener and no
 * connections; a second, unrelated postgres (400, its own tree).
 */
static struct graph *
postgres_graph(int n)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s;
	struct graph *g;
	char ip[32];

	assert_non_null(b);
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux", 1, true), 0);
	proc(b, 1, 0, "init", "/sbin/init", "root");
	proc(b, 100, 1, "postgres", "/usr/lib/postgresql/15/bin/postgres",
	    "postgres");
	proc(b, 200, 1, "pgbench", "/usr/bin/pgbench", "alice");
	proc(b, 300, 1, "nginx", "/usr/sbin/nginx", "root");
	proc(b, 301, 300, "nginx", "/usr/sbin/nginx", "www-data");
	proc(b, 302, 300, "nginx", "/usr/sbin/nginx", "www-data");
	proc(b, 400, 1, "postgres", "/usr/lib/postgresql/15/bin/postgres",
	    "postgres");
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_LISTEN, 100, "0.0.0.0",
	    5432, NULL, 0);
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_LISTEN, 400, "0.0.0.0",
	    5433, NULL, 0);
	for (int i = 0; i < n; i++) {
		proc(b, 101 + i, 100, "postgres",
		    "/usr/lib/postgresql/15/bin/postgres", "postgres");
		snprintf(ip, sizeof(ip), "127.0.0.1");
		snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_ESTABLISHED, 101 + i,
		    ip, 5432, ip, (uint16_t)(40000 + i));
		snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_ESTABLISHED, 200,
		    ip, (uint16_t)(40000 + i), ip, 5432);
	}
	for (int w = 300; w <= 302; w++)
		snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_LISTEN, w, "0.0.0.0",
		    80, NULL, 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(graph_build(s, NULL, NULL, &g), 0);
	snapshot_unref(s);
	return g;
}

static size_t
count_kind(const struct graph *g, int kind)
{
	size_t n = 0;

	for (size_t i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].kind == kind)
			n++;
	return n;
}

static void
test_assign(void **state)
{
	struct graph *g = postgres_graph(3);
	const struct graph_node *n;

	(void)state;
	assert_int_equal(g->group_mode, GRAPH_GROUP_PROCESS);
	/* a backend's program group is its postmaster */
	n = graph_find_node(g, "p:102:1102");
	assert_non_null(n);
	assert_string_equal(n->group[GRAPH_GROUP_PROCESS], "p:102:1102");
	assert_string_equal(n->group[GRAPH_GROUP_PROGRAM], "p:100:1100");
	assert_string_equal(n->group[GRAPH_GROUP_USER], "u:postgres");
	/* no service / container: the program group stands in */
	assert_string_equal(n->group[GRAPH_GROUP_SERVICE], "p:100:1100");
	assert_string_equal(n->group[GRAPH_GROUP_CONTAINER], "p:100:1100");
	/* the other postgres is its own tree */
	n = graph_find_node(g, "p:400:1400");
	assert_string_equal(n->group[GRAPH_GROUP_PROGRAM], "p:400:1400");
	/* nginx workers join their master (users differ: program ignores
	 * that) */
	n = graph_find_node(g, "p:302:1302");
	assert_string_equal(n->group[GRAPH_GROUP_PROGRAM], "p:300:1300");
	assert_string_equal(n->group[GRAPH_GROUP_USER], "u:www-data");
	graph_free(g);
}

static void
test_fold_program(void **state)
{
	struct graph *g = postgres_graph(5), *f;
	const struct graph_node *pg, *ng;
	const struct graph_edge *e;

	(void)state;
	assert_int_equal(graph_group(g, GRAPH_GROUP_PROGRAM, &f), 0);
	assert_int_equal(f->group_mode, GRAPH_GROUP_PROGRAM);
	/* postgres tree, pgbench, nginx tree, second postgres */
	assert_int_equal(count_kind(f, GRAPH_NODE_PROCESS), 4);
	pg = graph_find_node(f, "p:100:1100");
	assert_non_null(pg);
	assert_int_equal(pg->n_members, 6);
	assert_int_equal(pg->members[0].pid, 100);
	assert_int_equal(pg->members[5].pid, 105);
	assert_int_equal(pg->members[1].start_time, 1101);
	assert_string_equal(pg->members[1].cmdline, "postgres --id 101");
	assert_string_equal(pg->label, "postgres \xc3\x97" "6");
	assert_int_equal(pg->pid, 100);
	assert_int_equal(pg->n_listen, 1);
	ng = graph_find_node(f, "p:300:1300");
	assert_int_equal(ng->n_members, 3);
	assert_int_equal(ng->n_listen, 1);	/* three holders, one port */
	/* lone processes keep their own id and label */
	assert_string_equal(graph_find_node(f, "p:200:1200")->label,
	    "pgbench");
	assert_int_equal(graph_find_node(f, "p:200:1200")->n_members, 1);
	/* one edge pgbench -> postgres carrying all five */
	assert_int_equal(f->n_edges, 1);
	e = &f->edges[0];
	assert_string_equal(e->id, "tcp:p:200:1200>p:100:1100:5432");
	assert_string_equal(f->nodes[e->from].id, "p:200:1200");
	assert_string_equal(f->nodes[e->to].id, "p:100:1100");
	assert_int_equal(e->count, 5);
	assert_int_equal(e->states[SNAP_STATE_ESTABLISHED], 5);
	assert_int_equal(e->n_conns, 5);
	assert_int_equal(e->reason, GRAPH_REASON_PAIR);
	/* a folded graph outlives its source */
	graph_free(g);
	assert_string_equal(f->nodes[e->to].members[2].id, "p:102:1102");
	graph_free(f);
}

/* The recent window's figures, rates, RTT and exited flags survive the
 * fold: edges add up, RTT is the connections' mean, a group is exited
 * only when every member is. */
static void
test_fold_recent(void **state)
{
	struct graph *g = postgres_graph(3), *f;
	struct graph_edge *es = (struct graph_edge *)g->edges;
	struct graph_node *ns = (struct graph_node *)g->nodes;
	const struct graph_edge *e;

	(void)state;
	assert_int_equal(g->n_edges, 3);
	for (size_t i = 0; i < g->n_edges; i++) {
		es[i].recent.opened = 10 + (uint32_t)i;
		es[i].recent.closed = 9;
		es[i].recent.bytes_sent = 1000;
		es[i].recent.bytes_received = 20000;
		es[i].sent_per_s = 100;
		es[i].received_per_s = 7;
		es[i].rtt_us = i == 2 ? 0 : 100 * (uint32_t)(i + 1);
	}
	/* two of the three backends and the client have exited */
	for (size_t i = 0; i < g->n_nodes; i++)
		if (ns[i].pid == 101 || ns[i].pid == 102 || ns[i].pid == 200)
			ns[i].exited = true;
	assert_int_equal(graph_group(g, GRAPH_GROUP_PROGRAM, &f), 0);
	assert_int_equal(f->n_edges, 1);
	e = &f->edges[0];
	assert_int_equal(e->count, 3);
	assert_int_equal(e->recent.opened, 33);
	assert_int_equal(e->recent.closed, 27);
	assert_int_equal(e->recent.bytes_sent, 3000);
	assert_int_equal(e->recent.bytes_received, 60000);
	assert_int_equal(e->sent_per_s, 300);
	assert_int_equal(e->received_per_s, 21);
	assert_int_equal(e->rtt_us, 150);	/* (100 + 200) / 2 */
	assert_true(graph_find_node(f, "p:200:1200")->exited);
	assert_false(graph_find_node(f, "p:100:1100")->exited);
	graph_free(g);
	graph_free(f);
}

static void
test_fold_process_and_user(void **state)
{
	struct graph *g = postgres_graph(4), *f;
	const struct graph_node *u;

	(void)state;
	/* process mode: one node per process */
	assert_int_equal(graph_group(g, GRAPH_GROUP_PROCESS, &f), 0);
	assert_int_equal(count_kind(f, GRAPH_NODE_PROCESS), 1 + 4 + 1 + 3 + 1);
	assert_int_equal(f->n_edges, 4);
	graph_free(f);

	assert_int_equal(graph_group(g, GRAPH_GROUP_USER, &f), 0);
	/* postgres (both clusters), alice, root, www-data */
	assert_int_equal(count_kind(f, GRAPH_NODE_PROCESS), 4);
	u = graph_find_node(f, "u:postgres");
	assert_non_null(u);
	assert_int_equal(u->n_members, 6);
	assert_string_equal(u->label, "postgres \xc3\x97" "6");
	assert_int_equal(u->n_listen, 2);	/* 5432 and 5433 */
	assert_int_equal(f->n_edges, 1);
	assert_int_equal(f->edges[0].count, 4);
	/* folding a folded graph is refused */
	struct graph *ff = NULL;

	assert_int_equal(graph_group(f, GRAPH_GROUP_PROGRAM, &ff), -EINVAL);
	assert_int_equal(graph_group(g, GRAPH_GROUP_MAX, &ff), -EINVAL);
	graph_free(f);
	graph_free(g);
}

/* Connections inside one group stay, as an edge from the group to
 * itself, so counts still add up. */
static void
test_self_edge(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s;
	struct graph *g, *f;

	(void)state;
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux", 1, true), 0);
	proc(b, 10, 1, "app", "/bin/app", "u");
	proc(b, 11, 10, "app", "/bin/app", "u");
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_LISTEN, 10, "127.0.0.1",
	    7000, NULL, 0);
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_ESTABLISHED, 10,
	    "127.0.0.1", 7000, "127.0.0.1", 50000);
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_ESTABLISHED, 11,
	    "127.0.0.1", 50000, "127.0.0.1", 7000);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(graph_build(s, NULL, NULL, &g), 0);
	snapshot_unref(s);
	assert_int_equal(graph_group(g, GRAPH_GROUP_PROGRAM, &f), 0);
	assert_int_equal(f->n_nodes, 1);
	assert_int_equal(f->n_edges, 1);
	assert_int_equal(f->edges[0].from, f->edges[0].to);
	assert_int_equal(f->edges[0].count, 1);
	graph_free(f);
	graph_free(g);
}

/* A ppid loop (a bad or hostile snapshot) ends; every node gets a group. */
static void
test_ppid_loop(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s;
	struct graph *g, *f;

	(void)state;
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux", 1, true), 0);
	proc(b, 20, 22, "x", "/bin/x", "u");
	proc(b, 21, 20, "x", "/bin/x", "u");
	proc(b, 22, 21, "x", "/bin/x", "u");
	proc(b, 23, 23, "x", "/bin/x", "u");
	for (int p = 20; p <= 23; p++)
		snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_LISTEN, p,
		    "127.0.0.1", (uint16_t)(6000 + p), NULL, 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(graph_build(s, NULL, NULL, &g), 0);
	snapshot_unref(s);
	for (size_t i = 0; i < g->n_nodes; i++)
		assert_non_null(g->nodes[i].group[GRAPH_GROUP_PROGRAM]);
	assert_int_equal(graph_group(g, GRAPH_GROUP_PROGRAM, &f), 0);
	assert_true(f->n_nodes >= 1 && f->n_nodes <= 4);
	graph_free(f);
	graph_free(g);
}

static void
test_json(void **state)
{
	struct graph *g = postgres_graph(2), *f;
	char *text;

	(void)state;
	text = graph_json(g, NULL, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"groups\":{\"program\":\"p:100:1100\","
	    "\"service\":\"p:100:1100\",\"container\":\"p:100:1100\","
	    "\"user\":\"u:postgres\",\"host\":\"h:h\"}"));
	assert_non_null(strstr(text, "\"group\":\"process\""));
	free(text);
	assert_int_equal(graph_group(g, GRAPH_GROUP_PROGRAM, &f), 0);
	text = graph_json(f, NULL, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"members\":[{\"id\":\"p:100:1100\","
	    "\"pid\":100,\"start_ms\":1100,\"name\":\"postgres\","
	    "\"cmdline\":\"postgres --id 100\"}"));
	assert_null(strstr(text, "\"groups\""));
	assert_non_null(strstr(text, "\"group\":\"program\""));
	free(text);
	graph_free(f);
	/* host: every process of the host in one node, named by the host */
	assert_int_equal(graph_group(g, GRAPH_GROUP_HOST, &f), 0);
	text = graph_json(f, NULL, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"id\":\"h:h\""));
	assert_non_null(strstr(text, "\"label\":\"h\""));
	assert_non_null(strstr(text, "\"group\":\"host\""));
	free(text);
	graph_free(f);
	graph_free(g);
}

/* A rule's group: the processes it matches are one node in program mode,
 * even from different trees; other modes keep their own keys. */
static void
test_rule_group(void **state)
{
	static const char yaml[] = "- {match_name: postgres, type: database, "
	    "group: orders database}\n";
	struct snapshot_builder *b = snapshot_builder_new();
	struct rules_error err;
	struct rules *r = NULL;
	struct snapshot *s;
	struct graph *g, *f;
	const struct graph_node *n;

	(void)state;
	assert_int_equal(rules_load_buffer(yaml, sizeof(yaml) - 1, "r.yaml",
	    RULES_FORMAT_YAML, &r, &err), 0);
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux", 1, true), 0);
	proc(b, 100, 1, "postgres", "/usr/bin/postgres", "postgres");
	proc(b, 400, 1, "postgres", "/usr/bin/postgres", "postgres");
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_LISTEN, 100, "0.0.0.0",
	    5432, NULL, 0);
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_LISTEN, 400, "0.0.0.0",
	    5433, NULL, 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(graph_build(s, r, NULL, &g), 0);
	snapshot_unref(s);
	rules_free(r);		/* the graph keeps its own copies */
	n = graph_find_node(g, "p:400:1400");
	assert_string_equal(n->group[GRAPH_GROUP_PROGRAM], "n:orders database");
	assert_string_equal(n->group[GRAPH_GROUP_USER], "u:postgres");
	assert_int_equal(graph_group(g, GRAPH_GROUP_PROGRAM, &f), 0);
	assert_int_equal(f->n_nodes, 1);
	assert_string_equal(f->nodes[0].id, "n:orders database");
	assert_string_equal(f->nodes[0].label, "orders database \xc3\x97" "2");
	assert_int_equal(f->nodes[0].n_listen, 2);
	graph_free(f);
	graph_free(g);
}

static void
test_query(void **state)
{
	unsigned m;

	(void)state;
	assert_int_equal(graph_group_from_query(NULL, &m), 0);
	assert_int_equal(m, GRAPH_GROUP_PROGRAM);
	assert_int_equal(graph_group_from_query("", &m), 0);
	assert_int_equal(m, GRAPH_GROUP_PROGRAM);
	assert_int_equal(graph_group_from_query("group=process", &m), 0);
	assert_int_equal(m, GRAPH_GROUP_PROCESS);
	assert_int_equal(graph_group_from_query("a=1&group=user&b", &m), 0);
	assert_int_equal(m, GRAPH_GROUP_USER);
	assert_int_equal(graph_group_from_query("groups=x", &m), 0);
	assert_int_equal(graph_group_from_query("group=", &m), -EINVAL);
	assert_int_equal(graph_group_from_query("group", &m), -EINVAL);
	assert_int_equal(graph_group_from_query("group=Program", &m), -EINVAL);
	assert_int_equal(graph_group_from_query("group=process&group=user",
	    &m), -EINVAL);
	assert_int_equal(graph_group_from_query("group=aaaaaaaaaaaaaaaaaaaaa",
	    &m), -EINVAL);
	assert_int_equal(graph_group_from_query("group=%70rocess", &m),
	    -EINVAL);
	assert_string_equal(graph_group_name(GRAPH_GROUP_CONTAINER),
	    "container");
	assert_null(graph_group_name(GRAPH_GROUP_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign),
		cmocka_unit_test(test_fold_program),
		cmocka_unit_test(test_fold_recent),
		cmocka_unit_test(test_fold_process_and_user),
		cmocka_unit_test(test_self_edge),
		cmocka_unit_test(test_ppid_loop),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_rule_group),
		cmocka_unit_test(test_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
