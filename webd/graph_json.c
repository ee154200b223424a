/*
 * Graph -> JSON with a plain string builder (common/jsonw.h): at ten
 * thousand connections a tree of jansson objects per field costs more than
 * the graph itself.
 */
#include "graph_json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "addrfmt.h"
#include "jsonw.h"

#define KEY(b, k)	JSONW_LIT((b), ",\"" k "\":")
#define KEY1(b, k)	JSONW_LIT((b), "{\"" k "\":")

static void
put_addr(struct jsonw *b, const struct snap_addr *a)
{
	char buf[SNAP_ADDRSTRLEN];
	size_t n = addrfmt_addr(a, buf);

	/* address text needs no escaping */
	jsonw_char(b, '"');
	jsonw_put(b, buf, n);
	jsonw_char(b, '"');
}

static void
put_addr_port(struct jsonw *b, const struct snap_addr *a, uint16_t port)
{
	char buf[ADDRFMT_ENDPOINT_MAX];
	size_t n = addrfmt_endpoint(a, port, buf);

	jsonw_char(b, '"');
	jsonw_put(b, buf, n);
	jsonw_char(b, '"');
}

static bool
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* What a process belongs to, and (process graph) its group per mode. */
static void
put_belongs(struct jsonw *b, const struct graph_node *n)
{
	if (n->netns != 0) {
		KEY(b, "netns");
		jsonw_u64(b, n->netns);
	}
	if (nonempty(n->service)) {
		KEY(b, "service");
		jsonw_str(b, n->service);
	}
	if (nonempty(n->container_id)) {
		KEY(b, "container");
		KEY1(b, "runtime");
		jsonw_str(b, n->container_runtime ? n->container_runtime : "");
		KEY(b, "id");
		jsonw_str(b, n->container_id);
		KEY(b, "name");
		jsonw_str(b, n->container_name ? n->container_name : "");
		jsonw_char(b, '}');
	}
	if (n->group[GRAPH_GROUP_PROGRAM] != NULL) {
		KEY(b, "groups");
		jsonw_char(b, '{');
		for (unsigned m = GRAPH_GROUP_PROGRAM; m < GRAPH_GROUP_MAX;
		    m++) {
			if (m > GRAPH_GROUP_PROGRAM)
				jsonw_char(b, ',');
			jsonw_str(b, graph_group_name(m));
			jsonw_char(b, ':');
			jsonw_str(b, n->group[m]);
		}
		jsonw_char(b, '}');
	}
}

static void
put_members(struct jsonw *b, const struct graph_node *n,
    const struct graph_json_opts *o)
{
	if (n->n_members == 0)
		return;
	KEY(b, "members");
	jsonw_char(b, '[');
	for (size_t i = 0; i < n->n_members; i++) {
		const struct graph_member *m = &n->members[i];
		struct redact_args cmd = { 0 };

		if (i > 0)
			jsonw_char(b, ',');
		KEY1(b, "id");
		jsonw_str(b, m->id);
		KEY(b, "pid");
		jsonw_i64(b, m->pid);
		KEY(b, "start_ms");
		jsonw_u64(b, m->start_time);
		KEY(b, "name");
		jsonw_str(b, m->name);
		KEY(b, "cmdline");
		if (redact_argv(m->argc, m->argv, m->cmdline, o->cmdline,
		    &cmd) < 0)
			b->error = -ENOMEM;
		jsonw_str(b, cmd.cmdline != NULL ? cmd.cmdline : "");
		redact_args_free(&cmd);
		jsonw_char(b, '}');
	}
	jsonw_char(b, ']');
}

static void
put_node(struct jsonw *b, const struct graph_node *n,
    const struct graph_json_opts *o)
{
	KEY1(b, "id");
	jsonw_str(b, n->id);
	KEY(b, "kind");
	jsonw_str(b, graph_node_kind_name(n->kind));
	if (n->kind == GRAPH_NODE_PROCESS) {
		struct redact_args cmd = { 0 };

		KEY(b, "pid");
		jsonw_i64(b, n->pid);
		KEY(b, "ppid");
		jsonw_i64(b, n->ppid);
		KEY(b, "start_ms");
		jsonw_u64(b, n->start_time);
		KEY(b, "name");
		jsonw_str(b, n->name);
		KEY(b, "label");
		jsonw_str(b, n->label);
		KEY(b, "type");
		jsonw_str(b, n->type);
		KEY(b, "user");
		jsonw_str(b, n->user);
		KEY(b, "exe");
		jsonw_str(b, n->exe);
		if (n->exited) {
			KEY(b, "exited");
			jsonw_bool(b, true);
		}
		/* per argument, so a secret with spaces is masked whole */
		if (redact_argv(n->argc, n->argv, n->cmdline, o->cmdline,
		    &cmd) < 0)
			b->error = -ENOMEM;
		KEY(b, "cmdline");
		jsonw_str(b, cmd.cmdline != NULL ? cmd.cmdline : "");
		KEY(b, "argv");
		jsonw_char(b, '[');
		for (uint32_t i = 0; i < cmd.argc; i++) {
			if (i > 0)
				jsonw_char(b, ',');
			jsonw_str(b, cmd.argv[i]);
		}
		jsonw_char(b, ']');
		redact_args_free(&cmd);
		put_belongs(b, n);
		put_members(b, n, o);
		KEY(b, "listen");
		jsonw_char(b, '[');
		for (size_t i = 0; i < n->n_listen; i++) {
			if (i > 0)
				jsonw_char(b, ',');
			KEY1(b, "proto");
			jsonw_str(b, snap_proto_name(n->listen[i].proto));
			KEY(b, "addr");
			put_addr(b, &n->listen[i].addr);
			KEY(b, "port");
			jsonw_u64(b, n->listen[i].port);
			jsonw_char(b, '}');
		}
		jsonw_char(b, ']');
	} else {
		KEY(b, "addr");
		put_addr(b, &n->addr);
		if (n->kind == GRAPH_NODE_ENDPOINT) {
			KEY(b, "port");
			jsonw_u64(b, n->port);
			if (n->owner != SNAP_OWNER_KNOWN) {
				KEY(b, "owner");
				jsonw_str(b, snap_owner_name(n->owner));
			}
		}
		KEY(b, "label");
		jsonw_str(b, n->label);
		KEY(b, "type");
		jsonw_str(b, n->type);
	}
	jsonw_char(b, '}');
}

static void
put_edge(struct jsonw *b, const struct graph *g, const struct graph_edge *e)
{
	bool first = true;

	KEY1(b, "id");
	jsonw_str(b, e->id);
	KEY(b, "from");
	jsonw_str(b, g->nodes[e->from].id);
	KEY(b, "to");
	jsonw_str(b, g->nodes[e->to].id);
	KEY(b, "proto");
	jsonw_str(b, snap_proto_name(e->proto));
	KEY(b, "count");
	jsonw_u64(b, e->count);
	KEY(b, "recent");
	KEY1(b, "window_s");
	jsonw_u64(b, g->window_s);
	KEY(b, "opened");
	jsonw_u64(b, e->recent.opened);
	KEY(b, "closed");
	jsonw_u64(b, e->recent.closed);
	KEY(b, "bytes_sent");
	jsonw_u64(b, e->recent.bytes_sent);
	KEY(b, "bytes_received");
	jsonw_u64(b, e->recent.bytes_received);
	jsonw_char(b, '}');
	KEY(b, "bytes_per_s");
	KEY1(b, "sent");
	jsonw_u64(b, e->sent_per_s);
	KEY(b, "received");
	jsonw_u64(b, e->received_per_s);
	jsonw_char(b, '}');
	KEY(b, "rtt_ms");
	if (e->rtt_us == 0) {
		JSONW_LIT(b, "null");
	} else {
		char ms[4];

		/* three decimals by integer arithmetic, as sample_ms */
		jsonw_u64(b, e->rtt_us / 1000);
		ms[0] = '.';
		ms[1] = (char)('0' + e->rtt_us / 100 % 10);
		ms[2] = (char)('0' + e->rtt_us / 10 % 10);
		ms[3] = (char)('0' + e->rtt_us % 10);
		jsonw_put(b, ms, 4);
	}
	KEY(b, "server_port");
	jsonw_u64(b, e->server_port);
	KEY(b, "reason");
	jsonw_str(b, graph_reason_name(e->reason));
	KEY(b, "states");
	jsonw_char(b, '{');
	/* UDP has no state (SNAP_STATE_NONE): nothing to list */
	for (unsigned s = 1; s < SNAP_STATE_MAX; s++) {
		if (e->states[s] == 0)
			continue;
		if (!first)
			jsonw_char(b, ',');
		first = false;
		jsonw_str(b, snap_state_name(s));
		jsonw_char(b, ':');
		jsonw_u64(b, e->states[s]);
	}
	jsonw_char(b, '}');
	KEY(b, "conns");
	jsonw_char(b, '[');
	for (size_t i = 0; i < e->n_conns; i++) {
		const struct graph_conn *c = &e->conns[i];

		if (i > 0)
			jsonw_char(b, ',');
		KEY1(b, "client");
		put_addr_port(b, &c->client, c->client_port);
		KEY(b, "server");
		put_addr_port(b, &c->server, c->server_port);
		KEY(b, "state");
		jsonw_str(b, snap_state_name(c->state));
		jsonw_char(b, '}');
	}
	JSONW_LIT(b, "]}");
}

static void
put_meta(struct jsonw *b, const struct graph *g, const struct graph_json_opts *o)
{
	char ms[4];

	KEY1(b, "host");
	jsonw_str(b, g->host);
	KEY(b, "os");
	jsonw_str(b, g->os);
	KEY(b, "time_ms");
	jsonw_i64(b, g->time_ms);
	KEY(b, "sample_ms");
	/* milliseconds with three decimals, by integer arithmetic: the text
	 * of a JSON number must not depend on the C locale */
	jsonw_u64(b, g->sample_us / 1000);
	ms[0] = '.';
	ms[1] = (char)('0' + g->sample_us / 100 % 10);
	ms[2] = (char)('0' + g->sample_us / 10 % 10);
	ms[3] = (char)('0' + g->sample_us % 10);
	jsonw_put(b, ms, 4);
	KEY(b, "privileged");
	jsonw_bool(b, g->privileged);
	KEY(b, "counts");
	KEY1(b, "processes");
	jsonw_u64(b, g->n_processes);
	KEY(b, "nodes");
	jsonw_u64(b, g->n_nodes);
	KEY(b, "edges");
	jsonw_u64(b, g->n_edges);
	KEY(b, "sockets");
	jsonw_u64(b, g->n_sockets);
	KEY(b, "unattributed");
	jsonw_u64(b, g->n_unattributed);
	jsonw_char(b, '}');
	KEY(b, "window_s");
	jsonw_u64(b, g->window_s);
	KEY(b, "options");
	KEY1(b, "udp");
	jsonw_bool(b, g->opts.udp);
	KEY(b, "p2p_only");
	jsonw_bool(b, g->opts.p2p_only);
	KEY(b, "cmdline");
	jsonw_str(b, redact_mode_name(o->cmdline));
	KEY(b, "group");
	jsonw_str(b, graph_group_name(g->group_mode));
	JSONW_LIT(b, "}}");
}

/* {"addr":"name",..}, or with sources set {"addr":"source",..} */
static void
put_names(struct jsonw *b, const struct graph_name *const *v,
    const struct graph_name *arr, size_t n, bool sources)
{
	jsonw_char(b, '{');
	for (size_t i = 0; i < n; i++) {
		const struct graph_name *gn = v != NULL ? v[i] : &arr[i];

		if (i > 0)
			jsonw_char(b, ',');
		put_addr(b, &gn->addr);
		jsonw_char(b, ':');
		jsonw_str(b, sources ? gn->source : gn->name);
	}
	jsonw_char(b, '}');
}

static void
put_graph(struct jsonw *b, const struct graph *g, const struct graph_json_opts *o)
{
	JSONW_LIT(b, "{\"nodes\":[");
	for (size_t i = 0; i < g->n_nodes; i++) {
		if (i > 0)
			jsonw_char(b, ',');
		put_node(b, &g->nodes[i], o);
	}
	JSONW_LIT(b, "],\"edges\":[");
	for (size_t i = 0; i < g->n_edges; i++) {
		if (i > 0)
			jsonw_char(b, ',');
		put_edge(b, g, &g->edges[i]);
	}
	JSONW_LIT(b, "],\"meta\":");
	put_meta(b, g, o);
	/* only when some address has a name: the rest of the graph reads
	 * the same with names off */
	if (g->n_names > 0) {
		JSONW_LIT(b, ",\"names\":");
		put_names(b, NULL, g->names, g->n_names, false);
		JSONW_LIT(b, ",\"names_source\":");
		put_names(b, NULL, g->names, g->n_names, true);
	}
	jsonw_char(b, '}');
}

static char *
finish(struct jsonw *b, size_t *len)
{
	char *out;

	return jsonw_finish(b, &out, len) == 0 ? out : NULL;
}

static const struct graph_json_opts default_opts = {
	.cmdline = REDACT_REDACTED,
};

static const struct graph_json_opts *
opts_or_default(const struct graph_json_opts *o)
{
	if (o == NULL || o->cmdline >= REDACT_MAX)
		return &default_opts;
	return o;
}

char *
graph_json(const struct graph *g, const struct graph_json_opts *opts,
    size_t *len)
{
	struct jsonw b;

	jsonw_init(&b, NULL, NULL);
	put_graph(&b, g, opts_or_default(opts));
	return finish(&b, len);
}

char *
graph_json_full(const struct graph *g, uint64_t seq,
    const struct graph_json_opts *opts, size_t *len)
{
	struct jsonw b;

	jsonw_init(&b, NULL, NULL);
	JSONW_LIT(&b, "{\"type\":\"full\",\"seq\":");
	jsonw_u64(&b, seq);
	JSONW_LIT(&b, ",\"graph\":");
	put_graph(&b, g, opts_or_default(opts));
	jsonw_char(&b, '}');
	return finish(&b, len);
}

static void
put_ids(struct jsonw *b, char *const *ids, size_t n)
{
	jsonw_char(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			jsonw_char(b, ',');
		jsonw_str(b, ids[i]);
	}
	jsonw_char(b, ']');
}

char *
graph_delta_json(const struct graph_delta *d, uint64_t seq,
    const struct graph_json_opts *opts, size_t *len)
{
	const struct graph_json_opts *o = opts_or_default(opts);
	const struct graph *g = d->graph;
	struct jsonw b;

	jsonw_init(&b, NULL, NULL);
	JSONW_LIT(&b, "{\"type\":\"delta\",\"seq\":");
	jsonw_u64(&b, seq);
	JSONW_LIT(&b, ",\"nodes\":{\"add\":[");
	for (size_t i = 0; i < d->n_nodes_add; i++) {
		if (i > 0)
			jsonw_char(&b, ',');
		put_node(&b, d->nodes_add[i], o);
	}
	JSONW_LIT(&b, "],\"update\":[");
	for (size_t i = 0; i < d->n_nodes_update; i++) {
		if (i > 0)
			jsonw_char(&b, ',');
		put_node(&b, d->nodes_update[i], o);
	}
	JSONW_LIT(&b, "],\"remove\":");
	put_ids(&b, d->nodes_remove, d->n_nodes_remove);
	JSONW_LIT(&b, "},\"edges\":{\"add\":[");
	for (size_t i = 0; i < d->n_edges_add; i++) {
		if (i > 0)
			jsonw_char(&b, ',');
		put_edge(&b, g, d->edges_add[i]);
	}
	JSONW_LIT(&b, "],\"update\":[");
	for (size_t i = 0; i < d->n_edges_update; i++) {
		if (i > 0)
			jsonw_char(&b, ',');
		put_edge(&b, g, d->edges_update[i]);
	}
	JSONW_LIT(&b, "],\"remove\":");
	put_ids(&b, d->edges_remove, d->n_edges_remove);
	JSONW_LIT(&b, "},\"meta\":");
	put_meta(&b, g, o);
	if (d->n_names_set > 0 || d->n_names_remove > 0) {
		JSONW_LIT(&b, ",\"names\":{\"set\":");
		put_names(&b, d->names_set, NULL, d->n_names_set, false);
		JSONW_LIT(&b, ",\"source\":");
		put_names(&b, d->names_set, NULL, d->n_names_set, true);
		JSONW_LIT(&b, ",\"remove\":[");
		for (size_t i = 0; i < d->n_names_remove; i++) {
			if (i > 0)
				jsonw_char(&b, ',');
			put_addr(&b, &d->names_remove[i]);
		}
		JSONW_LIT(&b, "]}");
	}
	jsonw_char(&b, '}');
	return finish(&b, len);
}
