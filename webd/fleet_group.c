/*
 * group= on the fleet map (fleet_merge.h fleet_fold): the merged process
 * graph folded into groups, in JSON, the way group.c folds one host's.
 */
#include "fleet_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_MAX_LISTEN		64

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* The group node of members l (all of one host, so of one staleness). */
static json_t *
group_node(const char *gid, json_t *l, unsigned mode)
{
	json_t *rep = NULL, *x, *c, *members, *listen;
	size_t i, j, n = json_array_size(l);
	char label[320];

	json_array_foreach(l, i, x)
		if (strcmp(str(x, "id"), gid) == 0)
			rep = x;
	/* else the lowest pid, as group.c */
	if (rep == NULL)
		json_array_foreach(l, i, x)
			if (rep == NULL || json_integer_value(json_object_get(x,
			    "pid")) < json_integer_value(json_object_get(rep,
			    "pid")))
				rep = x;
	c = json_copy(rep);
	members = json_array();
	listen = json_array();
	if (c == NULL || members == NULL || listen == NULL) {
		json_decref(c);
		json_decref(members);
		json_decref(listen);
		return NULL;
	}
	json_array_foreach(l, i, x) {
		json_array_append_new(members, json_pack("{s:O?, s:O?, s:O?, "
		    "s:O?, s:O?}", "id", json_object_get(x, "id"), "pid",
		    json_object_get(x, "pid"), "start_ms", json_object_get(x,
		    "start_ms"), "name", json_object_get(x, "name"), "cmdline",
		    json_object_get(x, "cmdline")));
	}
	json_array_foreach(l, i, x) {
		json_t *y;

		json_array_foreach(json_object_get(x, "listen"), j, y)
			if (json_array_size(listen) < FOLD_MAX_LISTEN)
				json_array_append(listen, y);
	}
	if (mode == GRAPH_GROUP_HOST && strncmp(gid, "h:", 2) == 0)
		snprintf(label, sizeof(label), "%.200s", gid + 2);
	else if (n > 1)
		/* "postgres ×6" (U+00D7), as group.c */
		snprintf(label, sizeof(label), "%.200s \xc3\x97%zu",
		    str(rep, "label"), n);
	else
		snprintf(label, sizeof(label), "%.200s", str(rep, "label"));
	json_object_set_new(c, "id", json_string(gid));
	json_object_set_new(c, "label", json_string(label));
	json_object_set_new(c, "members", members);
	json_object_set_new(c, "listen", listen);
	return c;
}

int
fleet_fold(struct fleet_table *t, unsigned mode, struct fleet_merged *out)
{
	struct fleet_view *base = &t->view[GRAPH_GROUP_PROCESS];
	const char *mname = graph_group_name(mode), *id, *gid;
	json_t *nodes = json_object(), *edges = json_object();
	json_t *map = json_object(), *groups = json_object(), *meta = NULL;
	json_t *n, *e, *l;
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (mode == GRAPH_GROUP_PROCESS || mname == NULL)
		rc = -EINVAL;
	else if (base->merge == 0 || t->meta == NULL)
		rc = -EAGAIN;
	else if (t->view[mode].merge == base->merge)
		rc = -EALREADY;
	if (rc != -ENOMEM || !nodes || !edges || !map || !groups)
		goto out;

	json_object_foreach(base->nodes, id, n) {
		json_t *g = json_object_get(json_object_get(n, "groups"), mname);

		gid = strcmp(str(n, "kind"), "process") == 0 &&
		    json_is_string(g) ? json_string_value(g) : id;
		if (json_object_set_new(map, id, json_string(gid)) != 0)
			goto out;
		if ((l = json_object_get(groups, gid)) == NULL &&
		    json_object_set_new(groups, gid, l = json_array()) != 0)
			goto out;
		json_array_append(l, n);
	}
	json_object_foreach(groups, gid, l) {
		json_t *only = json_array_get(l, 0);

		if (json_array_size(l) == 1 && strcmp(str(only, "id"), gid) == 0)
			n = json_incref(only);
		else if ((n = group_node(gid, l, mode)) == NULL)
			goto out;
		if (json_object_set_new(nodes, gid, n) != 0)
			goto out;
	}
	json_object_foreach(base->edges, id, e) {
		const char *from = json_string_value(json_object_get(map,
		    str(e, "from")));
		const char *to = json_string_value(json_object_get(map,
		    str(e, "to")));
		json_t *c, *have;
		char *nid;
		size_t len;

		from = from != NULL ? from : str(e, "from");
		to = to != NULL ? to : str(e, "to");
		len = strlen(from) + strlen(to) + 32;
		if ((nid = malloc(len)) == NULL)
			goto out;
		snprintf(nid, len, "%s:%s>%s:%lld", str(e, "proto"), from, to,
		    (long long)json_integer_value(json_object_get(e,
		    "server_port")));
		if ((have = json_object_get(edges, nid)) != NULL) {
			fleet_add_edge(have, json_incref(e));
		} else if ((c = json_copy(e)) == NULL ||
		    json_object_set_new(c, "id", json_string(nid)) != 0 ||
		    json_object_set_new(c, "from", json_string(from)) != 0 ||
		    json_object_set_new(c, "to", json_string(to)) != 0 ||
		    json_object_set_new(edges, nid, c) != 0) {
			free(nid);
			goto out;
		}
		free(nid);
	}
	if ((meta = json_deep_copy(t->meta)) == NULL)
		goto out;
	json_object_set_new(json_object_get(meta, "options"), "group",
	    json_string(mname));
	json_object_set_new(json_object_get(meta, "counts"), "nodes",
	    json_integer((json_int_t)json_object_size(nodes)));
	json_object_set_new(json_object_get(meta, "counts"), "edges",
	    json_integer((json_int_t)json_object_size(edges)));
	rc = fleet_encode(&t->view[mode], nodes, edges, base->names, meta,
	    base->merge, out);
out:
	json_decref(nodes);
	json_decref(edges);
	json_decref(map);
	json_decref(groups);
	json_decref(meta);
	return rc;
}
