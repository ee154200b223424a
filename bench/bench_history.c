/*
 * procnet-bench-history: the history file's growth and write cost, through
 * the real writer (history_db.c): M minutes of E edges among E/5 + 1
 * processes, every edge present every minute (the steady worst case), then
 * the file's size.  Prints one JSON line: bytes, bytes per 1 000 edges per
 * day, and the median and total CPU of a minute's write.
 *   procnet-bench-history [-e EDGES] [-m MINUTES] -f FILE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "argnum.h"
#include "history_db.h"
#include "snapshot.h"

static int64_t
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	unsigned edges = 1000, minutes = 1440;
	const char *file = NULL;
	struct hdb *db;
	struct hdb_node *nodes;
	struct hdb_edge *ev;
	enum hdb_fault f;
	char err[600];
	int64_t *cost, total = 0, t0, base;
	unsigned n_nodes;
	int c;

	while ((c = getopt(argc, argv, "e:m:f:")) != -1) {
		if (c == 'e' && argnum_uint(optarg, 1, 1000000, &edges) == 0)
			continue;
		if (c == 'm' && argnum_uint(optarg, 1, 100000, &minutes) == 0)
			continue;
		if (c == 'f') {
			file = optarg;
			continue;
		}
		fprintf(stderr, "usage: procnet-bench-history [-e EDGES] "
		    "[-m MINUTES] -f FILE\n");
		return 2;
	}
	if (file == NULL) {
		fprintf(stderr, "procnet-bench-history: -f FILE is needed\n");
		return 2;
	}
	unlink(file);
	n_nodes = edges / 5 + 1;
	nodes = calloc(n_nodes, sizeof(*nodes));
	ev = calloc(edges, sizeof(*ev));
	cost = calloc(minutes, sizeof(*cost));
	if (nodes == NULL || ev == NULL || cost == NULL)
		return 1;
	/* a big enough cap that nothing is pruned */
	if (hdb_open(file, 1ull << 40, &db, &f, err, sizeof(err)) != 0) {
		fprintf(stderr, "procnet-bench-history: %s\n", err);
		return 1;
	}
	base = 29000000;
	for (unsigned i = 0; i < n_nodes; i++) {
		char key[64], name[32];

		snprintf(key, sizeof(key), "p:%u:%u", 10000 + i,
		    1700000000u + i);
		snprintf(name, sizeof(name), "worker-%u", i % 50);
		nodes[i].key = strdup(key);
		nodes[i].name = strdup(name);
		nodes[i].exe = strdup("/usr/lib/procnet-bench/worker");
		nodes[i].user = strdup("bench");
		nodes[i].label = strdup(name);
		nodes[i].type = strdup("app");
		nodes[i].pid = (int32_t)(10000 + i);
		nodes[i].start_ms = 1700000000000ull + i;
	}
	/* each process is the client of five edges, to servers spread out */
	for (unsigned i = 0; i < edges; i++) {
		ev[i].from = i / 5;
		ev[i].to = (i / 5 + 1 + i % 5 * 7) % n_nodes;
		if (ev[i].to == ev[i].from)
			ev[i].to = (ev[i].to + 1) % n_nodes;
		ev[i].proto = SNAP_PROTO_TCP;
		ev[i].port = (uint16_t)(5000 + i % 5);
	}
	for (unsigned m = 0; m < minutes; m++) {
		for (unsigned i = 0; i < n_nodes; i++) {
			nodes[i].first_ms = nodes[i].last_ms =
			    (base + m) * 60000;
		}
		for (unsigned i = 0; i < edges; i++) {
			ev[i].conns = 1 + (i + m) % 4;
			ev[i].opened = (i + m) % 3;
			ev[i].closed = (i + m + 1) % 3;
			ev[i].bytes_out = 1000ull * ((i * 7 + m) % 500);
			ev[i].bytes_in = 10000ull * ((i * 3 + m) % 300);
		}
		t0 = cpu_us();
		if (hdb_write_minute(db, base + m, nodes, n_nodes, ev, edges,
		    err, sizeof(err)) != 0) {
			fprintf(stderr, "procnet-bench-history: %s\n", err);
			return 1;
		}
		if (m % 60 == 59)
			hdb_checkpoint(db);
		cost[m] = cpu_us() - t0;
		total += cost[m];
	}
	hdb_checkpoint(db);
	{
		uint64_t size = hdb_size(db);
		double per_day = (double)size / minutes * 1440.0 / edges *
		    1000.0;

		qsort(cost, minutes, sizeof(*cost), cmp_i64);
		printf("{\"edges\":%u,\"nodes\":%u,\"minutes\":%u,"
		    "\"bytes\":%llu,\"bytes_per_1000_edges_day\":%.0f,"
		    "\"minute_write_cpu_ms_median\":%.3f,"
		    "\"write_cpu_ms_total\":%.1f}\n", edges, n_nodes, minutes,
		    (unsigned long long)size, per_day,
		    cost[minutes / 2] / 1000.0, total / 1000.0);
	}
	hdb_close(db);
	for (unsigned i = 0; i < n_nodes; i++) {
		free(nodes[i].key);
		free(nodes[i].name);
		free(nodes[i].exe);
		free(nodes[i].user);
		free(nodes[i].label);
		free(nodes[i].type);
	}
	free(nodes);
	free(ev);
	free(cost);
	return 0;
}
