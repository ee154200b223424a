/*
 * Graph -> JSON with a plain string builder: at ten thousand connections a
 * tree of jansson objects per field costs more than the graph itself.
 */
#include "graph_json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb {
	char *p;
	size_t n, cap;
	bool oom;
};

static bool
sb_reserve(struct sb *b, size_t more)
{
	size_t ncap;
	char *np;

	if (b->oom)
		return false;
	if (b->cap - b->n > more)
		return true;
	ncap = b->cap ? b->cap : 4096;
	while (ncap - b->n <= more)
		ncap *= 2;
	np = realloc(b->p, ncap);
	if (np == NULL) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = ncap;
	return true;
}

static void
sb_put(struct sb *b, const char *s, size_t len)
{
	if (!sb_reserve(b, len))
		return;
	memcpy(b->p + b->n, s, len);
	b->n += len;
}

#define sb_lit(b, s)	sb_put((b), (s), sizeof(s) - 1)

static void
sb_char(struct sb *b, char c)
{
	if (!sb_reserve(b, 1))
		return;
	b->p[b->n++] = c;
}

static void
sb_u64(struct sb *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	sb_put(b, tmp + i, sizeof(tmp) - i);
}

static void
sb_i64(struct sb *b, int64_t v)
{
	if (v < 0) {
		sb_char(b, '-');
		sb_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		sb_u64(b, (uint64_t)v);
	}
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
			return 0;	/* overlong, surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
			return 0;
		return 4;
	}
	return 0;
}

/* A JSON string; control characters escaped, invalid UTF-8 as U+FFFD. */
static void
sb_str(struct sb *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	static const char hex[] = "0123456789abcdef";

	sb_char(b, '"');
	while (*s != '\0') {
		const unsigned char *run = s;
		size_t k;

		while (*s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
			s++;
		if (s > run)
			sb_put(b, (const char *)run, (size_t)(s - run));
		if (*s == '\0')
			break;
		switch (*s) {
		case '"':
			sb_lit(b, "\\\"");
			s++;
			continue;
		case '\\':
			sb_lit(b, "\\\\");
			s++;
			continue;
		case '\n':
			sb_lit(b, "\\n");
			s++;
			continue;
		case '\t':
			sb_lit(b, "\\t");
			s++;
			continue;
		case '\r':
			sb_lit(b, "\\r");
			s++;
			continue;
		}
		if (*s < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[*s >> 4],
			    hex[*s & 15] };

			sb_put(b, esc, sizeof(esc));
			s++;
			continue;
		}
		k = utf8_len(s, strnlen((const char *)s, 4));
		if (k == 0) {
			sb_lit(b, "\\ufffd");
			s++;
		} else {
			sb_put(b, (const char *)s, k);
			s += k;
		}
	}
	sb_char(b, '"');
}

static void
sb_key(struct sb *b, const char *lit_with_quotes_colon, size_t len)
{
	sb_put(b, lit_with_quotes_colon, len);
}

#define KEY(b, k)	sb_key((b), ",\"" k "\":", sizeof(",\"" k "\":") - 1)
#define KEY1(b, k)	sb_key((b), "{\"" k "\":", sizeof("{\"" k "\":") - 1)

/* An address in inet_ntop form into out (SNAP_ADDRSTRLEN); IPv4 by hand,
 * as it is most of what a big graph prints.  Returns the length. */
static size_t
addr_text(const struct snap_addr *a, char *out)
{
	char *p = out;

	if (a->family != 4) {
		snap_addr_format(a, out);
		return strlen(out);
	}
	for (int i = 0; i < 4; i++) {
		unsigned v = a->bytes[i];

		if (i > 0)
			*p++ = '.';
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
	}
	*p = '\0';
	return (size_t)(p - out);
}

static void
sb_addr(struct sb *b, const struct snap_addr *a)
{
	char buf[SNAP_ADDRSTRLEN];
	size_t n = addr_text(a, buf);

	sb_char(b, '"');
	sb_put(b, buf, n);
	sb_char(b, '"');
}

/* "a.b.c.d:port" or "[v6]:port"; address text needs no escaping. */
static void
sb_addr_port(struct sb *b, const struct snap_addr *a, uint16_t port)
{
	char buf[SNAP_ADDRSTRLEN];
	size_t n = addr_text(a, buf);

	if (a->family == 6) {
		sb_lit(b, "\"[");
		sb_put(b, buf, n);
		sb_lit(b, "]:");
	} else {
		sb_char(b, '"');
		sb_put(b, buf, n);
		sb_char(b, ':');
	}
	sb_u64(b, port);
	sb_char(b, '"');
}

static void
put_node(struct sb *b, const struct graph_node *n,
    const struct graph_json_opts *o)
{
	KEY1(b, "id");
	sb_str(b, n->id);
	KEY(b, "kind");
	sb_str(b, graph_node_kind_name(n->kind));
	if (n->kind == GRAPH_NODE_PROCESS) {
		char *cmd = NULL;

		KEY(b, "pid");
		sb_i64(b, n->pid);
		KEY(b, "ppid");
		sb_i64(b, n->ppid);
		KEY(b, "start_ms");
		sb_u64(b, n->start_time);
		KEY(b, "name");
		sb_str(b, n->name);
		KEY(b, "label");
		sb_str(b, n->label);
		KEY(b, "type");
		sb_str(b, n->type);
		KEY(b, "user");
		sb_str(b, n->user);
		KEY(b, "exe");
		sb_str(b, n->exe);
		KEY(b, "cmdline");
		if (redact_cmdline(n->cmdline, o->cmdline, &cmd) < 0)
			b->oom = true;
		sb_str(b, cmd);
		free(cmd);
		KEY(b, "listen");
		sb_char(b, '[');
		for (size_t i = 0; i < n->n_listen; i++) {
			if (i > 0)
				sb_char(b, ',');
			KEY1(b, "proto");
			sb_str(b, snap_proto_name(n->listen[i].proto));
			KEY(b, "addr");
			sb_addr(b, &n->listen[i].addr);
			KEY(b, "port");
			sb_u64(b, n->listen[i].port);
			sb_char(b, '}');
		}
		sb_char(b, ']');
	} else {
		KEY(b, "addr");
		sb_addr(b, &n->addr);
		if (n->kind == GRAPH_NODE_ENDPOINT) {
			KEY(b, "port");
			sb_u64(b, n->port);
			if (n->owner != SNAP_OWNER_KNOWN) {
				KEY(b, "owner");
				sb_str(b, snap_owner_name(n->owner));
			}
		}
		KEY(b, "label");
		sb_str(b, n->label);
		KEY(b, "type");
		sb_str(b, n->type);
	}
	sb_char(b, '}');
}

static void
put_edge(struct sb *b, const struct graph *g, const struct graph_edge *e)
{
	bool first = true;

	KEY1(b, "id");
	sb_str(b, e->id);
	KEY(b, "from");
	sb_str(b, g->nodes[e->from].id);
	KEY(b, "to");
	sb_str(b, g->nodes[e->to].id);
	KEY(b, "proto");
	sb_str(b, snap_proto_name(e->proto));
	KEY(b, "count");
	sb_u64(b, e->count);
	KEY(b, "server_port");
	sb_u64(b, e->server_port);
	KEY(b, "reason");
	sb_str(b, graph_reason_name(e->reason));
	KEY(b, "states");
	sb_char(b, '{');
	/* UDP has no state (SNAP_STATE_NONE): nothing to list */
	for (unsigned s = 1; s < SNAP_STATE_MAX; s++) {
		if (e->states[s] == 0)
			continue;
		if (!first)
			sb_char(b, ',');
		first = false;
		sb_str(b, snap_state_name(s));
		sb_char(b, ':');
		sb_u64(b, e->states[s]);
	}
	sb_char(b, '}');
	KEY(b, "conns");
	sb_char(b, '[');
	for (size_t i = 0; i < e->n_conns; i++) {
		const struct graph_conn *c = &e->conns[i];

		if (i > 0)
			sb_char(b, ',');
		KEY1(b, "client");
		sb_addr_port(b, &c->client, c->client_port);
		KEY(b, "server");
		sb_addr_port(b, &c->server, c->server_port);
		KEY(b, "state");
		sb_str(b, snap_state_name(c->state));
		sb_char(b, '}');
	}
	sb_lit(b, "]}");
}

static void
put_meta(struct sb *b, const struct graph *g, const struct graph_json_opts *o)
{
	char ms[32];

	KEY1(b, "host");
	sb_str(b, g->host);
	KEY(b, "os");
	sb_str(b, g->os);
	KEY(b, "time_ms");
	sb_i64(b, g->time_ms);
	KEY(b, "sample_ms");
	snprintf(ms, sizeof(ms), "%.3f", g->sample_us / 1000.0);
	sb_put(b, ms, strlen(ms));
	KEY(b, "privileged");
	if (g->privileged)
		sb_lit(b, "true");
	else
		sb_lit(b, "false");
	KEY(b, "counts");
	KEY1(b, "processes");
	sb_u64(b, g->n_processes);
	KEY(b, "nodes");
	sb_u64(b, g->n_nodes);
	KEY(b, "edges");
	sb_u64(b, g->n_edges);
	KEY(b, "sockets");
	sb_u64(b, g->n_sockets);
	sb_char(b, '}');
	KEY(b, "options");
	KEY1(b, "udp");
	if (g->opts.udp)
		sb_lit(b, "true");
	else
		sb_lit(b, "false");
	KEY(b, "p2p_only");
	if (g->opts.p2p_only)
		sb_lit(b, "true");
	else
		sb_lit(b, "false");
	KEY(b, "cmdline");
	sb_str(b, redact_mode_name(o->cmdline));
	sb_lit(b, "}}");
}

static void
put_graph(struct sb *b, const struct graph *g, const struct graph_json_opts *o)
{
	sb_lit(b, "{\"nodes\":[");
	for (size_t i = 0; i < g->n_nodes; i++) {
		if (i > 0)
			sb_char(b, ',');
		put_node(b, &g->nodes[i], o);
	}
	sb_lit(b, "],\"edges\":[");
	for (size_t i = 0; i < g->n_edges; i++) {
		if (i > 0)
			sb_char(b, ',');
		put_edge(b, g, &g->edges[i]);
	}
	sb_lit(b, "],\"meta\":");
	put_meta(b, g, o);
	sb_char(b, '}');
}

static char *
sb_finish(struct sb *b, size_t *len)
{
	sb_char(b, '\0');
	if (b->oom) {
		free(b->p);
		return NULL;
	}
	if (len != NULL)
		*len = b->n - 1;
	return b->p;
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
	struct sb b = { 0 };

	put_graph(&b, g, opts_or_default(opts));
	return sb_finish(&b, len);
}

char *
graph_json_full(const struct graph *g, uint64_t seq,
    const struct graph_json_opts *opts, size_t *len)
{
	struct sb b = { 0 };

	sb_lit(&b, "{\"type\":\"full\",\"seq\":");
	sb_u64(&b, seq);
	sb_lit(&b, ",\"graph\":");
	put_graph(&b, g, opts_or_default(opts));
	sb_char(&b, '}');
	return sb_finish(&b, len);
}

static void
put_ids(struct sb *b, char *const *ids, size_t n)
{
	sb_char(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			sb_char(b, ',');
		sb_str(b, ids[i]);
	}
	sb_char(b, ']');
}

char *
graph_delta_json(const struct graph_delta *d, uint64_t seq,
    const struct graph_json_opts *opts, size_t *len)
{
	const struct graph_json_opts *o = opts_or_default(opts);
	const struct graph *g = d->graph;
	struct sb b = { 0 };

	sb_lit(&b, "{\"type\":\"delta\",\"seq\":");
	sb_u64(&b, seq);
	sb_lit(&b, ",\"nodes\":{\"add\":[");
	for (size_t i = 0; i < d->n_nodes_add; i++) {
		if (i > 0)
			sb_char(&b, ',');
		put_node(&b, d->nodes_add[i], o);
	}
	sb_lit(&b, "],\"update\":[");
	for (size_t i = 0; i < d->n_nodes_update; i++) {
		if (i > 0)
			sb_char(&b, ',');
		put_node(&b, d->nodes_update[i], o);
	}
	sb_lit(&b, "],\"remove\":");
	put_ids(&b, d->nodes_remove, d->n_nodes_remove);
	sb_lit(&b, "},\"edges\":{\"add\":[");
	for (size_t i = 0; i < d->n_edges_add; i++) {
		if (i > 0)
			sb_char(&b, ',');
		put_edge(&b, g, d->edges_add[i]);
	}
	sb_lit(&b, "],\"update\":[");
	for (size_t i = 0; i < d->n_edges_update; i++) {
		if (i > 0)
			sb_char(&b, ',');
		put_edge(&b, g, d->edges_update[i]);
	}
	sb_lit(&b, "],\"remove\":");
	put_ids(&b, d->edges_remove, d->n_edges_remove);
	sb_lit(&b, "},\"meta\":");
	put_meta(&b, g, o);
	sb_char(&b, '}');
	return sb_finish(&b, len);
}
