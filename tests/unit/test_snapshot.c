/* The snapshot model: builder, freezing, lookup, refcounts, address text,
 * argv copies and caps, connection events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

static void
test_build_and_find(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;
	int32_t pids[] = { 30, 10, 20, 10 };

	assert_non_null(b);
	assert_int_equal(snapshot_builder_set_meta(b, "host1", "linux", 1234, true), 0);
	for (size_t i = 0; i < 4; i++) {
		struct snap_process p = { .pid = pids[i], .ppid = 1,
		    .start_time = 100 + i, .name = "n", .cmdline = NULL };
		assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	}
	struct snap_socket sk = { .proto = SNAP_PROTO_TCP, .state = SNAP_STATE_LISTEN,
	    .family = 4, .local = { .family = 4 }, .local_port = 80, .pid = 10 };
	assert_int_equal(snapshot_builder_add_socket(b, &sk), 0);
	sk.owner = SNAP_OWNER_KERNEL;
	assert_int_equal(snapshot_builder_add_socket(b, &sk), 0);
	sk.state = SNAP_STATE_MAX;
	assert_int_equal(snapshot_builder_add_socket(b, &sk), -EINVAL);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);

	assert_string_equal(s->host, "host1");
	assert_int_equal(s->n_processes, 3);	/* duplicate pid 10 kept once */
	assert_int_equal(s->processes[0].pid, 10);
	assert_int_equal(s->processes[2].pid, 30);
	assert_string_equal(s->processes[0].cmdline, "");
	assert_non_null(snapshot_find_process(s, 20));
	assert_null(snapshot_find_process(s, 21));
	assert_int_equal(s->n_sockets, 2);
	assert_int_equal(s->sockets[1].pid, -1);	/* unknown owner has no pid */

	snapshot_ref(s);
	snapshot_unref(s);
	assert_string_equal(s->host, "host1");
	snapshot_unref(s);
	snapshot_unref(NULL);
}

static void
test_long_string_truncated_on_utf8_boundary(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s;
	size_t n = SNAP_MAX_STRING + 10;
	char *big = malloc(n + 1);

	/* "é" is two bytes; an odd cut would split one. */
	for (size_t i = 0; i + 1 < n; i += 2) {
		big[i] = (char)0xC3;
		big[i + 1] = (char)0xA9;
	}
	big[n] = '\0';
	struct snap_process p = { .pid = 1, .cmdline = big + 1 };
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	size_t len = strlen(s->processes[0].cmdline);
	assert_true(len < SNAP_MAX_STRING);
	assert_true(((unsigned char)s->processes[0].cmdline[len - 1] & 0xC0) == 0x80 ||
	    (unsigned char)s->processes[0].cmdline[len - 1] < 0x80);
	snapshot_unref(s);
	free(big);
}

/* argv is copied (the caller's strings may go), boundaries kept, cmdline
 * derived from it; NULL elements become "". */
static void
test_argv_copied_and_joined(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;
	char *a0 = strdup("mysql"), *a1 = strdup("--password"),
	    *a2 = strdup("two words");
	const char *argv[] = { a0, a1, a2, "", NULL, "x" };
	struct snap_process p = { .pid = 5, .argc = 6, .argv = argv,
	    .cmdline = "not this" };
	const struct snap_process *q;

	(void)state;
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	free(a0);
	free(a1);
	memset(a2, 'z', strlen(a2));
	free(a2);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	q = &s->processes[0];
	assert_int_equal(q->argc, 6);
	assert_string_equal(q->argv[0], "mysql");
	assert_string_equal(q->argv[2], "two words");
	assert_string_equal(q->argv[3], "");
	assert_string_equal(q->argv[4], "");
	assert_string_equal(q->argv[5], "x");
	assert_string_equal(q->cmdline, "mysql --password two words   x");
	/* the new fields default to empty */
	assert_string_equal(q->service, "");
	assert_string_equal(q->container_runtime, "");
	assert_int_equal(q->flags, 0);
	snapshot_unref(s);
}

/* At most SNAP_MAX_ARGC arguments, and at most SNAP_MAX_ARGV_BYTES with
 * their separators: the last one kept is cut at a UTF-8 boundary, later
 * ones dropped, so the joined cmdline fits SNAP_MAX_STRING. */
static void
test_argv_caps(void **state)
{
	size_t many = SNAP_MAX_ARGC + 10, big = 20000;
	const char **argv = calloc(many, sizeof(*argv));
	char *e = malloc(big + 1);
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;
	struct snap_process p = { .pid = 1, .argv = argv };

	(void)state;
	for (size_t i = 0; i < many; i++)
		argv[i] = "a";
	p.argc = (uint32_t)many;
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	/* "\xc3\xa9" repeated: a cut must not split one */
	for (size_t i = 0; i < big; i += 2)
		memcpy(e + i, "\xc3\xa9", 2);
	e[big] = '\0';
	argv[0] = "x";
	argv[1] = e;
	argv[2] = e;
	argv[3] = "dropped";
	p.pid = 2;
	p.argc = 4;
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);

	assert_int_equal(s->processes[0].argc, SNAP_MAX_ARGC);
	assert_int_equal(strlen(s->processes[0].cmdline),
	    2 * SNAP_MAX_ARGC - 1);
	assert_int_equal(s->processes[1].argc, 3);
	assert_int_equal(strlen(s->processes[1].argv[1]), big);
	/* 32768 - 1 - 1 - 20000 - 1 = 12765, down to an even count */
	assert_int_equal(strlen(s->processes[1].argv[2]), 12764);
	assert_true(strlen(s->processes[1].cmdline) <= SNAP_MAX_ARGV_BYTES);
	assert_int_equal(strlen(s->processes[1].cmdline),
	    1 + 1 + big + 1 + 12764);
	snapshot_unref(s);
	free(argv);
	free(e);
}

static void
test_process_rejects(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snap_process p = { .pid = 1, .flags = 2 };

	(void)state;
	assert_int_equal(snapshot_builder_add_process(b, &p), -EINVAL);
	p.flags = SNAP_PROC_EXITED;
	p.argc = 1;		/* and no argv */
	assert_int_equal(snapshot_builder_add_process(b, &p), -EINVAL);
	p.argc = 0;
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	snapshot_builder_free(b);
}

/* Connection events: enums checked, pid -1 for unknown owners, address
 * families set from the connection's; TCP info zero unless has_info. */
static void
test_conns_and_info(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;
	struct snap_conn c = { .proto = SNAP_PROTO_TCP, .family = 6,
	    .role = SNAP_ROLE_ACCEPT, .owner = SNAP_OWNER_KNOWN, .pid = 3,
	    .open_ms = 10 };
	struct snap_conn_agg a = { .proto = SNAP_PROTO_UDP, .client_pid = -1,
	    .server_pid = -1, .opened = 9 };
	struct snap_socket k = { .proto = SNAP_PROTO_TCP, .family = 4,
	    .local = { .family = 4 }, .pid = 3, .bytes_sent = 5, .rtt_us = 6 };

	(void)state;
	assert_int_equal(snapshot_builder_add_conn(b, &c), 0);
	c.owner = SNAP_OWNER_KERNEL;
	assert_int_equal(snapshot_builder_add_conn(b, &c), 0);
	c.owner = SNAP_OWNER_KNOWN;
	c.pid = -1;
	assert_int_equal(snapshot_builder_add_conn(b, &c), -EINVAL);
	c.pid = 3;
	c.role = SNAP_ROLE_MAX;
	assert_int_equal(snapshot_builder_add_conn(b, &c), -EINVAL);
	c.role = SNAP_ROLE_CONNECT;
	c.family = 5;
	assert_int_equal(snapshot_builder_add_conn(b, &c), -EINVAL);
	c.family = 4;
	c.owner = SNAP_OWNER_MAX;
	assert_int_equal(snapshot_builder_add_conn(b, &c), -EINVAL);
	assert_int_equal(snapshot_builder_add_conn_agg(b, &a), 0);
	a.server_pid = -2;
	assert_int_equal(snapshot_builder_add_conn_agg(b, &a), -EINVAL);
	a.server_pid = 1;
	a.proto = SNAP_PROTO_MAX;
	assert_int_equal(snapshot_builder_add_conn_agg(b, &a), -EINVAL);
	assert_int_equal(snapshot_builder_add_socket(b, &k), 0);
	k.has_info = 1;
	assert_int_equal(snapshot_builder_add_socket(b, &k), 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);

	assert_string_equal(s->events_source, "none");
	assert_string_equal(s->events_reason, "");
	assert_int_equal(s->n_conns, 2);
	assert_int_equal(s->conns[0].pid, 3);
	assert_int_equal(s->conns[0].local.family, 6);
	assert_int_equal(s->conns[0].remote.family, 6);
	assert_int_equal(s->conns[1].pid, -1);
	assert_int_equal(s->n_conn_aggs, 1);
	assert_int_equal(s->conn_aggs[0].opened, 9);
	assert_int_equal(s->sockets[0].bytes_sent, 0);
	assert_int_equal(s->sockets[0].rtt_us, 0);
	assert_int_equal(s->sockets[1].bytes_sent, 5);
	assert_int_equal(s->sockets[1].rtt_us, 6);
	snapshot_unref(s);

	b = snapshot_builder_new();
	assert_int_equal(snapshot_builder_set_events(b, "ebpf", NULL, 12), 0);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_string_equal(s->events_source, "ebpf");
	assert_string_equal(s->events_reason, "");
	assert_int_equal(s->events_lost, 12);
	assert_null(s->conns);
	snapshot_unref(s);
}

static void
test_names(void **state)
{
	assert_string_equal(snap_proto_name(SNAP_PROTO_UDP), "udp");
	assert_string_equal(snap_state_name(SNAP_STATE_SYN_RECV), "SYN_RECV");
	assert_string_equal(snap_state_name(SNAP_STATE_NONE), "");
	assert_null(snap_state_name(SNAP_STATE_MAX));
	assert_int_equal(snap_state_from_name("LISTEN"), SNAP_STATE_LISTEN);
	assert_int_equal(snap_state_from_name("NOPE"), -1);
	assert_string_equal(snap_owner_name(SNAP_OWNER_OTHER_NETNS), "other-netns");
}

/* Our formatter must print exactly what glibc's inet_ntop prints. */
static void
test_addr_format_matches_inet_ntop(void **state)
{
	static const char *const cases[] = {
		"::", "::1", "1::", "::ffff:127.0.0.1", "::127.0.0.2", "fe80::1",
		"2001:db8::1:0:0:1", "2001:db8:0:0:1::1", "1:2:3:4:5:6:7:8",
		"1:0:0:2:0:0:0:3", "::ffff:0:1.2.3.4", "0:0:0:0:0:1:0:0",
		"fe80::ffff:1.2.3.4", "::0.0.0.2", "1:2:3:4:5:6:0:0", "0:1::",
	};
	char ours[SNAP_ADDRSTRLEN], theirs[INET6_ADDRSTRLEN];
	unsigned seed = 12345;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snap_addr a = { .family = 6 };

		assert_int_equal(inet_pton(AF_INET6, cases[i], a.bytes), 1);
		inet_ntop(AF_INET6, a.bytes, theirs, sizeof(theirs));
		assert_string_equal(snap_addr_format(&a, ours), theirs);
		struct snap_addr back;
		assert_int_equal(snap_addr_parse(ours, &back), 0);
		assert_memory_equal(back.bytes, a.bytes, 16);
	}
	/* Random words with many zeros exercise the compression choice. */
	for (int i = 0; i < 20000; i++) {
		struct snap_addr a = { .family = 6 }, back;

		for (int j = 0; j < 8; j++) {
			seed = seed * 1103515245u + 12345u;
			unsigned v = (seed >> 16) % 4 == 0 ? (seed >> 8) & 0xffff : 0;
			a.bytes[2 * j] = (uint8_t)(v >> 8);
			a.bytes[2 * j + 1] = (uint8_t)v;
		}
		inet_ntop(AF_INET6, a.bytes, theirs, sizeof(theirs));
		assert_string_equal(snap_addr_format(&a, ours), theirs);
		assert_int_equal(snap_addr_parse(ours, &back), 0);
		assert_memory_equal(back.bytes, a.bytes, 16);
	}
	struct snap_addr v4 = { .family = 4, .bytes = { 10, 0, 0, 255 } };
	assert_string_equal(snap_addr_format(&v4, ours), "10.0.0.255");
}

static void
test_addr_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", ":::", "1:::2",
		"1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::", "1:", ":1",
		"::1.2.3", "1:2:3:4:5:6:7::8:9",
	};
	struct snap_addr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(snap_addr_parse(bad[i], &a), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_and_find),
		cmocka_unit_test(test_long_string_truncated_on_utf8_boundary),
		cmocka_unit_test(test_argv_copied_and_joined),
		cmocka_unit_test(test_argv_caps),
		cmocka_unit_test(test_process_rejects),
		cmocka_unit_test(test_conns_and_info),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_addr_format_matches_inet_ntop),
		cmocka_unit_test(test_addr_parse_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
