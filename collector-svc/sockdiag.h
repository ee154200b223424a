/*
 * Netlink sock_diag: building the dump requests and parsing the replies.
 * Pure: no sockets here (collect_linux.c does the I/O), so the parser is
 * tested on crafted buffers, truncated and malformed ones included.
 */
#ifndef PROCNET_SOCKDIAG_H
#define PROCNET_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* Room for the largest request we build. */
#define SOCKDIAG_REQ_MAX	128

/* Every TCP state the kernel reports (1..11, plus NEW_SYN_RECV which it
 * reports as SYN_RECV); UDP sockets sit in ESTABLISHED or CLOSE. */
#define SOCKDIAG_ALL_STATES	0x1ffeu

/*
 * Builds a dump request for proto (SNAP_PROTO_TCP/UDP) and family (4, 6,
 * or 0 for both at once).  Both-at-once uses the kernel's older TCPDIAG
 * request, which walks the TCP hash tables once for IPv4 and IPv6 (one dump
 * instead of two); it exists for TCP only, so 0 with UDP is -EINVAL.
 * Returns the request length (> 0) or a negative errno code.
 */
int sockdiag_build_request(void *buf, size_t len, int proto, int family,
    uint32_t seq);

/* Asks a TCP request built above for each socket's tcp_info too
 * (INET_DIAG_INFO): 0, or -EINVAL for a UDP or unknown request. */
int sockdiag_request_info(void *req, size_t len);

/* The TCP counters the kernel's tcp_info gives, from a reply's
 * INET_DIAG_INFO attribute. */
struct sockdiag_info {
	bool valid;		/* all four read */
	uint64_t bytes_acked;	/* sent and acknowledged */
	uint64_t bytes_received;
	uint32_t rtt_us;	/* smoothed round-trip time */
	uint32_t total_retrans;
};

/*
 * Walks the netlink attributes that follow an inet_diag_msg (attrs, len
 * bytes) for INET_DIAG_INFO.  A struct tcp_info shorter than the kernel's
 * where the counters came in (Linux 4.1: bytes_acked, bytes_received) leaves
 * info->valid false; no attribute at all is not an error.  Returns 0, or
 * -EBADMSG when an attribute's length runs past the message.
 */
int sockdiag_parse_info(const void *attrs, size_t len,
    struct sockdiag_info *info);

typedef int (*sockdiag_fn)(void *arg, const struct snap_socket *s);

struct sockdiag_parser {
	uint32_t seq;		/* only replies to this request count */
	int proto;		/* what the sockets are */
	size_t n_sockets;	/* handed to fn */
	size_t n_skipped;	/* well-formed but not for us (odd family/state) */
	size_t n_info;		/* sockets that came with a usable tcp_info */
	bool done;
};

void sockdiag_parser_init(struct sockdiag_parser *p, int proto, uint32_t seq);

/*
 * Parses one buffer of a dump as recv() returned it, calling fn for every
 * socket (pid -1, owner unset; has_info and the byte counters, RTT and
 * retransmits set when a TCP socket came with its tcp_info).  Returns 0 when more is to come, 1 when the
 * dump ended (NLMSG_DONE), the kernel's negative error from NLMSG_ERROR or
 * a failed DONE, -EBADMSG for a malformed or truncated message, or what fn
 * returned when non-zero.
 */
int sockdiag_parse(struct sockdiag_parser *p, const void *buf, size_t len,
    sockdiag_fn fn, void *arg);

#endif
