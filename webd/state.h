/*
 * webd's per-sample pipeline and what it publishes.  For each snapshot the
 * subscriber delivers, the graph is built once, the delta against the
 * previous graph computed once, and the three texts every reader needs are
 * encoded once into immutable, reference-counted buffers:
 *   graph  {"nodes":..}                      /api/graph
 *   full   {"type":"full","seq":N,"graph":..} first /api/stream message
 *   delta  {"type":"delta","seq":N,..}         later /api/stream messages
 * Readers take references under a short lock and write them out with no
 * lock held, so a slow client never holds up a sample or another client.
 *
 * Rules live here too: they are swapped between two samples, and a file
 * that fails to load keeps the old rules and is reported in the status.
 */
#ifndef PROCNET_WEBD_STATE_H
#define PROCNET_WEBD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "graph_json.h"
#include "history.h"
#include "resolver.h"
#include "rules.h"
#include "snapshot.h"
#include "subscriber.h"

/* An immutable text shared by every request and stream client. */
struct state_buf {
	unsigned refs;		/* atomic */
	size_t len;
	char data[];		/* NUL-terminated */
};

struct state_buf *state_buf_new(const char *data, size_t len);
struct state_buf *state_buf_ref(struct state_buf *b);
void state_buf_unref(struct state_buf *b);	/* NULL is fine */

struct state_config {
	/* Graph options; svc_ports is copied. */
	bool udp;
	bool p2p_only;
	/* Whether --icons-dir is set: /api/status says so, so the UI asks
	 * for /icons/<type>.png only when there can be one. */
	bool icons;
	const uint16_t *svc_ports;
	size_t n_svc_ports;
	struct graph_json_opts json;
	/* The recent-connections window (window.h): seconds, 0 for
	 * WINDOW_DEFAULT_S; cap 0 for WINDOW_DEFAULT_CAP. */
	uint32_t window_s;
	size_t window_cap;
	/* The resolved rules file (NULL: none) and its loaded rules, which
	 * the state takes over (NULL with a path is not allowed). */
	const char *rules_path;
	struct rules *rules;
	/* Names for the graph's addresses; NULL: none.  Not owned: it must
	 * outlive the state. */
	struct resolver *resolver;
	/* Called (on the publishing thread, no lock held) after each new
	 * publication: a sample or a collector state change. */
	void (*on_publish)(void *user);
	void *user;
	/* Where each graph goes when the next replaces it (NULL: history
	 * off); not owned, and must outlive the state. */
	struct history *history;
};

struct state;

int state_new(const struct state_config *c, struct state **out);
void state_free(struct state *st);	/* NULL is fine */

/* The pipeline, for subscriber_opts.on_snapshot (user = the state). */
void state_on_snapshot(struct snapshot *snap, void *user);
/* subscriber_opts.on_state: publishes a status message for the stream. */
void state_on_collector(enum subscriber_state s, const char *error,
    void *user);

/*
 * Reloads the rules file when force is set (SIGHUP) or its modification
 * time or size changed since the last load, then rebuilds the graph from
 * the last snapshot so types change at once.  Returns 1 when reloaded, 0
 * when nothing changed, or a negative code when the new file is bad: the
 * old rules stay and the error (errbuf, and the status) says why.
 */
int state_check_rules(struct state *st, bool force, char *errbuf,
    size_t errlen);

/* What readers see; every buffer holds a reference (NULL before the first
 * sample).  Release with state_view_release(). */
struct state_view {
	struct state_buf *graph;
	struct state_buf *full;
	struct state_buf *delta;	/* takes a client from seq - 1 to seq */
	struct state_buf *status;	/* {"type":"status",..} stream message */
	uint64_t seq;			/* 0 before the first sample */
	uint64_t status_seq;		/* bumps on each collector change */
};

/* The process graph's view. */
void state_get(struct state *st, struct state_view *v);
/* The view of group mode `mode` (enum graph_group). */
void state_get_mode(struct state *st, unsigned mode, struct state_view *v);

/*
 * Says that mode is looked at: an /api/graph request (streams 0), a
 * stream client arriving (+1) or leaving (-1).  A mode is folded with each
 * sample while stream clients use it or for a minute after a request;
 * when it is not folded for the current sample yet, this does it now.
 * Returns 0, -EINVAL (bad mode) or -ENOMEM.
 */
int state_want(struct state *st, unsigned mode, int streams);
void state_view_release(struct state_view *v);

/* What /api/status counts of a graph published from outside. */
struct state_counts {
	size_t nodes, edges, processes, sockets;
	int64_t time_ms;
	uint32_t build_us;
};

/* One group mode's graph built elsewhere: the whole document, and the
 * inside of its delta message after the seq ("\"nodes\":{..},..."), or
 * NULL when there is none (stream clients then resync). */
struct state_external {
	const char *graph;		/* NULL: the mode is not served */
	size_t glen;
	const char *delta;
	size_t dlen;
};

/*
 * Publishes graphs built elsewhere (the fleet view, webd/fleet_nats.c) as
 * the next version: ext[mode] for each group mode; a mode without a graph
 * has none until asked for (state_want calls fleet_want).  Everything is
 * copied.  0 or -ENOMEM (the previous version stays).
 */
int state_publish_external(struct state *st,
    const struct state_external ext[GRAPH_GROUP_MAX],
    const struct state_counts *counts);
/* One mode's graph of the current version, made when it was asked for. */
int state_publish_external_mode(struct state *st, unsigned mode,
    const char *graph, size_t glen);
/* Whether someone looked at mode lately (a stream, or a request). */
bool state_mode_wanted(struct state *st, unsigned mode);

struct stream_stats;
struct publish;
struct fleet;

/* The fleet view whose counters /api/status shows ("fleet"); set once
 * before any request.  Not owned. */
void state_set_fleet(struct state *st, struct fleet *f);

/* The NATS publisher whose counters /api/status shows ("publish"); set
 * once, after the state exists and before any request.  Not owned. */
void state_set_publish(struct state *st, struct publish *p);

/* /api/status as a malloc'd JSON text, from the state, the subscriber's
 * status and the stream's counters (either may be NULL).  NULL when out of
 * memory. */
char *state_status_json(struct state *st, const struct subscriber_status *sub,
    const struct stream_stats *streams, size_t *len);

#endif
