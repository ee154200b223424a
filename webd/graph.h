/*
 * The graph engine: a pure function from a snapshot, rules and options to
 * a graph of process / external / endpoint nodes and client->server edges,
 * and the difference between two such graphs.
 *
 * A graph is immutable once built and keeps its own reference on the
 * snapshot its strings point into; it copies what it takes from the rules,
 * so the rules may be freed or reloaded while the graph lives.
 */
#ifndef PROCNET_GRAPH_H
#define PROCNET_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct rules;
struct window_view;

/* Connections kept per edge for the UI's details panel; count is exact. */
#define GRAPH_EDGE_MAX_CONNS	64u
#define GRAPH_MAX_SVC_PORTS	1024u

enum graph_node_kind {
	GRAPH_NODE_PROCESS,
	GRAPH_NODE_EXTERNAL,	/* a remote host, id e:<addr> */
	GRAPH_NODE_ENDPOINT,	/* a local address whose owner is unseen, l:<addr>:<port> */
	GRAPH_NODE_KIND_MAX
};

/* Why the server end of an edge is the server. */
enum graph_reason {
	GRAPH_REASON_PAIR,		/* both sockets seen, one is on a listener's port */
	GRAPH_REASON_CONNECT,		/* a connection event says which end connected */
	GRAPH_REASON_LISTENER,		/* far end unseen, a local listener owns its address */
	GRAPH_REASON_SERVICE_PORT,	/* a well-known or --svc-ports port */
	GRAPH_REASON_HEURISTIC,		/* the lower port */
	GRAPH_REASON_MAX
};

struct graph_options {
	bool udp;		/* include connected UDP sockets */
	bool p2p_only;		/* only process<->process edges */
	const uint16_t *svc_ports;	/* extra service ports (--svc-ports) */
	size_t n_svc_ports;
	/* This host's interface addresses (netif_local_addrs); loopback is
	 * always local and need not be listed. */
	const struct snap_addr *local_addrs;
	size_t n_local_addrs;
	/* Connections and processes of the last window_s seconds (window.h);
	 * NULL: the snapshot alone. */
	const struct window_view *window;
	/* Names for addresses (webd/resolver.c), NULL for none: asked once
	 * per distinct address of the graph, it fills name (at most
	 * GRAPH_NAME_MAX bytes with the NUL) and returns the name's source
	 * ("ptr", "hosts", ...), or NULL when the address has no name.  It
	 * must not block: the graph is built on the sampling path. */
	const char *(*name_of)(void *ctx, const struct snap_addr *a,
	    char *name);
	void *name_ctx;
};

#define GRAPH_NAME_MAX		256u

/* An address of the graph and its name. */
struct graph_name {
	struct snap_addr addr;		/* canonical: IPv4-mapped as IPv4 */
	const char *name;
	const char *source;		/* static: name_of's answer */
};

/* How process nodes are grouped (group.h); PROCESS is one node each. */
enum graph_group {
	GRAPH_GROUP_PROCESS,
	GRAPH_GROUP_PROGRAM,
	GRAPH_GROUP_SERVICE,
	GRAPH_GROUP_CONTAINER,
	GRAPH_GROUP_USER,
	GRAPH_GROUP_HOST,	/* the whole host: one node (the fleet map's boxes) */
	GRAPH_GROUP_MAX
};
#define GRAPH_GROUP_DEFAULT	GRAPH_GROUP_PROGRAM

/* A process inside a group node. */
struct graph_member {
	const char *id;		/* its node id in the process graph */
	int32_t pid;
	uint64_t start_time;	/* Unix ms */
	const char *name, *cmdline;
	uint32_t argc;			/* as in graph_node */
	const char *const *argv;
};

struct graph_listen {
	uint8_t proto;		/* enum snap_proto */
	uint16_t port;
	struct snap_addr addr;	/* IPv4-mapped IPv6 shown as IPv4 */
};

struct graph_node {
	const char *id;		/* p:<pid>:<start_ms>, e:<addr>, l:<addr>:<port> */
	uint8_t kind;		/* enum graph_node_kind */
	const char *type;
	const char *label;

	/* GRAPH_NODE_PROCESS */
	int32_t pid;
	int32_t ppid;
	uint64_t start_time;	/* Unix ms */
	const char *name, *user, *exe, *cmdline;
	uint32_t argc;			/* 0: only cmdline is known (protocol v1) */
	const char *const *argv;	/* the snapshot's; served redacted */
	/* flagged by the collector, or gone from the table within the
	 * window: it is there for what it did recently */
	bool exited;
	size_t n_listen;
	const struct graph_listen *listen;	/* sorted, unique */
	/* What the process belongs to (snapshot v2; "" / 0 unknown) */
	const char *service;
	const char *container_runtime, *container_id, *container_name;
	uint64_t netns;
	const char *rule_group;	/* a matching rule's group: name, "" */
	/* Process graph: the id of this node's group in each mode
	 * (group[GRAPH_GROUP_PROCESS] is id).  NULL in grouped graphs. */
	const char *group[GRAPH_GROUP_MAX];
	/* Grouped graph: the processes in this node, sorted by pid (at
	 * least one); 0 in the process graph. */
	size_t n_members;
	const struct graph_member *members;

	/* GRAPH_NODE_EXTERNAL and GRAPH_NODE_ENDPOINT */
	struct snap_addr addr;
	uint16_t port;		/* endpoint only; 0 = unseen clients at addr */
	/* endpoint only: why its owner is unknown (enum snap_owner), or
	 * SNAP_OWNER_KNOWN when no socket of it was seen at all */
	uint8_t owner;
};

struct graph_conn {
	struct snap_addr client, server;
	uint16_t client_port, server_port;
	uint8_t state;		/* enum snap_tcp_state */
};

/* Connections of an edge that opened or closed within the window (seen by
 * events or by the socket table), each counted once; bytes from the
 * client's side, at close or so far. */
struct graph_recent {
	uint32_t opened, closed;
	uint64_t bytes_sent, bytes_received;
};

struct graph_edge {
	const char *id;		/* <proto>:<from>><to>:<server_port> */
	size_t from, to;	/* node indexes: from = client, to = server */
	uint8_t proto;		/* enum snap_proto */
	uint8_t reason;		/* enum graph_reason */
	uint16_t server_port;
	uint32_t count;		/* connections in the table now (0: recent only) */
	struct graph_recent recent;
	/* Bytes each way (client to server, back) since the previous
	 * sample, from the sockets' counters (tcp_info, ESTATS), and the
	 * same per second; 0 without a window or counters. */
	uint64_t moved_sent, moved_received;
	uint64_t sent_per_s, received_per_s;
	/* Mean smoothed RTT of its connections in the table whose counters
	 * were read (the client's end when seen); 0 when none. */
	uint32_t rtt_us;
	uint32_t states[SNAP_STATE_MAX];	/* count per state */
	size_t n_conns;		/* min(count, GRAPH_EDGE_MAX_CONNS) */
	const struct graph_conn *conns;	/* sorted by client address, port */
};

struct graph {
	/* from the snapshot */
	const char *host;
	const char *os;
	int64_t time_ms;
	uint32_t sample_us;
	bool privileged;
	size_t n_processes;	/* processes in the snapshot */
	size_t n_sockets;	/* sockets in the snapshot */
	uint32_t window_s;	/* of opts.window; 0 without */
	/* aggregated connections (the collector's or the window's) with an
	 * end no process could be found for: counted, not drawn */
	uint64_t n_unattributed;
	struct graph_options opts;	/* svc_ports / local_addrs not kept */

	uint8_t group_mode;	/* enum graph_group the nodes are in */

	size_t n_nodes;
	const struct graph_node *nodes;	/* sorted by id */
	size_t n_edges;
	const struct graph_edge *edges;	/* sorted by id */
	size_t n_names;
	const struct graph_name *names;	/* sorted by address */

	struct graph_priv *priv;
};

/* Builds the graph of snap.  rules may be NULL (defaults), opts may be NULL
 * (all off).  Returns 0 and *out, or -ENOMEM / -E2BIG. */
int graph_build(struct snapshot *snap, const struct rules *rules,
    const struct graph_options *opts, struct graph **out);
void graph_free(struct graph *g);	/* NULL is fine */

/* The name of a (canonical form), or NULL. */
const struct graph_name *graph_find_name(const struct graph *g,
    const struct snap_addr *a);

/* Binary search by id; NULL when absent. */
const struct graph_node *graph_find_node(const struct graph *g, const char *id);
const struct graph_edge *graph_find_edge(const struct graph *g, const char *id);

/* What changed from old to new.  add/update point into new, remove holds
 * copies of old ids: the delta is valid as long as new is.  old may be
 * NULL (everything is added). */
struct graph_delta {
	const struct graph *graph;	/* new */
	size_t n_nodes_add, n_nodes_update, n_nodes_remove;
	const struct graph_node **nodes_add, **nodes_update;
	char **nodes_remove;
	size_t n_edges_add, n_edges_update, n_edges_remove;
	const struct graph_edge **edges_add, **edges_update;
	char **edges_remove;
	/* names new or changed (into new), and addresses whose name is gone */
	size_t n_names_set, n_names_remove;
	const struct graph_name **names_set;
	struct snap_addr *names_remove;
};

int graph_delta(const struct graph *old, const struct graph *new_,
    struct graph_delta **out);
void graph_delta_free(struct graph_delta *d);	/* NULL is fine */
bool graph_delta_is_empty(const struct graph_delta *d);

/* Parses "80,443,5432" (spaces allowed, 1..65535) into ports, at most max.
 * Returns the count or -EINVAL (errbuf says which item) / -E2BIG. */
int graph_parse_ports(const char *csv, uint16_t *ports, size_t max,
    char *errbuf, size_t errlen);

/* True when port is below 1024, on the built-in list of common server
 * ports, or one of opts' svc_ports. */
bool graph_is_service_port(const struct graph_options *opts, uint16_t port);

/* For group.c: an empty graph sharing src's snapshot and header, and
 * memory that lives as long as a graph (16-byte aligned).  NULL on
 * ENOMEM. */
struct graph *graph_new_like(const struct graph *src);
void *graph_alloc(struct graph *g, size_t n);
const char *graph_strdup(struct graph *g, const char *s);
/* A process node's (a member's) strings, from name to argv, copied into
 * g, for one whose strings live where g cannot keep them: an exited
 * process the recent window keeps (and frees when it expires).  0 or
 * -ENOMEM. */
int graph_node_own(struct graph *g, struct graph_node *n);
int graph_member_own(struct graph *g, struct graph_member *m);

const char *graph_node_kind_name(unsigned kind);	/* "process" ... */
const char *graph_group_name(unsigned mode);		/* "program" ... */
int graph_group_from_name(const char *name);		/* -1 unknown */
const char *graph_reason_name(unsigned reason);		/* "pair" ... */

#endif
