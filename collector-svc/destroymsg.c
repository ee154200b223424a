/*
 * Destroy notifications (destroymsg.h).  Lengths are checked against the
 * bytes received before anything is read, as in sockdiag.c.
 */
#include "destroymsg.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
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

/* The end of a tcp_info field: older kernels send a shorter struct. */
#define TI_END(f)	(offsetof(struct tcp_info, f) + \
			 sizeof(((struct tcp_info *)0)->f))

/* The attributes after the inet_diag_msg: protocol and tcp_info. */
static int
walk_attrs(const unsigned char *p, size_t len, int *proto,
    const unsigned char **info, size_t *info_len)
{
	size_t off = 0;

	while (off < len) {
		struct rtattr ra;

		if (len - off < sizeof(ra))
			return -EBADMSG;
		memcpy(&ra, p + off, sizeof(ra));
		if (ra.rta_len < sizeof(ra) || ra.rta_len > len - off)
			return -EBADMSG;
		if (ra.rta_type == INET_DIAG_PROTOCOL &&
		    ra.rta_len >= sizeof(ra) + 1)
			*proto = p[off + sizeof(ra)];
		else if (ra.rta_type == INET_DIAG_INFO) {
			*info = p + off + sizeof(ra);
			*info_len = ra.rta_len - sizeof(ra);
		}
		off += NL_ALIGN(ra.rta_len) <= len - off ?
		    NL_ALIGN(ra.rta_len) : ra.rta_len;
	}
	return 0;
}

/* One SOCK_DIAG_BY_FAMILY message; 0 with r filled, 1 when it is not a
 * connection, or -EBADMSG. */
static int
convert(const unsigned char *p, size_t len, int64_t now_ms,
    struct conn_rec *r)
{
	struct inet_diag_msg m;
	struct tcp_info ti;
	const unsigned char *info = NULL;
	size_t info_len = 0, alen;
	int proto = IPPROTO_TCP, rc;
	struct snap_conn *c = &r->c;

	if (len < sizeof(m))
		return -EBADMSG;
	memcpy(&m, p, sizeof(m));
	if ((rc = walk_attrs(p + NLMSG_ALIGN(sizeof(m)), len >
	    NLMSG_ALIGN(sizeof(m)) ? len - NLMSG_ALIGN(sizeof(m)) : 0, &proto,
	    &info, &info_len)) != 0)
		return rc;
	if (proto != IPPROTO_TCP)
		return 1;
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		return 1;
	/* A listener or a socket never connected has no peer port. */
	if (m.id.idiag_dport == 0)
		return 1;

	memset(r, 0, sizeof(*r));
	c->proto = SNAP_PROTO_TCP;
	c->family = m.idiag_family == AF_INET ? 4 : 6;
	alen = c->family == 4 ? 4 : 16;
	c->local.family = c->remote.family = c->family;
	memcpy(c->local.bytes, m.id.idiag_src, alen);
	memcpy(c->remote.bytes, m.id.idiag_dst, alen);
	c->local_port = ntohs(m.id.idiag_sport);
	c->remote_port = ntohs(m.id.idiag_dport);
	c->cookie = (uint64_t)m.id.idiag_cookie[1] << 32 | m.id.idiag_cookie[0];
	c->role = SNAP_ROLE_UNKNOWN;
	c->owner = SNAP_OWNER_EXITED;
	c->pid = -1;
	c->close_ms = now_ms;
	r->closed = true;
	if (info != NULL && info_len >= TI_END(tcpi_segs_in)) {
		memset(&ti, 0, sizeof(ti));
		memcpy(&ti, info, info_len < sizeof(ti) ? info_len : sizeof(ti));
		c->bytes_sent = ti.tcpi_bytes_acked;
		c->bytes_received = ti.tcpi_bytes_received;
		/* A refused or timed-out connect: nothing moved and at most
		 * the RST came in.  Not a connection. */
		if (ti.tcpi_bytes_acked == 0 && ti.tcpi_bytes_received == 0 &&
		    ti.tcpi_segs_in < 2)
			return 1;
	}
	return 0;
}

int
destroymsg_parse(const void *buf, size_t len, int64_t now_ms,
    destroymsg_fn fn, void *arg, struct destroymsg_stats *st)
{
	const unsigned char *b = buf;
	size_t off = 0;
	int rc;

	while (off < len) {
		struct nlmsghdr nh;
		struct conn_rec r;

		if (len - off < sizeof(nh))
			return -EBADMSG;
		memcpy(&nh, b + off, sizeof(nh));
		if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > len - off)
			return -EBADMSG;
		if (nh.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			rc = convert(b + off + NLMSG_HDRLEN, nh.nlmsg_len -
			    NLMSG_HDRLEN, now_ms, &r);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				st->conns++;
				if ((rc = fn(arg, &r)) != 0)
					return rc;
			} else
				st->skipped++;
		} else if (nh.nlmsg_type != NLMSG_NOOP) {
			st->skipped++;
		}
		off += NL_ALIGN(nh.nlmsg_len) <= len - off ?
		    NL_ALIGN(nh.nlmsg_len) : nh.nlmsg_len;
	}
	return 0;
}

/* "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode": ten columns. */
int
destroymsg_netlink_drops(const char *line, size_t len, uint64_t inode,
    uint64_t *drops)
{
	unsigned long long col[10];
	char buf[512], *p, *end;
	int i;

	if (len >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, line, len);
	buf[len] = '\0';
	p = buf;
	for (i = 0; i < 10; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || (*p > '9' && !(*p >= 'a' && *p <= 'f')))
			return i == 0 ? -ENOENT : -EBADMSG;	/* the header */
		errno = 0;
		/* the socket address and the groups are in hex */
		col[i] = strtoull(p, &end, i == 0 || i == 3 ? 16 : 10);
		if (errno != 0 || end == p || (*end != ' ' && *end != '\t' &&
		    *end != '\n' && *end != '\0'))
			return -EBADMSG;
		p = end;
	}
	if (col[9] != inode)
		return -ENOENT;
	*drops = col[8];
	return 0;
}
