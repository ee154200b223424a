/*
 * sock_diag requests and reply parsing.  Replies are walked by hand rather
 * than with NLMSG_OK/NLMSG_NEXT so that every length is checked against the
 * bytes actually received before anything is read.
 */
#include "sockdiag.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define NL_ALIGN(n)	(((n) + 3u) & ~3u)

int
sockdiag_build_request(void *buf, size_t len, int proto, int family,
    uint32_t seq)
{
	struct nlmsghdr *nh = buf;
	size_t total;

	if (proto != SNAP_PROTO_TCP && proto != SNAP_PROTO_UDP)
		return -EINVAL;
	if (family != 0 && family != 4 && family != 6)
		return -EINVAL;
	if (family == 0 && proto != SNAP_PROTO_TCP)
		return -EINVAL;

	if (family == 0) {
		struct inet_diag_req *r;

		total = NLMSG_LENGTH(sizeof(*r));
		if (len < total)
			return -ENOSPC;
		memset(buf, 0, total);
		r = NLMSG_DATA(nh);
		nh->nlmsg_type = TCPDIAG_GETSOCK;
		r->idiag_family = AF_UNSPEC;
		r->idiag_states = SOCKDIAG_ALL_STATES;
	} else {
		struct inet_diag_req_v2 *r;

		total = NLMSG_LENGTH(sizeof(*r));
		if (len < total)
			return -ENOSPC;
		memset(buf, 0, total);
		r = NLMSG_DATA(nh);
		nh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		r->sdiag_family = family == 4 ? AF_INET : AF_INET6;
		r->sdiag_protocol = proto == SNAP_PROTO_TCP ? IPPROTO_TCP :
		    IPPROTO_UDP;
		r->idiag_states = SOCKDIAG_ALL_STATES;
	}
	nh->nlmsg_len = (uint32_t)total;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nh->nlmsg_seq = seq;
	return (int)total;
}

int
sockdiag_request_info(void *req, size_t len)
{
	struct nlmsghdr *nh = req;

	if (len < sizeof(*nh))
		return -EINVAL;
	if (nh->nlmsg_type == TCPDIAG_GETSOCK &&
	    len >= NLMSG_LENGTH(sizeof(struct inet_diag_req))) {
		struct inet_diag_req *r = NLMSG_DATA(nh);

		r->idiag_ext |= 1u << (INET_DIAG_INFO - 1);
		return 0;
	}
	if (nh->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    len >= NLMSG_LENGTH(sizeof(struct inet_diag_req_v2))) {
		struct inet_diag_req_v2 *r = NLMSG_DATA(nh);

		if (r->sdiag_protocol != IPPROTO_TCP)
			return -EINVAL;
		r->idiag_ext |= 1u << (INET_DIAG_INFO - 1);
		return 0;
	}
	return -EINVAL;
}

/* The end of a tcp_info field: a kernel's struct must reach it. */
#define TI_END(f)	(offsetof(struct tcp_info, f) + \
			    sizeof(((struct tcp_info *)0)->f))

static uint32_t
get_u32(const unsigned char *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t
get_u64(const unsigned char *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

int
sockdiag_parse_info(const void *attrs, size_t len, struct sockdiag_info *info)
{
	const unsigned char *b = attrs;
	size_t off = 0;

	memset(info, 0, sizeof(*info));
	while (off < len) {
		struct rtattr ra;
		const unsigned char *pl;
		size_t plen;

		/* the message ends where its last attribute does */
		if (len - off < sizeof(ra))
			return -EBADMSG;
		memcpy(&ra, b + off, sizeof(ra));
		if (ra.rta_len < sizeof(ra) || ra.rta_len > len - off)
			return -EBADMSG;
		pl = b + off + RTA_LENGTH(0);
		plen = ra.rta_len - RTA_LENGTH(0);
		off += NL_ALIGN(ra.rta_len) <= len - off ?
		    NL_ALIGN(ra.rta_len) : ra.rta_len;
		if (ra.rta_type != INET_DIAG_INFO)
			continue;
		/* the struct grew over the years: read what this kernel's
		 * has, a longer one from a newer kernel is fine */
		if (plen < TI_END(tcpi_bytes_received))
			continue;
		info->rtt_us = get_u32(pl, offsetof(struct tcp_info,
		    tcpi_rtt));
		info->total_retrans = get_u32(pl, offsetof(struct tcp_info,
		    tcpi_total_retrans));
		info->bytes_acked = get_u64(pl, offsetof(struct tcp_info,
		    tcpi_bytes_acked));
		info->bytes_received = get_u64(pl, offsetof(struct tcp_info,
		    tcpi_bytes_received));
		info->valid = true;
	}
	return 0;
}

void
sockdiag_parser_init(struct sockdiag_parser *p, int proto, uint32_t seq)
{
	memset(p, 0, sizeof(*p));
	p->proto = proto;
	p->seq = seq;
}

/* One inet_diag_msg into s; 0, or 1 when it is not one of ours. */
static int
convert(const struct sockdiag_parser *p, const struct inet_diag_msg *m,
    struct snap_socket *s)
{
	memset(s, 0, sizeof(*s));
	if (m->idiag_family == AF_INET)
		s->family = 4;
	else if (m->idiag_family == AF_INET6)
		s->family = 6;
	else
		return 1;
	s->proto = (uint8_t)p->proto;
	if (p->proto == SNAP_PROTO_TCP) {
		if (m->idiag_state < SNAP_STATE_ESTABLISHED ||
		    m->idiag_state >= SNAP_STATE_MAX)
			return 1;
		s->state = m->idiag_state;
	} else {
		s->state = SNAP_STATE_NONE;
	}
	s->local.family = s->remote.family = s->family;
	memcpy(s->local.bytes, m->id.idiag_src, s->family == 4 ? 4 : 16);
	memcpy(s->remote.bytes, m->id.idiag_dst, s->family == 4 ? 4 : 16);
	s->local_port = ntohs(m->id.idiag_sport);
	s->remote_port = ntohs(m->id.idiag_dport);
	s->inode = m->idiag_inode;
	s->cookie = (uint64_t)m->id.idiag_cookie[1] << 32 | m->id.idiag_cookie[0];
	s->pid = -1;
	return 0;
}

int
sockdiag_parse(struct sockdiag_parser *p, const void *buf, size_t len,
    sockdiag_fn fn, void *arg)
{
	const unsigned char *b = buf;
	size_t off = 0;
	int rc;

	while (off < len) {
		struct nlmsghdr nh;
		const unsigned char *payload;
		size_t plen;

		if (len - off < sizeof(nh))
			return -EBADMSG;
		memcpy(&nh, b + off, sizeof(nh));
		if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > len - off)
			return -EBADMSG;
		payload = b + off + NLMSG_HDRLEN;
		plen = nh.nlmsg_len - NLMSG_HDRLEN;
		/* The last message need not be padded to 4. */
		off += NL_ALIGN(nh.nlmsg_len) <= len - off ?
		    NL_ALIGN(nh.nlmsg_len) : nh.nlmsg_len;

		if (nh.nlmsg_seq != p->seq)
			continue;	/* a stale reply to an older request */
		if (nh.nlmsg_type == NLMSG_DONE) {
			int err = 0;

			/* A dump that failed part way says so here. */
			if (plen >= sizeof(err))
				memcpy(&err, payload, sizeof(err));
			p->done = true;
			return err < 0 ? err : 1;
		}
		if (nh.nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr e;

			if (plen < sizeof(e.error))
				return -EBADMSG;
			memcpy(&e.error, payload, sizeof(e.error));
			if (e.error == 0)
				continue;	/* an ack */
			return e.error < 0 ? e.error : -EPROTO;
		}
		if (nh.nlmsg_type == NLMSG_NOOP)
			continue;
		if (nh.nlmsg_type != SOCK_DIAG_BY_FAMILY &&
		    nh.nlmsg_type != TCPDIAG_GETSOCK) {
			p->n_skipped++;
			continue;
		}
		{
			struct inet_diag_msg m;
			struct snap_socket s;

			if (plen < sizeof(m))
				return -EBADMSG;
			memcpy(&m, payload, sizeof(m));
			if (convert(p, &m, &s) != 0) {
				p->n_skipped++;
				continue;
			}
			/* attributes (asked-for extensions) follow the message */
			if (plen > NL_ALIGN(sizeof(m))) {
				struct sockdiag_info info;

				if (sockdiag_parse_info(payload +
				    NL_ALIGN(sizeof(m)), plen - NL_ALIGN(sizeof(m)),
				    &info) != 0)
					return -EBADMSG;
				if (info.valid && p->proto == SNAP_PROTO_TCP) {
					p->n_info++;
					s.has_info = 1;
					s.bytes_sent = info.bytes_acked;
					s.bytes_received = info.bytes_received;
					s.rtt_us = info.rtt_us;
					s.retrans = info.total_retrans;
				}
			}
			p->n_sockets++;
			if ((rc = fn(arg, &s)) != 0)
				return rc;
		}
	}
	return 0;
}
