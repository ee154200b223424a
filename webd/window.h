/*
 * The recent-connections window: what webd remembers between samples so a
 * connection that opened and closed between two of them, and a process
 * that has gone, still show for W seconds (issue 14).
 *
 * It keeps one record per local socket end: from the snapshot's connection
 * events (snap_conn, keyed by socket cookie, else 4-tuple + owner) and from
 * the socket table itself (TCP sockets with a peer), so a connection seen
 * by both is one record, a table socket that appears counts as opened even
 * when the events source sees only closes (sock_diag-destroy), and one that
 * vanishes from the table counts as closed even with no events at all.
 * Sockets of the first snapshot opened before webd watched and are not
 * "opened".  The graph pairs the two local ends of a connection itself.
 *
 * Bounded: at most cap records.  Past it, new ends are counted into
 * aggregates per (client, server, protocol, server port), as the
 * collector's own snap_conn_agg are, and the status says how many.
 * Processes that left the snapshot within the window are kept (copied) so
 * their nodes can stay, marked exited.
 *
 * Pure library code: no locks (the caller serialises), no logging.
 */
#ifndef PROCNET_WEBD_WINDOW_H
#define PROCNET_WEBD_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define WINDOW_DEFAULT_S	60u
#define WINDOW_MAX_S		86400u
#define WINDOW_DEFAULT_CAP	262144u
/* Aggregate entries and remembered processes have caps of their own. */
#define WINDOW_MAX_AGGS		65536u
#define WINDOW_MAX_GONE		65536u

/* One local socket end. */
struct window_end {
	uint8_t proto;		/* enum snap_proto */
	uint8_t role;		/* enum snap_conn_role */
	uint8_t owner;		/* enum snap_owner */
	uint8_t in_table;	/* bit 0: in the last snapshot's socket table */
	uint8_t peer_moved;	/* its peer's counters grew this sample */
	uint16_t local_port, remote_port;
	struct snap_addr local, remote;	/* canonical (addrfmt_canon) */
	int32_t pid;		/* -1 when owner != KNOWN */
	uint64_t start_time;
	uint64_t cookie;	/* 0 when none */
	uint64_t netns;		/* network namespace inode, 0 unknown */
	int64_t open_ms;	/* 0: opened before webd (or the events) watched */
	int64_t close_ms;	/* 0: still open */
	uint64_t bytes_sent, bytes_received;	/* at close, or so far */
	/* what the counters grew by since the previous sample (the kernel's
	 * tcp_info or ESTATS, from the table or a close event) */
	uint64_t moved_sent, moved_received;
	int64_t seen_ms;	/* snapshot time it was last reported */
};

/* Connections past the cap (webd's or the collector's), per key.  A
 * start time of 0 means "the process with this pid" (the collector's
 * aggregates carry no start time); a pid of -1, unknown. */
struct window_agg {
	int64_t time_ms;	/* snapshot it was counted in */
	uint8_t proto;
	uint16_t server_port;
	int32_t client_pid, server_pid;
	uint64_t client_start, server_start;
	struct snap_addr server_addr;	/* family 0: unknown */
	uint32_t opened, closed;
	uint64_t bytes_sent, bytes_received;	/* from the client's side */
};

/* A process that left the snapshot within the window (or that only a
 * connection event names); strings owned by the window. */
struct window_proc {
	struct snap_process p;	/* argv not kept: argc 0 */
	int64_t gone_ms;
};

struct window_stats {
	uint32_t window_s;
	size_t cap;
	size_t records;		/* ends kept now */
	size_t aggs;		/* aggregate entries now */
	size_t gone;		/* processes remembered */
	uint64_t aggregated;	/* ends counted into aggregates (cap reached) */
	uint64_t dropped;	/* ends or processes not even aggregated */
	size_t untracked;	/* table sockets past the cap in the last sample */
	const char *source;	/* of the last snapshot; never NULL */
	const char *reason;
	uint64_t lost;
};

struct window;

/* window_s 1..WINDOW_MAX_S; cap 0 means WINDOW_DEFAULT_CAP.  Returns 0,
 * -EINVAL or -ENOMEM. */
int window_new(uint32_t window_s, size_t cap, struct window **out);
void window_free(struct window *w);	/* NULL is fine */

/* Takes in one snapshot: its connection events, aggregates, socket table
 * and process list; forgets what fell out of the window.  Snapshots must
 * come in time order (an older one is refused with -EINVAL: nothing
 * changes).  is_node(pid, start_time) says whether a process of the
 * previous snapshot was drawn (only those are kept when they go); NULL
 * keeps every one.  Returns 0 or -ENOMEM (the window stays consistent but
 * may miss part of this snapshot). */
int window_update(struct window *w, struct snapshot *s,
    bool (*is_node)(void *user, int32_t pid, uint64_t start_time),
    void *user);

/* What the graph reads; valid until the next window_update / free. */
struct window_view {
	uint32_t window_s;
	int64_t now_ms;		/* time of the last snapshot taken in */
	int64_t dt_ms;		/* since the one before; 0 after the first */
	size_t n_ends;
	const struct window_end *ends;	/* every record; see window_end_recent */
	size_t n_aggs;
	const struct window_agg *aggs;
	size_t n_gone;
	const struct window_proc *gone;	/* sorted by pid, start time */
};

void window_view(const struct window *w, struct window_view *v);

/* Whether an end opened or closed within the window (only those count). */
bool window_end_recent(const struct window_view *v, const struct window_end *e);
/* ... or moved bytes since the previous sample (it counts for rates). */
bool window_end_active(const struct window_view *v, const struct window_end *e);

/* A remembered process by pid and start time (start 0: the latest with
 * that pid); NULL when none. */
const struct window_proc *window_find_gone(const struct window_view *v,
    int32_t pid, uint64_t start_time);

void window_get_stats(const struct window *w, struct window_stats *st);

#endif
