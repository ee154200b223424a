/*
 * From one snapshot to the graph's working nodes and edges: every relevant
 * socket in canonical form, the 4-tuple and listener tables, then one edge
 * per connection however many of its ends are seen.  graph.c freezes the
 * result.
 */
#include "graph_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrfmt.h"
#include "rules.h"

static const uint16_t builtin_service_ports[] = {
	1080, 1433, 1434, 1521, 1883, 2049, 2181, 2375, 2376, 2379, 2380,
	3128, 3306, 3389, 4222, 4369, 5000, 5222, 5432, 5601, 5671, 5672,
	5900, 5984, 6379, 6443, 6543, 7000, 7001, 7474, 7687, 8000, 8008,
	8080, 8081, 8086, 8088, 8443, 8500, 8883, 8888, 9000, 9042, 9090,
	9092, 9093, 9200, 9300, 9418, 11211, 15672, 26379, 27017, 27018,
	27019, 28017, 50051, 61613, 61616,
};

bool
graph_is_service_port(const struct graph_options *opts, uint16_t port)
{
	size_t lo = 0, hi;

	if (port == 0)
		return false;
	if (port < 1024)
		return true;
	hi = sizeof(builtin_service_ports) / sizeof(builtin_service_ports[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (builtin_service_ports[mid] == port)
			return true;
		if (builtin_service_ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; opts != NULL && i < opts->n_svc_ports; i++)
		if (opts->svc_ports[i] == port)
			return true;
	return false;
}

static bool
is_local(const struct build *b, const struct snap_addr *a)
{
	static const uint8_t zero[16];

	/* a peer of 0.0.0.0 / :: is this host (Linux connects those to
	 * itself) */
	uint64_t ns;

	if (addr_is_loopback(a) ||
	    memcmp(a->bytes, zero, a->family == 4 ? 4 : 16) == 0)
		return true;
	/* an address of one of this machine's namespaces */
	if (graph_ns_owner(b, a, &ns))
		return true;
	return bsearch(a, b->local, b->n_local, sizeof(*a), addr_cmp_q) != NULL;
}

static void
tkey_listener(struct tkey *k, uint64_t ns, uint8_t proto,
    const struct snap_addr *a, uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->ns = ns;
	k->proto = proto;
	k->a = *a;
	k->ap = port;
}

/* The listener for (proto, addr, port): the exact address, then the
 * wildcard of its family, then (for IPv4) the IPv6 wildcard, which takes
 * IPv4 too unless IPV6_V6ONLY -- something we cannot see.  -1 if none. */
static long
listener_in(const struct build *b, uint64_t ns, uint8_t proto,
    const struct snap_addr *a, uint16_t port)
{
	struct snap_addr any;
	struct tkey k;
	long o;

	tkey_listener(&k, ns, proto, a, port);
	if ((o = kmap_find(&b->listeners, &k)) >= 0)
		return b->listener_sock[o];
	memset(&any, 0, sizeof(any));
	any.family = a->family;
	tkey_listener(&k, ns, proto, &any, port);
	if ((o = kmap_find(&b->listeners, &k)) >= 0)
		return b->listener_sock[o];
	if (a->family == 4) {
		any.family = 6;
		tkey_listener(&k, ns, proto, &any, port);
		if ((o = kmap_find(&b->listeners, &k)) >= 0)
			return b->listener_sock[o];
	}
	return -1;
}

/* The listener for (proto, addr, port) as seen from namespace ns: in ns,
 * else in the namespace the address belongs to (graph_netns.c). */
static long
listener_find(const struct build *b, uint64_t ns, uint8_t proto,
    const struct snap_addr *a, uint16_t port)
{
	uint64_t other;
	long li;

	if (proto >= SNAP_PROTO_MAX ||
	    !(b->listen_ports[proto][port >> 3] & (1u << (port & 7))))
		return -1;
	if ((li = listener_in(b, ns, proto, a, port)) >= 0)
		return li;
	if (graph_ns_owner(b, a, &other) && other != ns)
		return listener_in(b, other, proto, a, port);
	return -1;
}

long
graph_listener_find(const struct build *b, uint64_t ns, uint8_t proto,
    const struct snap_addr *a, uint16_t port)
{
	return listener_find(b, ns, proto, a, port);
}

/* ---- nodes ---- */

static long
node_add(struct build *b)
{
	if (b->n_nodes == b->cap_nodes) {
		size_t ncap = b->cap_nodes ? b->cap_nodes * 2 : 64;
		struct wnode *n = realloc(b->nodes, ncap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		b->nodes = n;
		b->cap_nodes = ncap;
	}
	memset(&b->nodes[b->n_nodes], 0, sizeof(b->nodes[0]));
	b->nodes[b->n_nodes].proc = -1;
	return (long)b->n_nodes++;
}

static const struct snap_process *
proc_at(const struct build *b, long pi)
{
	if ((size_t)pi < b->s->n_processes)
		return &b->s->processes[pi];
	return &b->win->gone[(size_t)pi - b->s->n_processes].p;
}

long
graph_process_node(struct build *b, long pi)
{
	const struct snap_process *p = proc_at(b, pi);
	struct rules_result res;
	struct graph_node *n;
	char id[64];
	long ni;

	if (b->proc_node[pi] >= 0)
		return b->proc_node[pi];
	if ((ni = node_add(b)) < 0)
		return ni;
	b->nodes[ni].proc = pi;
	n = &b->nodes[ni].n;
	n->kind = GRAPH_NODE_PROCESS;
	snprintf(id, sizeof(id), "p:%ld:%llu", (long)p->pid,
	    (unsigned long long)p->start_time);
	n->id = arena_strdup(&b->priv->arena, id);
	n->pid = p->pid;
	n->ppid = p->ppid;
	n->start_time = p->start_time;
	n->name = p->name;
	n->user = p->user;
	n->exe = p->exe;
	n->cmdline = p->cmdline;
	n->netns = p->netns;
	n->service = p->service;
	n->container_runtime = p->container_runtime;
	n->container_id = p->container_id;
	n->container_name = p->container_name;
	n->argc = p->argc;
	n->argv = p->argv;
	n->exited = (size_t)pi >= b->s->n_processes ||
	    (p->flags & SNAP_PROC_EXITED) != 0;
	/* A process of the window's, not the snapshot's: the window frees
	 * it when it expires, while this graph may live on (the next diff,
	 * the history queue), so the graph keeps copies. */
	if ((size_t)pi >= b->s->n_processes &&
	    graph_arena_own_node(&b->priv->arena, n) != 0)
		return -ENOMEM;
	rules_match(b->rules, p, &res);
	/* Copies, so the rules may be reloaded while this graph lives. */
	n->type = res.rule < 0 ? RULES_DEFAULT_TYPE :
	    arena_strdup(&b->priv->arena, res.type);
	n->label = res.label == p->name ? n->name :
	    arena_strdup(&b->priv->arena, res.label);
	/* a copy too: the rules may be reloaded while this graph lives */
	n->rule_group = res.group[0] != '\0' ?
	    arena_strdup(&b->priv->arena, res.group) : "";
	if (n->id == NULL || n->type == NULL || n->label == NULL ||
	    n->rule_group == NULL)
		return -ENOMEM;
	b->proc_node[pi] = ni;
	return ni;
}

/* External host (port ignored) or local endpoint node. */
static long
other_node(struct build *b, uint8_t kind, const struct snap_addr *a,
    uint16_t port, uint8_t owner)
{
	char addr[SNAP_ADDRSTRLEN], buf[SNAP_ADDRSTRLEN + 16];
	struct graph_node *n;
	struct nkey k;
	bool added;
	long o, ni;

	memset(&k, 0, sizeof(k));
	k.addr = *a;
	k.kind = kind;
	k.port = kind == GRAPH_NODE_ENDPOINT ? port : 0;
	o = kmap_put(&b->others, &k, &added);
	if (o < 0)
		return -E2BIG;
	if (!added) {
		ni = b->other_node[o];
		if (b->nodes[ni].n.owner == SNAP_OWNER_KNOWN)
			b->nodes[ni].n.owner = owner;
		return ni;
	}
	if ((ni = node_add(b)) < 0)
		return ni;
	b->other_node[o] = (uint32_t)ni;
	n = &b->nodes[ni].n;
	n->kind = kind;
	n->addr = *a;
	n->port = k.port;
	n->owner = owner;
	addrfmt_addr(a, addr);
	if (kind == GRAPH_NODE_EXTERNAL) {
		snprintf(buf, sizeof(buf), "e:%s", addr);
		n->id = arena_strdup(&b->priv->arena, buf);
		n->label = arena_strdup(&b->priv->arena, addr);
		n->type = "external";
	} else {
		snprintf(buf, sizeof(buf), "l:%s:%u", addr, port);
		n->id = arena_strdup(&b->priv->arena, buf);
		if (port != 0)
			addrfmt_endpoint(a, port, buf);
		n->label = arena_strdup(&b->priv->arena,
		    port != 0 ? buf : addr);
		n->type = "service";
	}
	if (n->id == NULL || n->label == NULL)
		return -ENOMEM;
	return ni;
}

/* ---- edges ---- */

/* A connection from the table (ra NULL), or a recent one (ra: what it
 * adds, from the client's side; no count, no conns entry). */
int
graph_edge_add(struct build *b, long from, long to, uint8_t proto,
    uint8_t reason, const struct snap_addr *ca, uint16_t cp,
    const struct snap_addr *sa, uint16_t sp, uint8_t state,
    const struct recent_add *ra, uint32_t rtt_us)
{
	struct ekey k;
	struct wedge *e;
	struct wconn *c;
	bool added;
	long o;

	memset(&k, 0, sizeof(k));
	k.from = (uint32_t)from;
	k.to = (uint32_t)to;
	k.port = sp;
	k.proto = proto;
	o = kmap_put(&b->edge_keys, &k, &added);
	if (o < 0)
		return -E2BIG;
	e = &b->edges[o];
	if (added) {
		memset(e, 0, sizeof(*e));
		e->k = k;
		e->reason = reason;
	}
	/* An edge keeps the strongest reason among its connections. */
	if (reason < e->reason)
		e->reason = reason;
	b->nodes[from].has_edge = true;
	b->nodes[to].has_edge = true;
	if (ra != NULL) {
		e->recent.opened += ra->opened;
		e->recent.closed += ra->closed;
		e->recent.bytes_sent += ra->sent;
		e->recent.bytes_received += ra->received;
		e->moved_sent += ra->moved_sent;
		e->moved_received += ra->moved_received;
		return 0;
	}
	e->count++;
	if (rtt_us != 0) {
		e->rtt_sum += rtt_us;
		e->rtt_n++;
	}
	if (state < SNAP_STATE_MAX)
		e->states[state]++;
	c = &b->wconns[b->n_wconns++];
	c->edge = (uint32_t)o;
	c->c.client = *ca;
	c->c.client_port = cp;
	c->c.server = *sa;
	c->c.server_port = sp;
	c->c.state = state;
	return 0;
}

/* Which of two ports is the server's when no listener decides:
 * 1 for a, -1 for b, with the reason. */
static int
guess_server(const struct build *b, uint16_t pa, uint16_t pb, uint8_t *reason)
{
	bool sa = graph_is_service_port(&b->opts, pa);
	bool sb = graph_is_service_port(&b->opts, pb);

	if (sa != sb) {
		*reason = GRAPH_REASON_SERVICE_PORT;
		return sa ? 1 : -1;
	}
	*reason = GRAPH_REASON_HEURISTIC;
	return pa <= pb ? 1 : -1;
}

/* ra's bytes seen from the other end of the connection. */
static const struct recent_add *
recent_swap(const struct recent_add *ra, struct recent_add *tmp)
{
	if (ra == NULL)
		return NULL;
	*tmp = *ra;
	tmp->sent = ra->received;
	tmp->received = ra->sent;
	tmp->moved_sent = ra->moved_received;
	tmp->moved_received = ra->moved_sent;
	return tmp;
}

/* What an event's role says of x's far end: 1 it is the server, -1 the
 * client, 0 no event or no role. */
static int
role_far(const struct xsock *x)
{
	if (x->role == SNAP_ROLE_CONNECT)
		return 1;
	return x->role == SNAP_ROLE_ACCEPT ? -1 : 0;
}

/* Both ends seen, both owned by processes we know.  ra (recent
 * connections only) is from x's side. */
int
graph_edge_pair(struct build *b, size_t i, size_t j, const struct recent_add *ra)
{
	const struct xsock *x = &b->xs[i], *y = &b->xs[j];
	const struct xsock *cli, *srv;
	bool lx = listener_find(b, x->ns, x->proto, &x->l, x->lp) >= 0;
	bool ly = listener_find(b, y->ns, y->proto, &y->l, y->lp) >= 0;
	uint8_t reason = GRAPH_REASON_PAIR;
	int rf = role_far(x) != 0 ? role_far(x) : -role_far(y);
	struct recent_add tmp;
	long from, to;

	if (rf != 0) {
		srv = rf > 0 ? y : x;
		reason = GRAPH_REASON_CONNECT;
	} else if (lx != ly) {
		srv = lx ? x : y;
	} else {
		int g = guess_server(b, x->lp, y->lp, &reason);

		/* equal ports: any fixed choice that does not depend on the
		 * snapshot's order */
		if (x->lp == y->lp)
			g = addr_cmp(&x->l, &y->l) <= 0 ? 1 : -1;
		srv = g > 0 ? x : y;
	}
	cli = srv == x ? y : x;
	if ((from = graph_process_node(b, cli->proc)) < 0)
		return (int)from;
	if ((to = graph_process_node(b, srv->proc)) < 0)
		return (int)to;
	return graph_edge_add(b, from, to, x->proto, reason, &cli->l, cli->lp,
	    &srv->l, srv->lp, cli->state, cli == x ? ra : recent_swap(ra, &tmp),
	    cli->rtt_us != 0 ? cli->rtt_us : srv->rtt_us);
}

/* Only our end is seen (or the other end's owner is unknown).  ra as for
 * edge_pair. */
int
graph_edge_half(struct build *b, size_t i, long peer, const struct recent_add *ra)
{
	const struct xsock *x = &b->xs[i];
	uint8_t peer_owner = peer >= 0 ? b->xs[peer].owner : SNAP_OWNER_KNOWN;
	int rf = role_far(x);
	struct recent_add tmp;
	uint8_t reason;
	long me, far, li;
	bool far_is_server;

	if (b->opts.p2p_only)
		return 0;
	if ((me = graph_process_node(b, x->proc)) < 0)
		return (int)me;
	/* A peer socket in the dump proves its address is this host's,
	 * whatever the (possibly stale) interface list says. */
	if (peer >= 0 || is_local(b, &x->r)) {
		li = listener_find(b, x->ns, x->proto, &x->r, x->rp);
		if (li >= 0 && b->xs[li].proc >= 0 && rf >= 0) {
			if ((far = graph_process_node(b, b->xs[li].proc)) < 0)
				return (int)far;
			return graph_edge_add(b, me, far, x->proto,
			    rf > 0 ? GRAPH_REASON_CONNECT :
			    GRAPH_REASON_LISTENER, &x->l, x->lp, &x->r, x->rp,
			    x->state, ra, x->rtt_us);
		}
		if (rf != 0) {
			far_is_server = rf > 0;
			reason = GRAPH_REASON_CONNECT;
		} else if (li >= 0) {
			far_is_server = true;
			reason = GRAPH_REASON_LISTENER;
		} else if (listener_find(b, x->ns, x->proto, &x->l, x->lp) >= 0) {
			far_is_server = false;
			reason = GRAPH_REASON_LISTENER;
		} else {
			far_is_server = guess_server(b, x->rp, x->lp,
			    &reason) > 0;
		}
		if (far_is_server && li >= 0 && peer_owner == SNAP_OWNER_KNOWN)
			peer_owner = b->xs[li].owner;
		/* Unseen clients at one address share a node (port 0) rather
		 * than one node per ephemeral port. */
		far = other_node(b, GRAPH_NODE_ENDPOINT, &x->r,
		    far_is_server ? x->rp : 0, peer_owner);
	} else {
		if (rf != 0) {
			far_is_server = rf > 0;
			reason = GRAPH_REASON_CONNECT;
		} else if (listener_find(b, x->ns, x->proto, &x->l, x->lp) >= 0) {
			far_is_server = false;
			reason = GRAPH_REASON_LISTENER;
		} else {
			far_is_server = guess_server(b, x->rp, x->lp,
			    &reason) > 0;
		}
		far = other_node(b, GRAPH_NODE_EXTERNAL, &x->r, 0,
		    SNAP_OWNER_KNOWN);
	}
	if (far < 0)
		return (int)far;
	if (far_is_server)
		return graph_edge_add(b, me, far, x->proto, reason, &x->l, x->lp,
		    &x->r, x->rp, x->state, ra, x->rtt_us);
	return graph_edge_add(b, far, me, x->proto, reason, &x->r, x->rp, &x->l,
	    x->lp, x->state, recent_swap(ra, &tmp), x->rtt_us);
}

/* ---- preparation ---- */

static int
prepare_sockets(struct build *b)
{
	const struct snapshot *s = b->s;
	size_t n = 0, n_conn = 0, n_listen = 0;

	/* room for the window's active ends after the table's sockets */
	for (size_t i = 0; b->win != NULL && i < b->win->n_ends; i++)
		b->n_ev += window_end_active(b->win, &b->win->ends[i]);
	b->xs = calloc(s->n_sockets + b->n_ev + 1, sizeof(*b->xs));
	if (b->xs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_sockets; i++) {
		const struct snap_socket *so = &s->sockets[i];
		struct xsock *x = &b->xs[n];
		const struct snap_process *p = NULL;

		if (so->proto == SNAP_PROTO_UDP && !b->opts.udp)
			continue;
		if (so->proto >= SNAP_PROTO_MAX)
			continue;
		addrfmt_canon(&so->local, &x->l);
		addrfmt_canon(&so->remote, &x->r);
		x->lp = so->local_port;
		x->rp = so->remote_port;
		x->proto = so->proto;
		x->ns = so->netns;
		x->rtt_us = so->has_info ? so->rtt_us : 0;
		x->state = so->state < SNAP_STATE_MAX ? so->state :
		    SNAP_STATE_NONE;
		x->owner = so->owner < SNAP_OWNER_MAX ? so->owner :
		    SNAP_OWNER_NO_PRIVILEGE;
		if (x->owner == SNAP_OWNER_KNOWN)
			p = snapshot_find_process(s, so->pid);
		if (p != NULL) {
			x->proc = (long)(p - s->processes);
		} else {
			x->proc = -1;
			if (x->owner == SNAP_OWNER_KNOWN)
				x->owner = SNAP_OWNER_EXITED;
		}
		if (x->rp != 0)
			n_conn++;
		else if (x->proto == SNAP_PROTO_UDP ||
		    x->state == SNAP_STATE_LISTEN)
			n_listen++;
		n++;
	}
	b->n_xs = n;
	b->done = calloc(n ? n : 1, sizeof(*b->done));
	b->conn_ev = calloc(b->n_ev + 1, sizeof(*b->conn_ev));
	b->ev_next = calloc(b->n_ev + 1, sizeof(*b->ev_next));
	b->ev_done = calloc(b->n_ev + 1, sizeof(*b->ev_done));
	if (b->conn_ev == NULL || b->ev_next == NULL || b->ev_done == NULL)
		return -ENOMEM;
	b->conn_sock = calloc(n_conn ? n_conn : 1, sizeof(*b->conn_sock));
	b->listener_sock = calloc(n_listen ? n_listen : 1,
	    sizeof(*b->listener_sock));
	if (b->done == NULL || b->conn_sock == NULL || b->listener_sock == NULL)
		return -ENOMEM;
	if (kmap_init(&b->conns, sizeof(struct tkey), n_conn) < 0 ||
	    kmap_init(&b->listeners, sizeof(struct tkey), n_listen) < 0)
		return -ENOMEM;
	b->listens = calloc(n_listen ? n_listen : 1, sizeof(*b->listens));
	if (b->listens == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct xsock *x = &b->xs[i];
		struct tkey k;
		bool added;
		long o;

		if (x->rp != 0) {
			memset(&k, 0, sizeof(k));
			k.ns = x->ns;
			k.proto = x->proto;
			k.a = x->l;
			k.ap = x->lp;
			k.b = x->r;
			k.bp = x->rp;
			o = kmap_put(&b->conns, &k, &added);
			/* the same 4-tuple twice (a socket shared after fork):
			 * prefer an end whose owner we know */
			if (added || (b->xs[b->conn_sock[o]].proc < 0 &&
			    x->proc >= 0))
				b->conn_sock[o] = (uint32_t)i;
			continue;
		}
		if (x->proto != SNAP_PROTO_UDP && x->state != SNAP_STATE_LISTEN)
			continue;
		b->listen_ports[x->proto][x->lp >> 3] |= (uint8_t)(1u << (x->lp & 7));
		tkey_listener(&k, x->ns, x->proto, &x->l, x->lp);
		o = kmap_put(&b->listeners, &k, &added);
		if (added) {
			b->listener_sock[o] = (uint32_t)i;
		} else {
			/* several owners of one port (SO_REUSEPORT, forked
			 * workers): the lowest known pid, whatever the order */
			const struct xsock *cur = &b->xs[b->listener_sock[o]];
			int32_t cp = cur->proc >= 0 ?
			    b->s->processes[cur->proc].pid : INT32_MAX;
			int32_t np = x->proc >= 0 ?
			    b->s->processes[x->proc].pid : INT32_MAX;

			if (np < cp)
				b->listener_sock[o] = (uint32_t)i;
		}
		if (x->proc >= 0) {
			struct wlisten *w = &b->listens[b->n_listens++];

			w->proc = x->proc;
			w->l.proto = x->proto;
			w->l.port = x->lp;
			w->l.addr = x->l;
		}
	}
	return 0;
}

static int
prepare_local(struct build *b)
{
	size_t n = b->opts.n_local_addrs, k = 0;

	b->local = calloc(n ? n : 1, sizeof(*b->local));
	if (b->local == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct snap_addr a;

		if (b->opts.local_addrs[i].family != 4 &&
		    b->opts.local_addrs[i].family != 6)
			continue;
		addrfmt_canon(&b->opts.local_addrs[i], &a);
		b->local[k++] = a;
	}
	qsort(b->local, k, sizeof(*b->local), addr_cmp_q);
	b->n_local = k;
	return 0;
}

void
graph_build_release(struct build *b)
{
	free(b->local);
	free(b->xs);
	free(b->done);
	free(b->conn_ev);
	free(b->ev_next);
	free(b->ev_done);
	kmap_free(&b->conns);
	free(b->conn_sock);
	kmap_free(&b->listeners);
	free(b->listener_sock);
	free(b->proc_node);
	free(b->nodes);
	kmap_free(&b->others);
	free(b->other_node);
	kmap_free(&b->edge_keys);
	free(b->edges);
	free(b->wconns);
	free(b->listens);
	graph_ns_release(b);
}

int
graph_build_run(struct build *b)
{
	size_t n_conn;
	int r;

	if ((r = prepare_local(b)) < 0 || (r = prepare_sockets(b)) < 0 ||
	    (r = graph_ns_prepare(b)) < 0)
		return r;
	b->proc_node = malloc((b->s->n_processes + b->n_gone + 1) *
	    sizeof(*b->proc_node));
	if (b->proc_node == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < b->s->n_processes + b->n_gone; i++)
		b->proc_node[i] = -1;
	/* Every connected socket, active window end and aggregate adds at
	 * most one edge, one connection and one external/endpoint node,
	 * which bounds the tables. */
	n_conn = b->conns.cap + b->n_ev + (b->win != NULL ? b->win->n_aggs : 0);
	if (kmap_init(&b->others, sizeof(struct nkey), n_conn) < 0 ||
	    kmap_init(&b->edge_keys, sizeof(struct ekey), n_conn) < 0)
		return -ENOMEM;
	b->other_node = calloc(n_conn, sizeof(*b->other_node));
	b->edges = calloc(n_conn, sizeof(*b->edges));
	b->wconns = calloc(n_conn, sizeof(*b->wconns));
	if (b->other_node == NULL || b->edges == NULL || b->wconns == NULL)
		return -ENOMEM;

	/* Processes owning a relevant socket are nodes even without edges
	 * (a listener nobody uses yet), except under p2p_only. */
	for (size_t i = 0; i < b->n_xs; i++)
		if (b->xs[i].proc >= 0 &&
		    (r = (int)graph_process_node(b, b->xs[i].proc)) < 0)
			return r;

	for (size_t i = 0; i < b->n_xs; i++) {
		const struct xsock *x = &b->xs[i];
		struct tkey k;
		long o, j = -1;

		if (x->rp == 0 || b->done[i])
			continue;
		b->done[i] = true;
		memset(&k, 0, sizeof(k));
		k.ns = x->ns;
		k.proto = x->proto;
		k.a = x->r;
		k.ap = x->rp;
		k.b = x->l;
		k.bp = x->lp;
		if ((o = kmap_find(&b->conns, &k)) >= 0)
			j = b->conn_sock[o];
		else
			j = graph_ns_peer(b, i);	/* over a veth, a bridge */
		if (j >= 0 && (size_t)j != i) {
			if (b->done[j])
				continue;	/* a duplicate of a 4-tuple seen */
			b->done[j] = true;
		}
		if (x->proc < 0) {
			/* ours unknown: the other end, if known, speaks */
			if (j >= 0 && (size_t)j != i && b->xs[j].proc >= 0)
				r = graph_edge_half(b, (size_t)j, (long)i, NULL);
			else
				r = 0;
		} else if (j >= 0 && b->xs[j].proc >= 0) {
			r = graph_edge_pair(b, i, (size_t)j, NULL);
		} else {
			r = graph_edge_half(b, i, j, NULL);
		}
		if (r < 0)
			return r;
	}
	return b->win != NULL ? graph_recent_run(b) : 0;
}
