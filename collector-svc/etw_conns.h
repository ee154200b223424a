/*
 * The TCP connections seen through Kernel-Network events (etw_net.h),
 * between two samples: which opened (connect / accept, with the pid of the
 * process that made or accepted it), which closed, and the bytes each
 * carried.  Pure and portable; events_win.c feeds it from the ETW thread
 * (under its own lock) and takes the connections at every sample.
 *
 * Bounded: at most `max` connections are tracked at once (open ones, and
 * closed ones not yet taken).  An event that would need one more is not
 * tracked and counts in etw_conns_dropped(); nothing grows past the cap.
 * A connection that opened before the session began is tracked from its
 * first send/receive (open_ms 0, role unknown) so its close carries bytes.
 */
#ifndef PROCNET_ETW_CONNS_H
#define PROCNET_ETW_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include "etw_net.h"

/* Same values as the snapshot's connection roles. */
enum etw_conn_role {
	ETW_CONN_ROLE_UNKNOWN,
	ETW_CONN_ROLE_CONNECT,
	ETW_CONN_ROLE_ACCEPT,
	ETW_CONN_ROLE_MAX
};

struct etw_conn {
	uint8_t family;		/* 4 or 6 (TCP only: UDP has no connections) */
	uint8_t role;		/* enum etw_conn_role */
	uint32_t pid;		/* 0 when no event named the owner */
	struct snap_addr local, remote;
	uint16_t local_port, remote_port;
	int64_t open_ms;	/* 0: opened before the events began */
	int64_t close_ms;	/* 0: still open */
	uint64_t bytes_sent, bytes_received;
	uint8_t new_open;	/* opened since the last take (set by take) */
};

#define ETW_CONNS_DEFAULT_MAX	65536u
#define ETW_CONNS_MAX_MAX	(1u << 22)

struct etw_conns;

/* max 0 = ETW_CONNS_DEFAULT_MAX; NULL on ENOMEM or max > ETW_CONNS_MAX_MAX. */
struct etw_conns *etw_conns_new(size_t max);
void etw_conns_free(struct etw_conns *c);	/* NULL is fine */

/* One decoded event at t_ms (Unix ms).  UDP events and TCP events that
 * say nothing about a connection's life or bytes (retransmit, reconnect,
 * copy) are ignored. */
void etw_conns_event(struct etw_conns *c, const struct etw_net_event *ev,
    int64_t t_ms);

/* This sample's connections: each one opened since the last take (close_ms
 * 0 if still open) and each one closed since (with open_ms when known);
 * closed ones are then forgotten.  A connection still open that was taken
 * before is not taken again.  Calls emit for each, returns how many. */
size_t etw_conns_take(struct etw_conns *c,
    void (*emit)(void *ctx, const struct etw_conn *conn), void *ctx);

/*
 * The socket table of a sample, so that a connection whose close no event
 * gave still ends: Kernel-Network's "connection attempt failed" event
 * carries no addresses, and a disconnect can be lost.  table_begin, then
 * table_note for each connected TCP socket of the table, then table_end:
 * each open connection the table did not have and that no event touched
 * for quiet_ms before now_ms (Unix ms, taken before the table was read)
 * is closed at the time of its last event.  Returns how many were.
 */
#define ETW_CONNS_QUIET_MS	10000
void etw_conns_table_begin(struct etw_conns *c);
void etw_conns_table_note(struct etw_conns *c, const struct snap_addr *local,
    uint16_t local_port, const struct snap_addr *remote,
    uint16_t remote_port);
size_t etw_conns_table_end(struct etw_conns *c, int64_t now_ms,
    int64_t quiet_ms);

size_t etw_conns_count(const struct etw_conns *c);	/* tracked now */
uint64_t etw_conns_dropped(const struct etw_conns *c);	/* cumulative */

#endif
