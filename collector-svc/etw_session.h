/*
 * The collector's real-time ETW session on Microsoft-Windows-Kernel-Network
 * (Windows only): started with the service, stopped with it.  Its events go
 * through etw_net (decoding) into etw_conns (connections), from a thread of
 * its own that ProcessTrace runs on; the sampler takes the connections once
 * per sample.
 *
 * Bounded: the session's buffers are fixed (ETW_SESSION_BUFFER_KB x
 * ETW_SESSION_MAX_BUFFERS: ETW drops, and counts, what does not fit while
 * we are behind), and the tracker holds at most max_conns connections.
 */
#ifndef PROCNET_ETW_SESSION_H
#define PROCNET_ETW_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "etw_conns.h"

#define ETW_SESSION_NAME	L"procnet-collector-net"
#define ETW_SESSION_BUFFER_KB	64u
#define ETW_SESSION_MIN_BUFFERS	4u
#define ETW_SESSION_MAX_BUFFERS	32u	/* 2 MiB at most */

struct etw_session;

/* Starts the session.  Returns NULL only on ENOMEM; a session that could
 * not start (no privilege, no ETW: Wine) is returned stopped, and
 * etw_session_status() says why. */
struct etw_session *etw_session_start(size_t max_conns);

/* Stops the session and its thread; NULL is fine. */
void etw_session_stop(struct etw_session *s);

/* Whether events flow: 1 running, 0 not (reason filled: why, as a person
 * reads it).  *lost: events lost since the start (ETW's own count of
 * events and real-time buffers lost, plus connections over the tracker's
 * cap, plus payloads too short to decode). */
int etw_session_status(struct etw_session *s, char *reason, size_t len,
    uint64_t *lost);

/* The sample's socket table (etw_conns_table_*, ETW_CONNS_QUIET_MS),
 * under the session's lock. */
void etw_session_table_begin(struct etw_session *s);
void etw_session_table_note(struct etw_session *s,
    const struct snap_socket *k);
void etw_session_table_end(struct etw_session *s, int64_t now_ms);

/* This sample's connections (etw_conns_take). */
size_t etw_session_take(struct etw_session *s,
    void (*emit)(void *ctx, const struct etw_conn *conn), void *ctx);

#endif
