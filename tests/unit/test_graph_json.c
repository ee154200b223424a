/*
 * graph_json: the documents docs/api.md describes, read back with jansson.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "snapfix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "graph.h"
#include "graph_json.h"

static struct snapshot_builder *
snap_new(void)
{
	struct snapshot_builder *b = snapshot_builder_new();

	assert_non_null(b);
	assert_int_equal(snapshot_builder_set_meta(b, "box", "linux",
	    1700000000123, false), 0);
	snapshot_builder_set_sample_us(b, 12345);
	return b;
}

static void
proc(struct snapshot_builder *b, int32_t pid, const char *name,
    const char *cmd)
{
	struct snap_process p = { .pid = pid, .ppid = 1,
	    .start_time = 1000 + (uint64_t)pid, .user = "bob", .name = name,
	    .exe = "/opt/x", .cmdline = cmd };

	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
}

static void
sock(struct snapshot_builder *b, int state, int32_t pid, const char *la,
    uint16_t lp, const char *ra, uint16_t rp)
{
	snapfix_sock(b, SNAP_PROTO_TCP, state, pid, la, lp, ra, rp);
}

static struct graph *
build(struct snapshot_builder *b, const struct graph_options *o)
{
	struct snapshot *s;
	struct graph *g;

	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(graph_build(s, NULL, o, &g), 0);
	snapshot_unref(s);
	return g;
}

static json_t *
parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL)
		fail_msg("invalid JSON at %d:%d: %s\n%s", e.line, e.column,
		    e.text, text);
	return j;
}

static json_t *
find_by_id(json_t *arr, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			return v;
	fail_msg("no %s", id);
	return NULL;
}

static const char *
sget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		fail_msg("%s is not a string", k);
	return json_string_value(v);
}

static json_int_t
iget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer", k);
	return json_integer_value(v);
}

static struct graph *
sample_graph(void)
{
	struct snapshot_builder *b = snap_new();

	proc(b, 10, "postgres", "postgres -D /var/lib/pg");
	proc(b, 20, "app", "app --token=s3cr3t --name demo");
	sock(b, SNAP_STATE_LISTEN, 10, "0.0.0.0", 5432, NULL, 0);
	sock(b, SNAP_STATE_ESTABLISHED, 20, "127.0.0.1", 50000, "127.0.0.1",
	    5432);
	sock(b, SNAP_STATE_ESTABLISHED, 10, "127.0.0.1", 5432, "127.0.0.1",
	    50000);
	sock(b, SNAP_STATE_SYN_SENT, 20, "2001:db8::2", 50001, "2001:db8::1",
	    443);
	sock(b, SNAP_STATE_ESTABLISHED, 20, "127.0.0.1", 50002, "127.0.0.1",
	    6379);
	return build(b, NULL);
}

static void
test_graph_document(void **state)
{
	struct graph *g = sample_graph();
	size_t len = 0;
	char *text = graph_json(g, NULL, &len);
	json_t *root, *nodes, *edges, *meta, *n, *e, *l, *c;

	(void)state;
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	root = parse(text);
	nodes = json_object_get(root, "nodes");
	edges = json_object_get(root, "edges");
	meta = json_object_get(root, "meta");
	assert_true(json_is_array(nodes) && json_is_array(edges) &&
	    json_is_object(meta));
	assert_int_equal(json_array_size(nodes), 4);
	assert_int_equal(json_array_size(edges), 3);

	n = find_by_id(nodes, "p:10:1010");
	assert_string_equal(sget(n, "kind"), "process");
	assert_int_equal(iget(n, "pid"), 10);
	assert_int_equal(iget(n, "ppid"), 1);
	assert_int_equal(iget(n, "start_ms"), 1010);
	assert_string_equal(sget(n, "name"), "postgres");
	assert_string_equal(sget(n, "label"), "postgres");
	assert_string_equal(sget(n, "type"), "app");
	assert_string_equal(sget(n, "user"), "bob");
	assert_string_equal(sget(n, "exe"), "/opt/x");
	assert_string_equal(sget(n, "cmdline"), "postgres -D /var/lib/pg");
	l = json_array_get(json_object_get(n, "listen"), 0);
	assert_string_equal(sget(l, "proto"), "tcp");
	assert_string_equal(sget(l, "addr"), "0.0.0.0");
	assert_int_equal(iget(l, "port"), 5432);

	/* served redacted by default */
	n = find_by_id(nodes, "p:20:1020");
	assert_string_equal(sget(n, "cmdline"), "app --token=*** --name demo");
	assert_int_equal(json_array_size(json_object_get(n, "listen")), 0);

	n = find_by_id(nodes, "e:2001:db8::1");
	assert_string_equal(sget(n, "kind"), "external");
	assert_string_equal(sget(n, "addr"), "2001:db8::1");
	assert_string_equal(sget(n, "label"), "2001:db8::1");
	assert_string_equal(sget(n, "type"), "external");
	assert_null(json_object_get(n, "pid"));

	n = find_by_id(nodes, "l:127.0.0.1:6379");
	assert_string_equal(sget(n, "kind"), "endpoint");
	assert_string_equal(sget(n, "addr"), "127.0.0.1");
	assert_int_equal(iget(n, "port"), 6379);
	assert_string_equal(sget(n, "label"), "127.0.0.1:6379");
	assert_string_equal(sget(n, "type"), "service");
	assert_null(json_object_get(n, "owner"));

	e = find_by_id(edges, "tcp:p:20:1020>p:10:1010:5432");
	assert_string_equal(sget(e, "from"), "p:20:1020");
	assert_string_equal(sget(e, "to"), "p:10:1010");
	assert_string_equal(sget(e, "proto"), "tcp");
	assert_int_equal(iget(e, "count"), 1);
	assert_int_equal(iget(e, "server_port"), 5432);
	assert_string_equal(sget(e, "reason"), "pair");
	assert_int_equal(iget(json_object_get(e, "states"), "ESTABLISHED"), 1);
	c = json_array_get(json_object_get(e, "conns"), 0);
	assert_string_equal(sget(c, "client"), "127.0.0.1:50000");
	assert_string_equal(sget(c, "server"), "127.0.0.1:5432");
	assert_string_equal(sget(c, "state"), "ESTABLISHED");

	e = find_by_id(edges, "tcp:p:20:1020>e:2001:db8::1:443");
	assert_int_equal(iget(json_object_get(e, "states"), "SYN_SENT"), 1);
	c = json_array_get(json_object_get(e, "conns"), 0);
	assert_string_equal(sget(c, "client"), "[2001:db8::2]:50001");
	assert_string_equal(sget(c, "server"), "[2001:db8::1]:443");

	assert_string_equal(sget(meta, "host"), "box");
	assert_string_equal(sget(meta, "os"), "linux");
	assert_int_equal(iget(meta, "time_ms"), 1700000000123);
	assert_true(json_is_number(json_object_get(meta, "sample_ms")));
	assert_true(json_number_value(json_object_get(meta, "sample_ms")) ==
	    12.345);
	assert_true(json_is_false(json_object_get(meta, "privileged")));
	assert_int_equal(iget(json_object_get(meta, "counts"), "processes"), 2);
	assert_int_equal(iget(json_object_get(meta, "counts"), "nodes"), 4);
	assert_int_equal(iget(json_object_get(meta, "counts"), "edges"), 3);
	assert_int_equal(iget(json_object_get(meta, "counts"), "sockets"), 5);
	assert_true(json_is_false(json_object_get(json_object_get(meta,
	    "options"), "udp")));
	assert_true(json_is_false(json_object_get(json_object_get(meta,
	    "options"), "p2p_only")));
	assert_string_equal(sget(json_object_get(meta, "options"), "cmdline"),
	    "redacted");
	json_decref(root);
	free(text);
	graph_free(g);
}

static void
test_cmdline_modes(void **state)
{
	static const struct {
		enum redact_mode mode;
		const char *want;
	} cases[] = {
		{ REDACT_REDACTED, "app --token=*** --name demo" },
		{ REDACT_ALL, "app --token=s3cr3t --name demo" },
		{ REDACT_NONE, "" },
	};
	struct graph *g = sample_graph();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct graph_json_opts o = { .cmdline = cases[i].mode };
		char *text = graph_json(g, &o, NULL);
		json_t *root = parse(text);
		json_t *n = find_by_id(json_object_get(root, "nodes"),
		    "p:20:1020");

		assert_string_equal(sget(n, "cmdline"), cases[i].want);
		assert_string_equal(sget(json_object_get(json_object_get(root,
		    "meta"), "options"), "cmdline"),
		    redact_mode_name(cases[i].mode));
		json_decref(root);
		free(text);
	}
	graph_free(g);
}

/* With argument boundaries (protocol v2) each argument is redacted on its
 * own and served both joined and as an array; without them the words of
 * the command line stand in. */
static void
test_argv(void **state)
{
	static const char *const argv[] = { "mysql", "--password",
	    "two words", "-h", "db" };
	static const struct {
		enum redact_mode mode;
		const char *cmdline;
		size_t argc;
		const char *arg2;
	} cases[] = {
		{ REDACT_REDACTED, "mysql --password *** -h db", 5, "***" },
		{ REDACT_ALL, "mysql --password two words -h db", 5, "two words" },
		{ REDACT_NONE, "", 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot_builder *b = snap_new();
		struct snap_process p = { .pid = 10, .ppid = 1,
		    .start_time = 1010, .user = "bob", .name = "mysql",
		    .argc = 5, .argv = argv };
		struct graph_json_opts o = { .cmdline = cases[i].mode };
		struct graph *g;
		json_t *root, *n, *a;
		char *text;

		assert_int_equal(snapshot_builder_add_process(b, &p), 0);
		sock(b, SNAP_STATE_LISTEN, 10, "0.0.0.0", 3306, NULL, 0);
		g = build(b, NULL);
		text = graph_json(g, &o, NULL);
		root = parse(text);
		n = find_by_id(json_object_get(root, "nodes"), "p:10:1010");
		assert_string_equal(sget(n, "cmdline"), cases[i].cmdline);
		a = json_object_get(n, "argv");
		assert_true(json_is_array(a));
		assert_int_equal(json_array_size(a), cases[i].argc);
		if (cases[i].arg2 != NULL)
			assert_string_equal(json_string_value(json_array_get(a,
			    2)), cases[i].arg2);
		json_decref(root);
		free(text);
		graph_free(g);
	}
	/* v1: the words */
	{
		struct graph *g = sample_graph();
		struct graph_json_opts o = { .cmdline = REDACT_REDACTED };
		char *text = graph_json(g, &o, NULL);
		json_t *root = parse(text), *n, *a;

		n = find_by_id(json_object_get(root, "nodes"), "p:20:1020");
		a = json_object_get(n, "argv");
		assert_int_equal(json_array_size(a), 4);
		assert_string_equal(json_string_value(json_array_get(a, 1)),
		    "--token=***");
		json_decref(root);
		free(text);
		graph_free(g);
	}
}

/* Whatever bytes a process name holds, the document stays valid JSON
 * (jansson rejects invalid UTF-8) and says the same text. */
static void
test_escaping(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "quo\"te", "quo\"te" },
		{ "back\\slash", "back\\slash" },
		{ "new\nline\ttab\rcr", "new\nline\ttab\rcr" },
		{ "ctl\x01\x1f", "ctl\x01\x1f" },
		{ "del\x7f", "del\x7f" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "emoji \xf0\x9f\x98\x80", "emoji \xf0\x9f\x98\x80" },
		{ "bad \xff byte", "bad \xef\xbf\xbd byte" },
		{ "cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd" },
		{ "overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd" },
		{ "surrogate \xed\xa0\x80",
		  "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "</script>", "</script>" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot_builder *b = snap_new();
		struct graph_json_opts o = { .cmdline = REDACT_ALL };
		struct graph *g;
		char *text;
		json_t *root, *n;

		proc(b, 10, cases[i].in, cases[i].in);
		sock(b, SNAP_STATE_LISTEN, 10, "0.0.0.0", 80, NULL, 0);
		g = build(b, NULL);
		text = graph_json(g, &o, NULL);
		root = parse(text);
		n = find_by_id(json_object_get(root, "nodes"), "p:10:1010");
		assert_string_equal(sget(n, "name"), cases[i].out);
		assert_string_equal(sget(n, "cmdline"), cases[i].out);
		json_decref(root);
		free(text);
		graph_free(g);
	}
}

static void
test_stream_messages(void **state)
{
	struct graph *g1 = sample_graph(), *g2;
	struct snapshot_builder *b = snap_new();
	struct graph_delta *d;
	char *text;
	json_t *root, *x;

	(void)state;
	text = graph_json_full(g1, 7, NULL, NULL);
	root = parse(text);
	assert_string_equal(sget(root, "type"), "full");
	assert_int_equal(iget(root, "seq"), 7);
	x = json_object_get(root, "graph");
	assert_int_equal(json_array_size(json_object_get(x, "nodes")), 4);
	assert_true(json_is_object(json_object_get(x, "meta")));
	json_decref(root);
	free(text);

	/* the same population, app's second connection gone, one added */
	proc(b, 10, "postgres", "postgres -D /var/lib/pg");
	proc(b, 20, "app", "app --token=s3cr3t --name demo");
	sock(b, SNAP_STATE_LISTEN, 10, "0.0.0.0", 5432, NULL, 0);
	sock(b, SNAP_STATE_ESTABLISHED, 20, "127.0.0.1", 50000, "127.0.0.1",
	    5432);
	sock(b, SNAP_STATE_ESTABLISHED, 10, "127.0.0.1", 5432, "127.0.0.1",
	    50000);
	sock(b, SNAP_STATE_ESTABLISHED, 20, "127.0.0.1", 50003, "127.0.0.1",
	    5432);
	sock(b, SNAP_STATE_ESTABLISHED, 20, "127.0.0.1", 50002, "127.0.0.1",
	    6379);
	g2 = build(b, NULL);
	assert_int_equal(graph_delta(g1, g2, &d), 0);
	text = graph_delta_json(d, 8, NULL, NULL);
	root = parse(text);
	assert_string_equal(sget(root, "type"), "delta");
	assert_int_equal(iget(root, "seq"), 8);
	x = json_object_get(root, "nodes");
	assert_int_equal(json_array_size(json_object_get(x, "add")), 0);
	assert_int_equal(json_array_size(json_object_get(x, "update")), 0);
	assert_int_equal(json_array_size(json_object_get(x, "remove")), 1);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(x, "remove"), 0)), "e:2001:db8::1");
	x = json_object_get(root, "edges");
	assert_int_equal(json_array_size(json_object_get(x, "add")), 0);
	assert_int_equal(json_array_size(json_object_get(x, "update")), 1);
	assert_int_equal(iget(json_array_get(json_object_get(x, "update"), 0),
	    "count"), 2);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(x, "remove"), 0)),
	    "tcp:p:20:1020>e:2001:db8::1:443");
	assert_int_equal(iget(json_object_get(json_object_get(root, "meta"),
	    "counts"), "edges"), 2);
	json_decref(root);
	free(text);
	graph_delta_free(d);
	graph_free(g1);
	graph_free(g2);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* 10k connections among 10 processes plus 100 remote hosts: the result
 * is checked; the time is reported, never asserted. */
static void
test_ten_thousand(void **state)
{
	struct graph *g[2];
	struct graph_delta *d;
	double t0, t1, t2, t3, tb = 0;
	size_t len;
	char *text;
	json_t *root;

	(void)state;
	for (int round = 0; round < 2; round++) {
		struct snapshot_builder *b = snap_new();
		struct snapshot *s;
		char addr[32];

		for (int p = 0; p < 10; p++) {
			char name[16];

			snprintf(name, sizeof(name), "worker%d", p);
			proc(b, 100 + p, name, "worker --id x");
			sock(b, SNAP_STATE_LISTEN, 100 + p, "127.0.0.1",
			    (uint16_t)(9000 + p), NULL, 0);
		}
		for (int i = 0; i < 9000 + round * 100; i++) {
			int c = i % 10, sv = (i / 10) % 10;
			uint16_t cp = (uint16_t)(20000 + i);

			snprintf(addr, sizeof(addr), "127.0.%d.%d", i / 250,
			    1 + i % 250);
			sock(b, SNAP_STATE_ESTABLISHED, 100 + c, addr, cp,
			    "127.0.0.1", (uint16_t)(9000 + sv));
			sock(b, SNAP_STATE_ESTABLISHED, 100 + sv, "127.0.0.1",
			    (uint16_t)(9000 + sv), addr, cp);
		}
		for (int i = 0; i < 1000; i++) {
			snprintf(addr, sizeof(addr), "198.51.100.%d", i % 100);
			sock(b, SNAP_STATE_ESTABLISHED, 100 + i % 10,
			    "192.0.2.1", (uint16_t)(40000 + i), addr, 443);
		}
		assert_int_equal(snapshot_builder_finish(b, &s), 0);
		t0 = now_ms();
		assert_int_equal(graph_build(s, NULL, NULL, &g[round]), 0);
		tb = now_ms() - t0;
		snapshot_unref(s);
	}
	/* 10 x 10 process pairs (self-loops included) + 100 external hosts,
	 * each always reached from the same worker */
	assert_int_equal(g[1]->n_edges, 100 + 100);
	assert_int_equal(g[1]->n_nodes, 10 + 100);
	assert_int_equal(graph_find_edge(g[1], "tcp:p:101:1101>p:100:1100:9000")
	    ->count, 91);
	t1 = now_ms();
	assert_int_equal(graph_delta(g[0], g[1], &d), 0);
	t2 = now_ms();
	text = graph_delta_json(d, 2, NULL, &len);
	assert_non_null(text);
	free(text);
	text = graph_json(g[1], NULL, &len);
	t3 = now_ms();
	assert_non_null(text);
	root = parse(text);
	assert_int_equal(json_array_size(json_object_get(root, "edges")), 200);
	json_decref(root);
	print_message("10k connections: build %.1f ms, delta %.1f ms, "
	    "delta+full JSON %.1f ms (%zu bytes)\n", tb,
	    t2 - t1, t3 - t2, len);
	assert_int_equal(d->n_edges_update, 100);
	free(text);
	graph_delta_free(d);
	graph_free(g[0]);
	graph_free(g[1]);
}

/* meta.sample_ms: microseconds as milliseconds with three decimals,
 * exactly, whatever the C locale says about decimal points. */
static void
test_sample_ms(void **state)
{
	static const struct {
		uint32_t us;
		const char *text;
	} rows[] = {
		{ 0, "\"sample_ms\":0.000," },
		{ 5, "\"sample_ms\":0.005," },
		{ 1000, "\"sample_ms\":1.000," },
		{ 12345, "\"sample_ms\":12.345," },
		{ 4294967295u, "\"sample_ms\":4294967.295," },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct snapshot_builder *b = snap_new();
		struct graph *g;
		char *text;

		snapshot_builder_set_sample_us(b, rows[i].us);
		g = build(b, NULL);
		text = graph_json(g, NULL, NULL);
		assert_non_null(text);
		if (strstr(text, rows[i].text) == NULL)
			fail_msg("%u us: want %s in %s", rows[i].us,
			    rows[i].text, text);
		json_decref(parse(text));
		free(text);
		graph_free(g);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graph_document),
		cmocka_unit_test(test_cmdline_modes),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_stream_messages),
		cmocka_unit_test(test_ten_thousand),
		cmocka_unit_test(test_sample_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
