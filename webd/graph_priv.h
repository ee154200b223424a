/*
 * The graph engine's insides, shared by graph.c (arena, addresses,
 * freezing a build into a graph), graph_build.c (from a snapshot to
 * working nodes and edges) and graph_delta.c.  Not for other modules.
 */
#ifndef PROCNET_GRAPH_PRIV_H
#define PROCNET_GRAPH_PRIV_H

#include "arena.h"
#include "graph.h"
#include "kmap.h"

struct graph_priv {
	struct snapshot *snap;
	struct arena arena;		/* the graph's own strings and ids */
	struct graph_node *nodes;
	struct graph_edge *edges;
	struct graph_listen *listens;
	struct graph_conn *conns;
	struct graph_name *names;
};

/* ---- addresses (graph.c) ---- */

/* IPv4-mapped IPv6 becomes IPv4; the rest is copied with zeroed slack. */
void addr_canon(const struct snap_addr *in, struct snap_addr *out);
bool addr_is_loopback(const struct snap_addr *a);
int addr_cmp(const struct snap_addr *a, const struct snap_addr *b);
int addr_cmp_q(const void *a, const void *b);

/* ---- working state ---- */

/* A relevant socket in canonical form. */
struct xsock {
	struct snap_addr l, r;
	uint16_t lp, rp;
	uint8_t proto, state, owner;
	long proc;		/* index into snap->processes, -1 when unknown */
	uint64_t ns;		/* network namespace, 0 unknown */
};

struct tkey {			/* a socket's 4-tuple, or a listener's 2-tuple */
	uint64_t ns;		/* in this namespace (0 in graph_netns.c) */
	struct snap_addr a, b;
	uint16_t ap, bp;
	uint8_t proto;
	uint8_t pad[3];
};

struct nkey {			/* external (port 0, kind) / endpoint node */
	struct snap_addr addr;
	uint16_t port;
	uint8_t kind;
	uint8_t pad[4];
};

struct ekey {
	uint32_t from, to;
	uint16_t port;
	uint8_t proto;
	uint8_t pad;
};

struct wnode {			/* a node being built */
	struct graph_node n;
	long proc;
	bool has_edge;
};

struct wedge {
	struct ekey k;
	uint8_t reason;
	uint32_t count;
	uint32_t states[SNAP_STATE_MAX];
};

struct wconn {
	uint32_t edge;
	struct graph_conn c;
};

struct wlisten {
	long proc;
	struct graph_listen l;
};

struct build {
	const struct snapshot *s;
	const struct rules *rules;
	struct graph_options opts;
	struct graph_priv *priv;

	struct snap_addr *local;	/* canonical, sorted */
	size_t n_local;

	struct xsock *xs;
	size_t n_xs;
	bool *done;
	struct kmap conns;		/* 4-tuple -> ordinal; conn_sock maps it */
	uint32_t *conn_sock;
	struct kmap listeners;		/* (proto, addr, port) -> ordinal */
	uint32_t *listener_sock;
	/* ports with any listener, per protocol: most lookups are for
	 * ephemeral client ports and stop here */
	uint8_t listen_ports[SNAP_PROTO_MAX][65536 / 8];

	long *proc_node;		/* per snapshot process, -1 = none yet */
	struct wnode *nodes;
	size_t n_nodes, cap_nodes;
	struct kmap others;		/* external/endpoint node keys */
	uint32_t *other_node;

	struct kmap edge_keys;
	struct wedge *edges;
	struct wconn *wconns;
	size_t n_wconns;

	struct wlisten *listens;
	size_t n_listens;

	/* several namespaces (graph_netns.c) */
	bool multi_ns;
	struct kmap xconns;		/* 4-tuple without namespace */
	uint32_t *xconn_sock;
	uint32_t *xconn_n;		/* sockets with that tuple */
	struct kmap addr_ns;		/* local address -> its namespace */
	uint64_t *addr_ns_val;
};

/* graph_names.c: asks opts->name_of for every address of the frozen
 * graph g and labels external nodes by name.  0 or -ENOMEM. */
int graph_names_apply(struct graph *g, const struct graph_options *opts);

/* graph_netns.c */
int graph_ns_prepare(struct build *b);
/* The socket in another namespace whose 4-tuple mirrors xs[i]'s through
 * shared addresses, -1 none. */
long graph_ns_peer(const struct build *b, size_t i);
/* The one namespace using a as a local address (not loopback). */
bool graph_ns_owner(const struct build *b, const struct snap_addr *a,
    uint64_t *ns);
void graph_ns_release(struct build *b);

/* graph_build.c: fills b from its snapshot; the caller then freezes it
 * (graph.c) and releases it either way. */
int graph_build_run(struct build *b);
void graph_build_release(struct build *b);

#endif
