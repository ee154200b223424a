/* The difference between two graphs (graph.h: graph_delta). */
#include "graph_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	if (a->pid != b->pid || a->ppid != b->ppid || a->exited != b->exited ||
	    a->start_time != b->start_time || !str_eq(a->name, b->name) ||
	    !str_eq(a->user, b->user) || !str_eq(a->exe, b->exe) ||
	    !str_eq(a->cmdline, b->cmdline) || a->argc != b->argc ||
	    a->n_listen != b->n_listen)
		return false;
	for (unsigned m = 0; m < GRAPH_GROUP_MAX; m++)
		if (!str_eq(a->group[m], b->group[m]))
			return false;
	if (a->n_members != b->n_members || !str_eq(a->service, b->service) ||
	    !str_eq(a->container_id, b->container_id) ||
	    !str_eq(a->container_name, b->container_name) ||
	    a->netns != b->netns)
		return false;
	for (size_t i = 0; i < a->n_members; i++)
		if (a->members[i].pid != b->members[i].pid ||
		    a->members[i].start_time != b->members[i].start_time ||
		    !str_eq(a->members[i].cmdline, b->members[i].cmdline))
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
	    memcmp(&a->recent, &b->recent, sizeof(a->recent)) != 0 ||
	    a->sent_per_s != b->sent_per_s ||
	    a->received_per_s != b->received_per_s || a->rtt_us != b->rtt_us ||
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

/* Names set (new or changed) and addresses whose name is gone: one merge
 * pass over the two address-sorted arrays. */
static int
names_delta(const struct graph *old, const struct graph *new_,
    struct graph_delta *d)
{
	size_t on = old ? old->n_names : 0, nn = new_->n_names, i, j;

	d->names_set = calloc(nn + 1, sizeof(*d->names_set));
	d->names_remove = calloc(on + 1, sizeof(*d->names_remove));
	if (d->names_set == NULL || d->names_remove == NULL)
		return -ENOMEM;
	for (i = 0, j = 0; i < on || j < nn;) {
		int c = i >= on ? 1 : j >= nn ? -1 :
		    addr_cmp(&old->names[i].addr, &new_->names[j].addr);

		if (c < 0) {
			d->names_remove[d->n_names_remove++] =
			    old->names[i++].addr;
		} else if (c > 0) {
			d->names_set[d->n_names_set++] = &new_->names[j++];
		} else {
			if (!str_eq(old->names[i].name, new_->names[j].name) ||
			    !str_eq(old->names[i].source,
			    new_->names[j].source))
				d->names_set[d->n_names_set++] =
				    &new_->names[j];
			i++;
			j++;
		}
	}
	return 0;
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
	if (names_delta(old, new_, d) != 0)
		goto nomem;
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
	free(d->names_set);
	free(d->names_remove);
	free(d);
}

bool
graph_delta_is_empty(const struct graph_delta *d)
{
	return d->n_nodes_add == 0 && d->n_nodes_update == 0 &&
	    d->n_nodes_remove == 0 && d->n_edges_add == 0 &&
	    d->n_edges_update == 0 && d->n_edges_remove == 0 &&
	    d->n_names_set == 0 && d->n_names_remove == 0;
}
