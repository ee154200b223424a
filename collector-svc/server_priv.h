/*
 * The collector daemon's insides (server.h is the interface), shared by
 * server.c (shared state, sampler, accept loop) and server_client.c (one
 * thread per client: handshake, subscription, stream).  Not for other
 * modules.
 */
#ifndef PROCNET_COLLECTOR_SERVER_PRIV_H
#define PROCNET_COLLECTOR_SERVER_PRIV_H

#include "server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "condvar.h"
#include "frame.h"
#include "log.h"
#include "transport.h"

#define ACCEPT_SLICE_MS		200	/* how often the accept loop looks up */
#define WAIT_SLICE_MS		100	/* how often waiting threads look up */
#define CONTROL_READ_MS		1000	/* a started frame must finish in this */
#define ERROR_WRITE_MS		200	/* courtesy ERROR before a drop */
#define CLIENT_LOG_PER_SEC	10	/* client lines a second, rest counted */

/* One sample's SNAPSHOT frame in each protocol version some client
 * speaks, shared by every client sending it. */
struct shared_frame {
	atomic_uint refs;
	bool udp;		/* sampled with UDP sockets */
	size_t len[FRAME_VERSION_MAX + 1];
	uint8_t *data[FRAME_VERSION_MAX + 1];	/* NULL: not encoded */
};

struct client {
	struct server *srv;
	struct ipc_conn *conn;
	pthread_t thread;
	unsigned id;
	char peer[IPC_PEER_MAX];
	uint16_t version;
	/* A snapshot write failed part way: the peer is mid-frame, so no
	 * ERROR frame can follow. */
	bool midframe;
	/* under srv->mu */
	bool subscribed;
	unsigned interval_ms;
	bool udp;
	bool done;		/* thread has finished; reap it */
};

struct server {
	unsigned max_clients;
	int hello_timeout_ms;
	int write_timeout_ms;
	struct collect_opts base;
	struct collector *col;

	pthread_mutex_t mu;
	struct condvar snap_cv;		/* a new snapshot is latest */
	struct condvar cfg_cv;		/* subscriptions changed */
	struct client **clients;
	unsigned n_clients;
	unsigned next_id;
	struct shared_frame *latest;	/* NULL while nobody subscribes */
	uint64_t seq;			/* bumped with each new latest */

	/* Rate limits, so a flood of clients or a failing backend costs a
	 * few log lines, not a full disk. */
	struct log_limit lim_client;	/* connect / subscribe / leave */
	struct log_limit lim_drop;	/* violations */
	struct log_limit lim_full;	/* over the client cap */
	struct log_limit lim_accept;	/* accept failures */
	struct log_limit lim_sample;	/* sample / encode failures */
};

/* An info line about a client's comings and goings. */
#define log_client(cl, fmt, ...)					\
	log_limited(&(cl)->srv->lim_client, LOG_LEVEL_INFO,		\
	    "client %u (%s) " fmt, (cl)->id, (cl)->peer, __VA_ARGS__)

/* server.c */
struct shared_frame *frame_ref(struct shared_frame *f);
void frame_unref(struct shared_frame *f);
bool stopping(void);

/* server_client.c */
void *client_main(void *arg);

#endif
