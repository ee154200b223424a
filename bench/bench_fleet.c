/*
 * procnet-bench-fleet: what a fleet webd (--fleet) pays per host update, in
 * process, through the real fleet_merge.c.  H synthetic hosts of C
 * connections each (local pairs, connections to the next host's servers,
 * connections to internet addresses) publish full graphs as webd --publish
 * does; then every round one host's delta (a few edges changed, one added,
 * one removed, new meta) is applied and the fleet merged, diffed and
 * encoded (fleet_merge), as fleet_nats.c does after a message.  Prints one
 * JSON object on stdout: medians and p95 of wall and thread CPU time, the
 * message sizes per host, the merged graph's size, and whether every
 * cross-host connection was paired.
 *   procnet-bench-fleet [-H hosts] [-c conns] [-p procs] [-x cross%]
 *                       [-e external%] [-r rounds]
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "argnum.h"
#include "fleet_merge.h"

#define MAX_HOSTS	250	/* addresses 10.0.<h>.1 */
#define MAX_ROUNDS	10000
#define STALE_S		15	/* fleet_nats.c's defaults */
#define DROP_S		300
#define EDGES_UPDATED	3	/* per delta, beside one added, one removed */
#define CHURN_KEEP	5	/* an added edge goes again this many rounds on */
#define CONNS_KEPT	64	/* graph_json.c keeps this many per edge */
#define CLIENT_PORT	32768
#define SERVER_PORT	9000

struct host {
	char name[16], addr[24];
	json_t *ident;
	json_t *nodes;		/* id -> node */
	json_t *edges;		/* id -> edge */
	uint64_t seq;
	unsigned procs, next_port;
	char *churn[CHURN_KEEP];	/* ids of edges added by deltas */
};

struct sim {
	struct host *h;
	unsigned hosts, conns, procs, cross_pct, ext_pct;
	uint64_t rng;
	size_t cross_edges;	/* distinct cross-host edges made */
};

static unsigned
rnd(struct sim *s, unsigned n)
{
	s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)((s->rng >> 33) % n);
}

static double
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
oom(void)
{
	fprintf(stderr, "procnet-bench-fleet: out of memory\n");
	exit(1);
}

static void
proc_id(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "p:%u:%llu", 1000 + i,
	    1700000000000ull + 1000ull * i);
}

/* A process node shaped like graph_json.c's (group=process). */
static json_t *
proc_node(unsigned i, unsigned procs)
{
	char id[64], name[32], exe[64], cmd[160], svc[64], sg[80];
	json_t *n, *listen = json_array();

	proc_id(id, sizeof(id), i);
	snprintf(name, sizeof(name), "svc%u", i);
	snprintf(exe, sizeof(exe), "/usr/local/bin/svc%u", i);
	snprintf(cmd, sizeof(cmd), "%s --config /etc/svc/%u.yaml --workers 4 "
	    "--token=***", exe, i);
	snprintf(svc, sizeof(svc), "svc%u.service", i);
	snprintf(sg, sizeof(sg), "s:%s", svc);
	if (i < procs / 2)
		json_array_append_new(listen, json_pack("{s:s, s:s, s:i}",
		    "proto", "tcp", "addr", "0.0.0.0", "port",
		    SERVER_PORT + i));
	n = json_pack("{s:s, s:s, s:i, s:i, s:I, s:s, s:s, s:s, s:s, s:s, "
	    "s:s, s:[s, s, s, s, s, s], s:o, s:I, s:s, s:{s:s, s:s, s:s, "
	    "s:s}}", "id", id, "kind", "process", "pid", 1000 + i, "ppid", 1,
	    "start_ms", (json_int_t)(1700000000000ll + 1000ll * i), "name",
	    name, "label", name, "type", i < procs / 2 ? "service" : "app",
	    "user", "app", "exe", exe, "cmdline", cmd, "argv", exe, "--config",
	    "/etc/svc/x.yaml", "--workers", "4", "--token=***", "listen",
	    listen, "netns", (json_int_t)4026531840ll, "service", svc, "groups",
	    "program", id, "service", sg, "container", id, "user", "u:app");
	if (n == NULL)
		oom();
	return n;
}

static void
ext_node(struct host *h, const char *addr)
{
	char id[64];

	snprintf(id, sizeof(id), "e:%s", addr);
	if (json_object_get(h->nodes, id) != NULL)
		return;
	if (json_object_set_new(h->nodes, id, json_pack("{s:s, s:s, s:s, "
	    "s:s, s:s}", "id", id, "kind", "external", "addr", addr, "label",
	    addr, "type", "external")) != 0)
		oom();
}

/* One connection into its edge (made on first use): count, states and
 * the first CONNS_KEPT connections, as graph_json.c aggregates them.
 * Returns whether the edge is new. */
static int
add_conn(struct host *h, const char *from, const char *to, unsigned port,
    const char *reason, const char *client, const char *server,
    const char **idp)
{
	char id[200];
	json_t *e, *conns;
	int created = 0;

	snprintf(id, sizeof(id), "tcp:%s>%s:%u", from, to, port);
	if ((e = json_object_get(h->edges, id)) == NULL) {
		e = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:{s:i}, "
		    "s:[]}", "id", id, "from", from, "to", to, "proto", "tcp",
		    "count", 0, "server_port", port, "reason", reason, "states",
		    "ESTABLISHED", 0, "conns");
		if (e == NULL || json_object_set_new(h->edges, id, e) != 0)
			oom();
		created = 1;
	}
	json_object_set_new(e, "count", json_integer(json_integer_value(
	    json_object_get(e, "count")) + 1));
	json_object_set_new(json_object_get(e, "states"), "ESTABLISHED",
	    json_integer(json_integer_value(json_object_get(e, "count"))));
	conns = json_object_get(e, "conns");
	if (json_array_size(conns) < CONNS_KEPT)
		json_array_append_new(conns, json_pack("{s:s, s:s, s:s}",
		    "client", client, "server", server, "state", "ESTABLISHED"));
	if (idp != NULL)
		*idp = json_string_value(json_object_get(e, "id"));
	return created;
}

static void
local_conn(struct sim *s, struct host *h, unsigned port_c, const char **idp,
    unsigned server_port)
{
	unsigned half = h->procs / 2;
	unsigned c = half + rnd(s, h->procs - half), v = rnd(s, half);
	char from[64], to[64], cl[64], sv[64];

	proc_id(from, sizeof(from), c);
	proc_id(to, sizeof(to), v);
	if (server_port == 0)
		server_port = SERVER_PORT + v;
	snprintf(cl, sizeof(cl), "127.0.0.1:%u", port_c);
	snprintf(sv, sizeof(sv), "127.0.0.1:%u", server_port);
	add_conn(h, from, to, server_port, "pair", cl, sv, idp);
}

/* Host a's client to host b's server: a sees an external server (and
 * guesses by the ports), b an external client on its listener. */
static void
cross_conn(struct sim *s, struct host *a, struct host *b, unsigned port_c)
{
	unsigned half = a->procs / 2;
	unsigned c = half + rnd(s, a->procs - half), v = rnd(s, half);
	char from[64], to[64], eb[64], ea[64], cl[64], sv[64];

	proc_id(from, sizeof(from), c);
	proc_id(to, sizeof(to), v);
	snprintf(eb, sizeof(eb), "e:%s", b->addr);
	snprintf(ea, sizeof(ea), "e:%s", a->addr);
	snprintf(cl, sizeof(cl), "%s:%u", a->addr, port_c);
	snprintf(sv, sizeof(sv), "%s:%u", b->addr, SERVER_PORT + v);
	ext_node(a, b->addr);
	ext_node(b, a->addr);
	s->cross_edges += (size_t)add_conn(a, from, eb, SERVER_PORT + v,
	    "heuristic", cl, sv, NULL);
	add_conn(b, ea, to, SERVER_PORT + v, "listener", cl, sv, NULL);
}

static void
external_conn(struct sim *s, struct host *h, unsigned hi, unsigned port_c)
{
	unsigned half = h->procs / 2;
	unsigned c = half + rnd(s, h->procs - half);
	char from[64], to[64], addr[32], cl[64], sv[64];

	proc_id(from, sizeof(from), c);
	snprintf(addr, sizeof(addr), "198.51.%u.%u", hi % 256, 1 + rnd(s, 200));
	snprintf(to, sizeof(to), "e:%s", addr);
	snprintf(cl, sizeof(cl), "%s:%u", h->addr, port_c);
	snprintf(sv, sizeof(sv), "%s:443", addr);
	ext_node(h, addr);
	add_conn(h, from, to, 443, "service-port", cl, sv, NULL);
}

static json_t *
values(json_t *o)
{
	json_t *a = json_array(), *x;
	const char *k;

	if (a == NULL)
		oom();
	json_object_foreach(o, k, x)
		json_array_append(a, x);
	return a;
}

static json_t *
meta(const struct sim *s, const struct host *h)
{
	return json_pack("{s:s, s:s, s:I, s:f, s:b, s:{s:i, s:I, s:I, s:i}, "
	    "s:{s:b, s:b, s:s, s:s}}", "host", h->name, "os", "linux",
	    "time_ms", (json_int_t)(1750000000000ll + 1000ll * (json_int_t)
	    h->seq), "sample_ms", 3.25, "privileged", 1, "counts", "processes",
	    h->procs + 150, "nodes", (json_int_t)json_object_size(h->nodes),
	    "edges", (json_int_t)json_object_size(h->edges), "sockets",
	    2 * s->conns + 60, "options", "udp", 0, "p2p_only", 0, "cmdline",
	    "redacted", "group", "process");
}

/* The bytes webd --publish sends: {"host":..,"type":..,"seq":..,...}. */
static char *
dump(json_t *m, size_t *len)
{
	char *out;

	if (m == NULL || (out = json_dumps(m, JSON_COMPACT)) == NULL)
		oom();
	json_decref(m);
	*len = strlen(out);
	return out;
}

static char *
full_msg(const struct sim *s, struct host *h, size_t *len)
{
	return dump(json_pack("{s:O, s:s, s:I, s:{s:o, s:o, s:o}}", "host",
	    h->ident, "type", "full", "seq", (json_int_t)h->seq, "graph",
	    "nodes", values(h->nodes), "edges", values(h->edges), "meta",
	    meta(s, h)), len);
}

/* One sample's change on host h: EDGES_UPDATED edges gain a connection,
 * one edge is new (a new server port), the one added CHURN_KEEP rounds
 * ago goes. */
static char *
delta_msg(struct sim *s, struct host *h, size_t *len)
{
	json_t *add = json_array(), *upd = json_array(), *rem = json_array();
	unsigned slot = (unsigned)(h->seq % CHURN_KEEP);
	const char *id;

	h->seq++;
	for (int i = 0; i < EDGES_UPDATED; i++) {
		local_conn(s, h, h->next_port++, &id, 0);
		json_array_append(upd, json_object_get(h->edges, id));
	}
	if (h->churn[slot] != NULL) {
		json_object_del(h->edges, h->churn[slot]);
		json_array_append_new(rem, json_string(h->churn[slot]));
		free(h->churn[slot]);
	}
	local_conn(s, h, h->next_port++, &id, 20000 + (unsigned)(h->seq %
	    20000));
	json_array_append(add, json_object_get(h->edges, id));
	if ((h->churn[slot] = strdup(id)) == NULL)
		oom();
	return dump(json_pack("{s:O, s:s, s:I, s:{s:[], s:[], s:[]}, "
	    "s:{s:o, s:o, s:o}, s:o}", "host", h->ident, "type", "delta", "seq",
	    (json_int_t)h->seq, "nodes", "add", "update", "remove", "edges",
	    "add", add, "update", upd, "remove", rem, "meta", meta(s, h)), len);
}

static void
build(struct sim *s)
{
	unsigned cross = s->conns * s->cross_pct / 200;	/* out, and in */
	unsigned ext = s->conns * s->ext_pct / 100;
	unsigned local = s->conns - 2 * cross - ext;

	for (unsigned i = 0; i < s->hosts; i++) {
		struct host *h = &s->h[i];

		snprintf(h->name, sizeof(h->name), "host%03u", i);
		snprintf(h->addr, sizeof(h->addr), "10.0.%u.1", i);
		h->procs = s->procs;
		h->next_port = CLIENT_PORT;
		h->ident = json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "name",
		    h->name, "boot_id", "6f1c1b7e-3f0a-4b8e-9d7c-2a5e0c1d9b00",
		    "os", "linux", "addrs", h->addr, "127.0.0.1", "::1",
		    "fe80::5054:ff:fe12:3456");
		h->nodes = json_object();
		h->edges = json_object();
		if (h->ident == NULL || h->nodes == NULL || h->edges == NULL)
			oom();
		for (unsigned p = 0; p < s->procs; p++) {
			char id[64];

			proc_id(id, sizeof(id), p);
			json_object_set_new(h->nodes, id, proc_node(p,
			    s->procs));
		}
	}
	for (unsigned i = 0; i < s->hosts; i++) {
		struct host *h = &s->h[i];

		for (unsigned j = 0; j < local; j++)
			local_conn(s, h, h->next_port++, NULL, 0);
		for (unsigned j = 0; j < ext; j++)
			external_conn(s, h, i, h->next_port++);
		if (s->hosts > 1)
			for (unsigned j = 0; j < cross; j++)
				cross_conn(s, h, &s->h[(i + 1) % s->hosts],
				    h->next_port++);
	}
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0.5 median, 0.95 p95) of n values; sorts v. */
static double
quantile(double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_d);
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static void
usage(void)
{
	fprintf(stderr, "usage: procnet-bench-fleet [-H hosts] [-c conns] "
	    "[-p procs] [-x cross%%] [-e external%%] [-r rounds]\n");
	exit(2);
}

/* What the merged graph says about cross-host pairing: edges paired,
 * and external nodes left for a fleet host's address (none when every
 * cross-host connection was paired). */
static void
check_merged(const struct fleet_merged *m, size_t *pairs, size_t *listeners,
    size_t *fleet_ext)
{
	json_t *g = json_loadb(m->graph, m->glen, 0, NULL), *x;
	size_t i;

	*pairs = *listeners = *fleet_ext = 0;
	if (g == NULL)
		oom();
	json_array_foreach(json_object_get(g, "edges"), i, x) {
		const char *r = json_string_value(json_object_get(x, "reason"));
		const char *f = json_string_value(json_object_get(x, "from"));
		const char *t = json_string_value(json_object_get(x, "to"));

		if (r == NULL || f == NULL || t == NULL ||
		    strncmp(f, t, strcspn(f, "/") + 1) == 0)
			continue;	/* within one host */
		*pairs += strcmp(r, "pair") == 0;
		*listeners += strcmp(r, "listener") == 0;
	}
	json_array_foreach(json_object_get(g, "nodes"), i, x) {
		const char *a = json_string_value(json_object_get(x, "addr"));

		if (a != NULL && strncmp(a, "10.0.", 5) == 0)
			(*fleet_ext)++;
	}
	json_decref(g);
}

int
main(int argc, char **argv)
{
	struct sim s = { .hosts = 100, .conns = 1000, .procs = 40,
	    .cross_pct = 20, .ext_pct = 10, .rng = 42 };
	unsigned rounds = 30;
	struct fleet_table *t;
	struct fleet_merged m;
	double *wall, *cpu, *tapply, *tmerge, *dbytes, *outd;
	double *fbytes, t0, c0, fulls_ms, first_ms, first_cpu;
	size_t len, pairs, listeners, fleet_ext;
	struct rusage ru;
	int c, rc;

	while ((c = getopt(argc, argv, "H:c:p:x:e:r:")) != -1) {
		unsigned *dst = c == 'H' ? &s.hosts : c == 'c' ? &s.conns :
		    c == 'p' ? &s.procs : c == 'x' ? &s.cross_pct : c == 'e' ?
		    &s.ext_pct : c == 'r' ? &rounds : NULL;
		unsigned max = c == 'H' ? MAX_HOSTS : c == 'c' ? 20000 :
		    c == 'p' ? 1000 : c == 'r' ? MAX_ROUNDS : 100;

		if (dst == NULL || argnum_uint(optarg, c == 'H' || c == 'r' ?
		    1 : c == 'c' ? 10 : c == 'p' ? 4 : 0, max, dst) != 0)
			usage();
	}
	if (optind != argc || s.cross_pct + s.ext_pct > 100)
		usage();
	if ((s.h = calloc(s.hosts, sizeof(*s.h))) == NULL ||
	    (wall = calloc(rounds, sizeof(double))) == NULL ||
	    (cpu = calloc(rounds, sizeof(double))) == NULL ||
	    (tapply = calloc(rounds, sizeof(double))) == NULL ||
	    (tmerge = calloc(rounds, sizeof(double))) == NULL ||
	    (dbytes = calloc(rounds, sizeof(double))) == NULL ||
	    (outd = calloc(rounds, sizeof(double))) == NULL ||
	    (fbytes = calloc(s.hosts, sizeof(double))) == NULL ||
	    (t = fleet_table_new()) == NULL)
		oom();
	build(&s);

	/* every host's first full graph, then one merge (the cold one) */
	fulls_ms = 0;
	for (unsigned i = 0; i < s.hosts; i++) {
		char subj[64], *msg;

		s.h[i].seq = 1;
		msg = full_msg(&s, &s.h[i], &len);
		fbytes[i] = (double)len;
		snprintf(subj, sizeof(subj), "procnet.v1.%s.graph",
		    s.h[i].name);
		t0 = clock_ms(CLOCK_MONOTONIC);
		rc = fleet_apply(t, subj, msg, len, 0);
		fulls_ms += clock_ms(CLOCK_MONOTONIC) - t0;
		free(msg);
		if (rc != 0) {
			fprintf(stderr, "procnet-bench-fleet: host %u's full "
			    "graph refused: %s\n", i, strerror(-rc));
			return 1;
		}
	}
	t0 = clock_ms(CLOCK_MONOTONIC);
	c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
	if (fleet_merge(t, 0, STALE_S, DROP_S, &m) != 0)
		oom();
	first_ms = clock_ms(CLOCK_MONOTONIC) - t0;
	first_cpu = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
	fleet_merged_clear(&m);
	/* progress: a slow merge at a big size shows its first figure early */
	fprintf(stderr, "procnet-bench-fleet: first merge %.0f ms wall, %.0f ms "
	    "CPU\n", first_ms, first_cpu);

	/* one host's delta per round, then the merge it causes */
	for (unsigned r = 0; r < rounds; r++) {
		struct host *h = &s.h[r % s.hosts];
		char subj[64], *msg = delta_msg(&s, h, &len);
		int64_t now = 1000 + 1000 * (int64_t)r / s.hosts;
		double a0, a1;

		snprintf(subj, sizeof(subj), "procnet.v1.%s.graph", h->name);
		dbytes[r] = (double)len;
		t0 = clock_ms(CLOCK_MONOTONIC);
		c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
		rc = fleet_apply(t, subj, msg, len, now);
		a0 = clock_ms(CLOCK_MONOTONIC);
		if (rc == 0)
			rc = fleet_merge(t, now, STALE_S, DROP_S, &m);
		a1 = clock_ms(CLOCK_MONOTONIC);
		cpu[r] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
		free(msg);
		if (rc != 0) {
			fprintf(stderr, "procnet-bench-fleet: round %u: %s\n",
			    r, strerror(-rc));
			return 1;
		}
		tapply[r] = a0 - t0;
		tmerge[r] = a1 - a0;
		wall[r] = a1 - t0;
		outd[r] = (double)m.dlen;
		fprintf(stderr, "procnet-bench-fleet: round %u: %.0f ms wall, "
		    "%.0f ms CPU\n", r, wall[r], cpu[r]);
		if (r + 1 < rounds)
			fleet_merged_clear(&m);
	}
	check_merged(&m, &pairs, &listeners, &fleet_ext);
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"hosts\":%u,\"conns\":%u,\"procs\":%u,\"cross_pct\":%u,"
	    "\"ext_pct\":%u,\"rounds\":%u,\"nodes\":%zu,\"edges\":%zu,"
	    "\"cross_edges\":%zu,\"cross_paired\":%zu,\"cross_listener\":%zu,"
	    "\"fleet_external_nodes\":%zu,\"fulls_apply_ms\":%.3f,"
	    "\"first_merge_ms\":%.3f,\"first_merge_cpu_ms\":%.3f,", s.hosts, s.conns, s.procs, s.cross_pct,
	    s.ext_pct, rounds, m.nodes, m.edges, s.cross_edges, pairs,
	    listeners, fleet_ext, fulls_ms, first_ms, first_cpu);
	printf("\"merged_graph_bytes\":%zu,\"merged_delta_bytes_median\":%.0f,"
	    "\"full_msg_bytes_median\":%.0f,\"full_msg_bytes_max\":%.0f,"
	    "\"delta_msg_bytes_median\":%.0f,", m.glen,
	    quantile(outd, rounds, 0.5), quantile(fbytes, s.hosts, 0.5),
	    quantile(fbytes, s.hosts, 1.0), quantile(dbytes, rounds, 0.5));
	printf("\"apply_ms_median\":%.3f,\"merge_ms_median\":%.3f,"
	    "\"update_ms_median\":%.3f,\"update_ms_p95\":%.3f,"
	    "\"update_cpu_ms_median\":%.3f,\"update_cpu_ms_p95\":%.3f,"
	    "\"max_rss_kb\":%ld}\n", quantile(tapply, rounds, 0.5),
	    quantile(tmerge, rounds, 0.5), quantile(wall, rounds, 0.5),
	    quantile(wall, rounds, 0.95), quantile(cpu, rounds, 0.5),
	    quantile(cpu, rounds, 0.95), ru.ru_maxrss);
	fleet_merged_clear(&m);
	fleet_table_free(t);
	for (unsigned i = 0; i < s.hosts; i++) {
		json_decref(s.h[i].ident);
		json_decref(s.h[i].nodes);
		json_decref(s.h[i].edges);
		for (int k = 0; k < CHURN_KEEP; k++)
			free(s.h[i].churn[k]);
	}
	free(s.h);
	free(wall);
	free(cpu);
	free(tapply);
	free(tmerge);
	free(dbytes);
	free(outd);
	free(fbytes);
	return 0;
}
