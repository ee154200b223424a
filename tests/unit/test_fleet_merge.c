/*
 * fleet_merge.c: hosts' messages as webd --publish sends them (full, then
 * deltas; out of sequence; a host speaking for another subject; malformed
 * and mistyped input), node ids by host, cross-host pairing by each host's
 * own addresses and listeners (and a claim on another's address), the
 * direction a host guessed turned round, stale and dropped hosts.
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
#include <jansson.h>

#include "fleet_merge.h"
#include "graph.h"

#define STALE_S		15
#define DROP_S		300
#define T0		1000000

/* procnet.v1.<name, '.' as '_'>.graph */
static const char *
subject(const char *name)
{
	static char buf[160];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "procnet.v1.%s.graph", name);
	for (size_t i = strlen("procnet.v1."); i < n - strlen(".graph"); i++)
		if (buf[i] == '.')
			buf[i] = '_';
	return buf;
}

/* {"name","boot_id","os","addrs"}: publish_nats.c host_json() */
static json_t *
ident(const char *name, const char *addr)
{
	json_t *addrs = json_pack("[s]", "127.0.0.1");

	if (addr != NULL)
		json_array_append_new(addrs, json_string(addr));
	return json_pack("{s:s, s:s, s:s, s:o}", "name", name, "boot_id",
	    "0f1e2d3c-0000-4000-8000-00000000abcd", "os", "linux", "addrs",
	    addrs);
}

static json_t *
meta(const char *name, int procs, int socks)
{
	return json_pack("{s:s, s:s, s:I, s:f, s:b, s:{s:i, s:i, s:i, s:i}}",
	    "host", name, "os", "linux", "time_ms", (json_int_t)1700000000000,
	    "sample_ms", 1.5, "privileged", 1, "counts", "processes", procs,
	    "nodes", 0, "edges", 0, "sockets", socks);
}

/* The message webd --publish sends: wrap() puts "host" first, then the
 * stream's own message. Takes nodes and edges. */
static char *
full_msg_ident(json_t *id, int seq, json_t *nodes, json_t *edges)
{
	json_t *m = json_pack("{s:o, s:s, s:i, s:{s:o, s:o, s:o}}", "host",
	    id, "type", "full", "seq", seq, "graph", "nodes", nodes, "edges",
	    edges, "meta", meta(json_string_value(json_object_get(id, "name")),
	    10, 40));
	char *s;

	assert_non_null(m);
	s = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(m);
	assert_non_null(s);
	return s;
}

static char *
full_msg(const char *name, const char *addr, int seq, json_t *nodes,
    json_t *edges)
{
	return full_msg_ident(ident(name, addr), seq, nodes, edges);
}

/* {"add":[..],"update":[..],"remove":[..]}; NULL parts are empty. */
static json_t *
part(json_t *add, json_t *update, json_t *remove)
{
	return json_pack("{s:o, s:o, s:o}", "add", add ? add : json_array(),
	    "update", update ? update : json_array(), "remove",
	    remove ? remove : json_array());
}

static char *
delta_msg(const char *name, const char *addr, int seq, json_t *nodes,
    json_t *edges)
{
	json_t *m = json_pack("{s:o, s:s, s:i, s:o, s:o, s:o}", "host",
	    ident(name, addr), "type", "delta", "seq", seq, "nodes", nodes,
	    "edges", edges, "meta", meta(name, 11, 41));
	char *s;

	assert_non_null(m);
	s = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(m);
	assert_non_null(s);
	return s;
}

static json_t *
proc(int pid, const char *name, const char *listen_addr, int listen_port)
{
	char id[64];
	json_t *n;

	snprintf(id, sizeof(id), "p:%d:17000%d", pid, pid);
	n = json_pack("{s:s, s:s, s:i, s:i, s:I, s:s, s:s, s:s, s:s, s:s, "
	    "s:[s], s:[]}", "id", id, "kind", "process", "pid", pid, "ppid", 1,
	    "start_ms", (json_int_t)(17000 * 1000 + pid), "name", name,
	    "label", name, "type", "app", "user", "u", "cmdline", name,
	    "argv", name, "listen");
	if (listen_addr != NULL)
		json_array_append_new(json_object_get(n, "listen"), json_pack(
		    "{s:s, s:s, s:i}", "proto", "tcp", "addr", listen_addr,
		    "port", listen_port));
	return n;
}

static json_t *
ext(const char *addr)
{
	char id[80];

	snprintf(id, sizeof(id), "e:%s", addr);
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "kind",
	    "external", "addr", addr, "label", addr, "type", "external");
}

/* An edge of n connections from client:cport.. to server:sport, as
 * graph_json.c writes it. */
static json_t *
edge(const char *from, const char *to, int port, const char *reason,
    const char *caddr, int cport, const char *saddr, int sport, int n)
{
	char id[256], c[64], s[64];
	json_t *conns = json_array();

	snprintf(id, sizeof(id), "tcp:%s>%s:%d", from, to, port);
	for (int i = 0; i < n; i++) {
		snprintf(c, sizeof(c), "%s:%d", caddr, cport + i);
		snprintf(s, sizeof(s), "%s:%d", saddr, sport);
		json_array_append_new(conns, json_pack("{s:s, s:s, s:s}",
		    "client", c, "server", s, "state", "ESTABLISHED"));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:{s:i}, s:o}",
	    "id", id, "from", from, "to", to, "proto", "tcp", "count", n,
	    "server_port", port, "reason", reason, "states", "ESTABLISHED", n,
	    "conns", conns);
}

static int
apply(struct fleet_table *t, const char *name, char *msg, int64_t now)
{
	int rc = fleet_apply(t, subject(name), msg, strlen(msg), now);

	free(msg);
	return rc;
}

/* The merged graph as of now, parsed. */
static json_t *
merged(struct fleet_table *t, int64_t now, struct fleet_merged *m)
{
	json_t *g;

	assert_int_equal(fleet_merge(t, now, STALE_S, DROP_S, m), 0);
	g = json_loadb(m->graph, m->glen, 0, NULL);
	assert_non_null(g);
	assert_int_equal(json_array_size(json_object_get(g, "nodes")),
	    m->nodes);
	assert_int_equal(json_array_size(json_object_get(g, "edges")),
	    m->edges);
	return g;
}

static json_t *
find(json_t *g, const char *what, const char *id)
{
	json_t *x;
	size_t i;

	json_array_foreach(json_object_get(g, what), i, x)
		if (strcmp(json_string_value(json_object_get(x, "id")), id) == 0)
			return x;
	return NULL;
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The delta's part as parsed JSON (m->delta is the inside of an object). */
static json_t *
delta_of(const struct fleet_merged *m)
{
	char *s = malloc(m->dlen + 3);
	json_t *d;

	assert_non_null(s);
	s[0] = '{';
	memcpy(s + 1, m->delta, m->dlen);
	s[m->dlen + 1] = '}';
	s[m->dlen + 2] = '\0';
	d = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(d);
	return d;
}

/* Host "web1": a client (p:10) talking to a server (p:20) on :5432. */
static char *
web1_full(int seq)
{
	return full_msg("web1", "10.0.0.1", seq,
	    json_pack("[o, o]", proc(10, "app", NULL, 0),
	    proc(20, "postgres", "0.0.0.0", 5432)),
	    json_pack("[o]", edge("p:10:1700010", "p:20:1700020", 5432, "pair",
	    "127.0.0.1", 40000, "127.0.0.1", 5432, 2)));
}

static void
test_full_then_deltas(void **state)
{
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	json_t *g, *n, *e, *d;

	(void)state;
	assert_non_null(t);
	assert_int_equal(apply(t, "web1", web1_full(7), T0), 0);
	g = merged(t, T0, &m);
	assert_int_equal(m.hosts, 1);
	assert_int_equal(m.nodes, 2);
	assert_int_equal(m.edges, 1);
	/* ids by host, every node says its host */
	n = find(g, "nodes", "web1/p:10:1700010");
	assert_non_null(n);
	assert_string_equal(str(n, "host"), "web1");
	assert_null(json_object_get(n, "stale"));
	e = find(g, "edges", "tcp:web1/p:10:1700010>web1/p:20:1700020:5432");
	assert_non_null(e);
	assert_string_equal(str(e, "from"), "web1/p:10:1700010");
	assert_string_equal(str(e, "to"), "web1/p:20:1700020");
	assert_string_equal(str(e, "reason"), "pair");
	assert_int_equal(json_integer_value(json_object_get(e, "count")), 2);
	n = json_array_get(json_object_get(json_object_get(g, "meta"), "hosts"),
	    0);
	assert_string_equal(str(n, "name"), "web1");
	assert_int_equal(json_integer_value(json_object_get(n, "seq")), 7);
	assert_false(json_is_true(json_object_get(n, "stale")));
	json_decref(g);
	fleet_merged_clear(&m);

	/* seq 8 adds a process and an edge; seq 9 updates the edge and
	 * removes the first one */
	assert_int_equal(apply(t, "web1", delta_msg("web1", "10.0.0.1", 8,
	    part(json_pack("[o]", proc(30, "worker", NULL, 0)), NULL, NULL),
	    part(json_pack("[o]", edge("p:30:1700030", "p:20:1700020", 5432,
	    "pair", "127.0.0.1", 41000, "127.0.0.1", 5432, 1)), NULL, NULL)),
	    T0 + 1000), 0);
	g = merged(t, T0 + 1000, &m);
	assert_int_equal(m.nodes, 3);
	assert_int_equal(m.edges, 2);
	assert_non_null(find(g, "nodes", "web1/p:30:1700030"));
	d = delta_of(&m);
	assert_int_equal(json_array_size(json_object_get(json_object_get(d,
	    "nodes"), "add")), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(d,
	    "edges"), "add")), 1);
	assert_int_equal(json_array_size(json_object_get(json_object_get(d,
	    "nodes"), "remove")), 0);
	json_decref(d);
	json_decref(g);
	fleet_merged_clear(&m);

	assert_int_equal(apply(t, "web1", delta_msg("web1", "10.0.0.1", 9,
	    part(NULL, NULL, json_pack("[s]", "p:10:1700010")),
	    part(NULL, json_pack("[o]", edge("p:30:1700030", "p:20:1700020",
	    5432, "pair", "127.0.0.1", 41000, "127.0.0.1", 5432, 3)),
	    json_pack("[s]", "tcp:p:10:1700010>p:20:1700020:5432"))),
	    T0 + 2000), 0);
	g = merged(t, T0 + 2000, &m);
	assert_int_equal(m.nodes, 2);
	assert_int_equal(m.edges, 1);
	assert_null(find(g, "nodes", "web1/p:10:1700010"));
	e = find(g, "edges", "tcp:web1/p:30:1700030>web1/p:20:1700020:5432");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "count")), 3);
	d = delta_of(&m);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(d, "nodes"), "remove"), 0)), "web1/p:10:1700010");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(d, "edges"), "remove"), 0)),
	    "tcp:web1/p:10:1700010>web1/p:20:1700020:5432");
	assert_int_equal(json_array_size(json_object_get(json_object_get(d,
	    "edges"), "update")), 1);
	json_decref(d);
	json_decref(g);
	fleet_merged_clear(&m);

	/* nothing changed: an empty delta */
	g = merged(t, T0 + 2500, &m);
	d = delta_of(&m);
	assert_int_equal(json_array_size(json_object_get(json_object_get(d,
	    "nodes"), "add")) + json_array_size(json_object_get(json_object_get(
	    d, "nodes"), "update")) + json_array_size(json_object_get(
	    json_object_get(d, "edges"), "update")), 0);
	json_decref(d);
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);
}

static void
test_delta_gap_resync(void **state)
{
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	json_t *g;

	(void)state;
	/* a delta before any full graph: nothing to apply it to */
	assert_int_equal(apply(t, "web1", delta_msg("web1", NULL, 1,
	    part(NULL, NULL, NULL), part(NULL, NULL, NULL)), T0), -EAGAIN);
	assert_int_equal(apply(t, "web1", web1_full(7), T0), 0);
	/* seq 9 after 7: one was lost */
	assert_int_equal(apply(t, "web1", delta_msg("web1", "10.0.0.1", 9,
	    part(json_pack("[o]", proc(40, "lost", NULL, 0)), NULL, NULL),
	    part(NULL, NULL, NULL)), T0 + 1000), -EAGAIN);
	/* the next one in order after the gap is refused too: the host is
	 * out of step until its next full graph */
	assert_int_equal(apply(t, "web1", delta_msg("web1", "10.0.0.1", 10,
	    part(json_pack("[o]", proc(50, "after", NULL, 0)), NULL, NULL),
	    part(NULL, NULL, NULL)), T0 + 2000), -EAGAIN);
	g = merged(t, T0 + 2000, &m);
	assert_null(find(g, "nodes", "web1/p:40:1700040"));
	assert_null(find(g, "nodes", "web1/p:50:1700050"));
	/* while out of step the host keeps its last whole graph on the map */
	assert_int_equal(m.hosts, 1);
	assert_non_null(find(g, "nodes", "web1/p:10:1700010"));
	json_decref(g);
	fleet_merged_clear(&m);
	/* a replayed delta with the full's own seq is out of sequence too */
	assert_int_equal(apply(t, "web1", web1_full(20), T0 + 3000), 0);
	assert_int_equal(apply(t, "web1", delta_msg("web1", "10.0.0.1", 20,
	    part(NULL, NULL, NULL), part(NULL, NULL, NULL)), T0 + 3000),
	    -EAGAIN);
	assert_int_equal(apply(t, "web1", web1_full(30), T0 + 4000), 0);
	assert_int_equal(apply(t, "web1", delta_msg("web1", "10.0.0.1", 31,
	    part(json_pack("[o]", proc(60, "back", NULL, 0)), NULL, NULL),
	    part(NULL, NULL, NULL)), T0 + 5000), 0);
	g = merged(t, T0 + 5000, &m);
	assert_int_equal(m.nodes, 3);
	assert_non_null(find(g, "nodes", "web1/p:60:1700060"));
	assert_non_null(find(g, "nodes", "web1/p:10:1700010"));
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);
}

static void
test_subject_mismatch(void **state)
{
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	char *msg;
	json_t *g;

	(void)state;
	/* web1's message on db1's subject: refused, nothing of it kept */
	msg = web1_full(1);
	assert_int_equal(fleet_apply(t, subject("db1"), msg, strlen(msg), T0),
	    -EPERM);
	assert_int_equal(fleet_apply(t, "procnet.v1.web1.graph.x", msg,
	    strlen(msg), T0), -EPERM);
	assert_int_equal(fleet_apply(t, "procnet.v2.web1.graph", msg,
	    strlen(msg), T0), -EPERM);
	assert_int_equal(fleet_apply(t, "procnet.v1.web.graph", msg,
	    strlen(msg), T0), -EPERM);
	assert_int_equal(fleet_apply(t, "", msg, strlen(msg), T0), -EPERM);
	free(msg);
	g = merged(t, T0, &m);
	assert_int_equal(m.hosts, 0);
	assert_int_equal(m.nodes, 0);
	json_decref(g);
	fleet_merged_clear(&m);
	/* a '.' in the name is a '_' in the subject, not the other way */
	msg = full_msg("web1.example", NULL, 1, json_pack("[o]", proc(1, "a",
	    NULL, 0)), json_array());
	assert_int_equal(fleet_apply(t, "procnet.v1.web1_example.graph", msg,
	    strlen(msg), T0), 0);
	assert_int_equal(fleet_apply(t, "procnet.v1.web1.example.graph", msg,
	    strlen(msg), T0), -EPERM);
	free(msg);
	msg = delta_msg("web1.example", NULL, 2, part(NULL, NULL, NULL),
	    part(NULL, NULL, NULL));
	assert_int_equal(fleet_apply(t, subject("web2.example"), msg,
	    strlen(msg), T0), -EPERM);
	free(msg);
	g = merged(t, T0, &m);
	assert_int_equal(m.hosts, 1);
	assert_non_null(find(g, "nodes", "web1.example/p:1:170001"));
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);
}

/* Messages that are not what a publisher sends: refused, never a crash;
 * each leaves the host as it was. */
static void
test_malformed(void **state)
{
	static const char *bad[] = {
		"",
		"{",
		"not json",
		"[]",
		"null",
		"{\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":\"web1\",\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":7},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":\"1\",\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1.5,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":7,\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"status\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1,\"graph\":[]}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":{},\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":null}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[{\"kind\":\"process\"}],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[{\"id\":5}],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[7],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[[]]}}",
		/* duplicate keys are refused, not resolved one way */
		"{\"host\":{\"name\":\"web1\"},\"type\":\"full\",\"type\":\"delta\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		/* the host name must be one subject token of known bytes */
		"{\"host\":{\"name\":\"web1/x\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"web*\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
		"{\"host\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"},\"type\":\"full\",\"seq\":1,\"graph\":{\"nodes\":[],\"edges\":[]}}",
	};
	/* deltas after a good full (seq 7): refused, and the host then
	 * waits for a full graph */
	static const char *bad_delta[] = {
		"{\"host\":{\"name\":\"web1\"},\"type\":\"delta\",\"seq\":8}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"delta\",\"seq\":8,\"nodes\":[],\"edges\":{}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"delta\",\"seq\":8,\"nodes\":{\"add\":[{\"id\":1}]},\"edges\":{}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"delta\",\"seq\":8,\"nodes\":{\"update\":[\"p:1\"]},\"edges\":{}}",
		"{\"host\":{\"name\":\"web1\"},\"type\":\"delta\",\"seq\":8,\"nodes\":{},\"edges\":{\"add\":[{}]}}",
	};
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	const char *sub;
	json_t *g;
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = fleet_apply(t, subject("web1"), bad[i], strlen(bad[i]), T0);
		if (rc != -EBADMSG)
			fail_msg("bad[%zu] gave %d: %s", i, rc, bad[i]);
	}
	/* embedded NUL and a cut-off message */
	assert_int_equal(fleet_apply(t, subject("web1"), "{\"a\0\":1}", 8, T0),
	    -EBADMSG);
	{
		char *msg = web1_full(1);

		assert_int_equal(fleet_apply(t, subject("web1"), msg,
		    strlen(msg) / 2, T0), -EBADMSG);
		free(msg);
	}
	g = merged(t, T0, &m);
	assert_int_equal(m.hosts, 0);
	json_decref(g);
	fleet_merged_clear(&m);

	for (size_t i = 0; i < sizeof(bad_delta) / sizeof(bad_delta[0]); i++) {
		assert_int_equal(apply(t, "web1", web1_full(7), T0), 0);
		sub = subject("web1");
		rc = fleet_apply(t, sub, bad_delta[i], strlen(bad_delta[i]), T0);
		if (rc != -EBADMSG)
			fail_msg("bad_delta[%zu] gave %d: %s", i, rc,
			    bad_delta[i]);
		rc = apply(t, "web1", delta_msg("web1", "10.0.0.1", 9,
		    part(NULL, NULL, NULL), part(NULL, NULL, NULL)), T0);
		if (rc != -EAGAIN)
			fail_msg("bad_delta[%zu]: the next delta gave %d", i,
			    rc);
	}
	fleet_table_free(t);
}

/* Items whose fields have the wrong types pass fleet_apply (only ids are
 * checked there) and must still merge without a crash. */
static void
test_wrong_types_merge(void **state)
{
	static const char *odd_nodes =
	    "[{\"id\":\"p:1:1\",\"listen\":\"0.0.0.0:80\"},"
	    "{\"id\":\"p:2:2\",\"listen\":[7,{\"proto\":1,\"addr\":2,\"port\":\"x\"},"
	    "{\"proto\":\"tcp\",\"addr\":\"0.0.0.0\",\"port\":\"80\"},"
	    "{\"proto\":\"tcp\",\"addr\":\"::\"}]},"
	    "{\"id\":\"e:10.9.9.9\",\"kind\":[]}]";
	static const char *odd_edges =
	    "[{\"id\":\"a\"},"
	    "{\"id\":\"b\",\"from\":1,\"to\":\"p:1:1\",\"proto\":\"tcp\"},"
	    "{\"id\":\"c\",\"from\":\"e:10.0.0.1\",\"to\":\"p:1:1\",\"proto\":\"tcp\",\"conns\":7},"
	    "{\"id\":\"d\",\"from\":\"e:10.0.0.1\",\"to\":\"p:1:1\",\"proto\":\"tcp\",\"conns\":[{\"client\":5}]},"
	    "{\"id\":\"e\",\"from\":\"e:10.0.0.1\",\"to\":\"p:2:2\",\"proto\":\"tcp\",\"server_port\":\"80\",\"conns\":[{\"client\":\"10.0.0.1\"},7]},"
	    "{\"id\":\"f\",\"from\":\"p:1:1\",\"to\":\"e:10.0.0.1\",\"proto\":\"tcp\",\"server_port\":5432,\"count\":\"x\",\"states\":[],\"conns\":{}},"
	    "{\"id\":\"g\",\"from\":\"p:1:1\",\"to\":\"e:10.0.0.1\",\"proto\":\"tcp\",\"server_port\":5432,\"count\":1,\"states\":{\"X\":\"y\"},\"conns\":[{\"client\":7}]},"
	    "{\"id\":\"h\",\"from\":\"e:10.0.0.1\",\"to\":\"p:1:1\",\"proto\":\"tcp\",\"conns\":[{\"client\":\"10.0.0.1:5432\",\"server\":3},7,\"s\"]},"
	    "{\"id\":\"i\",\"from\":\"e:10.0.0.1\",\"to\":\"p:1:1\",\"proto\":\"tcp\",\"conns\":[{\"client\":\"10.0.0.1:99999999999999999999\"}]}]";
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	char msg[4096];
	json_t *g;

	(void)state;
	/* host "odd" claims odd addresses; "web1" is 10.0.0.1 and listens */
	snprintf(msg, sizeof(msg), "{\"host\":{\"name\":\"odd\",\"addrs\":"
	    "[1,null,\"10.9.9.9\",\"::1\"],\"boot_id\":7},\"type\":\"full\","
	    "\"seq\":1,\"graph\":{\"nodes\":%s,\"edges\":%s,\"meta\":[],"
	    "\"names\":7}}", odd_nodes, odd_edges);
	assert_int_equal(fleet_apply(t, subject("odd"), msg, strlen(msg), T0),
	    0);
	assert_int_equal(apply(t, "web1", web1_full(1), T0), 0);
	snprintf(msg, sizeof(msg), "{\"host\":{\"name\":\"odd\",\"addrs\":\"x\"},"
	    "\"type\":\"delta\",\"seq\":2,\"nodes\":{\"remove\":[1,null],"
	    "\"add\":[]},\"edges\":{},\"meta\":7,\"names\":{\"set\":[],"
	    "\"remove\":{}}}");
	assert_int_equal(fleet_apply(t, subject("odd"), msg, strlen(msg), T0),
	    0);
	g = merged(t, T0, &m);
	assert_int_equal(m.hosts, 2);
	json_decref(g);
	fleet_merged_clear(&m);
	g = merged(t, T0 + 1, &m);
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);
}

/*
 * app (p:10) on host a (10.0.0.1) holds n connections to 10.0.0.2:5432;
 * host b (10.0.0.2) runs postgres (p:20) listening on 0.0.0.0:5432 and
 * sees them from the external 10.0.0.1 when b_sees.
 */
static void
two_hosts(struct fleet_table *t, int n, int b_sees, const char *b_addr)
{
	json_t *bn = json_pack("[o]", proc(20, "postgres", "0.0.0.0", 5432));
	json_t *be = json_array();

	assert_int_equal(apply(t, "a", full_msg("a", "10.0.0.1", 1,
	    json_pack("[o, o]", proc(10, "app", NULL, 0), ext("10.0.0.2")),
	    json_pack("[o]", edge("p:10:1700010", "e:10.0.0.2", 5432,
	    "service-port", "10.0.0.1", 40000, "10.0.0.2", 5432, n))), T0), 0);
	if (b_sees) {
		json_array_append_new(bn, ext("10.0.0.1"));
		json_array_append_new(be, edge("e:10.0.0.1", "p:20:1700020",
		    5432, "listener", "10.0.0.1", 40000, "10.0.0.2", 5432, n));
	}
	assert_int_equal(apply(t, "b", full_msg("b", b_addr, 1, bn, be), T0),
	    0);
}

static void
test_cross_host_pair(void **state)
{
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	json_t *g, *e;
	size_t i;

	(void)state;
	two_hosts(t, 3, 1, "10.0.0.2");
	g = merged(t, T0, &m);
	/* one edge a's app -> b's postgres; b's copy of it is gone */
	assert_int_equal(m.edges, 1);
	e = find(g, "edges", "tcp:a/p:10:1700010>b/p:20:1700020:5432");
	assert_non_null(e);
	assert_string_equal(str(e, "from"), "a/p:10:1700010");
	assert_string_equal(str(e, "to"), "b/p:20:1700020");
	assert_string_equal(str(e, "reason"), "pair");
	assert_int_equal(json_integer_value(json_object_get(e, "count")), 3);
	/* no external node for either end */
	assert_null(find(g, "nodes", "a/e:10.0.0.2"));
	assert_null(find(g, "nodes", "b/e:10.0.0.1"));
	json_array_foreach(json_object_get(g, "nodes"), i, e)
		assert_string_not_equal(str(e, "kind"), "external");
	assert_int_equal(m.nodes, 2);
	assert_string_equal(str(find(g, "nodes", "b/p:20:1700020"), "host"), "b");
	assert_string_equal(str(find(g, "nodes", "a/p:10:1700010"), "host"), "a");
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);

	/* b listens but does not report the connections: reason listener */
	t = fleet_table_new();
	two_hosts(t, 2, 0, "10.0.0.2");
	g = merged(t, T0, &m);
	assert_int_equal(m.edges, 1);
	e = find(g, "edges", "tcp:a/p:10:1700010>b/p:20:1700020:5432");
	assert_non_null(e);
	assert_string_equal(str(e, "reason"), "listener");
	assert_null(find(g, "nodes", "a/e:10.0.0.2"));
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);

	/* b does not claim 10.0.0.2 (NAT, a load balancer): it stays an
	 * external endpoint of a, as on one host */
	t = fleet_table_new();
	two_hosts(t, 2, 1, "10.0.0.99");
	g = merged(t, T0, &m);
	assert_int_equal(m.edges, 2);
	assert_non_null(find(g, "edges", "tcp:a/p:10:1700010>a/e:10.0.0.2:5432"));
	assert_non_null(find(g, "nodes", "a/e:10.0.0.2"));
	assert_non_null(find(g, "nodes", "b/e:10.0.0.1"));
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);
}

/* group= on the fleet map: the host mode folds each host into one node,
 * with the connection between them as one edge; a fold is made once per
 * merge, not before the first, and not for the process mode. */
static void
test_fold(void **state)
{
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m, f;
	json_t *g, *e, *n;

	(void)state;
	assert_int_equal(fleet_fold(t, GRAPH_GROUP_HOST, &f), -EAGAIN);
	two_hosts(t, 3, 1, "10.0.0.2");
	g = merged(t, T0, &m);
	json_decref(g);
	fleet_merged_clear(&m);
	assert_int_equal(fleet_fold(t, GRAPH_GROUP_PROCESS, &f), -EINVAL);
	assert_int_equal(fleet_fold(t, GRAPH_GROUP_HOST, &f), 0);
	assert_null(f.delta);	/* no fold of the merge before */
	g = json_loadb(f.graph, f.glen, 0, NULL);
	assert_non_null(g);
	assert_int_equal(f.nodes, 2);
	n = find(g, "nodes", "h:a");
	assert_non_null(n);
	assert_string_equal(str(n, "label"), "a");
	assert_int_equal(json_array_size(json_object_get(n, "members")), 1);
	assert_non_null(find(g, "nodes", "h:b"));
	e = find(g, "edges", "tcp:h:a>h:b:5432");
	assert_non_null(e);
	assert_int_equal(json_integer_value(json_object_get(e, "count")), 3);
	assert_string_equal(str(json_object_get(json_object_get(g, "meta"),
	    "options"), "group"), "host");
	json_decref(g);
	fleet_merged_clear(&f);
	assert_int_equal(fleet_fold(t, GRAPH_GROUP_HOST, &f), -EALREADY);
	/* the next merge's fold is a delta from this one */
	g = merged(t, T0 + 500, &m);
	json_decref(g);
	fleet_merged_clear(&m);
	assert_int_equal(fleet_fold(t, GRAPH_GROUP_HOST, &f), 0);
	assert_non_null(f.delta);
	fleet_merged_clear(&f);
	fleet_table_free(t);
}

/* Host a saw no listener of its own and guessed from the ports (the lower
 * one, 33000, its own): the fleet knows b listens on 45000 and turns the
 * edge round. */
static void
test_cross_host_guess_turned(void **state)
{
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	json_t *g, *e, *c;

	(void)state;
	assert_int_equal(apply(t, "a", full_msg("a", "10.0.0.1", 1,
	    json_pack("[o, o]", proc(10, "app", NULL, 0), ext("10.0.0.2")),
	    json_pack("[o]", edge("e:10.0.0.2", "p:10:1700010", 33000,
	    "heuristic", "10.0.0.2", 45000, "10.0.0.1", 33000, 1))), T0), 0);
	assert_int_equal(apply(t, "b", full_msg("b", "10.0.0.2", 1,
	    json_pack("[o]", proc(20, "server", "10.0.0.2", 45000)),
	    json_array()), T0), 0);
	g = merged(t, T0, &m);
	assert_int_equal(m.edges, 1);
	e = find(g, "edges", "tcp:a/p:10:1700010>b/p:20:1700020:45000");
	assert_non_null(e);
	assert_string_equal(str(e, "reason"), "listener");
	assert_int_equal(json_integer_value(json_object_get(e, "server_port")),
	    45000);
	c = json_array_get(json_object_get(e, "conns"), 0);
	assert_string_equal(str(c, "client"), "10.0.0.1:33000");
	assert_string_equal(str(c, "server"), "10.0.0.2:45000");
	assert_null(find(g, "nodes", "a/e:10.0.0.2"));
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);
}

/* Host c also claims b's 10.0.0.2 and listens on 5432 everywhere: it gets
 * none of a's connections, and b's box is b's own. */
static void
test_claim_on_another_host(void **state)
{
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	json_t *g, *e;
	size_t i;
	char *msg;

	(void)state;
	two_hosts(t, 2, 1, "10.0.0.2");
	msg = full_msg("c", "10.0.0.2", 1, json_pack("[o]", proc(30, "evil",
	    "0.0.0.0", 5432)), json_array());
	assert_int_equal(apply(t, "c", msg, T0), 0);
	g = merged(t, T0, &m);
	assert_int_equal(m.hosts, 3);
	json_array_foreach(json_object_get(g, "edges"), i, e) {
		assert_string_not_equal(str(e, "to"), "c/p:30:1700030");
		assert_string_not_equal(str(e, "reason"), "pair");
	}
	/* the address pairs for no one while it is contested */
	assert_non_null(find(g, "edges", "tcp:a/p:10:1700010>a/e:10.0.0.2:5432"));
	assert_non_null(find(g, "nodes", "b/p:20:1700020"));
	assert_non_null(find(g, "edges",
	    "tcp:b/e:10.0.0.1>b/p:20:1700020:5432"));
	json_decref(g);
	fleet_merged_clear(&m);

	/* loopback is every host's own: never a claim across hosts, even
	 * when c alone lists it */
	msg = full_msg_ident(json_pack("{s:s, s:[s, s]}", "name", "c", "addrs",
	    "127.0.0.1", "::1"), 2, json_pack("[o]", proc(30, "evil",
	    "127.0.0.1", 5432)), json_array());
	assert_int_equal(apply(t, "c", msg, T0), 0);
	assert_int_equal(apply(t, "b", full_msg_ident(json_pack("{s:s, s:[s]}",
	    "name", "b", "addrs", "10.0.0.2"), 2, json_array(), json_array()),
	    T0), 0);
	assert_int_equal(apply(t, "a", full_msg_ident(json_pack("{s:s, s:[s]}",
	    "name", "a", "addrs", "10.0.0.1"), 2,
	    json_pack("[o, o]", proc(10, "app", NULL, 0), ext("127.0.0.1")),
	    json_pack("[o]", edge("p:10:1700010", "e:127.0.0.1", 5432,
	    "service-port", "127.0.0.1", 40000, "127.0.0.1", 5432, 1))), T0), 0);
	g = merged(t, T0, &m);
	assert_non_null(find(g, "edges", "tcp:a/p:10:1700010>a/e:127.0.0.1:5432"));
	json_array_foreach(json_object_get(g, "edges"), i, e)
		assert_string_not_equal(str(e, "to"), "c/p:30:1700030");
	json_decref(g);
	fleet_merged_clear(&m);

	/* c gone from the contest: the pair is back (b's claim alone) */
	msg = full_msg("c", "10.0.0.3", 3, json_pack("[o]", proc(30, "evil",
	    "0.0.0.0", 5432)), json_array());
	assert_int_equal(apply(t, "c", msg, T0), 0);
	two_hosts(t, 2, 1, "10.0.0.2");
	g = merged(t, T0, &m);
	e = find(g, "edges", "tcp:a/p:10:1700010>b/p:20:1700020:5432");
	assert_non_null(e);
	assert_string_equal(str(e, "reason"), "pair");
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);
}

static void
test_stale_and_dropped(void **state)
{
	struct fleet_table *t = fleet_table_new();
	struct fleet_merged m;
	json_t *g, *h, *d;

	(void)state;
	assert_int_equal(apply(t, "web1", web1_full(1), T0), 0);
	assert_int_equal(apply(t, "db1", full_msg("db1", "10.0.0.9", 1,
	    json_pack("[o]", proc(5, "db", NULL, 0)), json_array()),
	    T0 + STALE_S * 1000), 0);
	/* web1 silent for exactly stale_s: not yet */
	g = merged(t, T0 + STALE_S * 1000, &m);
	assert_int_equal(m.stale, 0);
	json_decref(g);
	fleet_merged_clear(&m);
	g = merged(t, T0 + STALE_S * 1000 + 1, &m);
	assert_int_equal(m.hosts, 2);
	assert_int_equal(m.stale, 1);
	assert_true(json_is_true(json_object_get(find(g, "nodes",
	    "web1/p:10:1700010"), "stale")));
	assert_null(json_object_get(find(g, "nodes", "db1/p:5:170005"),
	    "stale"));
	h = json_object_get(json_object_get(g, "meta"), "hosts");
	assert_int_equal(json_array_size(h), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *x = json_array_get(h, i);

		assert_int_equal(json_is_true(json_object_get(x, "stale")),
		    strcmp(str(x, "name"), "web1") == 0);
	}
	json_decref(g);
	fleet_merged_clear(&m);
	/* after drop_s it leaves the map, and the delta removes its nodes */
	g = merged(t, T0 + DROP_S * 1000 + 1, &m);
	assert_int_equal(m.hosts, 1);
	assert_int_equal(m.nodes, 1);
	assert_int_equal(m.edges, 0);
	assert_null(find(g, "nodes", "web1/p:10:1700010"));
	d = delta_of(&m);
	assert_int_equal(json_array_size(json_object_get(json_object_get(d,
	    "nodes"), "remove")), 2);
	assert_int_equal(json_array_size(json_object_get(json_object_get(d,
	    "edges"), "remove")), 1);
	json_decref(d);
	json_decref(g);
	fleet_merged_clear(&m);
	/* a full graph brings it back */
	assert_int_equal(apply(t, "web1", web1_full(500), T0 + DROP_S * 1000 +
	    2), 0);
	g = merged(t, T0 + DROP_S * 1000 + 2, &m);
	assert_int_equal(m.hosts, 2);
	assert_non_null(find(g, "nodes", "web1/p:10:1700010"));
	json_decref(g);
	fleet_merged_clear(&m);
	fleet_table_free(t);
}

/* At most 1024 hosts; the rest is refused, not grown without end. */
static void
test_host_cap(void **state)
{
	struct fleet_table *t = fleet_table_new();
	char name[32];
	int rc;

	(void)state;
	for (int i = 0; i < 1025; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		rc = apply(t, name, full_msg(name, NULL, 1, json_array(),
		    json_array()), T0);
		assert_int_equal(rc, i < 1024 ? 0 : -E2BIG);
	}
	fleet_table_free(t);
	fleet_table_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_then_deltas),
		cmocka_unit_test(test_delta_gap_resync),
		cmocka_unit_test(test_subject_mismatch),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_wrong_types_merge),
		cmocka_unit_test(test_cross_host_pair),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_cross_host_guess_turned),
		cmocka_unit_test(test_claim_on_another_host),
		cmocka_unit_test(test_stale_and_dropped),
		cmocka_unit_test(test_host_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
