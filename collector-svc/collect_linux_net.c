/* Linux collector: the socket table, from netlink sock_diag dumps, or
 * /proc/net when netlink is refused (collect_linux_priv.h). */
#include "collect_linux_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "clock.h"
#include "netns_linux.h"
#include "sockdiag.h"

/* --- socket table ------------------------------------------------- */

static int
sock_push(void *arg, const struct snap_socket *s)
{
	struct sock_vec *sv = arg;
	size_t k = sv->n / SOCK_CHUNK;

	if (sv->n >= SNAP_MAX_SOCKETS)
		return -E2BIG;
	if (k == sv->n_chunks) {
		size_t nc = sv->n_chunks ? sv->n_chunks * 2 : 16;
		struct snap_socket **np;

		if ((np = realloc(sv->chunks, nc * sizeof(*np))) == NULL)
			return -ENOMEM;
		memset(np + sv->n_chunks, 0, (nc - sv->n_chunks) *
		    sizeof(*np));
		sv->chunks = np;
		sv->n_chunks = nc;
	}
	if (sv->chunks[k] == NULL &&
	    (sv->chunks[k] = malloc(SOCK_CHUNK * sizeof(*s))) == NULL)
		return -ENOMEM;
	sv->chunks[k][sv->n % SOCK_CHUNK] = *s;
	sv->chunks[k][sv->n % SOCK_CHUNK].netns = sv->netns;
	sv->n++;
	return 0;
}

int
nl_socket_new(void)
{
	int fd, sz = (int)NL_RCVBUF;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	/* A large buffer so a fast dump is not throttled by our reads;
	 * FORCE works as root, the plain one up to rmem_max otherwise. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

/* Only ever for the collector's own namespace: a socket made here lives
 * in this thread's, which is the collector's. */
static int
nl_open(struct collector *c)
{
	int fd = nl_socket_new();

	if (fd < 0)
		return fd;
	c->nlfd = fd;
	return 0;
}

/* One dump of proto/family (0 = v4+v6) into c->socks. */
static int
nl_dump(struct collector *c, int proto, int family)
{
	unsigned char req[SOCKDIAG_REQ_MAX];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct sockdiag_parser p;
	size_t before = c->socks.n;
	int len, rc;
	ssize_t n;

	if (c->nlfd < 0 && (rc = nl_open(c)) != 0)
		return rc;
	c->nl_seq++;
	if ((len = sockdiag_build_request(req, sizeof(req), proto, family,
	    c->nl_seq)) < 0)
		return len;
	/* bytes each way, RTT and retransmits of every TCP socket (issue
	 * 16; its cost is measured in make bench) */
	if (proto == SNAP_PROTO_TCP &&
	    (rc = sockdiag_request_info(req, (size_t)len)) != 0)
		return rc;
	while (sendto(c->nlfd, req, (size_t)len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	sockdiag_parser_init(&p, proto, c->nl_seq);
	for (;;) {
		struct iovec iov = { c->nlbuf, NL_BUF_SIZE };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		n = recvmsg(c->nlfd, &mh, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0 || (mh.msg_flags & MSG_TRUNC)) {
			rc = -EMSGSIZE;
			break;
		}
		rc = sockdiag_parse(&p, c->nlbuf, (size_t)n, sock_push,
		    &c->socks);
		if (rc != 0)
			break;
	}
	if (rc == 1)
		return 0;
	/* The rest of a failed dump would confuse the next one: start over
	 * on a fresh socket, and drop what this dump added. */
	close(c->nlfd);
	c->nlfd = -1;
	c->socks.n = before;
	return rc;
}

struct net_file {
	const char *path;
	int proto, family;
};

static int
procnet_dump(struct collector *c, const struct collect_opts *o)
{
	static const struct net_file files[] = {
		{ "net/tcp", SNAP_PROTO_TCP, 4 },
		{ "net/tcp6", SNAP_PROTO_TCP, 6 },
		{ "net/udp", SNAP_PROTO_UDP, 4 },
		{ "net/udp6", SNAP_PROTO_UDP, 6 },
	};
	size_t i;
	ssize_t n;
	int rc;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((files[i].proto == SNAP_PROTO_TCP && !o->tcp) ||
		    (files[i].proto == SNAP_PROTO_UDP && !o->udp))
			continue;
		n = read_big_file_at(c, c->procfd, files[i].path);
		if (n == -ENOENT)
			continue;	/* no IPv6 in this kernel */
		if (n < 0) {
			set_err(c, (int)n, files[i].path);
			return (int)n;
		}
		rc = procfs_parse_net(c->iobuf, (size_t)n, files[i].proto,
		    files[i].family, sock_push, &c->socks);
		if (rc != 0) {
			set_err(c, rc, files[i].path);
			return rc;
		}
	}
	return 0;
}

static bool
netlink_refusal(int rc)
{
	return rc == -EPERM || rc == -EACCES || rc == -EAFNOSUPPORT ||
	    rc == -EPROTONOSUPPORT || rc == -ENOENT || rc == -EOPNOTSUPP;
}

static int dump_tables(struct collector *c, const struct collect_opts *o);

/* The socket table into c->socks, timed. */
int
dump_sockets(struct collector *c, const struct collect_opts *o)
{
	int rc;

	uint64_t t0 = (uint64_t)clock_mono_us();

	rc = dump_tables(c, o);
	c->stats.dump_us = (uint32_t)((uint64_t)clock_mono_us() - t0);
	return rc;
}

/* The sockets of one namespace (c->nlfd, or none yet for the own one). */
static int
dump_ns(struct collector *c, const struct collect_opts *o)
{
	int rc = 0;

	if (o->tcp && !c->no_compat_dump) {
		rc = nl_dump(c, SNAP_PROTO_TCP, 0);
		if (rc != 0 && rc != -ENOMEM && rc != -E2BIG &&
		    !netlink_refusal(rc)) {
			/* An old or new kernel without the compat request:
			 * two dumps then. */
			c->no_compat_dump = true;
			rc = 0;
		}
		if (rc == 0 && c->no_compat_dump) {
			rc = nl_dump(c, SNAP_PROTO_TCP, 4);
			if (rc == 0)
				rc = nl_dump(c, SNAP_PROTO_TCP, 6);
		}
	}
	if (rc == 0 && o->udp) {
		rc = nl_dump(c, SNAP_PROTO_UDP, 4);
		if (rc == 0)
			rc = nl_dump(c, SNAP_PROTO_UDP, 6);
	}
	return rc;
}

/*
 * Every namespace of the set, the own one first, each through the socket
 * kept inside it (a failed dump closes it; the set opens a new one next
 * sample).  The own namespace decides about netlink as before: refused
 * there, /proc/net is read instead.  Another namespace that fails is left
 * out of this sample; the sample goes on.
 */
static int
dump_all_ns(struct collector *c, const struct collect_opts *o)
{
	size_t i, n = c->netns != NULL ? netns_set_count(c->netns) : 0;
	int rc;

	if (n == 0) {
		/* no set (out of memory at start): our own namespace */
		c->socks.netns = 0;
		return dump_ns(c, o);
	}
	for (i = 0; i < n; i++) {
		struct netns_ent *e = netns_set_at(c->netns, i);
		size_t before = c->socks.n;

		if (!e->own && e->fd < 0)
			continue;	/* could not be entered: open_err says */
		c->nlfd = e->fd;
		c->socks.netns = e->ino;
		rc = dump_ns(c, o);
		e->fd = c->nlfd;	/* nl_dump may have closed or (own) made it */
		c->nlfd = -1;
		if (rc == 0)
			continue;
		if (e->own || rc == -ENOMEM || rc == -E2BIG)
			return rc;
		c->socks.n = before;
		c->stats.n_netns_failed++;
	}
	return 0;
}

static int
dump_tables(struct collector *c, const struct collect_opts *o)
{
	int rc = 0;

	c->socks.n = 0;
	c->stats.fallback = false;
	if (!o->text_tables && !c->netlink_refused) {
		rc = dump_all_ns(c, o);
		if (rc == 0)
			return 0;
		if (!netlink_refusal(rc)) {
			set_err(c, rc, "sock_diag dump");
			return rc;
		}
		c->netlink_refused = true;
		c->socks.n = 0;
	}
	c->stats.fallback = true;
	/* the text tables are of our own namespace only */
	c->socks.netns = c->netns != NULL ? netns_set_self(c->netns) : 0;
	return procnet_dump(c, o);
}
