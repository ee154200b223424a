/*
 * sock_diag request building and the reply parser, on crafted buffers:
 * well-formed dumps, stale sequence numbers, kernel errors, and every
 * truncation and a table of malformed messages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/rtnetlink.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "sockdiag.h"

#define SEQ	4242u

struct buf {
	unsigned char b[8192];
	size_t len;
};

static void
add_raw(struct buf *b, uint16_t type, uint32_t seq, const void *payload,
    size_t plen)
{
	struct nlmsghdr nh;

	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_len = (uint32_t)NLMSG_LENGTH(plen);
	nh.nlmsg_type = type;
	nh.nlmsg_flags = NLM_F_MULTI;
	nh.nlmsg_seq = seq;
	assert_true(b->len + NLMSG_SPACE(plen) <= sizeof(b->b));
	memset(b->b + b->len, 0, NLMSG_SPACE(plen));
	memcpy(b->b + b->len, &nh, sizeof(nh));
	memcpy(b->b + b->len + NLMSG_HDRLEN, payload, plen);
	b->len += NLMSG_SPACE(plen);
}

static void
add_sock(struct buf *b, uint32_t seq, int family, const char *src,
    uint16_t sport, const char *dst, uint16_t dport, uint8_t state,
    uint32_t inode)
{
	struct inet_diag_msg m;

	memset(&m, 0, sizeof(m));
	m.idiag_family = (uint8_t)family;
	m.idiag_state = state;
	m.id.idiag_sport = htons(sport);
	m.id.idiag_dport = htons(dport);
	if (family == AF_INET || family == AF_INET6) {
		assert_int_equal(inet_pton(family, src, m.id.idiag_src), 1);
		assert_int_equal(inet_pton(family, dst, m.id.idiag_dst), 1);
	}
	m.idiag_inode = inode;
	m.idiag_uid = 1000;
	add_raw(b, SOCK_DIAG_BY_FAMILY, seq, &m, sizeof(m));
}

static void
add_done(struct buf *b, uint32_t seq, int err)
{
	add_raw(b, NLMSG_DONE, seq, &err, sizeof(err));
}

struct got {
	struct snap_socket s[64];
	size_t n;
	size_t stop_after;	/* 0: never */
};

static int
collect(void *arg, const struct snap_socket *s)
{
	struct got *g = arg;

	if (g->n == 64)
		return -E2BIG;
	g->s[g->n++] = *s;
	if (g->stop_after != 0 && g->n == g->stop_after)
		return -ECANCELED;
	return 0;
}

static void
test_build_request(void **state)
{
	unsigned char buf[SOCKDIAG_REQ_MAX];
	struct nlmsghdr *nh = (void *)buf;
	int len;

	(void)state;
	len = sockdiag_build_request(buf, sizeof(buf), SNAP_PROTO_UDP, 6, 7);
	assert_int_equal(len, NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)));
	assert_int_equal(nh->nlmsg_len, len);
	assert_int_equal(nh->nlmsg_type, SOCK_DIAG_BY_FAMILY);
	assert_int_equal(nh->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(nh->nlmsg_seq, 7);
	{
		struct inet_diag_req_v2 *r = NLMSG_DATA(nh);

		assert_int_equal(r->sdiag_family, AF_INET6);
		assert_int_equal(r->sdiag_protocol, IPPROTO_UDP);
		assert_int_equal(r->idiag_states, SOCKDIAG_ALL_STATES);
		assert_int_equal(r->idiag_ext, 0);
	}
	len = sockdiag_build_request(buf, sizeof(buf), SNAP_PROTO_TCP, 4, 8);
	assert_true(len > 0);
	assert_int_equal(((struct inet_diag_req_v2 *)NLMSG_DATA(nh))->
	    sdiag_protocol, IPPROTO_TCP);

	/* Both families at once: the TCPDIAG request with AF_UNSPEC. */
	len = sockdiag_build_request(buf, sizeof(buf), SNAP_PROTO_TCP, 0, 9);
	assert_int_equal(len, NLMSG_LENGTH(sizeof(struct inet_diag_req)));
	assert_int_equal(nh->nlmsg_type, TCPDIAG_GETSOCK);
	assert_int_equal(((struct inet_diag_req *)NLMSG_DATA(nh))->
	    idiag_family, AF_UNSPEC);
	assert_int_equal(((struct inet_diag_req *)NLMSG_DATA(nh))->
	    idiag_states, SOCKDIAG_ALL_STATES);

	assert_int_equal(sockdiag_build_request(buf, sizeof(buf),
	    SNAP_PROTO_UDP, 0, 1), -EINVAL);
	assert_int_equal(sockdiag_build_request(buf, sizeof(buf),
	    SNAP_PROTO_TCP, 5, 1), -EINVAL);
	assert_int_equal(sockdiag_build_request(buf, sizeof(buf), 7, 4, 1),
	    -EINVAL);
	assert_int_equal(sockdiag_build_request(buf, 8, SNAP_PROTO_TCP, 4, 1),
	    -ENOSPC);
}

static void
test_parse_dump(void **state)
{
	struct sockdiag_parser p;
	struct got g;
	struct buf b;
	char a[SNAP_ADDRSTRLEN];

	(void)state;
	memset(&b, 0, sizeof(b));
	memset(&g, 0, sizeof(g));
	add_sock(&b, SEQ, AF_INET, "127.0.0.1", 8080, "0.0.0.0", 0, 10, 111);
	add_sock(&b, SEQ - 1, AF_INET, "10.0.0.1", 1, "0.0.0.0", 0, 10, 5);
	add_sock(&b, SEQ, AF_INET6, "::1", 443, "::ffff:127.0.0.2", 50000, 1,
	    222);
	add_sock(&b, SEQ, AF_INET, "127.0.0.1", 1, "127.0.0.1", 2, 6, 0);
	add_sock(&b, SEQ, AF_UNIX, "", 0, "", 0, 1, 9);		/* skipped */
	add_sock(&b, SEQ, AF_INET, "127.0.0.1", 3, "0.0.0.0", 0, 0, 9);
	add_sock(&b, SEQ, AF_INET, "127.0.0.1", 3, "0.0.0.0", 0, 13, 9);
	add_raw(&b, NLMSG_NOOP, SEQ, "", 0);
	add_done(&b, SEQ, 0);

	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g), 1);
	assert_true(p.done);
	assert_int_equal(g.n, 3);
	assert_int_equal(p.n_sockets, 3);
	assert_int_equal(p.n_skipped, 3);

	assert_int_equal(g.s[0].family, 4);
	assert_int_equal(g.s[0].proto, SNAP_PROTO_TCP);
	assert_string_equal(snap_addr_format(&g.s[0].local, a), "127.0.0.1");
	assert_int_equal(g.s[0].local_port, 8080);
	assert_int_equal(g.s[0].state, SNAP_STATE_LISTEN);
	assert_int_equal(g.s[0].inode, 111);
	assert_int_equal(g.s[0].pid, -1);

	assert_int_equal(g.s[1].family, 6);
	assert_string_equal(snap_addr_format(&g.s[1].local, a), "::1");
	assert_string_equal(snap_addr_format(&g.s[1].remote, a),
	    "::ffff:127.0.0.2");
	assert_int_equal(g.s[1].local_port, 443);
	assert_int_equal(g.s[1].remote_port, 50000);
	assert_int_equal(g.s[1].state, SNAP_STATE_ESTABLISHED);

	assert_int_equal(g.s[2].state, SNAP_STATE_TIME_WAIT);
	assert_int_equal(g.s[2].inode, 0);
}

static void
test_parse_udp_and_split(void **state)
{
	struct sockdiag_parser p;
	struct got g;
	struct buf b1, b2;

	(void)state;
	memset(&b1, 0, sizeof(b1));
	memset(&b2, 0, sizeof(b2));
	memset(&g, 0, sizeof(g));
	add_sock(&b1, SEQ, AF_INET, "127.0.0.1", 53, "0.0.0.0", 0, 7, 1);
	add_sock(&b2, SEQ, AF_INET6, "::", 547, "::", 0, 1, 2);
	add_done(&b2, SEQ, 0);
	sockdiag_parser_init(&p, SNAP_PROTO_UDP, SEQ);
	/* A dump comes in several recv()s: 0 means "more to come". */
	assert_int_equal(sockdiag_parse(&p, b1.b, b1.len, collect, &g), 0);
	assert_false(p.done);
	assert_int_equal(sockdiag_parse(&p, b2.b, b2.len, collect, &g), 1);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.s[0].proto, SNAP_PROTO_UDP);
	assert_int_equal(g.s[0].state, SNAP_STATE_NONE);	/* not CLOSE */
	assert_int_equal(g.s[1].state, SNAP_STATE_NONE);	/* not ESTAB */
}

static void
test_parse_errors(void **state)
{
	struct sockdiag_parser p;
	struct got g;
	struct buf b;
	struct nlmsgerr e;

	(void)state;
	/* The kernel refuses the request. */
	memset(&b, 0, sizeof(b));
	memset(&e, 0, sizeof(e));
	e.error = -EPERM;
	add_raw(&b, NLMSG_ERROR, SEQ, &e, sizeof(e));
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	memset(&g, 0, sizeof(g));
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g), -EPERM);

	/* An ack (error 0) is not an error; a stale error is ignored. */
	memset(&b, 0, sizeof(b));
	e.error = 0;
	add_raw(&b, NLMSG_ERROR, SEQ, &e, sizeof(e));
	e.error = -EINVAL;
	add_raw(&b, NLMSG_ERROR, SEQ + 1, &e, sizeof(e));
	add_done(&b, SEQ, 0);
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g), 1);

	/* A dump that failed part way reports it in DONE. */
	memset(&b, 0, sizeof(b));
	add_done(&b, SEQ, -ENOBUFS);
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g),
	    -ENOBUFS);

	/* The callback stops the walk with its own code. */
	memset(&b, 0, sizeof(b));
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	add_sock(&b, SEQ, AF_INET, "127.0.0.1", 1, "0.0.0.0", 0, 10, 1);
	add_sock(&b, SEQ, AF_INET, "127.0.0.1", 2, "0.0.0.0", 0, 10, 2);
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g),
	    -ECANCELED);
	assert_int_equal(g.n, 1);
}

static void
test_parse_malformed(void **state)
{
	struct sockdiag_parser p;
	struct got g;
	struct buf b;
	struct nlmsghdr *nh;
	size_t cut, whole;

	(void)state;
	memset(&b, 0, sizeof(b));
	add_sock(&b, SEQ, AF_INET, "127.0.0.1", 1, "0.0.0.0", 0, 10, 1);
	whole = b.len;
	add_sock(&b, SEQ, AF_INET6, "::1", 2, "::", 0, 10, 2);
	add_done(&b, SEQ, 0);

	/* Every truncation, in an exact-size copy (ASan catches overreads):
	 * cuts at a message boundary parse cleanly, others are -EBADMSG. */
	for (cut = 1; cut < b.len; cut++) {
		unsigned char *copy = malloc(cut);
		int rc;

		memcpy(copy, b.b, cut);
		memset(&g, 0, sizeof(g));
		sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
		rc = sockdiag_parse(&p, copy, cut, collect, &g);
		if (cut == whole || cut == 2 * whole)
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, -EBADMSG);
		free(copy);
	}

	/* nlmsg_len shorter than a header, or longer than what arrived. */
	nh = (void *)b.b;
	nh->nlmsg_len = 8;
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g),
	    -EBADMSG);
	nh->nlmsg_len = (uint32_t)b.len + 4;
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g),
	    -EBADMSG);

	/* A socket message too short for inet_diag_msg. */
	memset(&b, 0, sizeof(b));
	add_raw(&b, SOCK_DIAG_BY_FAMILY, SEQ, "abcdefgh", 8);
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g),
	    -EBADMSG);

	/* An error message too short for its code. */
	memset(&b, 0, sizeof(b));
	add_raw(&b, NLMSG_ERROR, SEQ, "ab", 2);
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g),
	    -EBADMSG);

	/* Unknown message types are skipped, not fatal. */
	memset(&b, 0, sizeof(b));
	add_raw(&b, 0x7777, SEQ, "abcd", 4);
	add_done(&b, SEQ, 0);
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g), 1);
	assert_int_equal(p.n_skipped, 1);
}

/* An INET_DIAG_INFO attribute of plen bytes of a tcp_info with known
 * counters, after an unrelated attribute, into a; returns the length. */
static size_t
info_attrs(unsigned char *a, size_t cap, size_t plen)
{
	struct tcp_info ti;
	struct rtattr ra;
	size_t off = 0;
	uint8_t tos = 0x10;

	memset(&ti, 0, sizeof(ti));
	ti.tcpi_rtt = 1234;
	ti.tcpi_total_retrans = 7;
	ti.tcpi_bytes_acked = 10485760ULL;
	ti.tcpi_bytes_received = 1048576ULL;
	assert_true(plen <= sizeof(ti));
	assert_true(RTA_SPACE(1) + RTA_SPACE(plen) <= cap);
	memset(a, 0, cap);
	/* INET_DIAG_TOS first: skipped */
	ra.rta_len = RTA_LENGTH(1);
	ra.rta_type = INET_DIAG_TOS;
	memcpy(a + off, &ra, sizeof(ra));
	memcpy(a + off + RTA_LENGTH(0), &tos, 1);
	off += RTA_SPACE(1);
	ra.rta_len = (unsigned short)RTA_LENGTH(plen);
	ra.rta_type = INET_DIAG_INFO;
	memcpy(a + off, &ra, sizeof(ra));
	memcpy(a + off + RTA_LENGTH(0), &ti, plen);
	return off + RTA_LENGTH(plen);
}

static void
test_info(void **state)
{
	unsigned char a[512];
	struct sockdiag_info info;
	size_t len;

	(void)state;
	memset(a, 0, sizeof(a));
	/* none: valid stays false, not an error */
	assert_int_equal(sockdiag_parse_info(a, 0, &info), 0);
	assert_false(info.valid);

	len = info_attrs(a, sizeof(a), sizeof(struct tcp_info));
	assert_int_equal(sockdiag_parse_info(a, len, &info), 0);
	assert_true(info.valid);
	assert_int_equal(info.rtt_us, 1234);
	assert_int_equal(info.total_retrans, 7);
	assert_int_equal(info.bytes_acked, 10485760ULL);
	assert_int_equal(info.bytes_received, 1048576ULL);

	/* exactly up to bytes_received (a Linux 4.1-4.5 kernel): enough */
	len = info_attrs(a, sizeof(a), offsetof(struct tcp_info,
	    tcpi_bytes_received) + 8);
	assert_int_equal(sockdiag_parse_info(a, len, &info), 0);
	assert_true(info.valid);
	assert_int_equal(info.bytes_received, 1048576ULL);

	/* an older kernel's struct, without the byte counters: not valid,
	 * and nothing read past it */
	len = info_attrs(a, sizeof(a), offsetof(struct tcp_info,
	    tcpi_bytes_acked));
	assert_int_equal(sockdiag_parse_info(a, len, &info), 0);
	assert_false(info.valid);
	assert_int_equal(info.rtt_us, 0);
}

static void
test_info_malformed(void **state)
{
	unsigned char a[512];
	struct sockdiag_info info;
	struct rtattr ra;
	size_t len, cut;

	(void)state;
	len = info_attrs(a, sizeof(a), sizeof(struct tcp_info));
	/* every truncation is malformed, none reads past the end (ASan) */
	for (cut = 1; cut < len; cut++) {
		unsigned char *copy = malloc(cut);
		int rc;

		assert_non_null(copy);
		memcpy(copy, a, cut);
		rc = sockdiag_parse_info(copy, cut, &info);
		/* a cut right after the first attribute, padded or not, is
		 * a whole list */
		if (cut == RTA_LENGTH(1) || cut == RTA_SPACE(1))
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, -EBADMSG);
		free(copy);
	}
	/* a length below the header */
	ra.rta_len = 2;
	ra.rta_type = INET_DIAG_INFO;
	memcpy(a, &ra, sizeof(ra));
	assert_int_equal(sockdiag_parse_info(a, 64, &info), -EBADMSG);
	/* a length past the end */
	ra.rta_len = 400;
	memcpy(a, &ra, sizeof(ra));
	assert_int_equal(sockdiag_parse_info(a, 64, &info), -EBADMSG);
}

static void
test_info_in_dump(void **state)
{
	unsigned char msg[1024], attrs[512], req[SOCKDIAG_REQ_MAX];
	struct inet_diag_msg m;
	struct sockdiag_parser p;
	struct got g;
	struct buf b;
	size_t alen;
	int len;

	(void)state;
	/* the request asks for tcp_info: both request kinds, TCP only */
	len = sockdiag_build_request(req, sizeof(req), SNAP_PROTO_TCP, 0, 1);
	assert_int_equal(sockdiag_request_info(req, (size_t)len), 0);
	assert_int_equal(((struct inet_diag_req *)NLMSG_DATA((struct nlmsghdr *)
	    req))->idiag_ext, 1u << (INET_DIAG_INFO - 1));
	len = sockdiag_build_request(req, sizeof(req), SNAP_PROTO_TCP, 6, 1);
	assert_int_equal(sockdiag_request_info(req, (size_t)len), 0);
	assert_int_equal(((struct inet_diag_req_v2 *)NLMSG_DATA(
	    (struct nlmsghdr *)req))->idiag_ext, 1u << (INET_DIAG_INFO - 1));
	len = sockdiag_build_request(req, sizeof(req), SNAP_PROTO_UDP, 4, 1);
	assert_int_equal(sockdiag_request_info(req, (size_t)len), -EINVAL);
	assert_int_equal(sockdiag_request_info(req, 4), -EINVAL);

	/* a socket with its tcp_info after it */
	memset(&m, 0, sizeof(m));
	m.idiag_family = AF_INET;
	m.idiag_state = 1;
	m.idiag_inode = 77;
	alen = info_attrs(attrs, sizeof(attrs), sizeof(struct tcp_info));
	memcpy(msg, &m, sizeof(m));
	memcpy(msg + NLMSG_ALIGN(sizeof(m)), attrs, alen);
	memset(&b, 0, sizeof(b));
	memset(&g, 0, sizeof(g));
	add_raw(&b, SOCK_DIAG_BY_FAMILY, SEQ, msg, NLMSG_ALIGN(sizeof(m)) + alen);
	add_done(&b, SEQ, 0);
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
	assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g), 1);
	assert_int_equal(g.n, 1);
	assert_int_equal(p.n_info, 1);
	assert_int_equal(g.s[0].has_info, 1);
	assert_int_equal(g.s[0].bytes_sent, 10485760ULL);
	assert_int_equal(g.s[0].bytes_received, 1048576ULL);
	assert_int_equal(g.s[0].rtt_us, 1234);
	assert_int_equal(g.s[0].retrans, 7);

	/* an attribute running past its message: malformed */
	{
		struct rtattr ra = { .rta_len = 600, .rta_type = INET_DIAG_INFO };

		memcpy(msg + NLMSG_ALIGN(sizeof(m)), &ra, sizeof(ra));
		memset(&b, 0, sizeof(b));
		memset(&g, 0, sizeof(g));
		add_raw(&b, SOCK_DIAG_BY_FAMILY, SEQ, msg,
		    NLMSG_ALIGN(sizeof(m)) + 64);
		sockdiag_parser_init(&p, SNAP_PROTO_TCP, SEQ);
		assert_int_equal(sockdiag_parse(&p, b.b, b.len, collect, &g),
		    -EBADMSG);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_request),
		cmocka_unit_test(test_parse_dump),
		cmocka_unit_test(test_parse_udp_and_split),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_info_malformed),
		cmocka_unit_test(test_info_in_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
