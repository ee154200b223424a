/*
 * The fleet's JSON chores: prefixed ids, edges that add up, and a merged
 * or folded graph encoded as a document and as a delta from the last one
 * of its view.
 */
#include "fleet_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
fleet_prefixed(const char *host, const char *id)
{
	size_t n = strlen(host) + strlen(id) + 2;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/%s", host, id);
	return s;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a,
	    "id")), json_string_value(json_object_get(*(json_t *const *)b,
	    "id")));
}

/* The values of an id -> item object as an array sorted by id. */
static json_t *
sorted(json_t *o)
{
	size_t n = json_object_size(o), i = 0;
	json_t **v = malloc((n ? n : 1) * sizeof(*v)), *arr = json_array(), *x;
	const char *k;

	if (v == NULL || arr == NULL) {
		free(v);
		json_decref(arr);
		return NULL;
	}
	json_object_foreach(o, k, x)
		v[i++] = x;
	qsort(v, n, sizeof(*v), cmp_id);
	for (i = 0; i < n; i++)
		json_array_append(arr, v[i]);
	free(v);
	return arr;
}

/* {"add","update","remove"} from prev to next (id -> item objects). */
static json_t *
diff(json_t *prev, json_t *next)
{
	json_t *add = json_array(), *upd = json_array(), *rem = json_array();
	json_t *x, *old;
	const char *k;

	json_object_foreach(next, k, x) {
		if ((old = json_object_get(prev, k)) == NULL)
			json_array_append(add, x);
		else if (!json_equal(old, x))
			json_array_append(upd, x);
	}
	json_object_foreach(prev, k, x)
		if (json_object_get(next, k) == NULL)
			json_array_append_new(rem, json_string(k));
	return json_pack("{s:o, s:o, s:o}", "add", add, "update", upd,
	    "remove", rem);
}

/* Two edges that became one (connections a host had to guess the
 * direction of, or processes folded into one group): counts and states
 * add up, the kept connections join up to the same cap. */
void
fleet_add_edge(json_t *dst, json_t *c)
{
	json_t *conns = json_object_get(dst, "conns"), *x, *st;
	const char *k;
	size_t i;

	json_object_set_new(dst, "count", json_integer(json_integer_value(
	    json_object_get(dst, "count")) + json_integer_value(
	    json_object_get(c, "count"))));
	if ((st = json_object_get(dst, "states")) != NULL &&
	    json_is_object(json_object_get(c, "states"))) {
		st = json_copy(st);
		json_object_foreach(json_object_get(c, "states"), k, x)
			json_object_set_new(st, k, json_integer(
			    json_integer_value(json_object_get(st, k)) +
			    json_integer_value(x)));
		json_object_set_new(dst, "states", st);
	}
	if (json_is_array(conns)) {
		conns = json_copy(conns);
		json_array_foreach(json_object_get(c, "conns"), i, x)
			if (json_array_size(conns) < FLEET_EDGE_MAX_CONNS)
				json_array_append(conns, x);
		json_object_set_new(dst, "conns", conns);
	}
	json_decref(c);
}

/* {"set":{..},"remove":[..]} from prev to next names, or NULL when the
 * same. */
static json_t *
names_delta(json_t *prev, json_t *next)
{
	json_t *set, *rem, *x;
	const char *k;

	if (json_equal(prev, next))
		return NULL;
	set = json_object();
	rem = json_array();
	json_object_foreach(next, k, x)
		if (!json_equal(json_object_get(prev, k), x))
			json_object_set(set, k, x);
	json_object_foreach(prev, k, x)
		if (json_object_get(next, k) == NULL)
			json_array_append_new(rem, json_string(k));
	return json_pack("{s:o, s:o}", "set", set, "remove", rem);
}

int
fleet_encode(struct fleet_view *v, json_t *nodes, json_t *edges,
    json_t *names, json_t *meta, uint64_t merge, struct fleet_merged *out)
{
	bool chained = v->merge != 0 && v->merge + 1 == merge;
	json_t *doc, *delta = NULL;
	int rc = -ENOMEM;

	doc = json_pack("{s:o, s:o, s:O}", "nodes", sorted(nodes), "edges",
	    sorted(edges), "meta", meta);
	if (doc == NULL)
		return -ENOMEM;
	if (json_object_size(names) > 0)
		json_object_set(doc, "names", names);
	if (chained) {
		json_t *nd;

		delta = json_pack("{s:o, s:o, s:O}", "nodes", diff(v->nodes,
		    nodes), "edges", diff(v->edges, edges), "meta", meta);
		if (delta == NULL)
			goto out;
		if ((nd = names_delta(v->names, names)) != NULL)
			json_object_set_new(delta, "names", nd);
	}
	out->graph = json_dumps(doc, JSON_COMPACT);
	if (out->graph == NULL)
		goto out;
	out->glen = strlen(out->graph);
	if (delta != NULL) {
		char *d = json_dumps(delta, JSON_COMPACT);
		size_t n;

		if (d == NULL)
			goto out;
		/* the inside of the object: the state adds type and seq */
		n = strlen(d);
		memmove(d, d + 1, n - 2);
		d[n - 2] = '\0';
		out->delta = d;
		out->dlen = n - 2;
	}
	out->nodes = json_object_size(nodes);
	out->edges = json_object_size(edges);
	fleet_view_clear(v);
	v->nodes = json_incref(nodes);
	v->edges = json_incref(edges);
	v->names = json_incref(names);
	v->merge = merge;
	rc = 0;
out:
	if (rc != 0) {
		free(out->graph);
		free(out->delta);
		out->graph = out->delta = NULL;
	}
	json_decref(doc);
	json_decref(delta);
	return rc;
}

void
fleet_view_clear(struct fleet_view *v)
{
	json_decref(v->nodes);
	json_decref(v->edges);
	json_decref(v->names);
	memset(v, 0, sizeof(*v));
}
