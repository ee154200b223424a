/*
 * What fleet_merge.c (hosts, merge), fleet_group.c (group= folds) and
 * fleet_json.c (diffs and encoding) share.  Pure, like them.
 */
#ifndef PROCNET_WEBD_FLEET_PRIV_H
#define PROCNET_WEBD_FLEET_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "fleet_merge.h"
#include "graph.h"

#define HOST_NAME_MAX_LEN	64
#define MAX_ITEMS_PER_HOST	200000
#define SUBJECT_PREFIX		"procnet.v1."
#define SUBJECT_SUFFIX		".graph"
#define FLEET_EDGE_MAX_CONNS	64	/* as graph.h's GRAPH_EDGE_MAX_CONNS */

struct fhost {
	char name[HOST_NAME_MAX_LEN + 1];
	json_t *ident;		/* {"name","boot_id","os","addrs"} */
	json_t *nodes, *edges;	/* id -> item */
	json_t *meta, *names;
	uint64_t seq;
	bool synced;		/* deltas follow on: seq is the last applied */
	bool shown;		/* has a whole graph to show (kept while out
				 * of step, until the next full) */
	int64_t last_ms;
};

/* What one group mode served last: the base of its next delta. */
struct fleet_view {
	json_t *nodes, *edges, *names;	/* id -> item; addr -> name */
	uint64_t merge;			/* the merge it was made of; 0 none */
};

struct fleet_table {
	struct fhost *h;
	size_t n, cap;
	uint64_t merges;		/* merges made */
	json_t *meta;			/* the last merge's meta */
	struct fleet_view view[GRAPH_GROUP_MAX];	/* [PROCESS]: the merge */
};

/* fleet_json.c */
char *fleet_prefixed(const char *host, const char *id);
/* Edge c added into dst (counts, states, kept connections); takes c. */
void fleet_add_edge(json_t *dst, json_t *c);
/* The graph document and its delta from v (nodes, edges: id -> item;
 * names may be empty) into out's graph and delta; v then holds these, of
 * merge.  When v is not of merge - 1 there is no delta (out->delta NULL):
 * stream clients resync on the full graph.  0 or -ENOMEM. */
int fleet_encode(struct fleet_view *v, json_t *nodes, json_t *edges,
    json_t *names, json_t *meta, uint64_t merge, struct fleet_merged *out);
void fleet_view_clear(struct fleet_view *v);

#endif
