/*
 * procnet-bench-graph: what webd pays per sample for a big snapshot, in
 * process: the recent window's update + graph_build + graph_delta + JSON
 * encoding (the full graph and the delta).  The snapshot mirrors bench/fixture.c's population (K workers,
 * N established loopback connections, every 10th over ::1, UDP sockets), and
 * every round churns 1% of the connections so the delta is never empty.
 * Prints one JSON object with the medians on stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "argnum.h"
#include "graph.h"
#include "graph_json.h"
#include "log.h"
#include "rules.h"
#include "snapshot.h"
#include "window.h"

#define MAX_CONNS	200000
#define MAX_WORKERS	1000
#define MAX_UDP		10000
#define MAX_ROUNDS	1000
#define PID_BASE	4000
/* Connections replaced per round, in per mille. */
#define CHURN_PERMILLE	10

struct population {
	unsigned conns, workers, udp;
};

/* Per-round times, one array per phase. */
enum phase {
	PHASE_WINDOW,
	PHASE_BUILD,
	PHASE_DELTA,
	PHASE_JSON,
	PHASE_DELTA_JSON,
	PHASE_TOTAL,
	PHASE_WINDOW_CPU,	/* thread CPU time of the window update */
	PHASE_TOTAL_CPU,	/* thread CPU time of the five: the machine's
				 * other load does not count */
	PHASE_MAX
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: procnet-bench-graph [-n conns] [-k workers] [-u udp] "
	    "[-r rounds] [-R rules.yaml]\n");
}

static double
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double
now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static void
addr_v4(struct snap_addr *a, uint32_t host_order)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->bytes[0] = (uint8_t)(host_order >> 24);
	a->bytes[1] = (uint8_t)(host_order >> 16);
	a->bytes[2] = (uint8_t)(host_order >> 8);
	a->bytes[3] = (uint8_t)host_order;
}

static void
addr_v6_loopback(struct snap_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = 6;
	a->bytes[15] = 1;
}

static void
add_socket(struct snapshot_builder *b, struct snap_socket *s)
{
	int r = snapshot_builder_add_socket(b, s);

	if (r < 0)
		fatalx("snapshot_builder_add_socket: %s", strerror(-r));
}

/* Connection i's two sockets, as the collector would report them.  gen
 * shifts the client port of churned connections so they are new ones. */
static void
add_conn(struct snapshot_builder *b, const struct population *pop,
    unsigned i, unsigned gen)
{
	unsigned c = i % pop->workers, q = i / pop->workers;
	unsigned srv = (c + 1 + q % (pop->workers - 1)) % pop->workers;
	struct snap_socket cl = { 0 }, sv;
	bool v6 = i % 10 == 9;
	uint64_t inode = 100000 + 2ull * i + 1000000ull * gen;

	cl.proto = SNAP_PROTO_TCP;
	cl.state = SNAP_STATE_ESTABLISHED;
	cl.owner = SNAP_OWNER_KNOWN;
	cl.family = v6 ? 6 : 4;
	cl.local_port = (uint16_t)(32768 + (i + gen * 7919) % 28000);
	cl.remote_port = (uint16_t)(20000 + 2 * srv + (v6 ? 1 : 0));
	if (v6) {
		addr_v6_loopback(&cl.local);
		addr_v6_loopback(&cl.remote);
	} else {
		addr_v4(&cl.local, 0x7f010001u + i / 500);
		addr_v4(&cl.remote, 0x7f000001u);
	}
	cl.pid = PID_BASE + (int32_t)c;
	cl.inode = inode;
	add_socket(b, &cl);

	sv = cl;
	sv.local = cl.remote;
	sv.local_port = cl.remote_port;
	sv.remote = cl.local;
	sv.remote_port = cl.local_port;
	sv.pid = PID_BASE + (int32_t)srv;
	sv.inode = inode + 1;
	add_socket(b, &sv);
}

static struct snapshot *
make_snapshot(const struct population *pop, unsigned round)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *snap;
	unsigned churn = pop->conns * CHURN_PERMILLE / 1000;
	char name[32], cmdline[128];
	int r;

	if (b == NULL)
		fatalx("out of memory");
	if (snapshot_builder_set_meta(b, "bench", "linux",
	    1700000000000ll + round * 1000ll, true) < 0)
		fatalx("out of memory");
	snprintf(cmdline, sizeof(cmdline), "procnet-bench-fixture -n %u -k %u "
	    "-u %u -t 900", pop->conns, pop->workers, pop->udp);
	for (unsigned w = 0; w < pop->workers; w++) {
		struct snap_process p = {
			.pid = PID_BASE + (int32_t)w, .ppid = PID_BASE - 1,
			.start_time = 1700000000000ull + w, .user = "root",
			.name = name, .exe = "/usr/libexec/procnet-bench-fixture",
			.cmdline = cmdline,
		};

		snprintf(name, sizeof(name), "pnbench-w%u", w);
		if ((r = snapshot_builder_add_process(b, &p)) < 0)
			fatalx("snapshot_builder_add_process: %s", strerror(-r));
	}
	for (unsigned w = 0; w < pop->workers; w++) {
		struct snap_socket l = {
			.proto = SNAP_PROTO_TCP, .state = SNAP_STATE_LISTEN,
			.owner = SNAP_OWNER_KNOWN, .family = 4,
			.local_port = (uint16_t)(20000 + 2 * w),
			.pid = PID_BASE + (int32_t)w, .inode = 10 + 2ull * w,
		};

		addr_v4(&l.local, 0x7f000001u);
		add_socket(b, &l);
		l.family = 6;
		l.local_port++;
		l.inode++;
		addr_v6_loopback(&l.local);
		add_socket(b, &l);
	}
	/* A sliding window of churned connections: each round CHURN of them
	 * come back under new client ports, as if closed and reopened. */
	for (unsigned i = 0; i < pop->conns; i++) {
		unsigned start = churn ? (round * churn) % pop->conns : 0;
		unsigned off = (i + pop->conns - start) % pop->conns;

		add_conn(b, pop, i, off < churn ? round + 1 : 0);
	}
	for (unsigned j = 0; j < pop->udp; j++) {
		unsigned w = j % pop->workers, peer = (w + 1) % pop->workers;
		bool v6 = j % 5 == 4;
		struct snap_socket u = {
			.proto = SNAP_PROTO_UDP, .owner = SNAP_OWNER_KNOWN,
			.family = v6 ? 6 : 4,
			.local_port = (uint16_t)(40000 + j),
			.pid = PID_BASE + (int32_t)w, .inode = 50000ull + j,
		};

		if (v6)
			addr_v6_loopback(&u.local);
		else
			addr_v4(&u.local, 0x7f000001u);
		if (j % 2 == 1) {
			u.remote = u.local;
			u.remote_port = (uint16_t)(20000 + 2 * peer +
			    (v6 ? 1 : 0));
		}
		add_socket(b, &u);
	}
	if ((r = snapshot_builder_finish(b, &snap)) < 0)
		fatalx("snapshot_builder_finish: %s", strerror(-r));
	return snap;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct population pop = { .conns = 10000, .workers = 50, .udp = 250 };
	struct graph_options gopts = { .udp = false };
	struct graph_json_opts jopts = { .cmdline = REDACT_REDACTED };
	struct rules *rules = NULL;
	struct graph *old = NULL;
	struct window *win;
	struct window_view wv;
	double *t[PHASE_MAX];
	unsigned rounds = 15;
	size_t json_bytes = 0, delta_bytes = 0, nodes = 0, edges = 0;
	size_t sockets = 0;
	int ch, r;

	log_init("procnet-bench-graph", LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "n:k:u:r:R:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (argnum_uint(optarg, 1, MAX_CONNS, &pop.conns) < 0)
				fatalx("-n: expected 1..%u", MAX_CONNS);
			break;
		case 'k':
			if (argnum_uint(optarg, 2, MAX_WORKERS, &pop.workers) < 0)
				fatalx("-k: expected 2..%u", MAX_WORKERS);
			break;
		case 'u':
			if (argnum_uint(optarg, 0, MAX_UDP, &pop.udp) < 0)
				fatalx("-u: expected 0..%u", MAX_UDP);
			break;
		case 'r':
			if (argnum_uint(optarg, 1, MAX_ROUNDS, &rounds) < 0)
				fatalx("-r: expected 1..%u", MAX_ROUNDS);
			break;
		case 'R': {
			struct rules_error err;
			char buf[512];

			if (rules_load(optarg, &rules, &err) < 0)
				fatalx("%s", rules_error_format(&err, buf,
				    sizeof(buf)));
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	for (int p = 0; p < PHASE_MAX; p++)
		if ((t[p] = calloc(rounds, sizeof(double))) == NULL)
			fatalx("out of memory");
	/* webd's default window: the churned connections open and close in
	 * it, every table socket is a record */
	if ((r = window_new(WINDOW_DEFAULT_S, 0, &win)) < 0)
		fatalx("window_new: %s", strerror(-r));
	gopts.window = &wv;
	/* Round 0 warms caches and allocator and gives the first "old". */
	for (unsigned k = 0; k <= rounds; k++) {
		struct snapshot *snap = make_snapshot(&pop, k);
		struct graph *g;
		struct graph_delta *d;
		char *full, *dj;
		size_t flen, dlen;
		double tw, t0, t1, t2, t3, t4, c0, cw, c4;

		c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
		tw = now_ms();
		if ((r = window_update(win, snap, NULL, NULL)) < 0)
			fatalx("window_update: %s", strerror(-r));
		window_view(win, &wv);
		cw = clock_ms(CLOCK_THREAD_CPUTIME_ID);
		t0 = now_ms();
		if ((r = graph_build(snap, rules, &gopts, &g)) < 0)
			fatalx("graph_build: %s", strerror(-r));
		t1 = now_ms();
		if ((r = graph_delta(old, g, &d)) < 0)
			fatalx("graph_delta: %s", strerror(-r));
		t2 = now_ms();
		if ((full = graph_json(g, &jopts, &flen)) == NULL)
			fatalx("graph_json: out of memory");
		t3 = now_ms();
		if ((dj = graph_delta_json(d, k, &jopts, &dlen)) == NULL)
			fatalx("graph_delta_json: out of memory");
		t4 = now_ms();
		c4 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
		if (k > 0) {
			t[PHASE_WINDOW][k - 1] = t0 - tw;
			t[PHASE_WINDOW_CPU][k - 1] = cw - c0;
			t[PHASE_BUILD][k - 1] = t1 - t0;
			t[PHASE_DELTA][k - 1] = t2 - t1;
			t[PHASE_JSON][k - 1] = t3 - t2;
			t[PHASE_DELTA_JSON][k - 1] = t4 - t3;
			t[PHASE_TOTAL][k - 1] = t4 - tw;
			t[PHASE_TOTAL_CPU][k - 1] = c4 - c0;
			if (graph_delta_is_empty(d))
				fatalx("round %u: churn produced no delta", k);
		}
		json_bytes = flen;
		delta_bytes = dlen;
		nodes = g->n_nodes;
		edges = g->n_edges;
		sockets = snap->n_sockets;
		free(full);
		free(dj);
		graph_delta_free(d);
		graph_free(old);
		old = g;
		snapshot_unref(snap);	/* the graph keeps its own reference */
	}

	printf("{\"conns\":%u,\"workers\":%u,\"udp\":%u,\"sockets\":%zu,"
	    "\"nodes\":%zu,\"edges\":%zu,\"rounds\":%u,\"rules\":%s,"
	    "\"window_ms\":%.3f,\"window_cpu_ms\":%.3f,\"window_records\":%zu,"
	    "\"build_ms\":%.3f,\"delta_ms\":%.3f,\"json_ms\":%.3f,"
	    "\"delta_json_ms\":%.3f,\"total_ms\":%.3f,\"total_cpu_ms\":%.3f,"
	    "\"json_bytes\":%zu,\"delta_json_bytes\":%zu}\n",
	    pop.conns, pop.workers, pop.udp, sockets, nodes, edges, rounds,
	    rules ? "true" : "false",
	    median(t[PHASE_WINDOW], rounds), median(t[PHASE_WINDOW_CPU], rounds),
	    wv.n_ends,
	    median(t[PHASE_BUILD], rounds), median(t[PHASE_DELTA], rounds),
	    median(t[PHASE_JSON], rounds), median(t[PHASE_DELTA_JSON], rounds),
	    median(t[PHASE_TOTAL], rounds), median(t[PHASE_TOTAL_CPU], rounds),
	    json_bytes, delta_bytes);
	graph_free(old);
	window_free(win);
	rules_free(rules);
	for (int p = 0; p < PHASE_MAX; p++)
		free(t[p]);
	return 0;
}
