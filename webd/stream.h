/*
 * /api/stream: the live feed over WebSocket.  A client gets the full graph
 * first, then one delta per sample, and a status message whenever the
 * collector's state changes; civetweb pings idle clients.
 *
 * Each client has one sender thread and no queue: it always sends what is
 * current.  A client that fell behind (its last message is not the one just
 * before the current delta) gets a fresh full graph instead, so a slow
 * reader costs one thread and a reference, never a growing backlog.
 */
#ifndef PROCNET_WEBD_STREAM_H
#define PROCNET_WEBD_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"

struct mg_context;
struct mg_connection;
struct stream;

struct stream_stats {
	unsigned clients;
	uint64_t accepted, refused;
	uint64_t refused_frames;	/* clients closed for sending data */
	uint64_t sent_full, sent_delta, sent_status;
	uint64_t resyncs;	/* full sent because the client fell behind */
	uint64_t dropped;	/* sends that failed: client gone or stalled */
};

int stream_new(struct state *st, unsigned max_clients, struct stream **out);
/* Registers the WebSocket handlers for uri on ctx. */
void stream_attach(struct stream *s, struct mg_context *ctx, const char *uri);
/* For civetweb's connection_closed callback: frees a client whose
 * handshake failed after it was counted (civetweb then calls no close
 * handler), so a failed handshake cannot use up the cap. */
void stream_connection_closed(struct stream *s,
    const struct mg_connection *conn);
/* Wakes every sender: something new is published (state's on_publish). */
void stream_publish(void *stream);
void stream_get_stats(struct stream *s, struct stream_stats *out);
/* False when max_clients are connected: the upgrade can be refused with a
 * proper answer (the handshake itself re-checks, under the lock). */
bool stream_has_room(struct stream *s);
/* After mg_stop(): every client is gone by then. */
void stream_free(struct stream *s);	/* NULL is fine */

#endif
