/*
 * History pieces without a webd: times, durations and sizes as typed;
 * the API's parameter parsing; the SQLite file (writing minutes, the size
 * cap under a flood of rows, retention pruning, shrinking a file made under
 * a larger cap, noticing a deleted or overwritten file); and the API's
 * answers and errors on a file written here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "graph.h"
#include "history.h"
#include "history_api.h"
#include "history_db.h"
#include "history_query.h"
#include "snapfix.h"
#include "snapshot.h"
#include "timeparse.h"

static char dir[256];

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static uint64_t
file_size(const char *p)
{
	char wal[600];
	struct stat st;
	uint64_t n = 0;

	if (stat(p, &st) == 0)
		n += (uint64_t)st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", p);
	if (stat(wal, &st) == 0)
		n += (uint64_t)st.st_size;
	return n;
}

static void
test_instant(void **state)
{
	static const struct { const char *s; int64_t ms; } ok[] = {
		{ "0", 0 },
		{ "1796455260000", 1796455260000LL },
		{ "2026-12-05T07:21:00Z", 1796455260000LL },
		{ "2026-12-05t07:21:00z", 1796455260000LL },
		{ "2026-12-05 07:21:00Z", 1796455260000LL },
		{ "2026-12-05T08:21:00+01:00", 1796455260000LL },
		{ "2026-12-05T07:21:00.5Z", 1796455260500LL },
		{ "2026-12-05T07:21:00.123456789Z", 1796455260123LL },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-02-29T00:00:00Z", 1709164800000LL },
		{ "2016-12-31T23:59:60Z", 1483228799000LL },
	};
	static const char *const bad[] = {
		"", "x", "-5", "12a", "2026-12-05", "2026-12-05T07:21Z",
		"2026-13-05T07:21:00Z", "2026-02-30T07:21:00Z",
		"2025-02-29T00:00:00Z", "2026-12-05T24:00:00Z",
		"2026-12-05T07:21:00", "2026-12-05T07:21:00+0100",
		"2026-12-05T07:21:00.Z", "1969-12-31T23:59:59Z",
		"2026-12-05T07:21:00Zjunk", "9999999999999999",
		"2026-12-05T07:21:00.1234567890Z", "1970-01-01T00:00:00+01:00",
	};
	char err[200];
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(timeparse_instant(ok[i].s, &ms, err,
		    sizeof(err)), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(timeparse_instant(bad[i], &ms, err,
		    sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
}

static void
test_format(void **state)
{
	char buf[32];
	int64_t back;

	(void)state;
	timeparse_format(1796455260123LL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-05T07:21:00.123Z");
	assert_int_equal(timeparse_instant(buf, &back, NULL, 0), 0);
	assert_int_equal(back, 1796455260123LL);
	timeparse_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void
test_duration_size(void **state)
{
	char err[200];
	int64_t s;
	uint64_t b;

	(void)state;
	assert_int_equal(timeparse_duration("7d", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(timeparse_duration("90s", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 90);
	assert_int_equal(timeparse_duration("12h", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 12 * 3600);
	assert_int_equal(timeparse_duration("30m", &s, err, sizeof(err)), 0);
	assert_int_equal(s, 1800);
	assert_int_equal(timeparse_duration("7", &s, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(timeparse_duration("7w", &s, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "unknown unit"));
	assert_int_equal(timeparse_duration("0d", &s, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(timeparse_duration("d", &s, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(timeparse_duration("5dd", &s, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(timeparse_duration("99999d", &s, err, sizeof(err)),
	    -EINVAL);

	assert_int_equal(timeparse_size("256M", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 256ull << 20);
	assert_int_equal(timeparse_size("1G", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1ull << 30);
	assert_int_equal(timeparse_size("512KiB", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 512ull << 10);
	assert_int_equal(timeparse_size("1048576", &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1048576);
	assert_int_equal(timeparse_size("1T", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(timeparse_size("2048G", &b, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(timeparse_size("M", &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(timeparse_size("-1", &b, err, sizeof(err)), -EINVAL);
}

static void
test_params(void **state)
{
	static const char *const allowed[] = { "from", "to", "node", NULL };
	struct hq_params p;
	struct hq_node n;
	char err[300], from[HQ_MAX_VALUE], to[HQ_MAX_VALUE];
	int64_t a, b;
	int proto, port;

	(void)state;
	assert_int_equal(hq_parse("from=1000&node=p%3A12%3A34", &p, allowed,
	    err, sizeof(err)), 0);
	assert_string_equal(hq_get(&p, "node"), "p:12:34");
	assert_string_equal(hq_get(&p, "from"), "1000");
	assert_null(hq_get(&p, "to"));
	assert_int_equal(hq_parse(NULL, &p, allowed, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);

	assert_int_equal(hq_parse("x=1", &p, allowed, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "unknown parameter 'x'"));
	assert_int_equal(hq_parse("from=1&from=2", &p, allowed, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(hq_parse("from=%zz", &p, allowed, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(hq_parse("from=%4", &p, allowed, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(hq_parse("from=a%00b", &p, allowed, err,
	    sizeof(err)), -EINVAL);
	{
		char long_q[600];

		memset(long_q, 'a', sizeof(long_q));
		memcpy(long_q, "node=", 5);
		long_q[sizeof(long_q) - 1] = '\0';
		assert_int_equal(hq_parse(long_q, &p, allowed, err,
		    sizeof(err)), -EINVAL);
	}

	/* ranges */
	assert_int_equal(hq_parse("from=2026-12-05T07:00:00Z&to=2026-12-05T"
	    "08:00:00Z", &p, allowed, err, sizeof(err)), 0);
	assert_int_equal(hq_range(&p, 1796455260000LL, 3600000, 86400000, &a,
	    &b, err, sizeof(err)), 0);
	assert_int_equal(b - a + 1, 60);
	assert_int_equal(hq_parse("from=2000&to=1000", &p, allowed, err,
	    sizeof(err)), 0);
	assert_int_equal(hq_range(&p, 1796455260000LL, 3600000, 86400000, &a,
	    &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "before"));
	assert_int_equal(hq_parse("from=0&to=1796455260000", &p, allowed,
	    err, sizeof(err)), 0);
	assert_int_equal(hq_range(&p, 1796455260000LL, 3600000, 86400000, &a,
	    &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than"));
	assert_int_equal(hq_parse("from=yesterday", &p, allowed, err,
	    sizeof(err)), 0);
	assert_int_equal(hq_range(&p, 1796455260000LL, 3600000, 86400000, &a,
	    &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "from:"));
	/* defaults: the last hour */
	assert_int_equal(hq_parse("", &p, allowed, err, sizeof(err)), 0);
	assert_int_equal(hq_range(&p, 1796455260000LL, 3600000, 86400000, &a,
	    &b, err, sizeof(err)), 0);
	assert_int_equal(b - a + 1, 60);

	/* node and edge selectors */
	assert_int_equal(hq_node(":5432", &n, err, sizeof(err)), 0);
	assert_true(n.is_port);
	assert_int_equal(n.port, 5432);
	assert_int_equal(hq_node("port:80", &n, err, sizeof(err)), 0);
	assert_int_equal(n.port, 80);
	assert_int_equal(hq_node(":0", &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(hq_node(":70000", &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(hq_node("", &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(hq_node("p:12:34", &n, err, sizeof(err)), 0);
	assert_true(n.by_key);
	assert_int_equal(hq_node("postgres", &n, err, sizeof(err)), 0);
	assert_false(n.by_key);
	assert_false(n.is_port);

	assert_int_equal(hq_edge("tcp:p:1:2>p:3:4:5432", &proto, from, to,
	    &port), 0);
	assert_string_equal(from, "p:1:2");
	assert_string_equal(to, "p:3:4");
	assert_int_equal(port, 5432);
	assert_int_equal(hq_edge("tcp:e:::1>l:::1:80:80", &proto, from, to,
	    &port), 0);
	assert_string_equal(from, "e:::1");
	assert_string_equal(to, "l:::1:80");
	assert_int_equal(hq_edge("sctp:a>b:1", &proto, from, to, &port),
	    -EINVAL);
	assert_int_equal(hq_edge("tcp:a>b", &proto, from, to, &port), -EINVAL);
	assert_int_equal(hq_edge("tcp:a>b:99999", &proto, from, to, &port),
	    -EINVAL);
	assert_int_equal(hq_edge("tcp:>b:1", &proto, from, to, &port),
	    -EINVAL);
}

/* A minute of n edges from n client processes to one server. */
static void
write_flood(struct hdb *db, int64_t minute, size_t n, int *rc_out)
{
	struct hdb_node *nodes = calloc(n + 1, sizeof(*nodes));
	struct hdb_edge *edges = calloc(n, sizeof(*edges));
	char err[600];

	assert_non_null(nodes);
	assert_non_null(edges);
	for (size_t i = 0; i <= n; i++) {
		char key[64];

		snprintf(key, sizeof(key), "p:%zu:%lld", 1000 + i,
		    (long long)(i == 0 ? 1 : minute));
		nodes[i].key = strdup(key);
		nodes[i].name = strdup(i == 0 ? "server" : "client");
		nodes[i].pid = (int32_t)(1000 + i);
		nodes[i].first_ms = nodes[i].last_ms = minute * 60000;
	}
	for (size_t i = 0; i < n; i++) {
		edges[i].from = i + 1;
		edges[i].to = 0;
		edges[i].proto = SNAP_PROTO_TCP;
		edges[i].port = 5432;
		edges[i].conns = 3;
		edges[i].opened = 1;
		edges[i].bytes_out = 1000 * i;
		edges[i].bytes_in = 10;
	}
	*rc_out = hdb_write_minute(db, minute, nodes, n + 1, edges, n, err,
	    sizeof(err));
	for (size_t i = 0; i <= n; i++) {
		free(nodes[i].key);
		free(nodes[i].name);
	}
	free(nodes);
	free(edges);
}

static void
test_cap(void **state)
{
	const uint64_t cap = 1 << 20;
	char path[512], err[600];
	enum hdb_fault f;
	struct hdb *db;
	int64_t oldest, newest;
	int rc;

	(void)state;
	path_in(path, sizeof(path), "cap.sqlite");
	assert_int_equal(hdb_open(path, cap, &db, &f, err, sizeof(err)), 0);
	/* 120 minutes of 100 edges: several times the cap */
	for (int64_t m = 29000000; m < 29000120; m++) {
		write_flood(db, m, 100, &rc);
		assert_int_equal(rc, 0);
		hdb_checkpoint(db);
		assert_true(file_size(path) <= cap);
	}
	assert_int_equal(hdb_range(db, &oldest, &newest), 0);
	assert_int_equal(newest, 29000119);
	assert_true(oldest > 29000000);	/* the oldest went */
	assert_true(hdb_size(db) <= cap);

	/* retention: everything before a minute goes, step by step */
	while ((rc = hdb_prune_step(db, 29000110, err, sizeof(err))) > 0)
		;
	assert_int_equal(rc, 0);
	assert_int_equal(hdb_range(db, &oldest, &newest), 0);
	assert_int_equal(oldest, 29000110);
	hdb_close(db);

	/* opened again under a smaller cap: shrunk to it */
	assert_int_equal(hdb_open(path, 256 * 1024 * 2, &db, &f, err,
	    sizeof(err)), 0);
	for (int64_t m = 29000200; m < 29000260; m++) {
		write_flood(db, m, 40, &rc);
		assert_int_equal(rc, 0);
	}
	hdb_close(db);
	assert_int_equal(hdb_open(path, 256 * 1024, &db, &f, err,
	    sizeof(err)), 0);
	assert_int_equal(hdb_shrink(db, err, sizeof(err)), 0);
	assert_true(file_size(path) <= 256 * 1024);
	hdb_close(db);
}

static void
test_file_faults(void **state)
{
	char path[512], err[600];
	enum hdb_fault f;
	struct hdb *db;
	FILE *fp;
	int rc;

	(void)state;
	path_in(path, sizeof(path), "faults.sqlite");
	assert_int_equal(hdb_open(path, 1 << 20, &db, &f, err, sizeof(err)),
	    0);
	write_flood(db, 29000000, 3, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(hdb_check_file(db), 0);
	/* overwritten */
	assert_non_null(fp = fopen(path, "r+b"));
	fwrite("garbage garbage garbage", 1, 23, fp);
	fclose(fp);
	assert_int_equal(hdb_check_file(db), -EBADMSG);
	hdb_close(db);
	/* a file that is not SQLite at all is corrupt when opened (closing
	 * wrote the log back, header too: overwrite again) */
	assert_non_null(fp = fopen(path, "r+b"));
	fwrite("garbage garbage garbage", 1, 23, fp);
	fclose(fp);
	assert_int_equal(hdb_open(path, 1 << 20, &db, &f, err, sizeof(err)),
	    -EBADMSG);
	assert_int_equal(f, HDB_FAULT_CORRUPT);
	assert_true(err[0] != '\0');
	unlink(path);

	/* deleted, and replaced */
	assert_int_equal(hdb_open(path, 1 << 20, &db, &f, err, sizeof(err)),
	    0);
	write_flood(db, 29000000, 3, &rc);
	unlink(path);
	assert_int_equal(hdb_check_file(db), -ENOENT);
	assert_non_null(fp = fopen(path, "wb"));
	fclose(fp);
	assert_int_equal(hdb_check_file(db), -EEXIST);
	hdb_close(db);
	unlink(path);

	/* a newer schema is refused, not touched */
	{
		sqlite3 *s;

		assert_int_equal(hdb_open(path, 1 << 20, &db, &f, err,
		    sizeof(err)), 0);
		hdb_close(db);
		assert_int_equal(sqlite3_open(path, &s), SQLITE_OK);
		assert_int_equal(sqlite3_exec(s, "PRAGMA user_version=99",
		    NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(s);
		assert_int_equal(hdb_open(path, 1 << 20, &db, &f, err,
		    sizeof(err)), -EIO);
		assert_int_equal(f, HDB_FAULT_VERSION);
		assert_non_null(strstr(err, "99"));
	}
	unlink(path);

	/* cannot be created */
	path_in(path, sizeof(path), "no/such/dir/h.sqlite");
	assert_int_equal(hdb_open(path, 1 << 20, &db, &f, err, sizeof(err)),
	    -EIO);
	assert_int_equal(f, HDB_FAULT_IO);
	assert_non_null(strstr(err, "cannot open"));
}

static void
api(const char *path, const char *route, const char *q, int code,
    const char *needle)
{
	struct history_reply r;

	assert_int_equal(history_api_handle(path, route, q, 1740000000000LL,
	    &r), 0);
	if (r.code != code || (needle != NULL && strstr(r.body, needle) ==
	    NULL))
		fail_msg("%s?%s: %d %s (wanted %d, '%s')", route,
		    q != NULL ? q : "", r.code, r.body, code,
		    needle != NULL ? needle : "");
	free(r.body);
}

static void
test_api(void **state)
{
	char path[512], err[600];
	enum hdb_fault f;
	struct hdb *db;
	int rc;

	(void)state;
	path_in(path, sizeof(path), "api.sqlite");
	assert_int_equal(hdb_open(path, 1 << 20, &db, &f, err, sizeof(err)),
	    0);
	/* 29000000 is 2025-02-19T21:20:00Z (1740000000000 ms) */
	write_flood(db, 29000000, 3, &rc);
	assert_int_equal(rc, 0);
	hdb_close(db);

	api(path, "graph", "at=1740000000000", 200,
	    "\"id\":\"tcp:p:1001:29000000>p:1000:1:5432\"");
	api(path, "graph", "at=2025-02-19T21:20:30Z", 200, "\"recorded\":true");
	api(path, "graph", "at=2025-02-19T21:19:30Z", 200,
	    "\"edges\":[]");
	api(path, "graph", "at=2025-02-19T21:19:30Z", 200,
	    "\"recorded\":false");
	api(path, "graph", "at=soon", 400, "at:");
	api(path, "graph", "at=2099-01-01T00:00:00Z", 400, "future");
	api(path, "graph", "", 400, "at is required");
	api(path, "graph", "at=1&x=2", 400, "unknown parameter");
	api(path, "history/edges", "from=1739999000000&to=1740000100000&"
	    "node=server", 200, "\"bytes_sent\":2000");
	/* busiest first */
	api(path, "history/edges", "from=1739999000000&to=1740000100000&"
	    "node=%3A5432", 200, "[{\"id\":\"tcp:p:1003:");
	api(path, "history/edges", "from=1739999000000&to=1740000100000", 400,
	    "node is required");
	api(path, "history/edges", "from=1740000100000&to=1739999000000&"
	    "node=x", 400, "before");
	api(path, "history/edges", "node=x&limit=0", 400, "limit");
	api(path, "history/summary", "from=1739999000000&to=1740000100000",
	    200, "\"peers\":3");
	api(path, "history/series", "from=1739999000000&to=1740000100000&"
	    "edge=tcp:p:1002:29000000>p:1000:1:5432", 200,
	    "[[1740000000000,3,1,0,1000,10]]");
	api(path, "history/series", "from=1739999000000&to=1740000100000&"
	    "node=p:1000:1", 200, "[[1740000000000,9,3,0,3000,30]]");
	api(path, "history/series", "from=1739999000000&to=1740000100000", 400,
	    "node or edge");
	api(path, "history/nope", NULL, 404, "no such");
	api(NULL, "history/summary", NULL, 404, "history is off");
	path_in(path, sizeof(path), "missing.sqlite");
	api(path, "history/summary", NULL, 503, "cannot open");
}

/* A process graph at t: client 10 -> server 20 on 5432, one connection,
 * whose sockets moved (out, in) bytes since the sample before. */
static struct graph *
moved_graph(int64_t t, uint64_t out, uint64_t in)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snap_process p;
	struct snapshot *s;
	struct graph *g;
	struct graph_edge *e;

	assert_non_null(b);
	assert_int_equal(snapshot_builder_set_meta(b, "h", "linux", t, true),
	    0);
	memset(&p, 0, sizeof(p));
	p.name = p.exe = p.user = p.cmdline = "x";
	p.pid = 10;
	p.start_time = 1000;
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	p.pid = 20;
	p.start_time = 2000;
	assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_LISTEN, 20, "127.0.0.1",
	    5432, NULL, 0);
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_ESTABLISHED, 20,
	    "127.0.0.1", 5432, "127.0.0.1", 40000);
	snapfix_sock(b, SNAP_PROTO_TCP, SNAP_STATE_ESTABLISHED, 10,
	    "127.0.0.1", 40000, "127.0.0.1", 5432);
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	assert_int_equal(graph_build(s, NULL, NULL, &g), 0);
	snapshot_unref(s);
	assert_int_equal(g->n_edges, 1);
	/* what the recent window would have said (graph_recent.c) */
	e = (struct graph_edge *)&g->edges[0];
	e->moved_sent = out;
	e->moved_received = in;
	return g;
}

/* The writer adds up each sample's moved bytes per edge into the minute,
 * once per sample: a graph rebuilt from the same sample (a rules reload)
 * adds nothing. */
static void
test_writer_bytes(void **state)
{
	struct history_config c = { NULL, 7 * 86400, 1 << 20 };
	int64_t minute = (int64_t)time(NULL) / 60 - 5, t = minute * 60000;
	char path[512];
	struct history *h;
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	path_in(path, sizeof(path), "bytes.sqlite");
	c.path = path;
	assert_int_equal(history_new(&c, &h), 0);
	history_offer(h, moved_graph(t + 1000, 0, 0));
	history_offer(h, moved_graph(t + 2000, 10000000, 1000000));
	history_offer(h, moved_graph(t + 2000, 10000000, 1000000));
	history_offer(h, moved_graph(t + 3000, 500, 20));
	history_free(h);	/* writes the minute */

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT minute, port, "
	    "bytes_out, bytes_in FROM edge_minutes", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), minute);
	assert_int_equal(sqlite3_column_int(st, 1), 5432);
	assert_int_equal(sqlite3_column_int64(st, 2), 10000500);
	assert_int_equal(sqlite3_column_int64(st, 3), 1000020);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_history.%d", (int)getpid());
	return mkdir(dir, 0700);
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instant),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_duration_size),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_file_faults),
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_writer_bytes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
