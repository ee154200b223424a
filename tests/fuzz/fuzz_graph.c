/*
 * libFuzzer target for the graph builder.  The first byte picks the
 * options and how the rest becomes a snapshot:
 *  - bit 0 clear: the rest is a SNAPSHOT payload for the ipc codec, the
 *    same bytes webd gets from the collector;
 *  - bit 0 set: the rest is 6-byte socket records over a tiny space of
 *    pids, addresses and ports, so pairs, listeners, mapped addresses and
 *    duplicates collide often.
 * Every graph is encoded to JSON, which must parse, and diffed against the
 * same snapshot built with other options.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "graph.h"
#include "graph_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const addrs[8] = {
	"127.0.0.1", "127.0.0.2", "0.0.0.0", "::", "::1",
	"::ffff:127.0.0.1", "192.0.2.1", "2001:db8::1",
};
static const uint16_t ports[8] = { 0, 22, 80, 5432, 40000, 40001, 3000,
    65535 };

static struct snapshot *
compact_snapshot(const uint8_t *p, size_t n)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s = NULL;

	if (b == NULL)
		return NULL;
	snapshot_builder_set_meta(b, "fuzz", "linux", 1, true);
	for (int pid = 1; pid <= 6; pid++) {
		struct snap_process pr = { .pid = pid, .ppid = 1,
		    .start_time = (uint64_t)pid * 10, .user = "u",
		    .name = pid == 3 ? "bad\xff\"name" : "proc",
		    .exe = "/x", .cmdline = "x --password=p" };

		if (snapshot_builder_add_process(b, &pr) != 0)
			goto fail;
	}
	/* a few hundred sockets show every interaction; more only slow the
	 * fuzzer down */
	for (size_t i = 0; i + 6 <= n && i < 6 * 256; i += 6) {
		struct snap_socket so;
		unsigned who = p[i] & 7;

		memset(&so, 0, sizeof(so));
		so.proto = (p[i] >> 3) & 1;
		so.state = (uint8_t)(((p[i] >> 4) & 15) % SNAP_STATE_MAX);
		if (so.proto == SNAP_PROTO_UDP)
			so.state = SNAP_STATE_NONE;
		/* pid 7 is not a process; 0 an unknown owner */
		so.owner = who == 0 ? (uint8_t)(1 + p[i + 5] % 4) :
		    SNAP_OWNER_KNOWN;
		so.pid = who == 0 ? -1 : (int32_t)who;
		snap_addr_parse(addrs[p[i + 1] & 7], &so.local);
		snap_addr_parse(addrs[(p[i + 1] >> 3) & 7], &so.remote);
		/* a socket's two ends share a family */
		if (so.remote.family != so.local.family)
			snap_addr_parse(so.local.family == 4 ? "127.0.0.1" :
			    "::1", &so.remote);
		if (p[i + 1] & 0x80)
			memset(&so.remote, 0, sizeof(so.remote)),
			    so.remote.family = so.local.family;
		so.family = so.local.family;
		so.local_port = (p[i + 2] & 8) ? (uint16_t)(p[i + 3] << 8 |
		    p[i + 4]) : ports[p[i + 2] & 7];
		so.remote_port = ports[(p[i + 2] >> 4) & 7];
		if (snapshot_builder_add_socket(b, &so) != 0)
			goto fail;
	}
	snapshot_builder_finish(b, &s);
	return s;
fail:
	snapshot_builder_free(b);
	return NULL;
}

static void
check_json(char *text)
{
	json_error_t e;
	json_t *j;

	if (text == NULL)
		return;		/* out of memory is allowed */
	/* as reals: jansson refuses integers past INT64_MAX, which a
	 * decoded start time may be and JSON itself allows */
	j = json_loads(text, JSON_DECODE_INT_AS_REAL, &e);
	if (j == NULL)
		__builtin_trap();
	json_decref(j);
	free(text);
}

static void
check_graph(const struct graph *g)
{
	for (size_t i = 0; i < g->n_edges; i++) {
		const struct graph_edge *e = &g->edges[i];

		if (e->from >= g->n_nodes || e->to >= g->n_nodes ||
		    e->count == 0 || e->n_conns > e->count ||
		    e->n_conns > GRAPH_EDGE_MAX_CONNS ||
		    graph_find_edge(g, e->id) != e)
			__builtin_trap();
		if (i > 0 && strcmp(g->edges[i - 1].id, e->id) >= 0)
			__builtin_trap();
	}
	for (size_t i = 0; i < g->n_nodes; i++)
		if (graph_find_node(g, g->nodes[i].id) != &g->nodes[i])
			__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot *s = NULL;
	struct frame_error ferr;
	struct graph *g1 = NULL, *g2 = NULL;
	struct graph_delta *d = NULL;
	uint16_t svc[1] = { 40000 };
	struct snap_addr local;
	struct graph_options o1 = { 0 }, o2 = { 0 };
	struct graph_json_opts jo = { .cmdline = REDACT_REDACTED };

	if (size < 1 || size > 65536)
		return 0;
	if (data[0] & 1)
		s = compact_snapshot(data + 1, size - 1);
	/* a payload of either protocol version (the seeds hold both) */
	else if (codec_decode_snapshot(data + 1, size - 1, 2, &s, &ferr) != 0 &&
	    codec_decode_snapshot(data + 1, size - 1, 1, &s, &ferr) != 0)
		s = NULL;
	if (s == NULL)
		return 0;
	snap_addr_parse("192.0.2.1", &local);
	o1.udp = data[0] & 2;
	o1.p2p_only = data[0] & 4;
	if (data[0] & 8) {
		o1.svc_ports = svc;
		o1.n_svc_ports = 1;
	}
	if (data[0] & 16) {
		o1.local_addrs = &local;
		o1.n_local_addrs = 1;
	}
	o2.udp = !o1.udp;
	o2.p2p_only = !o1.p2p_only;
	jo.cmdline = (enum redact_mode)((data[0] >> 5) % REDACT_MAX);

	if (graph_build(s, NULL, &o1, &g1) == 0) {
		check_graph(g1);
		check_json(graph_json(g1, &jo, NULL));
	}
	if (graph_build(s, NULL, &o2, &g2) == 0)
		check_graph(g2);
	snapshot_unref(s);	/* the graphs keep what they need */
	if (g2 != NULL && graph_delta(g1, g2, &d) == 0) {
		check_json(graph_delta_json(d, 1, &jo, NULL));
		graph_delta_free(d);
	}
	graph_free(g1);
	graph_free(g2);
	return 0;
}
