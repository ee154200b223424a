/*
 * sock_diag's destroy notifications (the SKNLGRP_INET{,6}_TCP_DESTROY
 * multicast groups): one message per TCP socket the kernel frees, with its
 * addresses, cookie and final tcp_info.  The fallback event source when BPF
 * cannot load.  Pure: events_linux.c does the I/O; tests/test_destroymsg.c
 * feeds crafted, truncated and malformed buffers.
 */
#ifndef PROCNET_DESTROYMSG_H
#define PROCNET_DESTROYMSG_H

#include <stddef.h>
#include <stdint.h>

#include "connbatch.h"

typedef int (*destroymsg_fn)(void *arg, const struct conn_rec *r);

struct destroymsg_stats {
	size_t conns;		/* handed to fn */
	size_t skipped;		/* well-formed, not a connection (listener,
				 * failed connect, not TCP) */
};

/*
 * Parses one recv() buffer, calling fn for each closed connection (closed,
 * close_ms = now_ms, owner unknown: SNAP_OWNER_EXITED, pid -1).  Returns 0,
 * -EBADMSG for a malformed or truncated message, or fn's non-zero return.
 */
int destroymsg_parse(const void *buf, size_t len, int64_t now_ms,
    destroymsg_fn fn, void *arg, struct destroymsg_stats *st);

/*
 * One line of /proc/net/netlink; when its Inode column is inode, its Drops
 * column into *drops and 0, else -ENOENT (-EBADMSG for a malformed line).
 * The kernel counts what it could not queue for a socket there, so this is
 * the exact number of destroy notifications lost to a full queue.
 */
int destroymsg_netlink_drops(const char *line, size_t len, uint64_t inode,
    uint64_t *drops);

#endif
