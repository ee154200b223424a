/*
 * The state's insides, shared by state.c (the per-sample pipeline),
 * state_external.c (graphs built elsewhere: the fleet view) and
 * state_status.c (/api/status and the stream's status message).
 */
#ifndef PROCNET_WEBD_STATE_PRIV_H
#define PROCNET_WEBD_STATE_PRIV_H

#include <jansson.h>
#include <pthread.h>

#include "fs.h"
#include "state.h"
#include "window.h"

/* Interfaces change rarely (DHCP, VPN up); re-read them this often. */
#define LOCAL_ADDRS_REFRESH_MS	30000
/* A group mode asked for by /api/graph is kept computed this long after
 * the last request; stream clients keep theirs for as long as they stay. */
#define MODE_KEEP_MS		60000

/* What is published for one group mode. */
struct mode_pub {
	struct state_buf *graph, *full, *delta;
	uint64_t seq;		/* the sample these are of; 0 none */
};

struct state {
	pthread_mutex_t build_lock;
	/* under build_lock */
	struct rules *rules;
	char *rules_path;
	struct fs_stamp rules_stat;	/* of the file last tried */
	bool rules_stat_valid;
	struct snapshot *last_snap;
	struct graph *prev;		/* process graph */
	struct graph *prev_mode[GRAPH_GROUP_MAX];	/* folded; [PROCESS] unused */
	uint64_t prev_mode_seq[GRAPH_GROUP_MAX];
	struct window *window;
	struct snap_addr *local_addrs;
	size_t n_local_addrs;
	int64_t local_addrs_ms;
	uint16_t *svc_ports;
	size_t n_svc_ports;
	bool udp, p2p_only, icons;
	struct graph_json_opts json;
	struct resolver *resolver;
	struct publish *publish;
	struct fleet *fleet;

	pthread_mutex_t pub_lock;
	/* under pub_lock */
	struct mode_pub pub[GRAPH_GROUP_MAX];
	struct state_buf *status;
	uint64_t seq, status_seq;
	int64_t mode_wanted_ms[GRAPH_GROUP_MAX];	/* mono; 0 never */
	unsigned mode_streams[GRAPH_GROUP_MAX];
	size_t n_nodes, n_edges, n_processes, n_sockets;
	int64_t sample_time_ms;
	uint32_t sample_us;
	struct window_stats window_stats;	/* strings copied below */
	char events_source[32], events_reason[256];
	uint64_t n_unattributed;
	uint32_t build_us;
	bool privileged;
	uint64_t n_build_errors;
	char rules_error[1200];
	int64_t rules_loaded_ms;
	size_t n_rules;
	enum subscriber_state collector;
	char collector_error[256];

	void (*on_publish)(void *);
	void *user;
	struct history *history;
};

/* state.c */
struct state_buf *state_message(const char *kind, uint64_t seq,
    const char *lead, const char *body, size_t len);
bool state_mode_active(const struct state *st, unsigned m, int64_t now);
void state_mode_publish(struct state *st, unsigned m, struct mode_pub *pub,
    struct mode_pub *old);
void state_mode_pub_release(struct mode_pub *p);

/* state_status.c */
json_t *state_json_text(const char *text);
/* The stream's status message; pub_lock held. */
struct state_buf *state_status_message(struct state *st);
void state_publish_status(struct state *st);

#endif
