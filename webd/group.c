/*
 * Process groups (group.h): which group each process node is in, per
 * mode, and the graph folded by one mode.
 */
#include "group.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

static const char *const group_names[GRAPH_GROUP_MAX] = {
	"process", "program", "service", "container", "user", "host",
};

const char *
graph_group_name(unsigned mode)
{
	return mode < GRAPH_GROUP_MAX ? group_names[mode] : NULL;
}

int
graph_group_from_name(const char *name)
{
	for (unsigned i = 0; i < GRAPH_GROUP_MAX; i++)
		if (strcmp(name, group_names[i]) == 0)
			return (int)i;
	return -1;
}

int
graph_group_from_query(const char *query, unsigned *mode)
{
	const char *p = query;
	bool seen = false;

	*mode = GRAPH_GROUP_DEFAULT;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n > 6 && memcmp(p, "group=", 6) == 0) {
			char v[16];
			int m;

			if (seen || n - 6 >= sizeof(v))
				return -EINVAL;
			memcpy(v, p + 6, n - 6);
			v[n - 6] = '\0';
			if ((m = graph_group_from_name(v)) < 0)
				return -EINVAL;
			*mode = (unsigned)m;
			seen = true;
		} else if (n == 5 && memcmp(p, "group", 5) == 0) {
			return -EINVAL;
		} else if (n == 6 && memcmp(p, "group=", 6) == 0) {
			return -EINVAL;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* What "the same program" means: the executable, or the process name
 * when the executable is not readable (kernel threads, others' processes
 * without privilege). */
static const char *
program_of(const struct graph_node *n)
{
	return n->exe != NULL && n->exe[0] != '\0' ? n->exe : nz(n->name);
}

struct pid_ix {
	int32_t pid;
	uint32_t ix;
};

static int
cmp_pid_ix(const void *a, const void *b)
{
	const struct pid_ix *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static long
find_pid(const struct pid_ix *v, size_t n, int32_t pid)
{
	struct pid_ix k = { pid, 0 }, *f;

	f = bsearch(&k, v, n, sizeof(*v), cmp_pid_ix);
	return f != NULL ? (long)f->ix : -1;
}

/* "<prefix><text>" in g's arena. */
static const char *
prefixed(struct graph *g, const char *prefix, const char *a, const char *b)
{
	size_t n = strlen(prefix) + strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
	char *s = graph_alloc(g, n);

	if (s != NULL)
		snprintf(s, n, "%s%s%s%s", prefix, a, b ? ":" : "", b ? b : "");
	return s;
}

int
group_assign(struct graph *g, struct graph_node *nodes, size_t n)
{
	struct pid_ix *byp;
	long *root;
	size_t np = 0, i;
	int rc = 0;

	byp = calloc(n ? n : 1, sizeof(*byp));
	root = malloc((n ? n : 1) * sizeof(*root));
	if (byp == NULL || root == NULL) {
		free(byp);
		free(root);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		root[i] = -1;
		if (nodes[i].kind == GRAPH_NODE_PROCESS) {
			byp[np].pid = nodes[i].pid;
			byp[np].ix = (uint32_t)i;
			np++;
		}
	}
	qsort(byp, np, sizeof(*byp), cmp_pid_ix);

	/* The top of each chain of parents running the same program.  A
	 * walk stops at a known root, so each node is walked about once;
	 * the step bound guards against a ppid loop in a bad snapshot. */
	for (i = 0; i < n; i++) {
		size_t cur = i, steps = 0;
		long p;

		if (nodes[i].kind != GRAPH_NODE_PROCESS || root[i] >= 0)
			continue;
		while (root[cur] < 0 && steps++ < np &&
		    nodes[cur].ppid != nodes[cur].pid &&
		    (p = find_pid(byp, np, nodes[cur].ppid)) >= 0 &&
		    strcmp(program_of(&nodes[p]), program_of(&nodes[cur])) == 0)
			cur = (size_t)p;
		long top = root[cur] >= 0 ? root[cur] : (long)cur;

		/* Everyone on the way has the same top. */
		for (size_t k = i; root[k] < 0;) {
			root[k] = top;
			if (k == (size_t)top || (p = find_pid(byp, np,
			    nodes[k].ppid)) < 0 || root[p] >= 0 ||
			    strcmp(program_of(&nodes[p]),
			    program_of(&nodes[k])) != 0)
				break;
			k = (size_t)p;
		}
	}

	for (i = 0; i < n && rc == 0; i++) {
		struct graph_node *x = &nodes[i];
		const char *prog;

		for (unsigned m = 0; m < GRAPH_GROUP_MAX; m++)
			x->group[m] = x->id;
		if (x->kind != GRAPH_NODE_PROCESS)
			continue;
		prog = x->rule_group != NULL && x->rule_group[0] != '\0' ?
		    prefixed(g, "n:", x->rule_group, NULL) :
		    nodes[root[i]].id;
		x->group[GRAPH_GROUP_PROGRAM] = prog;
		x->group[GRAPH_GROUP_SERVICE] = nz(x->service)[0] != '\0' ?
		    prefixed(g, "s:", x->service, NULL) : prog;
		x->group[GRAPH_GROUP_CONTAINER] =
		    nz(x->container_id)[0] != '\0' ? prefixed(g, "c:",
		    nz(x->container_runtime), x->container_id) : prog;
		x->group[GRAPH_GROUP_USER] = nz(x->user)[0] != '\0' ?
		    prefixed(g, "u:", x->user, NULL) : prog;
		x->group[GRAPH_GROUP_HOST] = prefixed(g, "h:", nz(g->host),
		    NULL);
		for (unsigned m = 0; m < GRAPH_GROUP_MAX; m++)
			if (x->group[m] == NULL)
				rc = -ENOMEM;
	}
	free(byp);
	free(root);
	return rc;
}

/* ---- folding ---- */

struct gctx {
	const struct graph *src;
	unsigned mode;
	struct graph *g;
	uint32_t *order;	/* source node indexes sorted by group id */
	uint32_t *map;		/* source node -> folded node */
};

/* qsort has no context argument; one fold per thread at a time */
static _Thread_local struct gctx *qctx;

static int
cmp_by_group(const void *a, const void *b)
{
	const struct graph_node *x = &qctx->src->nodes[*(const uint32_t *)a];
	const struct graph_node *y = &qctx->src->nodes[*(const uint32_t *)b];
	const char *gx = x->group[qctx->mode] ? x->group[qctx->mode] : x->id;
	const char *gy = y->group[qctx->mode] ? y->group[qctx->mode] : y->id;
	int c = strcmp(gx, gy);

	if (c != 0)
		return c;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static const char *
gid_of(const struct gctx *c, const struct graph_node *x)
{
	return x->group[c->mode] != NULL ? x->group[c->mode] : x->id;
}

static int
cmp_listen(const void *a, const void *b)
{
	const struct graph_listen *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	return memcmp(x->addr.bytes, y->addr.bytes, 16);
}

/* The label of a group of count members whose representative is rep. */
static const char *
group_label(struct gctx *c, const struct graph_node *rep, size_t count)
{
	char head[160], buf[256];
	const char *name;

	switch (c->mode) {
	case GRAPH_GROUP_SERVICE:
		name = nz(rep->service)[0] != '\0' ? rep->service : NULL;
		break;
	case GRAPH_GROUP_CONTAINER:
		if (nz(rep->container_id)[0] == '\0') {
			name = NULL;
		} else if (nz(rep->container_name)[0] != '\0') {
			name = rep->container_name;
		} else {
			snprintf(head, sizeof(head), "%s %.12s",
			    nz(rep->container_runtime), rep->container_id);
			name = head;
		}
		break;
	case GRAPH_GROUP_USER:
		name = nz(rep->user)[0] != '\0' ? rep->user : NULL;
		break;
	case GRAPH_GROUP_HOST:
		/* the host itself, not "its first process ×40" */
		if (nz(c->src->host)[0] != '\0')
			return graph_strdup(c->g, c->src->host);
		name = NULL;
		break;
	default:
		name = NULL;
		break;
	}
	if (name == NULL)
		name = nz(rep->rule_group)[0] != '\0' ? rep->rule_group :
		    nz(rep->label);
	if (count < 2)
		return graph_strdup(c->g, name);
	/* "PostgreSQL ×6" (U+00D7) */
	snprintf(buf, sizeof(buf), "%.200s \xc3\x97%zu", name, count);
	return graph_strdup(c->g, buf);
}

/* One folded node from the members order[lo..hi). */
static int
fold_node(struct gctx *c, struct graph_node *out, size_t lo, size_t hi)
{
	const struct graph_node *first = &c->src->nodes[c->order[lo]];
	const char *gid = gid_of(c, first);
	const struct graph_node *rep = first;
	struct graph_member *mem;
	struct graph_listen *ls;
	size_t nl = 0, k, count = hi - lo;

	/* The member whose id the group carries (a tree's top) represents
	 * it; else the lowest pid (order is by pid within a group). */
	for (k = lo; k < hi; k++)
		if (strcmp(c->src->nodes[c->order[k]].id, gid) == 0)
			rep = &c->src->nodes[c->order[k]];
	/* The folded graph outlives the process graph: what lives in the
	 * latter's arena is copied (snapshot strings are shared). */
	*out = *rep;
	for (unsigned m = 0; m < GRAPH_GROUP_MAX; m++)
		out->group[m] = NULL;
	out->id = graph_strdup(c->g, gid);
	out->type = graph_strdup(c->g, nz(rep->type));
	out->label = graph_strdup(c->g, nz(rep->label));
	out->rule_group = graph_strdup(c->g, nz(rep->rule_group));
	if (out->id == NULL || out->type == NULL || out->label == NULL ||
	    out->rule_group == NULL ||
	    (rep->exited && graph_node_own(c->g, out) != 0))
		return -ENOMEM;
	if (rep->kind != GRAPH_NODE_PROCESS) {
		out->listen = NULL;
		out->n_listen = 0;
		return 0;
	}
	mem = graph_alloc(c->g, count * sizeof(*mem));
	for (k = lo; k < hi; k++)
		nl += c->src->nodes[c->order[k]].n_listen;
	ls = graph_alloc(c->g, (nl ? nl : 1) * sizeof(*ls));
	if (mem == NULL || ls == NULL)
		return -ENOMEM;
	nl = 0;
	for (k = lo; k < hi; k++) {
		const struct graph_node *x = &c->src->nodes[c->order[k]];

		if ((mem[k - lo].id = graph_strdup(c->g, x->id)) == NULL)
			return -ENOMEM;
		mem[k - lo].pid = x->pid;
		mem[k - lo].start_time = x->start_time;
		mem[k - lo].name = x->name;
		mem[k - lo].cmdline = x->cmdline;
		mem[k - lo].argc = x->argc;
		mem[k - lo].argv = x->argv;
		/* an exited process's strings: the process graph's arena */
		if (x->exited && graph_member_own(c->g, &mem[k - lo]) != 0)
			return -ENOMEM;
		if (x->n_listen > 0)	/* listen is NULL when there is none */
			memcpy(ls + nl, x->listen, x->n_listen * sizeof(*ls));
		nl += x->n_listen;
	}
	qsort(ls, nl, sizeof(*ls), cmp_listen);
	k = 0;
	for (size_t i = 0; i < nl; i++)
		if (k == 0 || cmp_listen(&ls[k - 1], &ls[i]) != 0)
			ls[k++] = ls[i];
	out->listen = ls;
	out->n_listen = k;
	out->members = mem;
	out->n_members = count;
	/* exited only when every member is: a live one keeps the group on */
	out->exited = true;
	for (k = lo; k < hi; k++)
		out->exited &= c->src->nodes[c->order[k]].exited;
	if ((out->label = group_label(c, rep, count)) == NULL)
		return -ENOMEM;
	return 0;
}

/* A folded edge being summed. */
struct fedge {
	uint32_t from, to;
	uint16_t port;
	uint8_t proto;
	uint32_t src;		/* a source edge index */
};

static int
cmp_fedge(const void *a, const void *b)
{
	const struct fedge *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (x->src > y->src) - (x->src < y->src);
}

static bool
same_fedge(const struct fedge *x, const struct fedge *y)
{
	return x->from == y->from && x->to == y->to && x->port == y->port &&
	    x->proto == y->proto;
}

static int
cmp_conn(const void *a, const void *b)
{
	const struct graph_conn *x = a, *y = b;
	int c;

	if (x->client.family != y->client.family)
		return x->client.family < y->client.family ? -1 : 1;
	if ((c = memcmp(x->client.bytes, y->client.bytes, 16)) != 0)
		return c;
	if (x->client_port != y->client_port)
		return x->client_port < y->client_port ? -1 : 1;
	if (x->server.family != y->server.family)
		return x->server.family < y->server.family ? -1 : 1;
	if ((c = memcmp(x->server.bytes, y->server.bytes, 16)) != 0)
		return c;
	if (x->server_port != y->server_port)
		return x->server_port < y->server_port ? -1 : 1;
	return (x->state > y->state) - (x->state < y->state);
}

static int
cmp_edge_id(const void *a, const void *b)
{
	return strcmp(((const struct graph_edge *)a)->id,
	    ((const struct graph_edge *)b)->id);
}

static int
fold_edges(struct gctx *c, struct graph_node *nodes)
{
	const struct graph *s = c->src;
	struct fedge *fe;
	struct graph_edge *edges;
	size_t ne = 0, i, j;
	int rc = 0;

	fe = calloc(s->n_edges ? s->n_edges : 1, sizeof(*fe));
	edges = graph_alloc(c->g, (s->n_edges ? s->n_edges : 1) *
	    sizeof(*edges));
	if (fe == NULL || edges == NULL) {
		free(fe);
		return -ENOMEM;
	}
	for (i = 0; i < s->n_edges; i++) {
		fe[i].from = c->map[s->edges[i].from];
		fe[i].to = c->map[s->edges[i].to];
		fe[i].port = s->edges[i].server_port;
		fe[i].proto = s->edges[i].proto;
		fe[i].src = (uint32_t)i;
	}
	qsort(fe, s->n_edges, sizeof(*fe), cmp_fedge);
	for (i = 0; i < s->n_edges && rc == 0; i = j) {
		struct graph_edge *e = &edges[ne++];
		const struct graph_edge *f = &s->edges[fe[i].src];
		struct graph_conn *cs;
		uint64_t rtt_sum, rtt_n;
		size_t nc = 0, len;
		char *id;

		for (j = i; j < s->n_edges && same_fedge(&fe[i], &fe[j]); j++)
			nc += s->edges[fe[j].src].n_conns;
		memset(e, 0, sizeof(*e));
		e->from = fe[i].from;
		e->to = fe[i].to;
		e->proto = f->proto;
		e->server_port = f->server_port;
		e->reason = f->reason;
		cs = graph_alloc(c->g, (nc ? nc : 1) * sizeof(*cs));
		if (cs == NULL) {
			rc = -ENOMEM;
			break;
		}
		nc = 0;
		rtt_sum = rtt_n = 0;
		for (size_t k = i; k < j; k++) {
			const struct graph_edge *x = &s->edges[fe[k].src];

			e->count += x->count;
			e->recent.opened += x->recent.opened;
			e->recent.closed += x->recent.closed;
			e->recent.bytes_sent += x->recent.bytes_sent;
			e->recent.bytes_received += x->recent.bytes_received;
			e->moved_sent += x->moved_sent;
			e->moved_received += x->moved_received;
			e->sent_per_s += x->sent_per_s;
			e->received_per_s += x->received_per_s;
			/* x's RTT is a mean over its connections in the table */
			if (x->rtt_us != 0) {
				rtt_sum += (uint64_t)x->rtt_us * x->count;
				rtt_n += x->count;
			}
			for (unsigned st = 0; st < SNAP_STATE_MAX; st++)
				e->states[st] += x->states[st];
			/* the strongest reason among them, as graph.c does */
			if (x->reason < e->reason)
				e->reason = x->reason;
			if (x->n_conns > 0)
				memcpy(cs + nc, x->conns, x->n_conns *
				    sizeof(*cs));
			nc += x->n_conns;
		}
		e->rtt_us = rtt_n ? (uint32_t)(rtt_sum / rtt_n) : 0;
		qsort(cs, nc, sizeof(*cs), cmp_conn);
		e->conns = cs;
		e->n_conns = nc < GRAPH_EDGE_MAX_CONNS ? nc :
		    GRAPH_EDGE_MAX_CONNS;
		len = strlen(nodes[e->from].id) + strlen(nodes[e->to].id) + 16;
		if ((id = graph_alloc(c->g, len)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		snprintf(id, len, "%s:%s>%s:%u", snap_proto_name(e->proto),
		    nodes[e->from].id, nodes[e->to].id, e->server_port);
		e->id = id;
	}
	free(fe);
	if (rc != 0)
		return rc;
	qsort(edges, ne, sizeof(*edges), cmp_edge_id);
	c->g->edges = edges;
	c->g->n_edges = ne;
	return 0;
}

int
graph_group(const struct graph *src, unsigned mode, struct graph **out)
{
	struct gctx c;
	struct graph_node *nodes;
	size_t nn = 0, i, j;
	int rc = -ENOMEM;

	if (mode >= GRAPH_GROUP_MAX || src->group_mode != GRAPH_GROUP_PROCESS)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.src = src;
	c.mode = mode;
	if ((c.g = graph_new_like(src)) == NULL)
		return -ENOMEM;
	c.g->group_mode = (uint8_t)mode;
	c.order = malloc((src->n_nodes ? src->n_nodes : 1) * sizeof(*c.order));
	c.map = malloc((src->n_nodes ? src->n_nodes : 1) * sizeof(*c.map));
	nodes = graph_alloc(c.g, (src->n_nodes ? src->n_nodes : 1) *
	    sizeof(*nodes));
	if (c.order == NULL || c.map == NULL || nodes == NULL)
		goto out;
	for (i = 0; i < src->n_nodes; i++)
		c.order[i] = (uint32_t)i;
	qctx = &c;
	qsort(c.order, src->n_nodes, sizeof(*c.order), cmp_by_group);
	qctx = NULL;
	for (i = 0; i < src->n_nodes; i = j) {
		const char *gid = gid_of(&c, &src->nodes[c.order[i]]);

		for (j = i; j < src->n_nodes && strcmp(gid, gid_of(&c,
		    &src->nodes[c.order[j]])) == 0; j++)
			c.map[c.order[j]] = (uint32_t)nn;
		if ((rc = fold_node(&c, &nodes[nn], i, j)) != 0)
			goto out;
		nn++;
	}
	c.g->nodes = nodes;
	c.g->n_nodes = nn;
	if ((rc = fold_edges(&c, nodes)) != 0)
		goto out;
	*out = c.g;
	c.g = NULL;
out:
	free(c.order);
	free(c.map);
	graph_free(c.g);
	return rc;
}
