/*
 * The fleet view (docs/fleet.md): every host's graph from NATS
 * (procnet.v1.*.graph, as webd --publish sends it) merged into one map and
 * published through the state like a local graph.  Node ids are prefixed
 * with the host ("web1/p:42:1700..."), each node says its host, hosts that
 * stop publishing are marked stale and then dropped, and a connection whose
 * far end is a listener on another host of the fleet becomes one edge
 * between the two processes (reason "listener", or "pair" when both hosts
 * report it), as within one host.
 *
 * fleet_nats.c implements it on the NATS C client (the merge itself is
 * fleet_merge.c, pure); fleet_none.c, where the client is not built, says
 * so.
 */
#ifndef PROCNET_WEBD_FLEET_H
#define PROCNET_WEBD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state;

#define FLEET_MAX_HOSTS		1024
#define FLEET_SUBJECT		"procnet.v1.*.graph"

struct fleet_config {
	const char *const *servers;	/* nats:// or tls:// URLs */
	size_t n_servers;
	const char *creds_file, *tls_ca;
	unsigned stale_s;		/* no message this long: stale [15] */
	unsigned drop_s;		/* ... this long: off the map [300] */
	struct state *state;
};

struct fleet_stats {
	bool connected;			/* to a NATS server now */
	unsigned hosts, stale;
	uint64_t messages, bad_messages, resyncs, merges;
	double merge_ms;		/* the last merge and its encoding */
	char error[256];
};

struct fleet;

int fleet_start(const struct fleet_config *c, struct fleet **out, char *err,
    size_t errlen);
void fleet_stop(struct fleet *f);	/* NULL is fine */
void fleet_get_stats(struct fleet *f, struct fleet_stats *s);
/* Someone asks for group mode (enum graph_group) of the fleet map: the
 * last merge folded by it is published now, and each merge's while it is
 * looked at.  0, -ENOMEM, or -ENOTSUP without the fleet view. */
int fleet_want(struct fleet *f, unsigned mode);

#endif
