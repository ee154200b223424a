/*
 * etw_net.c: Microsoft-Windows-Kernel-Network payloads, byte for byte as
 * the provider's manifest lays them out (version 0 of each event, the x64
 * layout with a pointer-sized connid at the end), for IPv4 and IPv6, TCP
 * and UDP.  The payloads are written out here from the manifest's field
 * list; only a Windows machine can record real ones (docs/windows.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "etw_net.h"

/* TCPv4 connect (12): PID 4242, size 0, daddr 192.0.2.10, saddr 10.1.2.3,
 * dport 443, sport 50000, mss 1460, sackopt 1, tsopt 0, wsopt 1,
 * rcvwin 65535, rcvwinscale 8, sndwinscale 8, seqnum 7, connid. */
static const unsigned char tcp4_connect[] = {
	0x92, 0x10, 0x00, 0x00,		/* PID 4242 */
	0x00, 0x00, 0x00, 0x00,		/* size */
	192, 0, 2, 10,			/* daddr */
	10, 1, 2, 3,			/* saddr */
	0x01, 0xbb,			/* dport 443, network order */
	0xc3, 0x50,			/* sport 50000 */
	0xb4, 0x05, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00,
	0x07, 0x00, 0x00, 0x00,		/* seqnum */
	0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0xff, 0xff,	/* connid */
};

/* TCPv4 receive (11): 1448 bytes from 192.0.2.10:443 to 10.1.2.3:50000;
 * PID 4 (a receive is processed where the packet lands). */
static const unsigned char tcp4_recv[] = {
	0x04, 0x00, 0x00, 0x00,
	0xa8, 0x05, 0x00, 0x00,		/* 1448 */
	10, 1, 2, 3,			/* daddr: the receiver */
	192, 0, 2, 10,			/* saddr: the sender */
	0xc3, 0x50,			/* dport 50000 */
	0x01, 0xbb,			/* sport 443 */
	0x01, 0x00, 0x00, 0x00,
	0x00, 0x10, 0x32, 0x54, 0x76, 0x98, 0xff, 0xff,
};

/* TCPv6 accept (31): PID 880 accepted [2001:db8::1]:8080 <- [2001:db8::2]:
 * 61000. */
static const unsigned char tcp6_accept[] = {
	0x70, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0xee, 0x48,			/* dport 61000 */
	0x1f, 0x90,			/* sport 8080 */
	0xa0, 0x05, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
	0xff, 0xff, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00,
	0x09, 0x00, 0x00, 0x00,
	0x00, 0x20, 0x32, 0x54, 0x76, 0x98, 0xff, 0xff,
};

/* TCPv6 send (26): 100 bytes from [::1]:5000 to [::1]:6000 by PID 77,
 * with startime/endtime. */
static const unsigned char tcp6_send[] = {
	0x4d, 0x00, 0x00, 0x00,
	0x64, 0x00, 0x00, 0x00,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x17, 0x70,			/* dport 6000 */
	0x13, 0x88,			/* sport 5000 */
	0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00,
	0x00, 0x30, 0x32, 0x54, 0x76, 0x98, 0xff, 0xff,
};

/* UDPv4 send (42): 53 bytes from 10.1.2.3:53000 to 192.0.2.53:53. */
static const unsigned char udp4_send[] = {
	0x10, 0x00, 0x00, 0x00,
	0x35, 0x00, 0x00, 0x00,
	192, 0, 2, 53,
	10, 1, 2, 3,
	0x00, 0x35,
	0xcf, 0x08,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void assert_v4(const struct snap_addr *a, unsigned b0, unsigned b1,
    unsigned b2, unsigned b3)
{
	const unsigned char want[16] = { b0, b1, b2, b3 };

	assert_int_equal(a->family, 4);
	assert_memory_equal(a->bytes, want, 16);
}

static void test_tcp4_connect(void **state)
{
	struct etw_net_event ev;

	(void)state;
	assert_int_equal(etw_net_decode(12, tcp4_connect, sizeof(tcp4_connect),
	    &ev), 0);
	assert_int_equal(ev.kind, ETW_NET_CONNECT);
	assert_string_equal(etw_net_kind_name(ev.kind), "connect");
	assert_int_equal(ev.proto, SNAP_PROTO_TCP);
	assert_int_equal(ev.family, 4);
	assert_int_equal(ev.pid, 4242);
	assert_v4(&ev.local, 10, 1, 2, 3);
	assert_int_equal(ev.local_port, 50000);
	assert_v4(&ev.remote, 192, 0, 2, 10);
	assert_int_equal(ev.remote_port, 443);
}

static void test_tcp4_recv_sender_is_remote(void **state)
{
	struct etw_net_event ev;

	(void)state;
	assert_int_equal(etw_net_decode(11, tcp4_recv, sizeof(tcp4_recv), &ev),
	    0);
	assert_int_equal(ev.kind, ETW_NET_RECV);
	assert_int_equal(ev.size, 1448);
	assert_int_equal(ev.pid, 4);
	assert_v4(&ev.local, 10, 1, 2, 3);
	assert_int_equal(ev.local_port, 50000);
	assert_v4(&ev.remote, 192, 0, 2, 10);
	assert_int_equal(ev.remote_port, 443);
}

static void test_tcp6_accept(void **state)
{
	static const unsigned char l[16] = { 0x20, 0x01, 0x0d, 0xb8,
		[15] = 0x01 };
	static const unsigned char r[16] = { 0x20, 0x01, 0x0d, 0xb8,
		[15] = 0x02 };
	struct etw_net_event ev;

	(void)state;
	assert_int_equal(etw_net_decode(31, tcp6_accept, sizeof(tcp6_accept),
	    &ev), 0);
	assert_int_equal(ev.kind, ETW_NET_ACCEPT);
	assert_int_equal(ev.family, 6);
	assert_int_equal(ev.pid, 880);
	assert_int_equal(ev.local.family, 6);
	assert_memory_equal(ev.local.bytes, l, 16);
	assert_int_equal(ev.local_port, 8080);
	assert_memory_equal(ev.remote.bytes, r, 16);
	assert_int_equal(ev.remote_port, 61000);
}

static void test_tcp6_send(void **state)
{
	struct etw_net_event ev;

	(void)state;
	assert_int_equal(etw_net_decode(26, tcp6_send, sizeof(tcp6_send), &ev),
	    0);
	assert_int_equal(ev.kind, ETW_NET_SEND);
	assert_int_equal(ev.size, 100);
	assert_int_equal(ev.pid, 77);
	assert_int_equal(ev.local_port, 5000);
	assert_int_equal(ev.remote_port, 6000);
	assert_int_equal(ev.local.bytes[15], 1);
}

static void test_udp4_send(void **state)
{
	struct etw_net_event ev;

	(void)state;
	assert_int_equal(etw_net_decode(42, udp4_send, sizeof(udp4_send), &ev),
	    0);
	assert_int_equal(ev.proto, SNAP_PROTO_UDP);
	assert_int_equal(ev.kind, ETW_NET_SEND);
	assert_int_equal(ev.size, 53);
	assert_v4(&ev.remote, 192, 0, 2, 53);
	assert_int_equal(ev.remote_port, 53);
	assert_int_equal(ev.local_port, 53000);
}

/* Every event id of the table, every length below its minimum: refused,
 * nothing read past the end (the test runs under ASan in check-sanitize). */
static void test_short_payloads(void **state)
{
	static const unsigned ids[] = { 10, 11, 12, 13, 14, 15, 16, 18, 26,
		27, 28, 29, 30, 31, 32, 34, 42, 43, 58, 59 };
	unsigned char buf[64];
	struct etw_net_event ev;

	(void)state;
	memset(buf, 0xab, sizeof(buf));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		bool v6 = (ids[i] >= 26 && ids[i] <= 34) || ids[i] >= 58;
		size_t need = v6 ? 44 : 20;

		for (size_t len = 0; len < need; len++) {
			unsigned char *copy = test_malloc(len ? len : 1);

			memcpy(copy, buf, len);
			memset(&ev, 0x5a, sizeof(ev));
			assert_int_equal(etw_net_decode(ids[i], copy, len, &ev),
			    -EBADMSG);
			assert_int_equal(ev.kind, 0x5a);	/* untouched */
			test_free(copy);
		}
		assert_int_equal(etw_net_decode(ids[i], buf, need, &ev), 0);
	}
	assert_int_equal(etw_net_decode(12, NULL, 40, &ev), -EBADMSG);
}

static void test_unknown_ids(void **state)
{
	static const unsigned char fail[] = { 0x06, 0x00, 0x3d, 0x27 };
	struct etw_net_event ev;

	(void)state;
	/* 17/49: connect / UDP failure notices (Proto, FailureCode). */
	assert_int_equal(etw_net_decode(17, fail, sizeof(fail), &ev), -ENOENT);
	assert_int_equal(etw_net_decode(49, fail, sizeof(fail), &ev), -ENOENT);
	assert_int_equal(etw_net_decode(0, tcp4_recv, sizeof(tcp4_recv), &ev),
	    -ENOENT);
	assert_int_equal(etw_net_decode(65535, tcp4_recv, sizeof(tcp4_recv),
	    &ev), -ENOENT);
	assert_null(etw_net_kind_name(ETW_NET_KIND_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4_connect),
		cmocka_unit_test(test_tcp4_recv_sender_is_remote),
		cmocka_unit_test(test_tcp6_accept),
		cmocka_unit_test(test_tcp6_send),
		cmocka_unit_test(test_udp4_send),
		cmocka_unit_test(test_short_payloads),
		cmocka_unit_test(test_unknown_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
