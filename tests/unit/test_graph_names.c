/*
 * Names in the graph (webd/graph_names.c): every address asked once,
 * external nodes labelled by name, names in the JSON, and the names part of
 * a delta.  The names come from a table standing in for the resolver.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "snapfix.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "graph_json.h"

#define TCP	SNAP_PROTO_TCP
#define EST	SNAP_STATE_ESTABLISHED
#define LISTEN	SNAP_STATE_LISTEN

struct names {
	const char *const (*table)[3];	/* address, name, source */
	size_t n;
	unsigned asked[32];		/* per table row */
	unsigned asked_total;
	char last[SNAP_ADDRSTRLEN];
};

static const char *
table_name_of(void *ctx, const struct snap_addr *a, char *name)
{
	struct names *nm = ctx;
	char text[SNAP_ADDRSTRLEN];

	snap_addr_format(a, text);
	nm->asked_total++;
	for (size_t i = 0; i < nm->n; i++)
		if (strcmp(nm->table[i][0], text) == 0) {
			nm->asked[i]++;
			snprintf(name, GRAPH_NAME_MAX, "%s", nm->table[i][1]);
			return nm->table[i][2];
		}
	return NULL;
}

static struct snapshot *
population(const char *ext)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snap_process p = { .pid = 10, .ppid = 1, .start_time = 5,
	    .user = "u", .name = "cli", .exe = "/x", .cmdline = "cli" };
	struct snapshot *s;

	assert_non_null(b);
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux", 1, true),
	    0);
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	p.pid = 20;
	p.name = "srv";
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	snapfix_sock(b, TCP, LISTEN, 20, "0.0.0.0", 80, NULL, 0);
	snapfix_sock(b, TCP, EST, 10, "127.0.0.1", 40000, "127.0.0.1", 80);
	snapfix_sock(b, TCP, EST, 20, "127.0.0.1", 80, "127.0.0.1", 40000);
	/* two connections to the same remote host: one node, one name */
	snapfix_sock(b, TCP, EST, 10, "10.0.0.2", 40001, ext, 443);
	snapfix_sock(b, TCP, EST, 10, "10.0.0.2", 40002, ext, 443);
	/* a v4-mapped peer: asked in its IPv4 form */
	snapfix_sock(b, TCP, EST, 10, "::ffff:10.0.0.2", 40003,
	    "::ffff:198.51.100.9", 22);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	return s;
}

static struct graph *
build(struct snapshot *s, struct names *nm)
{
	struct graph_options o;
	struct snap_addr local;
	struct graph *g;

	memset(&o, 0, sizeof(o));
	assert_int_equal(snap_addr_parse("10.0.0.2", &local), 0);
	o.local_addrs = &local;
	o.n_local_addrs = 1;
	if (nm != NULL) {
		o.name_of = table_name_of;
		o.name_ctx = nm;
	}
	assert_int_equal(graph_build(s, NULL, &o, &g), 0);
	return g;
}

static const char *const table1[][3] = {
	{ "203.0.113.7", "www.example.org", "ptr" },
	{ "198.51.100.9", "git.example.net", "ptr" },
	{ "127.0.0.1", "localhost", "local" },
};

static void
test_labels_and_names(void **state)
{
	struct snapshot *s = population("203.0.113.7");
	struct names nm = { .table = table1, .n = 3 };
	struct graph *g = build(s, &nm);
	const struct graph_node *ext;
	const struct graph_name *gn;
	struct snap_addr a;

	(void)state;
	/* Each distinct address once: 127.0.0.1, 10.0.0.2, 203.0.113.7,
	 * 198.51.100.9 (the listener's 0.0.0.0 has no name to ask for). */
	assert_int_equal(nm.asked_total, 4);
	assert_int_equal(nm.asked[0], 1);
	assert_int_equal(nm.asked[1], 1);
	assert_int_equal(g->n_names, 3);
	ext = graph_find_node(g, "e:203.0.113.7");
	assert_non_null(ext);
	assert_string_equal(ext->label, "www.example.org");
	ext = graph_find_node(g, "e:198.51.100.9");
	assert_non_null(ext);
	assert_string_equal(ext->label, "git.example.net");
	assert_int_equal(snap_addr_parse("127.0.0.1", &a), 0);
	gn = graph_find_name(g, &a);
	assert_non_null(gn);
	assert_string_equal(gn->source, "local");
	/* sorted by address */
	for (size_t i = 1; i < g->n_names; i++)
		assert_true(memcmp(&g->names[i - 1].addr, &g->names[i].addr,
		    sizeof(struct snap_addr)) != 0);
	graph_free(g);

	/* Without name_of nothing is asked and labels are addresses. */
	g = build(s, NULL);
	assert_int_equal(g->n_names, 0);
	assert_string_equal(graph_find_node(g, "e:203.0.113.7")->label,
	    "203.0.113.7");
	graph_free(g);
	snapshot_unref(s);
}

static void
test_json(void **state)
{
	struct snapshot *s = population("203.0.113.7");
	struct names nm = { .table = table1, .n = 3 };
	struct graph *g = build(s, &nm), *plain = build(s, NULL);
	json_error_t err;
	json_t *doc;
	char *text;

	(void)state;
	text = graph_json(g, NULL, NULL);
	doc = json_loads(text, 0, &err);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    doc, "names"), "203.0.113.7")), "www.example.org");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    doc, "names_source"), "127.0.0.1")), "local");
	json_decref(doc);
	free(text);
	/* No names, no "names" key: the graph reads as before. */
	text = graph_json(plain, NULL, NULL);
	assert_null(strstr(text, "\"names\""));
	free(text);
	graph_free(g);
	graph_free(plain);
	snapshot_unref(s);
}

static const char *const table2[][3] = {
	{ "203.0.113.7", "cdn.example.org", "ptr" },	/* changed */
	{ "127.0.0.1", "localhost", "local" },		/* same */
	/* 198.51.100.9 lost its name */
};

static void
test_delta(void **state)
{
	struct snapshot *s = population("203.0.113.7");
	struct names n1 = { .table = table1, .n = 3 };
	struct names n2 = { .table = table2, .n = 2 };
	struct graph *g1 = build(s, &n1), *g2 = build(s, &n2);
	struct graph_delta *d;
	char addr[SNAP_ADDRSTRLEN], *text;
	json_error_t err;
	json_t *doc, *names;

	(void)state;
	assert_int_equal(graph_delta(g1, g2, &d), 0);
	assert_false(graph_delta_is_empty(d));
	assert_int_equal(d->n_names_set, 1);
	assert_string_equal(d->names_set[0]->name, "cdn.example.org");
	assert_int_equal(d->n_names_remove, 1);
	assert_string_equal(snap_addr_format(&d->names_remove[0], addr),
	    "198.51.100.9");
	/* the external nodes' labels changed with their names */
	assert_int_equal(d->n_nodes_update, 2);
	text = graph_delta_json(d, 7, NULL, NULL);
	doc = json_loads(text, 0, &err);
	assert_non_null(doc);
	names = json_object_get(doc, "names");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    names, "set"), "203.0.113.7")), "cdn.example.org");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    names, "source"), "203.0.113.7")), "ptr");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    names, "remove"), 0)), "198.51.100.9");
	json_decref(doc);
	free(text);
	graph_delta_free(d);

	/* The same names twice: nothing to say. */
	assert_int_equal(graph_delta(g2, g2, &d), 0);
	assert_true(graph_delta_is_empty(d));
	text = graph_delta_json(d, 8, NULL, NULL);
	assert_null(strstr(text, "\"names\""));
	free(text);
	graph_delta_free(d);
	graph_free(g1);
	graph_free(g2);
	snapshot_unref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_and_names),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_delta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
