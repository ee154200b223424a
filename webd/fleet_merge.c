/*
 * Fleet merge.  Each host's graph is kept as jansson objects by id, as its
 * publisher last described it; a merge prefixes every id with the host,
 * pairs connections across hosts and diffs the result against the last
 * merge.  An address counts as a host's only when that host alone claims
 * it (its interface list) and it is not loopback: a host that claims
 * another's address spoils no one's edges, its own claims just stop
 * counting.
 */
#include "fleet_priv.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fleet_table *
fleet_table_new(void)
{
	return calloc(1, sizeof(struct fleet_table));
}

static void
host_clear(struct fhost *h)
{
	json_decref(h->ident);
	json_decref(h->nodes);
	json_decref(h->edges);
	json_decref(h->meta);
	json_decref(h->names);
}

void
fleet_table_free(struct fleet_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		host_clear(&t->h[i]);
	free(t->h);
	json_decref(t->meta);
	for (unsigned m = 0; m < GRAPH_GROUP_MAX; m++)
		fleet_view_clear(&t->view[m]);
	free(t);
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HOST_NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/* Whether subject is procnet.v1.<name with '.' as '_'>.graph. */
static bool
subject_is(const char *subject, const char *name)
{
	size_t pl = strlen(SUBJECT_PREFIX), n = strlen(name);

	if (strncmp(subject, SUBJECT_PREFIX, pl) != 0 ||
	    strlen(subject) != pl + n + strlen(SUBJECT_SUFFIX) ||
	    strcmp(subject + pl + n, SUBJECT_SUFFIX) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (subject[pl + i] != (name[i] == '.' ? '_' : name[i]))
			return false;
	return true;
}

static struct fhost *
host_get(struct fleet_table *t, const char *name, int *err)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->h[i].name, name) == 0)
			return &t->h[i];
	if (t->n == 1024) {
		*err = -E2BIG;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct fhost *nh = realloc(t->h, nc * sizeof(*nh));

		if (nh == NULL) {
			*err = -ENOMEM;
			return NULL;
		}
		t->h = nh;
		t->cap = nc;
	}
	memset(&t->h[t->n], 0, sizeof(t->h[t->n]));
	snprintf(t->h[t->n].name, sizeof(t->h[t->n].name), "%s", name);
	return &t->h[t->n++];
}

/* id -> item from an array of objects with string ids. */
static json_t *
index_items(json_t *arr)
{
	json_t *o = json_object(), *it;
	size_t i;

	if (o == NULL || !json_is_array(arr) ||
	    json_array_size(arr) > MAX_ITEMS_PER_HOST) {
		json_decref(o);
		return NULL;
	}
	json_array_foreach(arr, i, it) {
		json_t *id = json_object_get(it, "id");

		if (!json_is_string(id) || json_object_set(o,
		    json_string_value(id), it) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* {"add":[..],"update":[..],"remove":[..]} into the id -> item object. */
static int
apply_part(json_t *table, json_t *part)
{
	json_t *it, *lists[2];
	size_t i;

	if (!json_is_object(part))
		return -EBADMSG;
	json_array_foreach(json_object_get(part, "remove"), i, it)
		if (json_is_string(it))
			json_object_del(table, json_string_value(it));
	lists[0] = json_object_get(part, "add");
	lists[1] = json_object_get(part, "update");
	for (int l = 0; l < 2; l++)
		json_array_foreach(lists[l], i, it) {
			json_t *id = json_object_get(it, "id");

			if (!json_is_string(id))
				return -EBADMSG;
			if (json_object_size(table) >= MAX_ITEMS_PER_HOST)
				return -E2BIG;
			if (json_object_set(table, json_string_value(id),
			    it) != 0)
				return -ENOMEM;
		}
	return 0;
}

int
fleet_apply(struct fleet_table *t, const char *subject, const char *data,
    size_t len, int64_t now_ms)
{
	json_t *root, *ident, *name, *type, *seq, *g;
	struct fhost *h;
	const char *ty;
	int rc = -EBADMSG;

	if ((root = json_loadb(data, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL)
		return -EBADMSG;
	ident = json_object_get(root, "host");
	name = json_object_get(ident, "name");
	type = json_object_get(root, "type");
	seq = json_object_get(root, "seq");
	if (!json_is_object(ident) || !json_is_string(name) ||
	    !json_is_string(type) || !json_is_integer(seq) ||
	    !name_ok(json_string_value(name)))
		goto out;
	if (!subject_is(subject, json_string_value(name))) {
		rc = -EPERM;
		goto out;
	}
	if ((h = host_get(t, json_string_value(name), &rc)) == NULL)
		goto out;
	ty = json_string_value(type);
	if (strcmp(ty, "full") == 0) {
		json_t *nodes, *edges;

		g = json_object_get(root, "graph");
		nodes = index_items(json_object_get(g, "nodes"));
		edges = index_items(json_object_get(g, "edges"));
		if (nodes == NULL || edges == NULL) {
			json_decref(nodes);
			json_decref(edges);
			goto out;
		}
		json_decref(h->nodes);
		json_decref(h->edges);
		json_decref(h->names);
		h->nodes = nodes;
		h->edges = edges;
		h->names = json_incref(json_object_get(g, "names"));
		json_decref(h->meta);
		h->meta = json_incref(json_object_get(g, "meta"));
		h->synced = h->shown = true;
	} else if (strcmp(ty, "delta") == 0) {
		json_t *names = json_object_get(root, "names");

		if (!h->synced || (uint64_t)json_integer_value(seq) !=
		    h->seq + 1) {
			h->synced = false;
			rc = -EAGAIN;
			goto out;
		}
		if ((rc = apply_part(h->nodes, json_object_get(root,
		    "nodes"))) != 0 || (rc = apply_part(h->edges,
		    json_object_get(root, "edges"))) != 0) {
			/* half applied: nothing to trust until a full */
			h->synced = h->shown = false;
			goto out;
		}
		json_decref(h->meta);
		h->meta = json_incref(json_object_get(root, "meta"));
		if (json_is_object(names)) {
			json_t *it;
			size_t i;

			if (!json_is_object(h->names)) {
				json_decref(h->names);
				h->names = json_object();
			}
			json_object_update(h->names, json_object_get(names,
			    "set"));
			json_array_foreach(json_object_get(names, "remove"), i,
			    it)
				if (json_is_string(it))
					json_object_del(h->names,
					    json_string_value(it));
		}
	} else {
		goto out;
	}
	json_decref(h->ident);
	h->ident = json_incref(ident);
	h->seq = (uint64_t)json_integer_value(seq);
	h->last_ms = now_ms;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static bool
loopback(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0;
}

static bool
wildcard(const char *a)
{
	return strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
}

/* addr -> owning host index, -1 where more than one host claims it. */
static json_t *
claims(const struct fleet_table *t, const bool *live)
{
	json_t *c = json_object(), *a;
	size_t i;

	for (size_t k = 0; c != NULL && k < t->n; k++) {
		if (!live[k])
			continue;
		json_array_foreach(json_object_get(t->h[k].ident, "addrs"), i,
		    a) {
			const char *s = json_string_value(a);
			json_t *old;

			if (s == NULL || loopback(s))
				continue;
			old = json_object_get(c, s);
			json_object_set_new(c, s, json_integer(old != NULL &&
			    json_integer_value(old) != (json_int_t)k ? -1 :
			    (json_int_t)k));
		}
	}
	return c;
}

static void
listen_key(char *buf, size_t len, const char *proto, const char *addr,
    json_int_t port)
{
	snprintf(buf, len, "%s|%s|%lld", proto, addr, (long long)port);
}

/* "proto|addr|port" -> "<host index>|<node id>" for every listener on an
 * address its host alone owns (a wildcard: each of them). */
static json_t *
listeners(const struct fleet_table *t, const bool *live, json_t *claim)
{
	json_t *idx = json_object();
	char key[160], val[1200];

	for (size_t k = 0; idx != NULL && k < t->n; k++) {
		const char *id;
		json_t *n;

		if (!live[k])
			continue;
		json_object_foreach(t->h[k].nodes, id, n) {
			json_t *l;
			size_t i;

			json_array_foreach(json_object_get(n, "listen"), i, l) {
				const char *a = json_string_value(
				    json_object_get(l, "addr"));
				const char *p = json_string_value(
				    json_object_get(l, "proto"));
				json_int_t port = json_integer_value(
				    json_object_get(l, "port"));
				const char *ca;
				json_t *owner;

				if (a == NULL || p == NULL)
					continue;
				snprintf(val, sizeof(val), "%zu|%s", k, id);
				if (!wildcard(a)) {
					owner = json_object_get(claim, a);
					if (owner == NULL ||
					    json_integer_value(owner) !=
					    (json_int_t)k)
						continue;
					listen_key(key, sizeof(key), p, a, port);
					json_object_set_new(idx, key,
					    json_string(val));
					continue;
				}
				json_object_foreach(claim, ca, owner) {
					if (json_integer_value(owner) !=
					    (json_int_t)k || (strchr(ca, ':') !=
					    NULL) != (strchr(a, ':') != NULL))
						continue;
					listen_key(key, sizeof(key), p, ca, port);
					json_object_set_new(idx, key,
					    json_string(val));
				}
			}
		}
	}
	return idx;
}

/* A copied node's group ids are its host's: "p:42:17..." names a process
 * tree on one host only.  Each gets the host's prefix, and the node its
 * host group ("h:<host>"), so group= and the UI fold across hosts without
 * joining two hosts' programs. */
static int
host_groups(json_t *node, const char *host)
{
	json_t *g = json_object_get(node, "groups"), *ng, *v;
	const char *mode;
	char *hid;

	/* a process whose publisher sent no groups still has its host */
	if (!json_is_object(g) && strcmp(json_string_value(json_object_get(node,
	    "kind")) != NULL ? json_string_value(json_object_get(node, "kind")) :
	    "", "process") != 0)
		return 0;
	if ((ng = json_object()) == NULL)
		return -ENOMEM;
	json_object_foreach(g, mode, v) {
		char *p;

		if (!json_is_string(v))
			continue;
		if ((p = fleet_prefixed(host, json_string_value(v))) == NULL ||
		    json_object_set_new(ng, mode, json_string(p)) != 0) {
			free(p);
			json_decref(ng);
			return -ENOMEM;
		}
		free(p);
	}
	if ((hid = malloc(strlen(host) + 3)) == NULL) {
		json_decref(ng);
		return -ENOMEM;
	}
	snprintf(hid, strlen(host) + 3, "h:%s", host);
	json_object_set_new(ng, "host", json_string(hid));
	free(hid);
	return json_object_set_new(node, "groups", ng) == 0 ? 0 : -ENOMEM;
}

/* The port of "a.b.c.d:port" / "[v6]:port", or 0. */
static json_int_t
endpoint_port(const char *ep)
{
	const char *colon = ep != NULL ? strrchr(ep, ':') : NULL;

	return colon != NULL ? strtol(colon + 1, NULL, 10) : 0;
}

/* conns with client and server exchanged. */
static json_t *
swapped_conns(json_t *conns)
{
	json_t *out = json_array(), *c;
	size_t i;

	json_array_foreach(conns, i, c) {
		json_t *x = json_copy(c);

		json_object_set(x, "client", json_object_get(c, "server"));
		json_object_set(x, "server", json_object_get(c, "client"));
		json_array_append_new(out, x);
	}
	return out;
}

/* Edges of host k into out, ids prefixed; cross-host ones re-pointed. */
static int
host_edges(const struct fleet_table *t, size_t k, json_t *listen,
    json_t *out, json_t *seen_clients)
{
	const struct fhost *h = &t->h[k];
	const char *id;
	json_t *e;
	char key[160];

	json_object_foreach(h->edges, id, e) {
		const char *from = json_string_value(json_object_get(e, "from"));
		const char *to = json_string_value(json_object_get(e, "to"));
		const char *proto = json_string_value(json_object_get(e,
		    "proto"));
		json_int_t port = json_integer_value(json_object_get(e,
		    "server_port"));
		char *nfrom, *nto, *nid;
		json_t *c, *hit = NULL;
		size_t n;

		bool swap = false;

		if (from == NULL || to == NULL || proto == NULL)
			continue;
		if (strncmp(to, "e:", 2) == 0) {
			listen_key(key, sizeof(key), proto, to + 2, port);
			hit = json_object_get(listen, key);
		} else if (strncmp(from, "e:", 2) == 0) {
			/* The host could not tell direction (no listener of
			 * its own) and guessed the far end is the client: if
			 * the far port is a listener elsewhere in the fleet,
			 * the local process is the client after all. */
			json_int_t far = endpoint_port(json_string_value(
			    json_object_get(json_array_get(json_object_get(e,
			    "conns"), 0), "client")));

			listen_key(key, sizeof(key), proto, from + 2, far);
			if (far > 0 && (hit = json_object_get(listen,
			    key)) != NULL) {
				const char *tmp = from;

				from = to;
				to = tmp;
				port = far;
				swap = true;
			}
		}
		if (hit != NULL) {
			const char *v = json_string_value(hit);
			size_t bk = strtoul(v, NULL, 10);
			const char *bnode = strchr(v, '|') + 1;

			if (bk == k)
				hit = NULL;
			else {
				nto = fleet_prefixed(t->h[bk].name, bnode);
				/* B sees the same connections coming from an
				 * external client: remember them to pair */
				json_array_foreach(json_object_get(e, "conns"), n,
				    c) {
					const char *cl = json_string_value(
					    json_object_get(c, swap ? "server" :
					    "client"));
					char *sk;

					if (cl == NULL || nto == NULL)
						continue;
					if ((sk = fleet_prefixed(nto, cl)) != NULL)
						json_object_set_new(seen_clients,
						    sk, json_true());
					free(sk);
				}
			}
		}
		if (hit == NULL)
			nto = fleet_prefixed(h->name, to);
		nfrom = fleet_prefixed(h->name, from);
		if (nfrom == NULL || nto == NULL) {
			free(nfrom);
			free(nto);
			return -ENOMEM;
		}
		n = strlen(proto) + strlen(nfrom) + strlen(nto) + 16;
		if ((nid = malloc(n)) == NULL) {
			free(nfrom);
			free(nto);
			return -ENOMEM;
		}
		snprintf(nid, n, "%s:%s>%s:%lld", proto, nfrom, nto,
		    (long long)port);
		c = json_copy(e);
		json_object_set_new(c, "id", json_string(nid));
		json_object_set_new(c, "from", json_string(nfrom));
		json_object_set_new(c, "to", json_string(nto));
		if (hit != NULL)
			json_object_set_new(c, "reason", json_string("listener"));
		if (swap) {
			json_object_set_new(c, "server_port", json_integer(port));
			json_object_set_new(c, "conns", swapped_conns(
			    json_object_get(e, "conns")));
		}
		if (json_object_get(out, nid) != NULL)
			fleet_add_edge(json_object_get(out, nid), c);
		else
			json_object_set_new(out, nid, c);
		free(nid);
		free(nfrom);
		free(nto);
	}
	return 0;
}

/* B's edges from an external client whose connections a cross-host edge
 * already carries: dropped, and the cross edge's reason becomes "pair". */
static void
pair_up(json_t *edges, json_t *seen_clients)
{
	const char *id;
	json_t *e, *listeners_to = json_object();
	void *iter;

	if (listeners_to == NULL)
		return;
	/* the listener edges from processes, by the process they go to */
	json_object_foreach(edges, id, e) {
		const char *xt = json_string_value(json_object_get(e, "to"));
		const char *xr = json_string_value(json_object_get(e, "reason"));
		const char *xf = json_string_value(json_object_get(e, "from"));
		json_t *l;

		if (xt == NULL || xr == NULL || xf == NULL ||
		    strcmp(xr, "listener") != 0 || strstr(xf, "/e:") != NULL)
			continue;
		if ((l = json_object_get(listeners_to, xt)) == NULL &&
		    json_object_set_new(listeners_to, xt, l = json_array()) != 0)
			break;
		json_array_append(l, e);
	}
	for (iter = json_object_iter(edges); iter != NULL;) {
		const char *from, *to;
		json_t *c;
		size_t n, hits = 0, total = 0;

		id = json_object_iter_key(iter);
		e = json_object_iter_value(iter);
		iter = json_object_iter_next(edges, iter);
		from = json_string_value(json_object_get(e, "from"));
		to = json_string_value(json_object_get(e, "to"));
		if (from == NULL || to == NULL || strstr(from, "/e:") == NULL)
			continue;
		json_array_foreach(json_object_get(e, "conns"), n, c) {
			const char *cl = json_string_value(json_object_get(c,
			    "client"));
			char *sk;

			total++;
			if (cl != NULL && (sk = fleet_prefixed(to, cl)) != NULL) {
				if (json_object_get(seen_clients, sk) != NULL)
					hits++;
				free(sk);
			}
		}
		if (total == 0 || hits != total)
			continue;
		/* the cross edges into the same process: now pairs */
		{
			json_t *x;
			size_t k;

			json_array_foreach(json_object_get(listeners_to, to),
			    k, x)
				if (x != e)
					json_object_set_new(x, "reason",
					    json_string("pair"));
		}
		json_object_del(edges, id);
	}
	json_decref(listeners_to);
}

int
fleet_merge(struct fleet_table *t, int64_t now_ms, unsigned stale_s,
    unsigned drop_s, struct fleet_merged *out)
{
	json_t *nodes = json_object(), *edges = json_object();
	json_t *names = json_object(), *hosts = json_array();
	json_t *claim = NULL, *listen = NULL, *seen = json_object();
	json_t *used = json_object(), *meta;
	bool *live = NULL;
	size_t w = 0;
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	/* hosts gone for drop_s leave the table */
	for (size_t k = 0; k < t->n; k++) {
		if (now_ms - t->h[k].last_ms > (int64_t)drop_s * 1000) {
			host_clear(&t->h[k]);
			continue;
		}
		t->h[w++] = t->h[k];
	}
	t->n = w;
	if (!nodes || !edges || !names || !hosts || !seen || !used ||
	    (live = calloc(t->n + 1, sizeof(*live))) == NULL)
		goto out;
	for (size_t k = 0; k < t->n; k++)
		live[k] = t->h[k].shown;
	if ((claim = claims(t, live)) == NULL ||
	    (listen = listeners(t, live, claim)) == NULL)
		goto out;
	for (size_t k = 0; k < t->n; k++)
		if (live[k] && host_edges(t, k, listen, edges, seen) != 0)
			goto out;
	pair_up(edges, seen);
	{
		const char *k;
		json_t *e;

		json_object_foreach(edges, k, e) {
			json_object_set(used, json_string_value(
			    json_object_get(e, "from")), json_true());
			json_object_set(used, json_string_value(
			    json_object_get(e, "to")), json_true());
		}
	}
	for (size_t k = 0; k < t->n; k++) {
		const struct fhost *h = &t->h[k];
		bool stale = now_ms - h->last_ms > (int64_t)stale_s * 1000;
		json_t *m = json_object_get(h->meta, "counts");
		const char *id;
		json_t *n;

		if (!live[k])
			continue;
		out->hosts++;
		out->stale += stale;
		out->processes += (size_t)json_integer_value(
		    json_object_get(m, "processes"));
		out->sockets += (size_t)json_integer_value(
		    json_object_get(m, "sockets"));
		json_array_append_new(hosts, json_pack("{s:O, s:O, s:O, s:b, "
		    "s:I, s:I}", "name", json_object_get(h->ident, "name"),
		    "boot_id", json_object_get(h->ident, "boot_id") ?
		    json_object_get(h->ident, "boot_id") : json_null(),
		    "addrs", json_object_get(h->ident, "addrs") ?
		    json_object_get(h->ident, "addrs") : json_null(),
		    "stale", stale, "seq", (json_int_t)h->seq,
		    "age_ms", (json_int_t)(now_ms - h->last_ms)));
		if (json_is_object(h->names))
			json_object_update_missing(names, h->names);
		json_object_foreach(h->nodes, id, n) {
			char *nid = fleet_prefixed(h->name, id);
			json_t *c;

			if (nid == NULL)
				goto out;
			/* an external end another host now explains */
			if (strncmp(id, "e:", 2) == 0 &&
			    json_object_get(used, nid) == NULL) {
				free(nid);
				continue;
			}
			c = json_copy(n);
			if (c == NULL || host_groups(c, h->name) != 0) {
				json_decref(c);
				free(nid);
				goto out;
			}
			json_object_set_new(c, "id", json_string(nid));
			json_object_set_new(c, "host", json_string(h->name));
			if (stale)
				json_object_set_new(c, "stale", json_true());
			json_object_set_new(nodes, nid, c);
			free(nid);
		}
	}
	meta = json_pack("{s:s, s:s, s:b, s:I, s:f, s:b, s:o, s:{s:I, s:I, "
	    "s:I, s:I}, s:{s:b, s:b, s:s, s:s}}",
	    "host", "fleet", "os", "", "fleet", 1, "time_ms",
	    (json_int_t)now_ms, "sample_ms", 0.0, "privileged", 1,
	    "hosts", json_incref(hosts),
	    "counts", "processes", (json_int_t)out->processes,
	    "nodes", (json_int_t)json_object_size(nodes),
	    "edges", (json_int_t)json_object_size(edges),
	    "sockets", (json_int_t)out->sockets,
	    "options", "udp", 0, "p2p_only", 0, "cmdline", "redacted",
	    "group", "process");
	if (meta == NULL)
		goto out;
	if ((rc = fleet_encode(&t->view[GRAPH_GROUP_PROCESS], nodes, edges,
	    names, meta, ++t->merges, out)) != 0) {
		json_decref(meta);
		goto out;
	}
	json_decref(t->meta);
	t->meta = meta;
	rc = 0;
out:
	free(live);
	json_decref(nodes);
	json_decref(edges);
	json_decref(names);
	json_decref(hosts);
	json_decref(claim);
	json_decref(listen);
	json_decref(seen);
	json_decref(used);
	return rc;
}

void
fleet_merged_clear(struct fleet_merged *m)
{
	free(m->graph);
	free(m->delta);
	memset(m, 0, sizeof(*m));
}
