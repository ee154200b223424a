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
#include "window.h"

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
	uint8_t role;		/* enum snap_conn_role; window ends only */
	uint32_t rtt_us;	/* table sockets whose TCP info was read, else 0 */
	const struct window_end *ev;	/* a window record, NULL: table */
};

/* What one connection adds to an edge's recent figures; bytes from the
 * side of the socket the edge functions are given. */
struct recent_add {
	uint32_t opened, closed;
	uint64_t sent, received;
	uint64_t moved_sent, moved_received;	/* since the previous sample */
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
	struct graph_recent recent;
	uint64_t moved_sent, moved_received;
	uint64_t rtt_sum;
	uint32_t rtt_n;
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
	size_t n_ev;			/* active window ends, after n_xs */
	const struct window_view *win;
	size_t n_gone;			/* win's gone processes, or 0 */
	uint32_t *conn_ev;		/* window ends' tuple ordinal -> xs */
	uint32_t *ev_next;		/* the previous end of that tuple + 1 */
	bool *ev_done;
	uint64_t n_unattributed;
	bool *done;
	struct kmap conns;		/* 4-tuple -> ordinal; conn_sock maps it */
	uint32_t *conn_sock;
	struct kmap listeners;		/* (proto, addr, port) -> ordinal */
	uint32_t *listener_sock;
	/* ports with any listener, per protocol: most lookups are for
	 * ephemeral client ports and stop here */
	uint8_t listen_ports[SNAP_PROTO_MAX][65536 / 8];

	long *proc_node;		/* per process (snapshot's, then gone), -1 = none yet */
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

/* graph_build.c, for graph_recent.c: a listener's socket index (-1), the
 * node of process pi (snapshot index, then gone ones), and a connection
 * into its edge (ra NULL: a table one; else what it adds to recent). */
long graph_listener_find(const struct build *b, uint64_t ns, uint8_t proto,
    const struct snap_addr *a, uint16_t port);
long graph_process_node(struct build *b, long pi);
int graph_edge_add(struct build *b, long from, long to, uint8_t proto,
    uint8_t reason, const struct snap_addr *ca, uint16_t cp,
    const struct snap_addr *sa, uint16_t sp, uint8_t state,
    const struct recent_add *ra, uint32_t rtt_us);
int graph_edge_pair(struct build *b, size_t i, size_t j,
    const struct recent_add *ra);
int graph_edge_half(struct build *b, size_t i, long peer,
    const struct recent_add *ra);

/* graph.c: graph_node_own into the arena of a graph being built. */
int graph_arena_own_node(struct arena *a, struct graph_node *n);

/* graph_recent.c: the window's connections and processes into b. */
int graph_recent_run(struct build *b);

#endif
