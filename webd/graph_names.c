/*
 * The names of a graph's addresses: every address it holds (external and
 * endpoint nodes, listeners, the connections kept per edge) asked once of
 * opts->name_of, which answers from a cache and never waits; external
 * nodes are labelled with their name, the address staying in the id.
 */
#include "graph_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* No name to ask for: the wildcard of a listener, an unconnected end. */
static bool
addr_unspecified(const struct snap_addr *a)
{
	static const uint8_t zero[16];

	return a->family == 0 ||
	    memcmp(a->bytes, zero, a->family == 4 ? 4 : 16) == 0;
}

static void
push(struct snap_addr *v, size_t *n, const struct snap_addr *a)
{
	if (!addr_unspecified(a))
		v[(*n)++] = *a;
}

int
graph_names_apply(struct graph *g, const struct graph_options *opts)
{
	struct graph_priv *p = g->priv;
	struct snap_addr *all;
	size_t n = 0, cap = 0, u = 0, k = 0;
	char name[GRAPH_NAME_MAX];

	for (size_t i = 0; i < g->n_nodes; i++)
		cap += 1 + g->nodes[i].n_listen;
	for (size_t i = 0; i < g->n_edges; i++)
		cap += 2 * g->edges[i].n_conns;
	if ((all = malloc((cap ? cap : 1) * sizeof(*all))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct graph_node *nd = &g->nodes[i];

		if (nd->kind != GRAPH_NODE_PROCESS)
			push(all, &n, &nd->addr);
		for (size_t j = 0; j < nd->n_listen; j++)
			push(all, &n, &nd->listen[j].addr);
	}
	for (size_t i = 0; i < g->n_edges; i++)
		for (size_t j = 0; j < g->edges[i].n_conns; j++) {
			push(all, &n, &g->edges[i].conns[j].client);
			push(all, &n, &g->edges[i].conns[j].server);
		}
	qsort(all, n, sizeof(*all), addr_cmp_q);
	for (size_t i = 0; i < n; i++)
		if (u == 0 || addr_cmp(&all[u - 1], &all[i]) != 0)
			all[u++] = all[i];

	if ((p->names = calloc(u ? u : 1, sizeof(*p->names))) == NULL) {
		free(all);
		return -ENOMEM;
	}
	for (size_t i = 0; i < u; i++) {
		const char *src;

		name[0] = '\0';
		src = opts->name_of(opts->name_ctx, &all[i], name);
		if (src == NULL || name[0] == '\0')
			continue;
		name[GRAPH_NAME_MAX - 1] = '\0';
		p->names[k].addr = all[i];
		p->names[k].source = src;
		if ((p->names[k].name = arena_strdup(&p->arena, name)) == NULL) {
			free(all);
			return -ENOMEM;
		}
		k++;
	}
	free(all);
	g->names = p->names;
	g->n_names = k;

	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct graph_name *gn;

		if (p->nodes[i].kind == GRAPH_NODE_EXTERNAL &&
		    (gn = graph_find_name(g, &p->nodes[i].addr)) != NULL)
			p->nodes[i].label = gn->name;
	}
	return 0;
}

const struct graph_name *
graph_find_name(const struct graph *g, const struct snap_addr *a)
{
	size_t lo = 0, hi = g->n_names;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = addr_cmp(&g->names[mid].addr, a);

		if (c == 0)
			return &g->names[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
