/*
 * The graph: processes, external hosts and unseen local endpoints joined
 * by client->server edges, from one snapshot.
 *
 * Every TCP (and, with the udp option, connected UDP) socket is looked at
 * once.  Its peer socket, found by the swapped 4-tuple in a hash table, makes
 * the connection one edge however many of its ends we see.  Addresses are
 * compared in canonical form: IPv4-mapped IPv6 becomes IPv4, so a v4 client
 * of a dual-stack listener pairs with the listener's v6 accepted socket.
 */
#include "graph.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrfmt.h"
#include "rules.h"

/* ---- arena for the graph's own strings and arrays ---- */

#define ARENA_CHUNK	(64u * 1024u)

struct achunk {
	struct achunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

struct graph_priv {
	struct snapshot *snap;
	struct achunk *chunks;
	struct graph_node *nodes;
	struct graph_edge *edges;
	struct graph_listen *listens;
	struct graph_conn *conns;
};

static void *
arena_alloc(struct graph_priv *p, size_t n)
{
	struct achunk *c = p->chunks;

	n = (n + 15) & ~(size_t)15;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = p->chunks;
		p->chunks = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static const char *
arena_strdup(struct graph_priv *p, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = arena_alloc(p, n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* ---- addresses ---- */

static void
addr_canon(const struct snap_addr *in, struct snap_addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (in->family == 6 && memcmp(in->bytes, mapped, 12) == 0) {
		out->family = 4;
		memcpy(out->bytes, in->bytes + 12, 4);
	} else if (in->family == 4) {
		out->family = 4;
		memcpy(out->bytes, in->bytes, 4);
	} else {
		out->family = 6;
		memcpy(out->bytes, in->bytes, 16);
	}
}

static bool
addr_is_loopback(const struct snap_addr *a)
{
	static const uint8_t one[16] = { [15] = 1 };

	if (a->family == 4)
		return a->bytes[0] == 127;
	return memcmp(a->bytes, one, 16) == 0;
}

static int
addr_cmp(const struct snap_addr *a, const struct snap_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, 16);
}

static int
addr_cmp_q(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

/* ---- a fixed-size open-addressing map from a key blob to its ordinal ---- */

struct kmap {
	size_t ksize;
	unsigned char *keys;	/* n * ksize */
	/* low half: ordinal + 1 (0 = empty); high half: the hash's top
	 * bits, so most mismatches never touch the keys */
	uint64_t *slots;
	size_t n, cap, mask;
};

static int
kmap_init(struct kmap *m, size_t ksize, size_t cap)
{
	size_t slots = 16;

	while (slots < cap * 2)
		slots <<= 1;
	m->ksize = ksize;
	m->n = 0;
	m->cap = cap ? cap : 1;
	m->mask = slots - 1;
	m->keys = malloc(m->cap * ksize);
	m->slots = calloc(slots, sizeof(*m->slots));
	if (m->keys == NULL || m->slots == NULL) {
		free(m->keys);
		free(m->slots);
		m->keys = NULL;
		m->slots = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void
kmap_free(struct kmap *m)
{
	free(m->keys);
	free(m->slots);
}

/* Keys are small fixed-size blobs; mix them 8 bytes at a time. */
static uint64_t
hash_bytes(const void *k, size_t n)
{
	const unsigned char *p = k;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

/* Ordinal of key, or -1. */
static long
kmap_find(const struct kmap *m, const void *key)
{
	uint64_t h = hash_bytes(key, m->ksize);
	uint64_t tag = h & 0xffffffff00000000ull;
	size_t i = h & m->mask;

	for (;;) {
		uint64_t s = m->slots[i];
		uint32_t o = (uint32_t)s;

		if (o == 0)
			return -1;
		if ((s & 0xffffffff00000000ull) == tag &&
		    memcmp(m->keys + (size_t)(o - 1) * m->ksize, key,
		    m->ksize) == 0)
			return (long)(o - 1);
		i = (i + 1) & m->mask;
	}
}

/* Ordinal of key, adding it when new (*added says which).  The capacity
 * is sized by the caller from what it will insert. */
static long
kmap_put(struct kmap *m, const void *key, bool *added)
{
	uint64_t h = hash_bytes(key, m->ksize);
	uint64_t tag = h & 0xffffffff00000000ull;
	size_t i = h & m->mask;

	*added = false;
	for (;;) {
		uint64_t s = m->slots[i];
		uint32_t o = (uint32_t)s;

		if (o == 0)
			break;
		if ((s & 0xffffffff00000000ull) == tag &&
		    memcmp(m->keys + (size_t)(o - 1) * m->ksize, key,
		    m->ksize) == 0)
			return (long)(o - 1);
		i = (i + 1) & m->mask;
	}
	if (m->n >= m->cap)
		return -1;
	memcpy(m->keys + m->n * m->ksize, key, m->ksize);
	m->slots[i] = tag | (uint32_t)(++m->n);
	*added = true;
	return (long)(m->n - 1);
}

/* ---- working state ---- */

/* A relevant socket in canonical form. */
struct xsock {
	struct snap_addr l, r;
	uint16_t lp, rp;
	uint8_t proto, state, owner;
	long proc;		/* index into snap->processes, -1 when unknown */
};

struct tkey {			/* a socket's 4-tuple, or a listener's 2-tuple */
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
};

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
	if (addr_is_loopback(a) ||
	    memcmp(a->bytes, zero, a->family == 4 ? 4 : 16) == 0)
		return true;
	return bsearch(a, b->local, b->n_local, sizeof(*a), addr_cmp_q) != NULL;
}

static void
tkey_listener(struct tkey *k, uint8_t proto, const struct snap_addr *a,
    uint16_t port)
{
	memset(k, 0, sizeof(*k));
	k->proto = proto;
	k->a = *a;
	k->ap = port;
}

/* The listener for (proto, addr, port): the exact address, then the
 * wildcard of its family, then (for IPv4) the IPv6 wildcard, which takes
 * IPv4 too unless IPV6_V6ONLY -- something we cannot see.  -1 if none. */
static long
listener_find(const struct build *b, uint8_t proto, const struct snap_addr *a,
    uint16_t port)
{
	struct snap_addr any;
	struct tkey k;
	long o;

	if (proto >= SNAP_PROTO_MAX ||
	    !(b->listen_ports[proto][port >> 3] & (1u << (port & 7))))
		return -1;
	tkey_listener(&k, proto, a, port);
	if ((o = kmap_find(&b->listeners, &k)) >= 0)
		return b->listener_sock[o];
	memset(&any, 0, sizeof(any));
	any.family = a->family;
	tkey_listener(&k, proto, &any, port);
	if ((o = kmap_find(&b->listeners, &k)) >= 0)
		return b->listener_sock[o];
	if (a->family == 4) {
		any.family = 6;
		tkey_listener(&k, proto, &any, port);
		if ((o = kmap_find(&b->listeners, &k)) >= 0)
			return b->listener_sock[o];
	}
	return -1;
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

static long
process_node(struct build *b, long pi)
{
	const struct snap_process *p = &b->s->processes[pi];
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
	n->id = arena_strdup(b->priv, id);
	n->pid = p->pid;
	n->ppid = p->ppid;
	n->start_time = p->start_time;
	n->name = p->name;
	n->user = p->user;
	n->exe = p->exe;
	n->cmdline = p->cmdline;
	rules_match(b->rules, p, &res);
	/* Copies, so the rules may be reloaded while this graph lives. */
	n->type = res.rule < 0 ? RULES_DEFAULT_TYPE :
	    arena_strdup(b->priv, res.type);
	n->label = res.label == p->name ? p->name :
	    arena_strdup(b->priv, res.label);
	if (n->id == NULL || n->type == NULL || n->label == NULL)
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
		n->id = arena_strdup(b->priv, buf);
		n->label = arena_strdup(b->priv, addr);
		n->type = "external";
	} else {
		snprintf(buf, sizeof(buf), "l:%s:%u", addr, port);
		n->id = arena_strdup(b->priv, buf);
		if (port != 0)
			addrfmt_endpoint(a, port, buf);
		n->label = arena_strdup(b->priv, port != 0 ? buf : addr);
		n->type = "service";
	}
	if (n->id == NULL || n->label == NULL)
		return -ENOMEM;
	return ni;
}

/* ---- edges ---- */

static int
edge_add(struct build *b, long from, long to, uint8_t proto,
    uint8_t reason, const struct snap_addr *ca, uint16_t cp,
    const struct snap_addr *sa, uint16_t sp, uint8_t state)
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
	e->count++;
	if (state < SNAP_STATE_MAX)
		e->states[state]++;
	c = &b->wconns[b->n_wconns++];
	c->edge = (uint32_t)o;
	c->c.client = *ca;
	c->c.client_port = cp;
	c->c.server = *sa;
	c->c.server_port = sp;
	c->c.state = state;
	b->nodes[from].has_edge = true;
	b->nodes[to].has_edge = true;
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

/* Both ends seen, both owned by processes we know. */
static int
edge_pair(struct build *b, size_t i, size_t j)
{
	const struct xsock *x = &b->xs[i], *y = &b->xs[j];
	const struct xsock *cli, *srv;
	bool lx = listener_find(b, x->proto, &x->l, x->lp) >= 0;
	bool ly = listener_find(b, y->proto, &y->l, y->lp) >= 0;
	uint8_t reason = GRAPH_REASON_PAIR;
	long from, to;

	if (lx != ly) {
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
	if ((from = process_node(b, cli->proc)) < 0)
		return (int)from;
	if ((to = process_node(b, srv->proc)) < 0)
		return (int)to;
	return edge_add(b, from, to, x->proto, reason, &cli->l, cli->lp,
	    &srv->l, srv->lp, cli->state);
}

/* Only our end is seen (or the other end's owner is unknown). */
static int
edge_half(struct build *b, size_t i, long peer)
{
	const struct xsock *x = &b->xs[i];
	uint8_t peer_owner = peer >= 0 ? b->xs[peer].owner : SNAP_OWNER_KNOWN;
	uint8_t reason;
	long me, far, li;
	bool far_is_server;

	if (b->opts.p2p_only)
		return 0;
	if ((me = process_node(b, x->proc)) < 0)
		return (int)me;
	if (is_local(b, &x->r)) {
		li = listener_find(b, x->proto, &x->r, x->rp);
		if (li >= 0 && b->xs[li].proc >= 0) {
			if ((far = process_node(b, b->xs[li].proc)) < 0)
				return (int)far;
			return edge_add(b, me, far, x->proto,
			    GRAPH_REASON_LISTENER, &x->l, x->lp, &x->r, x->rp,
			    x->state);
		}
		if (li >= 0) {
			far_is_server = true;
			reason = GRAPH_REASON_LISTENER;
			if (peer_owner == SNAP_OWNER_KNOWN)
				peer_owner = b->xs[li].owner;
		} else if (listener_find(b, x->proto, &x->l, x->lp) >= 0) {
			far_is_server = false;
			reason = GRAPH_REASON_LISTENER;
		} else {
			far_is_server = guess_server(b, x->rp, x->lp,
			    &reason) > 0;
		}
		/* Unseen clients at one address share a node (port 0) rather
		 * than one node per ephemeral port. */
		far = other_node(b, GRAPH_NODE_ENDPOINT, &x->r,
		    far_is_server ? x->rp : 0, peer_owner);
	} else {
		if (listener_find(b, x->proto, &x->l, x->lp) >= 0) {
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
		return edge_add(b, me, far, x->proto, reason, &x->l, x->lp,
		    &x->r, x->rp, x->state);
	return edge_add(b, far, me, x->proto, reason, &x->r, x->rp, &x->l,
	    x->lp, x->state);
}

/* ---- preparation ---- */

static int
prepare_sockets(struct build *b)
{
	const struct snapshot *s = b->s;
	size_t n = 0, n_conn = 0, n_listen = 0;

	b->xs = calloc(s->n_sockets ? s->n_sockets : 1, sizeof(*b->xs));
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
		addr_canon(&so->local, &x->l);
		addr_canon(&so->remote, &x->r);
		x->lp = so->local_port;
		x->rp = so->remote_port;
		x->proto = so->proto;
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
		tkey_listener(&k, x->proto, &x->l, x->lp);
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
		addr_canon(&b->opts.local_addrs[i], &a);
		b->local[k++] = a;
	}
	qsort(b->local, k, sizeof(*b->local), addr_cmp_q);
	b->n_local = k;
	return 0;
}

/* ---- finishing: sort, ids, freeze ---- */

static int
cmp_listen(const void *a, const void *b)
{
	const struct wlisten *x = a, *y = b;

	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	if (x->l.proto != y->l.proto)
		return x->l.proto < y->l.proto ? -1 : 1;
	if (x->l.port != y->l.port)
		return x->l.port < y->l.port ? -1 : 1;
	return addr_cmp(&x->l.addr, &y->l.addr);
}

static int
cmp_conn(const void *a, const void *b)
{
	const struct wconn *x = a, *y = b;
	int c;

	if (x->edge != y->edge)
		return x->edge < y->edge ? -1 : 1;
	if ((c = addr_cmp(&x->c.client, &y->c.client)) != 0)
		return c;
	if (x->c.client_port != y->c.client_port)
		return x->c.client_port < y->c.client_port ? -1 : 1;
	if ((c = addr_cmp(&x->c.server, &y->c.server)) != 0)
		return c;
	if (x->c.server_port != y->c.server_port)
		return x->c.server_port < y->c.server_port ? -1 : 1;
	return (x->c.state > y->c.state) - (x->c.state < y->c.state);
}

static int
cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct graph_node *)a)->id,
	    ((const struct graph_node *)b)->id);
}

static int
cmp_edge(const void *a, const void *b)
{
	return strcmp(((const struct graph_edge *)a)->id,
	    ((const struct graph_edge *)b)->id);
}

/* Index of the node with this id in the sorted array. */
static size_t
node_index(const struct graph_node *nodes, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(nodes[mid].id, id);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return n;
}

static int
finish(struct build *b, struct graph *g)
{
	struct graph_priv *p = b->priv;
	size_t nn = 0, ne = b->edge_keys.n, li = 0, ci = 0;
	const char **wid;

	/* listen lists, per process node */
	qsort(b->listens, b->n_listens, sizeof(*b->listens), cmp_listen);
	p->listens = calloc(b->n_listens ? b->n_listens : 1,
	    sizeof(*p->listens));
	if (p->listens == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < b->n_listens; i++) {
		if (li > 0 && cmp_listen(&b->listens[li - 1], &b->listens[i]) == 0)
			continue;
		b->listens[li++] = b->listens[i];
	}
	for (size_t i = 0; i < li; i++)
		p->listens[i] = b->listens[i].l;
	for (size_t i = 0, j; i < li; i = j) {
		long ni = b->proc_node[b->listens[i].proc];

		for (j = i; j < li && b->listens[j].proc == b->listens[i].proc;)
			j++;
		if (ni >= 0) {
			b->nodes[ni].n.listen = &p->listens[i];
			b->nodes[ni].n.n_listen = j - i;
		}
	}

	/* nodes: p2p_only keeps only processes with an edge */
	p->nodes = calloc(b->n_nodes ? b->n_nodes : 1, sizeof(*p->nodes));
	wid = calloc(b->n_nodes ? b->n_nodes : 1, sizeof(*wid));
	if (p->nodes == NULL || wid == NULL) {
		free(wid);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n_nodes; i++) {
		wid[i] = b->nodes[i].n.id;
		if (b->opts.p2p_only && !b->nodes[i].has_edge)
			continue;
		p->nodes[nn++] = b->nodes[i].n;
	}
	qsort(p->nodes, nn, sizeof(*p->nodes), cmp_node);

	/* connections, at most GRAPH_EDGE_MAX_CONNS per edge */
	qsort(b->wconns, b->n_wconns, sizeof(*b->wconns), cmp_conn);
	p->conns = calloc(b->n_wconns ? b->n_wconns : 1, sizeof(*p->conns));
	p->edges = calloc(ne ? ne : 1, sizeof(*p->edges));
	if (p->conns == NULL || p->edges == NULL) {
		free(wid);
		return -ENOMEM;
	}
	for (size_t i = 0, j; i < b->n_wconns; i = j) {
		struct graph_edge *e = &p->edges[b->wconns[i].edge];

		e->conns = &p->conns[ci];
		for (j = i; j < b->n_wconns &&
		    b->wconns[j].edge == b->wconns[i].edge; j++)
			if (j - i < GRAPH_EDGE_MAX_CONNS)
				p->conns[ci++] = b->wconns[j].c;
		e->n_conns = (size_t)(&p->conns[ci] - e->conns);
	}
	for (size_t i = 0; i < ne; i++) {
		const struct wedge *w = &b->edges[i];
		struct graph_edge *e = &p->edges[i];
		const char *from = wid[w->k.from], *to = wid[w->k.to];
		size_t len = strlen(from) + strlen(to) + 16;
		char *id = arena_alloc(p, len);

		if (id == NULL) {
			free(wid);
			return -ENOMEM;
		}
		snprintf(id, len, "%s:%s>%s:%u", snap_proto_name(w->k.proto),
		    from, to, w->k.port);
		e->id = id;
		e->from = node_index(p->nodes, nn, from);
		e->to = node_index(p->nodes, nn, to);
		e->proto = w->k.proto;
		e->reason = w->reason;
		e->server_port = w->k.port;
		e->count = w->count;
		memcpy(e->states, w->states, sizeof(e->states));
	}
	free(wid);
	qsort(p->edges, ne, sizeof(*p->edges), cmp_edge);

	g->n_nodes = nn;
	g->nodes = p->nodes;
	g->n_edges = ne;
	g->edges = p->edges;
	return 0;
}

static void
build_release(struct build *b)
{
	free(b->local);
	free(b->xs);
	free(b->done);
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
}

static int
build_run(struct build *b, struct graph *g)
{
	size_t n_conn;
	int r;

	if ((r = prepare_local(b)) < 0 || (r = prepare_sockets(b)) < 0)
		return r;
	b->proc_node = malloc((b->s->n_processes ? b->s->n_processes : 1) *
	    sizeof(*b->proc_node));
	if (b->proc_node == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < b->s->n_processes; i++)
		b->proc_node[i] = -1;
	/* Every connected socket adds at most one edge, one connection and
	 * one external/endpoint node, which bounds the tables. */
	n_conn = b->conns.cap;
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
		    (r = (int)process_node(b, b->xs[i].proc)) < 0)
			return r;

	for (size_t i = 0; i < b->n_xs; i++) {
		const struct xsock *x = &b->xs[i];
		struct tkey k;
		long o, j = -1;

		if (x->rp == 0 || b->done[i])
			continue;
		b->done[i] = true;
		memset(&k, 0, sizeof(k));
		k.proto = x->proto;
		k.a = x->r;
		k.ap = x->rp;
		k.b = x->l;
		k.bp = x->lp;
		if ((o = kmap_find(&b->conns, &k)) >= 0)
			j = b->conn_sock[o];
		if (j >= 0 && (size_t)j != i) {
			if (b->done[j])
				continue;	/* a duplicate of a 4-tuple seen */
			b->done[j] = true;
		}
		if (x->proc < 0) {
			/* ours unknown: the other end, if known, speaks */
			if (j >= 0 && (size_t)j != i && b->xs[j].proc >= 0)
				r = edge_half(b, (size_t)j, (long)i);
			else
				r = 0;
		} else if (j >= 0 && b->xs[j].proc >= 0) {
			r = edge_pair(b, i, (size_t)j);
		} else {
			r = edge_half(b, i, j);
		}
		if (r < 0)
			return r;
	}
	return finish(b, g);
}

int
graph_build(struct snapshot *snap, const struct rules *rules,
    const struct graph_options *opts, struct graph **out)
{
	struct build b;
	struct graph *g;
	int r;

	memset(&b, 0, sizeof(b));
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	g->priv = calloc(1, sizeof(*g->priv));
	if (g->priv == NULL) {
		free(g);
		return -ENOMEM;
	}
	b.s = snap;
	b.rules = rules;
	if (opts != NULL)
		b.opts = *opts;
	if (b.opts.n_svc_ports > GRAPH_MAX_SVC_PORTS)
		b.opts.n_svc_ports = GRAPH_MAX_SVC_PORTS;
	b.priv = g->priv;
	g->priv->snap = snapshot_ref(snap);
	r = build_run(&b, g);
	build_release(&b);
	if (r < 0) {
		graph_free(g);
		return r;
	}
	g->host = snap->host;
	g->os = snap->os;
	g->time_ms = snap->time_ms;
	g->sample_us = snap->sample_us;
	g->privileged = snap->privileged;
	g->n_processes = snap->n_processes;
	g->n_sockets = snap->n_sockets;
	g->opts = b.opts;
	g->opts.svc_ports = NULL;
	g->opts.n_svc_ports = 0;
	g->opts.local_addrs = NULL;
	g->opts.n_local_addrs = 0;
	*out = g;
	return 0;
}

void
graph_free(struct graph *g)
{
	struct achunk *c, *next;

	if (g == NULL)
		return;
	if (g->priv != NULL) {
		for (c = g->priv->chunks; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
		free(g->priv->nodes);
		free(g->priv->edges);
		free(g->priv->listens);
		free(g->priv->conns);
		snapshot_unref(g->priv->snap);
		free(g->priv);
	}
	free(g);
}

const struct graph_node *
graph_find_node(const struct graph *g, const char *id)
{
	size_t i = node_index(g->nodes, g->n_nodes, id);

	return i < g->n_nodes ? &g->nodes[i] : NULL;
}

const struct graph_edge *
graph_find_edge(const struct graph *g, const char *id)
{
	size_t lo = 0, hi = g->n_edges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(g->edges[mid].id, id);

		if (c == 0)
			return &g->edges[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- delta ---- */

static bool
str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool
node_equal(const struct graph *ga, const struct graph_node *a,
    const struct graph *gb, const struct graph_node *b)
{
	(void)ga;
	(void)gb;
	if (a->kind != b->kind || !str_eq(a->type, b->type) ||
	    !str_eq(a->label, b->label))
		return false;
	if (a->kind != GRAPH_NODE_PROCESS)
		return addr_cmp(&a->addr, &b->addr) == 0 &&
		    a->port == b->port && a->owner == b->owner;
	if (a->pid != b->pid || a->ppid != b->ppid ||
	    a->start_time != b->start_time || !str_eq(a->name, b->name) ||
	    !str_eq(a->user, b->user) || !str_eq(a->exe, b->exe) ||
	    !str_eq(a->cmdline, b->cmdline) || a->n_listen != b->n_listen)
		return false;
	for (size_t i = 0; i < a->n_listen; i++)
		if (a->listen[i].proto != b->listen[i].proto ||
		    a->listen[i].port != b->listen[i].port ||
		    addr_cmp(&a->listen[i].addr, &b->listen[i].addr) != 0)
			return false;
	return true;
}

static bool
edge_equal(const struct graph_edge *a, const struct graph_edge *b)
{
	if (a->reason != b->reason || a->count != b->count ||
	    a->n_conns != b->n_conns ||
	    memcmp(a->states, b->states, sizeof(a->states)) != 0)
		return false;
	for (size_t i = 0; i < a->n_conns; i++) {
		const struct graph_conn *x = &a->conns[i], *y = &b->conns[i];

		if (x->client_port != y->client_port ||
		    x->server_port != y->server_port || x->state != y->state ||
		    addr_cmp(&x->client, &y->client) != 0 ||
		    addr_cmp(&x->server, &y->server) != 0)
			return false;
	}
	return true;
}

int
graph_delta(const struct graph *old, const struct graph *new_,
    struct graph_delta **out)
{
	struct graph_delta *d;
	size_t on = old ? old->n_nodes : 0, oe = old ? old->n_edges : 0;
	size_t i, j;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	d->graph = new_;
	d->nodes_add = calloc(new_->n_nodes + 1, sizeof(*d->nodes_add));
	d->nodes_update = calloc(new_->n_nodes + 1, sizeof(*d->nodes_update));
	d->nodes_remove = calloc(on + 1, sizeof(*d->nodes_remove));
	d->edges_add = calloc(new_->n_edges + 1, sizeof(*d->edges_add));
	d->edges_update = calloc(new_->n_edges + 1, sizeof(*d->edges_update));
	d->edges_remove = calloc(oe + 1, sizeof(*d->edges_remove));
	if (!d->nodes_add || !d->nodes_update || !d->nodes_remove ||
	    !d->edges_add || !d->edges_update || !d->edges_remove)
		goto nomem;

	/* both arrays are sorted by id: one merge pass each */
	for (i = 0, j = 0; i < on || j < new_->n_nodes;) {
		int c = i >= on ? 1 : j >= new_->n_nodes ? -1 :
		    strcmp(old->nodes[i].id, new_->nodes[j].id);

		if (c < 0) {
			if ((d->nodes_remove[d->n_nodes_remove] =
			    strdup(old->nodes[i].id)) == NULL)
				goto nomem;
			d->n_nodes_remove++;
			i++;
		} else if (c > 0) {
			d->nodes_add[d->n_nodes_add++] = &new_->nodes[j++];
		} else {
			if (!node_equal(old, &old->nodes[i], new_,
			    &new_->nodes[j]))
				d->nodes_update[d->n_nodes_update++] =
				    &new_->nodes[j];
			i++;
			j++;
		}
	}
	for (i = 0, j = 0; i < oe || j < new_->n_edges;) {
		int c = i >= oe ? 1 : j >= new_->n_edges ? -1 :
		    strcmp(old->edges[i].id, new_->edges[j].id);

		if (c < 0) {
			if ((d->edges_remove[d->n_edges_remove] =
			    strdup(old->edges[i].id)) == NULL)
				goto nomem;
			d->n_edges_remove++;
			i++;
		} else if (c > 0) {
			d->edges_add[d->n_edges_add++] = &new_->edges[j++];
		} else {
			if (!edge_equal(&old->edges[i], &new_->edges[j]))
				d->edges_update[d->n_edges_update++] =
				    &new_->edges[j];
			i++;
			j++;
		}
	}
	*out = d;
	return 0;
nomem:
	graph_delta_free(d);
	return -ENOMEM;
}

void
graph_delta_free(struct graph_delta *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_nodes_remove; i++)
		free(d->nodes_remove[i]);
	for (size_t i = 0; i < d->n_edges_remove; i++)
		free(d->edges_remove[i]);
	free(d->nodes_add);
	free(d->nodes_update);
	free(d->nodes_remove);
	free(d->edges_add);
	free(d->edges_update);
	free(d->edges_remove);
	free(d);
}

bool
graph_delta_is_empty(const struct graph_delta *d)
{
	return d->n_nodes_add == 0 && d->n_nodes_update == 0 &&
	    d->n_nodes_remove == 0 && d->n_edges_add == 0 &&
	    d->n_edges_update == 0 && d->n_edges_remove == 0;
}

/* ---- small helpers ---- */

int
graph_parse_ports(const char *csv, uint16_t *ports, size_t max,
    char *errbuf, size_t errlen)
{
	const char *p = csv;
	size_t n = 0;

	if (errlen > 0)
		errbuf[0] = '\0';
	while (*p != '\0') {
		unsigned long v = 0;
		const char *start;
		int digits = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p >= '0' && *p <= '9' && digits < 6) {
			v = v * 10 + (unsigned long)(*p++ - '0');
			digits++;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (digits == 0 || digits > 5 || v < 1 || v > 65535 ||
		    (*p != ',' && *p != '\0')) {
			const char *end = strchr(start, ',');
			int len = end ? (int)(end - start) : (int)strlen(start);

			if (len > 32)
				len = 32;
			snprintf(errbuf, errlen, "'%.*s' is not a port "
			    "(1..65535)", len, start);
			return -EINVAL;
		}
		if (n >= max) {
			snprintf(errbuf, errlen, "more than %zu ports", max);
			return -E2BIG;
		}
		ports[n++] = (uint16_t)v;
		if (*p == ',')
			p++;
	}
	return (int)n;
}

static const char *const kind_names[GRAPH_NODE_KIND_MAX] = {
	"process", "external", "endpoint",
};

static const char *const reason_names[GRAPH_REASON_MAX] = {
	"pair", "listener", "service-port", "heuristic",
};

const char *
graph_node_kind_name(unsigned kind)
{
	return kind < GRAPH_NODE_KIND_MAX ? kind_names[kind] : NULL;
}

const char *
graph_reason_name(unsigned reason)
{
	return reason < GRAPH_REASON_MAX ? reason_names[reason] : NULL;
}
