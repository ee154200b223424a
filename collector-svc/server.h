/*
 * Daemon mode: serve snapshots to subscribers over the ipc transport.
 *
 * One sampler thread takes snapshots only while someone is subscribed, at
 * the smallest interval asked for (clamped to SERVER_INTERVAL_MIN_MS ..
 * SERVER_INTERVAL_MAX_MS, and never busier than one sample's duration of
 * rest per sample), encodes each one once and shares the bytes with
 * every client.  Each client has its own thread, which only ever sends the
 * latest snapshot, so a slow reader skips samples instead of piling them up
 * or holding anyone else back.  A client may send HELLO and SUBSCRIBE, in
 * that order, and later SUBSCRIBE again; anything else drops it.
 */
#ifndef PROCNET_COLLECTOR_SERVER_H
#define PROCNET_COLLECTOR_SERVER_H

#include <stdbool.h>

#include "collect.h"

#define SERVER_INTERVAL_MIN_MS		100u
#define SERVER_INTERVAL_MAX_MS		60000u
#define SERVER_MAX_CLIENTS_DEFAULT	32u
#define SERVER_HELLO_TIMEOUT_DEFAULT	5000	/* ms to HELLO + SUBSCRIBE */
#define SERVER_WRITE_TIMEOUT_DEFAULT	10000	/* ms for one snapshot */

struct server_opts {
	const char *endpoint;		/* NULL: ipc_default_endpoint() */
	const char *group;		/* NULL: "procnet" */
	unsigned max_clients;		/* 0: SERVER_MAX_CLIENTS_DEFAULT */
	int hello_timeout_ms;		/* 0: SERVER_HELLO_TIMEOUT_DEFAULT */
	int write_timeout_ms;		/* 0: SERVER_WRITE_TIMEOUT_DEFAULT */
	/* Base collect options (incremental, full_every, ...); tcp is always
	 * sampled, udp only while a subscriber asks for it.  NULL: defaults
	 * with incremental on. */
	const struct collect_opts *collect;
};

/* The interval the server actually uses for a requested one. */
unsigned server_clamp_interval(unsigned ms);

/*
 * Opens the endpoint and serves until server_request_stop() (installed
 * for SIGINT and SIGTERM by server_run itself).  Logs as it goes.
 * Returns 0 after a clean stop, or a negative code when the endpoint
 * cannot be opened (another collector is live: -EADDRINUSE) or the
 * collector cannot be created.
 */
int server_run(const struct server_opts *o);

/* Asks server_run to return; async-signal-safe, any thread. */
void server_request_stop(void);

#endif
