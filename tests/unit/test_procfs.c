/*
 * procfs parsers on fixture files (tests/fixtures/proc/, shaped as the
 * kernel writes them) and on every truncation of them.
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

#include "procfs.h"
#include "snapshot.h"

static char *
fixture(const char *name, size_t *len)
{
	const char *root = getenv("PROCNET_SOURCE_ROOT");
	char path[4096];
	char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/proc/%s",
	    root != NULL ? root : "..", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open fixture %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
test_stat(void **state)
{
	struct procfs_stat st;
	size_t len;
	char *b;

	(void)state;
	b = fixture("stat_cat", &len);
	assert_int_equal(procfs_parse_stat(b, len, &st), 0);
	assert_string_equal(st.comm, "cat");
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, 30194);
	assert_int_equal(st.starttime, 81388);
	free(b);

	/* comm with ')' and spaces: it ends at the last ')'. */
	b = fixture("stat_paren", &len);
	assert_int_equal(procfs_parse_stat(b, len, &st), 0);
	assert_string_equal(st.comm, "a) b (c)");
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.starttime, 123456789012ULL);
	free(b);

	/* Exactly 22 fields, no newline after the last. */
	b = fixture("stat_kthread", &len);
	assert_int_equal(procfs_parse_stat(b, len, &st), 0);
	assert_string_equal(st.comm, "kworker/0:1-events");
	assert_int_equal(st.ppid, 2);
	assert_int_equal(st.starttime, 5);
	free(b);

	b = fixture("stat_truncated", &len);
	assert_int_equal(procfs_parse_stat(b, len, &st), -EINVAL);
	free(b);
}

static void
test_stat_every_truncation(void **state)
{
	struct procfs_stat st;
	size_t len, cut, ok = 0;
	char *b, *copy;

	(void)state;
	b = fixture("stat_cat", &len);
	/* A copy of just cut bytes, so reading past it would be caught by
	 * ASan/valgrind. */
	for (cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		memcpy(copy, b, cut);
		if (procfs_parse_stat(copy, cut, &st) == 0) {
			/* Only once the starttime field is complete. */
			assert_int_equal(st.starttime, 81388);
			ok++;
		}
		free(copy);
	}
	/* Only cuts that keep "81388 " whole parse. */
	assert_int_equal(ok, len - (size_t)(strstr(b, " 81388 ") - b + 7));
	assert_int_equal(procfs_parse_stat(b, 10, &st), -EINVAL);
	free(b);
	assert_int_equal(procfs_parse_stat("1 cat) S", 8, &st), -EINVAL);
	assert_int_equal(procfs_parse_stat("1 (cat S 1", 10, &st), -EINVAL);
}

static void
test_status(void **state)
{
	size_t len;
	uid_t uid = 0;
	char *b;

	(void)state;
	b = fixture("status_self", &len);
	assert_int_equal(procfs_parse_status_uid(b, len, &uid), 0);
	assert_int_equal(uid, 1000);	/* the real uid, first of four */
	free(b);
	b = fixture("status_nouid", &len);
	assert_int_equal(procfs_parse_status_uid(b, len, &uid), -EINVAL);
	free(b);
	assert_int_equal(procfs_parse_status_uid("Uid:\t", 5, &uid), -EINVAL);
	assert_int_equal(procfs_parse_status_uid("Uid:\tx", 6, &uid), -EINVAL);
}

static void
test_btime(void **state)
{
	int64_t bt = 0;
	size_t len;
	char *b;

	(void)state;
	b = fixture("stat_global", &len);
	assert_int_equal(procfs_parse_btime(b, len, &bt), 0);
	assert_int_equal(bt, 1764230000);
	free(b);
	assert_int_equal(procfs_parse_btime("cpu 1\n", 6, &bt), -EINVAL);
}

/* Each argument of buf, NUL-ended one after another, as a check list. */
static void
assert_args(const char *buf, uint32_t argc, const char *const *want,
    uint32_t nwant)
{
	assert_int_equal(argc, nwant);
	for (uint32_t i = 0; i < argc; i++) {
		assert_string_equal(buf, want[i]);
		buf += strlen(buf) + 1;
	}
}

static void
test_cmdline(void **state)
{
	static const char *const args[] = { "/usr/bin/python3", "-c",
	    "print(1)", "--x=a b" };
	static const char *const padded[] = { "nginx: worker process" };
	static const char *const mid_want[] = { "a", "", "b" };
	size_t len, out;
	uint32_t argc;
	char *b;

	(void)state;
	b = fixture("cmdline_args", &len);
	argc = procfs_cmdline_args(b, len, &out);
	/* "--x=a b" is one argument: the boundary the joined line lost */
	assert_args(b, argc, args, 4);
	assert_int_equal(out, len - 1);
	free(b);
	/* setproctitle: one rewritten argument, then NUL padding */
	b = fixture("cmdline_padded", &len);
	argc = procfs_cmdline_args(b, len, &out);
	assert_args(b, argc, padded, 1);
	free(b);
	b = fixture("cmdline_empty", &len);
	argc = procfs_cmdline_args(b, len, &out);
	assert_int_equal(argc, 0);
	assert_int_equal(out, 0);
	assert_string_equal(b, "");
	free(b);
	{
		char mid[] = "a\0\0b\0";

		/* An empty argument in the middle is an argument. */
		argc = procfs_cmdline_args(mid, 5, &out);
		assert_args(mid, argc, mid_want, 3);
		assert_int_equal(out, 4);
	}
	{
		char nonul[] = "x y";	/* no terminator: the read was cut */

		argc = procfs_cmdline_args(nonul, 3, &out);
		assert_int_equal(argc, 1);
		assert_string_equal(nonul, "x y");
	}
}

static void
test_socket_link(void **state)
{
	static const struct {
		const char *link;
		int rc;
		uint64_t inode;
	} cases[] = {
		{ "socket:[12345]", 0, 12345 },
		{ "socket:[0]", 0, 0 },
		{ "socket:[4294967296]", 0, 4294967296ULL },
		{ "socket:[]", -EINVAL, 0 },
		{ "socket:[12", -EINVAL, 0 },
		{ "socket:[12]x", -EINVAL, 0 },
		{ "socket:[1x2]", -EINVAL, 0 },
		{ "pipe:[12345]", -EINVAL, 0 },
		{ "/dev/null", -EINVAL, 0 },
		{ "anon_inode:[eventfd]", -EINVAL, 0 },
		{ "socket:[99999999999999999999999]", -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ino = 77;
		int rc = procfs_parse_socket_link(cases[i].link,
		    strlen(cases[i].link), &ino);

		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, want %d", cases[i].link, rc,
			    cases[i].rc);
		if (rc == 0)
			assert_int_equal(ino, cases[i].inode);
	}
}

struct collected {
	struct snap_socket s[16];
	size_t n;
};

static int
collect(void *arg, const struct snap_socket *s)
{
	struct collected *c = arg;

	if (c->n == 16)
		return -E2BIG;
	c->s[c->n++] = *s;
	return 0;
}

static void
expect_sock(const struct snap_socket *s, const char *local, unsigned lport,
    const char *remote, unsigned rport, unsigned state, uint64_t inode)
{
	char a[SNAP_ADDRSTRLEN];

	assert_string_equal(snap_addr_format(&s->local, a), local);
	assert_int_equal(s->local_port, lport);
	assert_string_equal(snap_addr_format(&s->remote, a), remote);
	assert_int_equal(s->remote_port, rport);
	assert_int_equal(s->state, state);
	assert_int_equal(s->inode, inode);
	assert_int_equal(s->pid, -1);
}

static void
test_net(void **state)
{
	struct collected c;
	size_t len;
	char *b;

	(void)state;
	memset(&c, 0, sizeof(c));
	b = fixture("net_tcp", &len);
	assert_int_equal(procfs_parse_net(b, len, SNAP_PROTO_TCP, 4, collect,
	    &c), 0);
	assert_int_equal(c.n, 3);
	expect_sock(&c.s[0], "127.0.0.1", 8080, "0.0.0.0", 0,
	    SNAP_STATE_LISTEN, 1113893);
	expect_sock(&c.s[1], "127.0.0.1", 50000, "127.0.0.1", 8080,
	    SNAP_STATE_ESTABLISHED, 2234567);
	expect_sock(&c.s[2], "127.0.0.2", 54321, "127.0.0.1", 8080,
	    SNAP_STATE_TIME_WAIT, 0);
	assert_int_equal(c.s[0].family, 4);
	assert_int_equal(c.s[0].proto, SNAP_PROTO_TCP);
	free(b);

	memset(&c, 0, sizeof(c));
	b = fixture("net_tcp6", &len);
	assert_int_equal(procfs_parse_net(b, len, SNAP_PROTO_TCP, 6, collect,
	    &c), 0);
	assert_int_equal(c.n, 3);
	expect_sock(&c.s[0], "::1", 45835, "::", 0, SNAP_STATE_LISTEN,
	    1113942);
	expect_sock(&c.s[1], "::ffff:127.0.0.1", 80, "::ffff:127.0.0.2",
	    40000, SNAP_STATE_ESTABLISHED, 77);
	expect_sock(&c.s[2], "2001:db8::1", 22, "2001:db8::2", 57585,
	    SNAP_STATE_CLOSE_WAIT, 4242);
	assert_int_equal(c.s[2].family, 6);
	free(b);

	memset(&c, 0, sizeof(c));
	b = fixture("net_udp", &len);
	assert_int_equal(procfs_parse_net(b, len, SNAP_PROTO_UDP, 4, collect,
	    &c), 0);
	assert_int_equal(c.n, 2);
	expect_sock(&c.s[0], "127.0.0.1", 33124, "0.0.0.0", 0,
	    SNAP_STATE_NONE, 1121712);
	expect_sock(&c.s[1], "127.0.0.1", 53, "192.168.0.8", 53,
	    SNAP_STATE_NONE, 31337);
	assert_int_equal(c.s[1].proto, SNAP_PROTO_UDP);
	free(b);

	memset(&c, 0, sizeof(c));
	b = fixture("net_udp6", &len);
	assert_int_equal(procfs_parse_net(b, len, SNAP_PROTO_UDP, 6, collect,
	    &c), 0);
	assert_int_equal(c.n, 1);
	expect_sock(&c.s[0], "::", 547, "::", 0, SNAP_STATE_NONE, 5555);
	free(b);
}

static void
test_net_malformed(void **state)
{
	static const char *bad[] = {
		"hdr\n   0: 0100007F:1F90 00000000:0000 0A\n",	/* short */
		"hdr\n   0: 0100007G:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
		"hdr\n   0: 0100007F-1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
		"hdr\n   0: 0100007F:1F90 00000000:0000 0X 0:0 0:0 0 0 0 1\n",
		"hdr\n   0: 0100007F:1F90 00000000:0000 0C 0:0 0:0 0 0 0 1\n",
		"hdr\n   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1x\n",
		"hdr\n   0  0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
		"hdr\n   0: 100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 1\n",
	};
	struct collected c;
	size_t i, len, cut;
	char *b;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0, sizeof(c));
		if (procfs_parse_net(bad[i], strlen(bad[i]), SNAP_PROTO_TCP, 4,
		    collect, &c) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
	/* An IPv4 line is not an IPv6 one. */
	b = fixture("net_tcp", &len);
	memset(&c, 0, sizeof(c));
	assert_int_equal(procfs_parse_net(b, len, SNAP_PROTO_TCP, 6, collect,
	    &c), -EINVAL);
	/* Every truncation: a clean result or -EINVAL, never a crash, and
	 * never more sockets than the file has. */
	for (cut = 0; cut <= len; cut++) {
		char *copy = malloc(cut ? cut : 1);
		int rc;

		memcpy(copy, b, cut);
		memset(&c, 0, sizeof(c));
		rc = procfs_parse_net(copy, cut, SNAP_PROTO_TCP, 4, collect,
		    &c);
		assert_true(rc == 0 || rc == -EINVAL);
		assert_true(c.n <= 3);
		free(copy);
	}
	free(b);
	/* Header only, and empty: no sockets. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(procfs_parse_net("  sl  local\n", 12, SNAP_PROTO_UDP,
	    4, collect, &c), 0);
	assert_int_equal(procfs_parse_net("  sl  local", 11, SNAP_PROTO_UDP,
	    4, collect, &c), -EINVAL);
	assert_int_equal(procfs_parse_net("", 0, SNAP_PROTO_UDP, 4, collect,
	    &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(procfs_parse_net("", 0, SNAP_PROTO_UDP, 5, collect,
	    &c), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_stat_every_truncation),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_btime),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_socket_link),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_net_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
