/*
 * snapshot_json: the exact text for a small snapshot (the contract of
 * docs/snapshot-json.md), string escaping, and a large snapshot read back
 * with jansson.
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

#include "snapshot.h"
#include "snapshot_json.h"

static struct snapshot *
small_snapshot(void)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;
	struct snap_process p;
	struct snap_socket k;

	assert_non_null(b);
	assert_int_equal(snapshot_builder_set_meta(b, "box", "linux",
	    1764230000123LL, true), 0);
	memset(&p, 0, sizeof(p));
	p.pid = 42;
	p.ppid = 1;
	p.start_time = 1764229000000ULL;
	p.user = "root";
	p.name = "nginx";
	p.exe = "/usr/sbin/nginx";
	p.cmdline = "nginx: master \"process\"";
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);

	memset(&k, 0, sizeof(k));
	k.proto = SNAP_PROTO_TCP;
	k.family = 4;
	k.state = SNAP_STATE_LISTEN;
	k.owner = SNAP_OWNER_KNOWN;
	k.pid = 42;
	assert_int_equal(snap_addr_parse("0.0.0.0", &k.local), 0);
	assert_int_equal(snap_addr_parse("0.0.0.0", &k.remote), 0);
	k.local_port = 80;
	assert_int_equal(snapshot_builder_add_socket(b, &k), 0);

	memset(&k, 0, sizeof(k));
	k.proto = SNAP_PROTO_UDP;
	k.family = 6;
	k.state = SNAP_STATE_NONE;
	k.owner = SNAP_OWNER_NO_PRIVILEGE;
	k.pid = -1;
	assert_int_equal(snap_addr_parse("::1", &k.local), 0);
	assert_int_equal(snap_addr_parse("fe80::1", &k.remote), 0);
	k.local_port = 53;
	k.remote_port = 5353;
	assert_int_equal(snapshot_builder_add_socket(b, &k), 0);

	k.proto = SNAP_PROTO_TCP;
	k.state = SNAP_STATE_TIME_WAIT;
	k.owner = SNAP_OWNER_KERNEL;
	assert_int_equal(snapshot_builder_add_socket(b, &k), 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	return s;
}

static void
test_exact(void **state)
{
	struct snapshot *s = small_snapshot();
	char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(snapshot_json(s, &out, &len), 0);
	assert_string_equal(out,
	    "{\"version\":2,\"host\":\"box\",\"os\":\"linux\","
	    "\"time\":1764230000,\"privileged\":true,"
	    "\"processes\":[{\"pid\":42,\"ppid\":1,"
	    "\"start_time\":1764229000000,\"user\":\"root\",\"name\":\"nginx\","
	    "\"exe\":\"/usr/sbin/nginx\","
	    "\"cmdline\":\"nginx: master \\\"process\\\"\",\"argv\":[],"
	    "\"netns\":0,\"service\":\"\",\"exited\":false}],"
	    "\"sockets\":["
	    "{\"proto\":\"tcp\",\"family\":4,\"local_addr\":\"0.0.0.0\","
	    "\"local_port\":80,\"remote_addr\":\"0.0.0.0\",\"remote_port\":0,"
	    "\"state\":\"LISTEN\",\"pid\":42,\"netns\":0,\"cookie\":0},"
	    "{\"proto\":\"udp\",\"family\":6,\"local_addr\":\"::1\","
	    "\"local_port\":53,\"remote_addr\":\"fe80::1\","
	    "\"remote_port\":5353,\"state\":\"\",\"pid\":null,"
	    "\"owner_unknown\":\"no-privilege\",\"netns\":0,\"cookie\":0},"
	    "{\"proto\":\"tcp\",\"family\":6,\"local_addr\":\"::1\","
	    "\"local_port\":53,\"remote_addr\":\"fe80::1\","
	    "\"remote_port\":5353,\"state\":\"TIME_WAIT\",\"pid\":null,"
	    "\"owner_unknown\":\"kernel\",\"netns\":0,\"cookie\":0}],"
	    "\"events\":{\"source\":\"none\",\"reason\":\"\",\"lost\":0,"
	    "\"conns\":[],\"aggregated\":[]}}\n");
	assert_int_equal(len, strlen(out));
	free(out);
	snapshot_unref(s);
}

/* Every protocol v2 field, exactly: argv (a boundary inside an argument
 * survives), details, container, exited, TCP info (only when has_info),
 * connection events and aggregates, with unknown pids as null. */
static void
test_exact_v2(void **state)
{
	static const char *const argv[] = { "psql", "-c", "select 1", "" };
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;
	struct snap_process p;
	struct snap_socket k;
	struct snap_conn c;
	struct snap_conn_agg a = { .proto = SNAP_PROTO_TCP, .client_pid = -1,
	    .server_pid = 7, .server_port = 5432, .opened = 3, .closed = 2,
	    .bytes_sent = 10, .bytes_received = 20 };
	char *out = NULL;

	(void)state;
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux", 5000,
	    false), 0);
	assert_int_equal(snapshot_builder_set_events(b, "sock_diag-destroy",
	    "no BPF", 4), 0);
	memset(&p, 0, sizeof(p));
	p.pid = 7;
	p.argc = 4;
	p.argv = argv;
	p.cmdline = "ignored: derived from argv";
	p.netns = 4026531840ULL;
	p.service = "postgresql@15-main.service";
	p.container_runtime = "docker";
	p.container_id = "abc";
	p.flags = SNAP_PROC_EXITED;
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	memset(&k, 0, sizeof(k));
	k.proto = SNAP_PROTO_TCP;
	k.family = 4;
	k.state = SNAP_STATE_ESTABLISHED;
	k.pid = 7;
	assert_int_equal(snap_addr_parse("127.0.0.1", &k.local), 0);
	assert_int_equal(snap_addr_parse("127.0.0.2", &k.remote), 0);
	k.local_port = 5432;
	k.remote_port = 40000;
	k.netns = 9;
	k.cookie = 77;
	k.has_info = 1;
	k.bytes_sent = 1;
	k.bytes_received = 2;
	k.rtt_us = 3;
	k.retrans = 4;
	assert_int_equal(snapshot_builder_add_socket(b, &k), 0);
	memset(&c, 0, sizeof(c));
	c.proto = SNAP_PROTO_TCP;
	c.family = 6;
	c.role = SNAP_ROLE_CONNECT;
	c.owner = SNAP_OWNER_EXITED;
	c.pid = 99;		/* stored as -1: the owner is not known */
	assert_int_equal(snap_addr_parse("::1", &c.local), 0);
	assert_int_equal(snap_addr_parse("::2", &c.remote), 0);
	c.local_port = 1;
	c.remote_port = 2;
	c.start_time = 3;
	c.netns = 4;
	c.cookie = 5;
	c.open_ms = 6;
	c.close_ms = -7;
	c.bytes_sent = 8;
	c.bytes_received = 9;
	assert_int_equal(snapshot_builder_add_conn(b, &c), 0);
	assert_int_equal(snapshot_builder_add_conn_agg(b, &a), 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(snapshot_json(s, &out, NULL), 0);
	assert_string_equal(out,
	    "{\"version\":2,\"host\":\"h\",\"os\":\"linux\",\"time\":5,"
	    "\"privileged\":false,\"processes\":[{\"pid\":7,\"ppid\":0,"
	    "\"start_time\":0,\"user\":\"\",\"name\":\"\",\"exe\":\"\","
	    "\"cmdline\":\"psql -c select 1 \","
	    "\"argv\":[\"psql\",\"-c\",\"select 1\",\"\"],"
	    "\"netns\":4026531840,\"service\":\"postgresql@15-main.service\","
	    "\"container\":{\"runtime\":\"docker\",\"id\":\"abc\",\"name\":\"\"},"
	    "\"exited\":true}],"
	    "\"sockets\":[{\"proto\":\"tcp\",\"family\":4,"
	    "\"local_addr\":\"127.0.0.1\",\"local_port\":5432,"
	    "\"remote_addr\":\"127.0.0.2\",\"remote_port\":40000,"
	    "\"state\":\"ESTABLISHED\",\"pid\":7,\"netns\":9,\"cookie\":77,"
	    "\"bytes_sent\":1,\"bytes_received\":2,\"rtt_us\":3,"
	    "\"retrans\":4}],"
	    "\"events\":{\"source\":\"sock_diag-destroy\",\"reason\":\"no BPF\","
	    "\"lost\":4,\"conns\":[{\"proto\":\"tcp\",\"family\":6,"
	    "\"role\":\"connect\",\"local_addr\":\"::1\",\"local_port\":1,"
	    "\"remote_addr\":\"::2\",\"remote_port\":2,\"pid\":null,"
	    "\"owner_unknown\":\"exited\",\"start_time\":3,\"netns\":4,"
	    "\"cookie\":5,\"open_ms\":6,\"close_ms\":-7,\"bytes_sent\":8,"
	    "\"bytes_received\":9}],"
	    "\"aggregated\":[{\"proto\":\"tcp\",\"client_pid\":null,"
	    "\"server_pid\":7,\"server_port\":5432,\"opened\":3,\"closed\":2,"
	    "\"bytes_sent\":10,\"bytes_received\":20}]}}\n");
	free(out);
	snapshot_unref(s);
}

static void
check_escape(const char *in, const char *want)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;

	assert_int_equal(snapshot_json_string(&buf, &len, &cap, in), 0);
	assert_int_equal(len, strlen(want));
	if (memcmp(buf, want, len) != 0)
		fail_msg("escaped %.*s, want %s", (int)len, buf, want);
	free(buf);
}

static void
test_escaping(void **state)
{
	(void)state;
	check_escape("", "\"\"");
	check_escape("plain", "\"plain\"");
	check_escape("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_escape("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	check_escape("\x01\x1f", "\"\\u0001\\u001f\"");
	check_escape("\x7f", "\"\x7f\"");	/* DEL is legal JSON */
	check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Not UTF-8: each bad byte becomes U+FFFD. */
	check_escape("a\xff" "b", "\"a\xef\xbf\xbd" "b\"");
	check_escape("\xc3", "\"\xef\xbf\xbd\"");		/* cut short */
	check_escape("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"");	/* overlong */
	check_escape("\xed\xa0\x80",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");	/* surrogate */
	check_escape("\xf4\x90\x80\x80",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void
test_large_roundtrip(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;
	struct snap_process p;
	struct snap_socket k;
	json_error_t err;
	json_t *doc, *socks, *procs;
	char *out;
	size_t len, i;
	const size_t n = 100000;

	(void)state;
	assert_int_equal(snapshot_builder_set_meta(b, "h\"ost", "linux", 5000,
	    false), 0);
	memset(&p, 0, sizeof(p));
	for (i = 0; i < 100; i++) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "worker \x01%zu\xff", i);
		p.pid = (int32_t)(1000 + i);
		p.ppid = 1;
		p.start_time = 1000 * i;
		p.user = "u";
		p.name = "w";
		p.exe = "";
		p.cmdline = cmd;
		assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	}
	for (i = 0; i < n; i++) {
		memset(&k, 0, sizeof(k));
		k.proto = SNAP_PROTO_TCP;
		k.family = i % 10 ? 4 : 6;
		k.state = SNAP_STATE_ESTABLISHED;
		assert_int_equal(snap_addr_parse(k.family == 4 ? "127.0.0.1" :
		    "::1", &k.local), 0);
		k.remote = k.local;
		k.local_port = (uint16_t)(i % 65535 + 1);
		k.remote_port = 5432;
		k.owner = i % 7 ? SNAP_OWNER_KNOWN : SNAP_OWNER_EXITED;
		k.pid = k.owner == SNAP_OWNER_KNOWN ? (int32_t)(1000 + i % 100) :
		    -1;
		assert_int_equal(snapshot_builder_add_socket(b, &k), 0);
	}
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(snapshot_json(s, &out, &len), 0);
	doc = json_loadb(out, len, 0, &err);
	if (doc == NULL)
		fail_msg("invalid JSON: %s at %d", err.text, err.position);
	assert_string_equal(json_string_value(json_object_get(doc, "host")),
	    "h\"ost");
	assert_int_equal(json_integer_value(json_object_get(doc, "time")), 5);
	assert_true(json_is_false(json_object_get(doc, "privileged")));
	procs = json_object_get(doc, "processes");
	socks = json_object_get(doc, "sockets");
	assert_int_equal(json_array_size(procs), 100);
	assert_int_equal(json_array_size(socks), n);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(procs, 7), "cmdline")), "worker \x01" "7\xef\xbf\xbd");
	for (i = 0; i < n; i += 997) {
		json_t *o = json_array_get(socks, i);

		assert_int_equal(json_integer_value(json_object_get(o,
		    "local_port")), i % 65535 + 1);
		if (i % 7) {
			assert_int_equal(json_integer_value(json_object_get(o,
			    "pid")), 1000 + i % 100);
			assert_null(json_object_get(o, "owner_unknown"));
		} else {
			assert_true(json_is_null(json_object_get(o, "pid")));
			assert_string_equal(json_string_value(json_object_get(o,
			    "owner_unknown")), "exited");
		}
		assert_string_equal(json_string_value(json_object_get(o,
		    "local_addr")), i % 10 ? "127.0.0.1" : "::1");
	}
	json_decref(doc);
	free(out);
	snapshot_unref(s);
}

struct sink {
	char *buf;
	size_t len, calls, fail_at;	/* fail_at: 0 never, else that call */
};

static int
sink_collect(void *arg, const char *buf, size_t len)
{
	struct sink *k = arg;

	k->calls++;
	if (k->fail_at != 0 && k->calls == k->fail_at)
		return -EPIPE;
	k->buf = realloc(k->buf, k->len + len + 1);
	assert_non_null(k->buf);
	memcpy(k->buf + k->len, buf, len);
	k->len += len;
	k->buf[k->len] = '\0';
	return 0;
}

/* Streaming gives the very same text, in pieces, and stops on a sink
 * error with that error. */
static void
test_stream(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;
	struct snap_socket k;
	struct sink sk = { NULL, 0, 0, 0 };
	char *whole;
	size_t len, i;

	(void)state;
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux", 1, true),
	    0);
	for (i = 0; i < 5000; i++) {
		memset(&k, 0, sizeof(k));
		k.proto = SNAP_PROTO_UDP;
		k.family = 4;
		k.local.family = k.remote.family = 4;
		k.local_port = (uint16_t)i;
		k.owner = SNAP_OWNER_KERNEL;
		k.pid = -1;
		assert_int_equal(snapshot_builder_add_socket(b, &k), 0);
	}
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(snapshot_json(s, &whole, &len), 0);
	assert_int_equal(snapshot_json_stream(s, sink_collect, &sk), 0);
	assert_true(sk.calls > 1);		/* ~600 KB in 64 KB pieces */
	assert_int_equal(sk.len, len);
	assert_memory_equal(sk.buf, whole, len);
	free(sk.buf);

	memset(&sk, 0, sizeof(sk));
	sk.fail_at = 2;
	assert_int_equal(snapshot_json_stream(s, sink_collect, &sk), -EPIPE);
	assert_int_equal(sk.calls, 2);
	free(sk.buf);
	free(whole);
	snapshot_unref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_exact_v2),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_large_roundtrip),
		cmocka_unit_test(test_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
