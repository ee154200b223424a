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
#include "graph_priv.h"
#include "group.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- addresses ---- */

bool
addr_is_loopback(const struct snap_addr *a)
{
	static const uint8_t one[16] = { [15] = 1 };

	if (a->family == 4)
		return a->bytes[0] == 127;
	return memcmp(a->bytes, one, 16) == 0;
}

int
addr_cmp(const struct snap_addr *a, const struct snap_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, 16);
}

int
addr_cmp_q(const void *a, const void *b)
{
	return addr_cmp(a, b);
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
	if (group_assign(g, p->nodes, nn) != 0) {
		free(wid);
		return -ENOMEM;
	}

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
		char *id = arena_alloc(&p->arena, len, 1);

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
		e->recent = w->recent;
		e->moved_sent = w->moved_sent;
		e->moved_received = w->moved_received;
		if (b->win != NULL && b->win->dt_ms > 0) {
			e->sent_per_s = w->moved_sent * 1000 /
			    (uint64_t)b->win->dt_ms;
			e->received_per_s = w->moved_received * 1000 /
			    (uint64_t)b->win->dt_ms;
		}
		e->rtt_us = w->rtt_n ? (uint32_t)(w->rtt_sum / w->rtt_n) : 0;
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
	b.win = b.opts.window;
	b.n_gone = b.win != NULL ? b.win->n_gone : 0;
	if (b.opts.n_svc_ports > GRAPH_MAX_SVC_PORTS)
		b.opts.n_svc_ports = GRAPH_MAX_SVC_PORTS;
	b.priv = g->priv;
	g->priv->snap = snapshot_ref(snap);
	g->host = snap->host;	/* group_assign's host group needs it */
	if ((r = graph_build_run(&b)) == 0)
		r = finish(&b, g);
	if (r == 0 && b.opts.name_of != NULL)
		r = graph_names_apply(g, &b.opts);
	graph_build_release(&b);
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
	g->window_s = b.win != NULL ? b.win->window_s : 0;
	g->n_unattributed = b.n_unattributed;
	g->opts = b.opts;
	g->opts.svc_ports = NULL;
	g->opts.n_svc_ports = 0;
	g->opts.local_addrs = NULL;
	g->opts.n_local_addrs = 0;
	g->opts.name_of = NULL;
	g->opts.name_ctx = NULL;
	g->opts.window = NULL;
	*out = g;
	return 0;
}

void
graph_free(struct graph *g)
{
	if (g == NULL)
		return;
	if (g->priv != NULL) {
		arena_release(&g->priv->arena);
		free(g->priv->nodes);
		free(g->priv->edges);
		free(g->priv->listens);
		free(g->priv->conns);
		free(g->priv->names);
		snapshot_unref(g->priv->snap);
		free(g->priv);
	}
	free(g);
}

struct graph *
graph_new_like(const struct graph *src)
{
	struct graph *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	*g = *src;
	g->n_nodes = g->n_edges = 0;
	g->nodes = NULL;
	g->edges = NULL;
	if ((g->priv = calloc(1, sizeof(*g->priv))) == NULL) {
		free(g);
		return NULL;
	}
	g->priv->snap = snapshot_ref(src->priv->snap);
	/* the names live in src's memory: copies, so g may outlive src */
	g->names = NULL;
	g->n_names = 0;
	if (src->n_names > 0) {
		struct graph_name *nm = arena_alloc(&g->priv->arena,
		    src->n_names * sizeof(*nm), _Alignof(struct graph_name));

		for (size_t i = 0; nm != NULL && i < src->n_names; i++) {
			nm[i] = src->names[i];
			if ((nm[i].name = arena_strdup(&g->priv->arena,
			    src->names[i].name)) == NULL)
				nm = NULL;
		}
		if (nm == NULL) {
			graph_free(g);
			return NULL;
		}
		g->names = nm;
		g->n_names = src->n_names;
	}
	return g;
}

void *
graph_alloc(struct graph *g, size_t n)
{
	return arena_alloc(&g->priv->arena, n, 16);
}

const char *
graph_strdup(struct graph *g, const char *s)
{
	return arena_strdup(&g->priv->arena, s);
}

/* *s copied into a; a failed copy of a string sets *rc. */
static void
own_str(struct arena *a, const char **s, int *rc)
{
	const char *c;

	if (*s == NULL)
		return;
	if ((c = arena_strdup(a, *s)) == NULL)
		*rc = -ENOMEM;
	*s = c;
}

static int
own_argv(struct arena *a, uint32_t argc, const char *const **argv)
{
	const char **v;
	int rc = 0;

	if (argc == 0 || *argv == NULL) {
		*argv = NULL;
		return 0;
	}
	if ((v = arena_alloc(a, argc * sizeof(*v), _Alignof(const char *))) ==
	    NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < argc; i++) {
		v[i] = (*argv)[i];
		own_str(a, &v[i], &rc);
	}
	*argv = v;
	return rc;
}

int
graph_arena_own_node(struct arena *a, struct graph_node *n)
{
	int rc = 0;

	own_str(a, &n->name, &rc);
	own_str(a, &n->user, &rc);
	own_str(a, &n->exe, &rc);
	own_str(a, &n->cmdline, &rc);
	own_str(a, &n->service, &rc);
	own_str(a, &n->container_runtime, &rc);
	own_str(a, &n->container_id, &rc);
	own_str(a, &n->container_name, &rc);
	return rc != 0 ? rc : own_argv(a, n->argc, &n->argv);
}

int
graph_node_own(struct graph *g, struct graph_node *n)
{
	return graph_arena_own_node(&g->priv->arena, n);
}

int
graph_member_own(struct graph *g, struct graph_member *m)
{
	int rc = 0;

	own_str(&g->priv->arena, &m->name, &rc);
	own_str(&g->priv->arena, &m->cmdline, &rc);
	return rc != 0 ? rc : own_argv(&g->priv->arena, m->argc, &m->argv);
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
	"pair", "connect", "listener", "service-port", "heuristic",
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
