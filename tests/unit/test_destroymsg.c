/*
 * sock_diag destroy notifications (destroymsg.c) on crafted buffers: TCP
 * connections over IPv4 and IPv6, what is not a connection (listener,
 * failed connect, UDP), short tcp_info from older kernels, truncations and
 * malformed attributes; and the /proc/net/netlink drop counter.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "destroymsg.h"

#define NOW	1700000000123ll

struct buf {
	unsigned char b[8192];
	size_t len;
};

struct got {
	struct conn_rec r[8];
	size_t n;
};

static int
collect(void *arg, const struct conn_rec *r)
{
	struct got *g = arg;

	assert_true(g->n < 8);
	g->r[g->n++] = *r;
	return 0;
}

static void
put_attr(unsigned char *p, size_t *off, unsigned short type, const void *data,
    size_t len)
{
	struct rtattr ra;

	ra.rta_type = type;
	ra.rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(p + *off, &ra, sizeof(ra));
	memcpy(p + *off + sizeof(ra), data, len);
	*off += RTA_ALIGN(ra.rta_len);
}

/* One destroy message as the kernel's inet_diag_handler_get_info() builds
 * it: inet_diag_msg, INET_DIAG_PROTOCOL, INET_DIAG_INFO of info_len bytes. */
static void
add_msg(struct buf *b, int family, const char *src, uint16_t sport,
    const char *dst, uint16_t dport, uint8_t proto, uint64_t acked,
    uint64_t rcvd, uint32_t segs_in, size_t info_len)
{
	unsigned char payload[1024];
	struct inet_diag_msg m;
	struct tcp_info ti;
	struct nlmsghdr nh;
	size_t off;

	memset(payload, 0, sizeof(payload));
	memset(&m, 0, sizeof(m));
	m.idiag_family = (uint8_t)family;
	m.idiag_state = 7;
	m.id.idiag_sport = htons(sport);
	m.id.idiag_dport = htons(dport);
	inet_pton(family, src, m.id.idiag_src);
	inet_pton(family, dst, m.id.idiag_dst);
	m.id.idiag_cookie[0] = 0x11;
	m.id.idiag_cookie[1] = 0x2;
	memcpy(payload, &m, sizeof(m));
	off = NLMSG_ALIGN(sizeof(m));
	put_attr(payload, &off, INET_DIAG_PROTOCOL, &proto, 1);
	if (info_len > 0) {
		memset(&ti, 0, sizeof(ti));
		ti.tcpi_bytes_acked = acked;
		ti.tcpi_bytes_received = rcvd;
		ti.tcpi_segs_in = segs_in;
		put_attr(payload, &off, INET_DIAG_INFO, &ti, info_len);
	}
	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_len = (uint32_t)NLMSG_LENGTH(off);
	nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	memcpy(b->b + b->len, &nh, sizeof(nh));
	memcpy(b->b + b->len + NLMSG_HDRLEN, payload, off);
	b->len += NLMSG_SPACE(off);
}

static void
test_v4_v6(void **state)
{
	struct destroymsg_stats st = { 0 };
	struct got g = { .n = 0 };
	struct buf b = { .len = 0 };

	(void)state;
	add_msg(&b, AF_INET, "127.0.0.1", 40000, "127.0.0.2", 80, IPPROTO_TCP,
	    6, 1001, 3, sizeof(struct tcp_info));
	add_msg(&b, AF_INET6, "::1", 443, "2001:db8::7", 50000, IPPROTO_TCP,
	    1001, 6, 3, sizeof(struct tcp_info));
	assert_int_equal(destroymsg_parse(b.b, b.len, NOW, collect, &g, &st),
	    0);
	assert_int_equal(st.conns, 2);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(g.r[0].c.family, 4);
	assert_int_equal(g.r[0].c.local_port, 40000);
	assert_int_equal(g.r[0].c.remote_port, 80);
	assert_memory_equal(g.r[0].c.remote.bytes, "\x7f\0\0\x02", 4);
	assert_int_equal(g.r[0].c.cookie, 0x200000011ull);
	assert_int_equal(g.r[0].c.bytes_sent, 6);
	assert_int_equal(g.r[0].c.bytes_received, 1001);
	assert_int_equal(g.r[0].c.close_ms, NOW);
	assert_int_equal(g.r[0].c.open_ms, 0);
	assert_int_equal(g.r[0].c.pid, -1);
	assert_int_not_equal(g.r[0].c.owner, SNAP_OWNER_KNOWN);
	assert_true(g.r[0].closed);
	assert_false(g.r[0].opened);
	assert_int_equal(g.r[1].c.family, 6);
	assert_int_equal(g.r[1].c.local_port, 443);
	assert_int_equal(g.r[1].c.remote.bytes[0], 0x20);
	assert_int_equal(g.r[1].c.remote.bytes[15], 7);
}

static void
test_not_connections(void **state)
{
	struct destroymsg_stats st = { 0 };
	struct got g = { .n = 0 };
	struct buf b = { .len = 0 };

	(void)state;
	/* a listener: no peer port */
	add_msg(&b, AF_INET, "0.0.0.0", 80, "0.0.0.0", 0, IPPROTO_TCP, 0, 0,
	    0, sizeof(struct tcp_info));
	/* a refused connect: only the RST came in */
	add_msg(&b, AF_INET, "127.0.0.1", 40001, "127.0.0.1", 9, IPPROTO_TCP,
	    0, 0, 1, sizeof(struct tcp_info));
	/* UDP (its own groups, but the protocol attribute decides) */
	add_msg(&b, AF_INET, "127.0.0.1", 53, "127.0.0.1", 40002, IPPROTO_UDP,
	    0, 0, 0, 0);
	/* a connection that moved no data but did its handshake */
	add_msg(&b, AF_INET, "127.0.0.1", 40003, "127.0.0.1", 80, IPPROTO_TCP,
	    0, 0, 2, sizeof(struct tcp_info));
	assert_int_equal(destroymsg_parse(b.b, b.len, NOW, collect, &g, &st),
	    0);
	assert_int_equal(st.conns, 1);
	assert_int_equal(st.skipped, 3);
	assert_int_equal(g.r[0].c.local_port, 40003);
}

static void
test_short_and_missing_info(void **state)
{
	struct destroymsg_stats st = { 0 };
	struct got g = { .n = 0 };
	struct buf b = { .len = 0 };

	(void)state;
	/* an old kernel's tcp_info ends before the byte counters */
	add_msg(&b, AF_INET, "127.0.0.1", 40000, "127.0.0.2", 80, IPPROTO_TCP,
	    6, 1001, 3, offsetof(struct tcp_info, tcpi_bytes_acked));
	add_msg(&b, AF_INET, "127.0.0.1", 40001, "127.0.0.2", 80, IPPROTO_TCP,
	    6, 1001, 3, 0);
	assert_int_equal(destroymsg_parse(b.b, b.len, NOW, collect, &g, &st),
	    0);
	assert_int_equal(st.conns, 2);
	assert_int_equal(g.r[0].c.bytes_sent, 0);
	assert_int_equal(g.r[1].c.bytes_received, 0);
}

static void
test_truncated(void **state)
{
	struct destroymsg_stats st;
	struct got g;
	struct buf b = { .len = 0 };
	size_t cut;
	int rc;

	(void)state;
	add_msg(&b, AF_INET, "127.0.0.1", 40000, "127.0.0.2", 80, IPPROTO_TCP,
	    6, 1001, 3, sizeof(struct tcp_info));
	/* Every cut short of the whole message is refused, never read past. */
	for (cut = 1; cut < b.len; cut++) {
		memset(&st, 0, sizeof(st));
		g.n = 0;
		rc = destroymsg_parse(b.b, cut, NOW, collect, &g, &st);
		assert_int_equal(rc, -EBADMSG);
		assert_int_equal(g.n, 0);
	}
}

static void
test_malformed(void **state)
{
	struct destroymsg_stats st = { 0 };
	struct got g = { .n = 0 };
	struct buf b = { .len = 0 };
	struct nlmsghdr nh;
	struct rtattr ra;

	(void)state;
	add_msg(&b, AF_INET, "127.0.0.1", 40000, "127.0.0.2", 80, IPPROTO_TCP,
	    6, 1001, 3, sizeof(struct tcp_info));
	/* an attribute claiming more than the message holds */
	memcpy(&ra, b.b + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct
	    inet_diag_msg)), sizeof(ra));
	ra.rta_len = 4000;
	memcpy(b.b + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_msg)),
	    &ra, sizeof(ra));
	assert_int_equal(destroymsg_parse(b.b, b.len, NOW, collect, &g, &st),
	    -EBADMSG);
	/* an attribute shorter than its header */
	ra.rta_len = 2;
	memcpy(b.b + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_msg)),
	    &ra, sizeof(ra));
	assert_int_equal(destroymsg_parse(b.b, b.len, NOW, collect, &g, &st),
	    -EBADMSG);
	/* a header length below the header, and beyond the buffer */
	memcpy(&nh, b.b, sizeof(nh));
	nh.nlmsg_len = 4;
	memcpy(b.b, &nh, sizeof(nh));
	assert_int_equal(destroymsg_parse(b.b, b.len, NOW, collect, &g, &st),
	    -EBADMSG);
	nh.nlmsg_len = (uint32_t)b.len + 4;
	memcpy(b.b, &nh, sizeof(nh));
	assert_int_equal(destroymsg_parse(b.b, b.len, NOW, collect, &g, &st),
	    -EBADMSG);
	assert_int_equal(g.n, 0);
	/* other message types are skipped */
	memset(&b, 0, sizeof(b));
	nh.nlmsg_len = NLMSG_LENGTH(4);
	nh.nlmsg_type = NLMSG_NOOP + 40;
	memcpy(b.b, &nh, sizeof(nh));
	b.len = NLMSG_SPACE(4);
	memset(&st, 0, sizeof(st));
	assert_int_equal(destroymsg_parse(b.b, b.len, NOW, collect, &g, &st),
	    0);
	assert_int_equal(st.skipped, 1);
}

static void
test_netlink_drops(void **state)
{
	const char *hdr = "sk               Eth Pid        Groups   Rmem     "
	    "Wmem     Dump  Locks    Drops    Inode\n";
	const char *mine = "000000007c2fe4d5 4   18545      0000000a 0        "
	    "0        0     2        17       267091  \n";
	const char *bad = "000000007c2fe4d5 4   18545      0000000a 0 x\n";
	uint64_t drops = 0;

	(void)state;
	assert_int_equal(destroymsg_netlink_drops(hdr, strlen(hdr), 267091,
	    &drops), -ENOENT);
	assert_int_equal(destroymsg_netlink_drops(mine, strlen(mine), 1,
	    &drops), -ENOENT);
	assert_int_equal(destroymsg_netlink_drops(mine, strlen(mine), 267091,
	    &drops), 0);
	assert_int_equal(drops, 17);
	assert_int_equal(destroymsg_netlink_drops(bad, strlen(bad), 267091,
	    &drops), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_v6),
		cmocka_unit_test(test_not_connections),
		cmocka_unit_test(test_short_and_missing_info),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_netlink_drops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
