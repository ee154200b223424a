/*
 * The BPF ring-buffer record parser (connrec.c): opens and closes, the
 * clock conversions (start time as /proc gives it), and every malformed
 * record refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/types.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "bpf/conn_event.h"
#include "connrec.h"

static const struct connrec_clock clk = {
	.real_minus_mono_ms = 1700000000000ll,
	.btime = 1699999000,
	.ticks = 100,
};

static struct pn_conn_event
close4(void)
{
	struct pn_conn_event e;

	memset(&e, 0, sizeof(e));
	e.kind = PN_EV_CLOSE;
	e.role = PN_ROLE_CONNECT;
	e.family = AF_INET;
	e.flags = PN_F_OWNER;
	e.lport = 40000;
	e.rport = 5432;
	e.tgid = 1234;
	e.netns = 4026531840u;
	e.start_ns = 12345678901ull;	/* 12.345 s after boot */
	e.open_ns = 5000000000ull;	/* 5 s */
	e.close_ns = 5004000000ull;
	e.cookie = 77;
	e.bytes_acked = 6;
	e.bytes_received = 1001;
	inet_pton(AF_INET, "127.0.0.1", e.laddr);
	inet_pton(AF_INET, "127.0.0.2", e.raddr);
	memcpy(e.comm, "psql", 5);
	return e;
}

static void
test_close_v4(void **state)
{
	struct pn_conn_event e = close4();
	struct conn_rec r;

	(void)state;
	assert_int_equal(connrec_parse(&e, sizeof(e), &clk, &r), 0);
	assert_int_equal(r.c.proto, SNAP_PROTO_TCP);
	assert_int_equal(r.c.family, 4);
	assert_int_equal(r.c.role, SNAP_ROLE_CONNECT);
	assert_int_equal(r.c.owner, SNAP_OWNER_KNOWN);
	assert_int_equal(r.c.pid, 1234);
	assert_int_equal(r.c.local_port, 40000);
	assert_int_equal(r.c.remote_port, 5432);
	assert_memory_equal(r.c.local.bytes, "\x7f\0\0\x01", 4);
	assert_memory_equal(r.c.remote.bytes, "\x7f\0\0\x02", 4);
	assert_int_equal(r.c.local.family, 4);
	assert_int_equal(r.c.netns, 4026531840u);
	assert_int_equal(r.c.cookie, 77);
	assert_int_equal(r.c.open_ms, 1700000005000ll);
	assert_int_equal(r.c.close_ms, 1700000005004ll);
	assert_int_equal(r.c.bytes_sent, 6);
	assert_int_equal(r.c.bytes_received, 1001);
	/* /proc: 12345678901 ns = 1234 ticks -> 12340 ms after boot */
	assert_int_equal(r.c.start_time, 1699999000000ull + 12340u);
	assert_string_equal(r.name, "psql");
	assert_true(r.closed);
	assert_true(r.opened);	/* no OPEN went out before */
}

static void
test_close_after_open(void **state)
{
	struct pn_conn_event e = close4();
	struct conn_rec r;

	(void)state;
	e.flags |= PN_F_OPEN_SENT;
	assert_int_equal(connrec_parse(&e, sizeof(e), &clk, &r), 0);
	assert_false(r.opened);
	assert_true(r.closed);
	/* opened before we were loaded: no open time, not "opened" */
	e = close4();
	e.open_ns = 0;
	assert_int_equal(connrec_parse(&e, sizeof(e), &clk, &r), 0);
	assert_false(r.opened);
	assert_int_equal(r.c.open_ms, 0);
}

static void
test_open_v6_no_owner(void **state)
{
	struct pn_conn_event e = close4();
	struct conn_rec r;

	(void)state;
	e.kind = PN_EV_OPEN;
	e.close_ns = 0;
	e.bytes_acked = e.bytes_received = 0;
	e.family = AF_INET6;
	e.role = PN_ROLE_ACCEPT;
	e.flags = 0;
	e.comm[0] = 'x';
	inet_pton(AF_INET6, "2001:db8::1", e.laddr);
	inet_pton(AF_INET6, "::1", e.raddr);
	assert_int_equal(connrec_parse(&e, sizeof(e), &clk, &r), 0);
	assert_int_equal(r.c.family, 6);
	assert_int_equal(r.c.role, SNAP_ROLE_ACCEPT);
	assert_memory_equal(r.c.local.bytes, e.laddr, 16);
	assert_memory_equal(r.c.remote.bytes, e.raddr, 16);
	assert_int_not_equal(r.c.owner, SNAP_OWNER_KNOWN);
	assert_int_equal(r.c.pid, -1);
	assert_string_equal(r.name, "");	/* no owner: comm ignored */
	assert_true(r.opened);
	assert_false(r.closed);
	assert_int_equal(r.c.close_ms, 0);
}

static void
test_comm_unterminated(void **state)
{
	struct pn_conn_event e = close4();
	struct conn_rec r;

	(void)state;
	memset(e.comm, 'a', sizeof(e.comm));
	assert_int_equal(connrec_parse(&e, sizeof(e), &clk, &r), 0);
	assert_int_equal(strlen(r.name), sizeof(r.name) - 1);
}

static void
test_malformed(void **state)
{
	struct pn_conn_event e;
	struct conn_rec r;
	unsigned char big[sizeof(e) + 8];
	int i;

	(void)state;
	e = close4();
	assert_int_equal(connrec_parse(&e, sizeof(e) - 1, &clk, &r), -EBADMSG);
	assert_int_equal(connrec_parse(&e, 0, &clk, &r), -EBADMSG);
	memset(big, 0, sizeof(big));
	memcpy(big, &e, sizeof(e));
	assert_int_equal(connrec_parse(big, sizeof(big), &clk, &r), -EBADMSG);
	for (i = 0; i < 8; i++) {
		e = close4();
		switch (i) {
		case 0: e.kind = 0; break;
		case 1: e.kind = 3; break;
		case 2: e.family = AF_UNIX; break;
		case 3: e.role = 3; break;
		case 4: e.flags = 0x80; break;
		case 5: e.close_ns = 0; break;		/* close without time */
		case 6: e.kind = PN_EV_OPEN; break;	/* open with a close time */
		case 7: e.tgid = 0; break;		/* owner pid 0 */
		}
		assert_int_equal(connrec_parse(&e, sizeof(e), &clk, &r),
		    -EBADMSG);
	}
}

static void
test_start_ms(void **state)
{
	struct connrec_clock k = clk;

	(void)state;
	assert_int_equal(connrec_start_ms(&k, 0), 1699999000000ull);
	assert_int_equal(connrec_start_ms(&k, 9999999), 1699999000000ull);
	assert_int_equal(connrec_start_ms(&k, 10000000), 1699999000010ull);
	k.ticks = 0;
	assert_int_equal(connrec_start_ms(&k, 10000000), 0);
	k.ticks = 1000;
	assert_int_equal(connrec_start_ms(&k, 1999999), 1699999000001ull);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_v4),
		cmocka_unit_test(test_close_after_open),
		cmocka_unit_test(test_open_v6_no_owner),
		cmocka_unit_test(test_comm_unterminated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_start_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
