/*
 * procnet-bench-dump: the collector's TCP socket dump alone (one
 * TCPDIAG_GETSOCK request for IPv4 and IPv6, parsed by sockdiag.c), with -i
 * asking for each socket's tcp_info (INET_DIAG_INFO) too, so make bench can
 * put the price of the byte counters beside the dump without them.  Prints
 * one line of counts: sockets, sockets with tcp_info, bytes received from
 * the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include "sockdiag.h"

#define BUF	(64u * 1024u)

static int
count(void *arg, const struct snap_socket *s)
{
	(void)arg;
	(void)s;
	return 0;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[BUF] __attribute__((aligned(8)));
	unsigned char req[SOCKDIAG_REQ_MAX];
	struct sockdiag_parser p;
	unsigned long long bytes = 0;
	int fd, len, rc = 0, info = 0, rcvbuf = 4 << 20;

	if (argc == 2 && strcmp(argv[1], "-i") == 0)
		info = 1;
	else if (argc != 1) {
		fprintf(stderr, "usage: procnet-bench-dump [-i]\n");
		return 2;
	}
	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0) {
		perror("procnet-bench-dump: netlink socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	len = sockdiag_build_request(req, sizeof(req), SNAP_PROTO_TCP, 0, 1);
	if (len < 0 || (info && sockdiag_request_info(req, (size_t)len) != 0) ||
	    send(fd, req, (size_t)len, 0) != len) {
		perror("procnet-bench-dump: request");
		return 1;
	}
	sockdiag_parser_init(&p, SNAP_PROTO_TCP, 1);
	while (rc == 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("procnet-bench-dump: recv");
			return 1;
		}
		bytes += (unsigned long long)n;
		rc = sockdiag_parse(&p, buf, (size_t)n, count, NULL);
	}
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "procnet-bench-dump: %s\n", strerror(-rc));
		return 1;
	}
	printf("sockets=%zu info=%zu bytes=%llu\n", p.n_sockets, p.n_info,
	    bytes);
	return 0;
}
