/*
 * webd's per-sample pipeline: one publication per snapshot, the three
 * texts consistent with each other (graph, full message around the same
 * graph, delta numbered seq), references that outlive the next sample,
 * collector status messages, and rules reloads that keep the old rules on
 * a bad file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph_json.h"
#include "state.h"
#include "stream.h"

static int publishes;

static void
on_publish(void *user)
{
	(void)user;
	publishes++;
}

/* A database (pid 10) with a client (pid 20); clients = how many
 * connections, so two snapshots can differ. */
static struct snapshot *
snap(int clients)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snap_process p10 = { .pid = 10, .ppid = 1, .start_time = 1000,
	    .user = "u", .name = "postgres", .exe = "/usr/bin/postgres",
	    .cmdline = "postgres --password=hunter2" };
	struct snap_process p20 = { .pid = 20, .ppid = 1, .start_time = 2000,
	    .user = "u", .name = "app", .exe = "/usr/bin/app",
	    .cmdline = "app" };
	struct snap_socket s;
	struct snapshot *out;

	assert_non_null(b);
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux",
	    1700000000000, true), 0);
	assert_int_equal(snapshot_builder_add_process(b, &p10), 0);
	assert_int_equal(snapshot_builder_add_process(b, &p20), 0);
	memset(&s, 0, sizeof(s));
	s.proto = SNAP_PROTO_TCP;
	s.family = 4;
	assert_int_equal(snap_addr_parse("127.0.0.1", &s.local), 0);
	s.state = SNAP_STATE_LISTEN;
	s.pid = 10;
	s.local_port = 5432;
	s.remote.family = 4;
	assert_int_equal(snapshot_builder_add_socket(b, &s), 0);
	for (int i = 0; i < clients; i++) {
		s.state = SNAP_STATE_ESTABLISHED;
		assert_int_equal(snap_addr_parse("127.0.0.1", &s.remote), 0);
		s.pid = 20;
		s.local_port = (uint16_t)(40000 + i);
		s.remote_port = 5432;
		assert_int_equal(snapshot_builder_add_socket(b, &s), 0);
		s.pid = 10;
		s.local_port = 5432;
		s.remote_port = (uint16_t)(40000 + i);
		assert_int_equal(snapshot_builder_add_socket(b, &s), 0);
	}
	assert_int_equal(snapshot_builder_finish(b, &out), 0);
	return out;
}

static json_t *
parse(const struct state_buf *b)
{
	json_error_t err;
	json_t *j;

	assert_non_null(b);
	assert_int_equal(strlen(b->data), b->len);
	j = json_loadb(b->data, b->len, 0, &err);
	if (j == NULL)
		fail_msg("bad JSON: %s", err.text);
	return j;
}

static struct state *
new_state(const char *rules_path, struct rules *rules)
{
	struct state_config c;
	struct state *st;

	memset(&c, 0, sizeof(c));
	c.json.cmdline = REDACT_REDACTED;
	c.rules_path = rules_path;
	c.rules = rules;
	c.on_publish = on_publish;
	assert_int_equal(state_new(&c, &st), 0);
	return st;
}

static void
test_pipeline(void **unused)
{
	struct state *st = new_state(NULL, NULL);
	struct state_view v, old;
	struct snapshot *s;
	json_t *g, *full, *delta;

	(void)unused;
	publishes = 0;
	state_get(st, &v);
	assert_int_equal(v.seq, 0);
	assert_null(v.graph);
	assert_null(v.full);
	assert_non_null(v.status);	/* the collector state exists from the start */
	state_view_release(&v);

	s = snap(1);
	state_on_snapshot(s, st);
	snapshot_unref(s);	/* the state keeps its own reference */
	assert_int_equal(publishes, 1);
	state_get(st, &old);
	assert_int_equal(old.seq, 1);
	g = parse(old.graph);
	full = parse(old.full);
	delta = parse(old.delta);
	assert_string_equal(json_string_value(json_object_get(full, "type")),
	    "full");
	assert_int_equal(json_integer_value(json_object_get(full, "seq")), 1);
	/* the full message carries exactly the served graph */
	assert_true(json_equal(json_object_get(full, "graph"), g));
	assert_int_equal(json_array_size(json_object_get(g, "nodes")), 2);
	assert_int_equal(json_array_size(json_object_get(g, "edges")), 1);
	assert_null(strstr(old.graph->data, "hunter2"));	/* redacted */
	assert_int_equal(json_integer_value(json_object_get(delta, "seq")), 1);
	json_decref(g);
	json_decref(full);
	json_decref(delta);

	s = snap(3);
	state_on_snapshot(s, st);
	snapshot_unref(s);
	assert_int_equal(publishes, 2);
	state_get(st, &v);
	assert_int_equal(v.seq, 2);
	delta = parse(v.delta);
	assert_string_equal(json_string_value(json_object_get(delta, "type")),
	    "delta");
	assert_int_equal(json_integer_value(json_object_get(delta, "seq")), 2);
	/* the edge's count changed: one update, nothing added or removed */
	json_t *edges = json_object_get(delta, "edges");
	assert_int_equal(json_array_size(json_object_get(edges, "update")), 1);
	assert_int_equal(json_array_size(json_object_get(edges, "add")), 0);
	json_decref(delta);
	/* a reader's old references stay valid after the next sample */
	g = parse(old.graph);
	json_decref(g);
	state_view_release(&old);
	state_view_release(&v);
	state_free(st);
}

static void
test_collector_status(void **unused)
{
	struct state *st = new_state(NULL, NULL);
	struct state_view v;
	struct stream_stats ss;
	json_t *j;
	char *text;
	size_t len;

	(void)unused;
	publishes = 0;
	state_on_collector(SUBSCRIBER_DOWN, "connect x: refused", st);
	assert_int_equal(publishes, 1);
	state_get(st, &v);
	assert_int_equal(v.status_seq, 1);
	j = parse(v.status);
	assert_string_equal(json_string_value(json_object_get(j, "type")),
	    "status");
	assert_string_equal(json_string_value(json_object_get(j, "collector")),
	    "down");
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	    "connect x: refused");
	json_decref(j);
	state_view_release(&v);

	/* connected clears the old error */
	state_on_collector(SUBSCRIBER_CONNECTED, "stale", st);
	state_get(st, &v);
	assert_int_equal(v.status_seq, 2);
	j = parse(v.status);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "");
	json_decref(j);
	state_view_release(&v);

	/* an OS error text that is not UTF-8 (a path in another charset):
	 * the message still parses, the bad bytes as U+FFFD */
	state_on_collector(SUBSCRIBER_DOWN, "open /run/caf\xE9: \xFF", st);
	state_get(st, &v);
	j = parse(v.status);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	    "open /run/caf\xEF\xBF\xBD: \xEF\xBF\xBD");
	json_decref(j);
	state_view_release(&v);
	memset(&ss, 0, sizeof(ss));
	text = state_status_json(st, NULL, &ss, &len);
	assert_non_null(text);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "collector"), "error")),
	    "open /run/caf\xEF\xBF\xBD: \xEF\xBF\xBD");
	json_decref(j);
	free(text);
	state_on_collector(SUBSCRIBER_CONNECTED, NULL, st);

	memset(&ss, 0, sizeof(ss));
	ss.clients = 3;
	ss.resyncs = 7;
	text = state_status_json(st, NULL, &ss, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "collector"), "state")), "connected");
	assert_true(json_is_null(json_object_get(json_object_get(j, "sample"),
	    "age_ms")));
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(j, "stream"), "resyncs")), 7);
	assert_true(json_is_null(json_object_get(json_object_get(j, "rules"),
	    "file")));
	json_decref(j);
	free(text);
	state_free(st);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *
node_label(const struct state_buf *b, int pid)
{
	static char label[128];
	json_t *g = parse(b), *n;
	size_t i;

	label[0] = '\0';
	json_array_foreach(json_object_get(g, "nodes"), i, n)
		if (json_integer_value(json_object_get(n, "pid")) == pid)
			snprintf(label, sizeof(label), "%s", json_string_value(
			    json_object_get(n, "label")));
	json_decref(g);
	return label;
}

static void
test_rules_reload(void **unused)
{
	char path[1024], err[1200];
	const char *dir = getenv("PROCNET_BUILD_ROOT");
	struct rules *r = NULL;
	struct rules_error rerr;
	struct state *st;
	struct state_view v;
	struct snapshot *s;
	char *text;
	json_t *j;

	(void)unused;
	/* Portable to the Windows build: a file in the build tree, no
	 * temporary directory. */
	snprintf(path, sizeof(path), "%s/test_state.%d.rules.yaml",
	    dir != NULL ? dir : ".", (int)getpid());
	write_file(path, "- match_name: postgres\n  type: database\n"
	    "  label: DB one\n");
	assert_int_equal(rules_load(path, &r, &rerr), 0);
	st = new_state(path, r);
	s = snap(1);
	state_on_snapshot(s, st);
	snapshot_unref(s);
	state_get(st, &v);
	assert_string_equal(node_label(v.graph, 10), "DB one");
	state_view_release(&v);

	/* unchanged file: nothing to do */
	assert_int_equal(state_check_rules(st, false, err, sizeof(err)), 0);

	/* a bad file: old rules stay, error reported with its position */
	write_file(path, "- match_name: postgres\n  label: no type at all\n");
	assert_true(state_check_rules(st, true, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "rules.yaml:"));
	state_get(st, &v);
	assert_string_equal(node_label(v.graph, 10), "DB one");
	j = parse(v.status);
	assert_non_null(json_object_get(j, "rules_error"));
	json_decref(j);
	state_view_release(&v);
	text = state_status_json(st, NULL, NULL, NULL);
	j = json_loads(text, 0, NULL);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(j, "rules"), "error")), "rules.yaml:"));
	json_decref(j);
	free(text);

	/* fixed: reloaded, and the graph is rebuilt at once (a new seq) */
	write_file(path, "- match_name: postgres\n  type: database\n"
	    "  label: DB two\n");
	assert_int_equal(state_check_rules(st, true, err, sizeof(err)), 1);
	state_get(st, &v);
	assert_int_equal(v.seq, 2);
	assert_string_equal(node_label(v.graph, 10), "DB two");
	state_view_release(&v);
	text = state_status_json(st, NULL, NULL, NULL);
	j = json_loads(text, 0, NULL);
	assert_true(json_is_null(json_object_get(json_object_get(j, "rules"),
	    "error")));
	json_decref(j);
	free(text);

	/* the file vanishes: an error, the rules in force stay */
	remove(path);
	assert_true(state_check_rules(st, false, err, sizeof(err)) < 0);
	/* and a missing file is not retried every poll */
	assert_int_equal(state_check_rules(st, false, err, sizeof(err)), 0);
	state_get(st, &v);
	assert_string_equal(node_label(v.graph, 10), "DB two");
	state_view_release(&v);

	state_free(st);
}

static void
test_buf(void **unused)
{
	struct state_buf *b = state_buf_new("abc", 3);

	(void)unused;
	assert_non_null(b);
	assert_int_equal(b->len, 3);
	assert_string_equal(b->data, "abc");
	assert_ptr_equal(state_buf_ref(b), b);
	state_buf_unref(b);
	state_buf_unref(b);
	state_buf_unref(NULL);
	assert_null(state_buf_ref(NULL));
	b = state_buf_new(NULL, 0);
	assert_non_null(b);
	assert_string_equal(b->data, "");
	state_buf_unref(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_pipeline),
		cmocka_unit_test(test_collector_status),
		cmocka_unit_test(test_rules_reload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
