/*
 * History queries.  Each request opens the file read-only, runs one or two
 * statements with a step budget (a progress handler), and writes JSON with
 * common/jsonw.  Parameters are parsed strictly: an unknown name, a
 * repeated one, bad percent-encoding or a bad time is a 400 that says so.
 */
#include "history_api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "graph.h"
#include "history_query.h"
#include "jsonw.h"
#include "snapshot.h"
#include "timeparse.h"

#define KEY(b, k)	JSONW_LIT((b), ",\"" k "\":")
#define KEY1(b, k)	JSONW_LIT((b), "{\"" k "\":")

/* Virtual machine steps, in thousands, one request may take (about a
 * second or two of CPU): past it the answer is "narrow the range". */
#define STEP_BUDGET_K	100000

static atomic_int busy;

struct req {
	struct history_reply *r;
	sqlite3 *db;
	int steps_k;
	char err[400];
};

static int
reply_error(struct history_reply *r, int code, const char *fmt, ...)
{
	char text[512];
	struct jsonw b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	jsonw_init(&b, NULL, NULL);
	KEY1(&b, "error");
	jsonw_str(&b, text);
	jsonw_char(&b, '}');
	r->code = code;
	return jsonw_finish(&b, &r->body, &r->len) == 0 ? 0 : -ENOMEM;
}

static int
on_progress(void *arg)
{
	struct req *q = arg;

	return --q->steps_k <= 0;
}

static const char *
proto_name(int p)
{
	const char *n = snap_proto_name((unsigned)p);

	return n != NULL ? n : "?";
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s != NULL ? s : "";
}

/* The SQLite failure as an answer: the budget is the caller's fault. */
static int
reply_sql(struct req *q, int rc)
{
	if ((rc & 0xff) == SQLITE_INTERRUPT)
		return reply_error(q->r, 503, "the query took too long: ask for "
		    "a shorter range or fewer rows");
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return reply_error(q->r, 503, "the history file is busy: try "
		    "again");
	return reply_error(q->r, 503, "cannot read the history file: %s",
	    sqlite3_errmsg(q->db));
}

/* ---- /api/graph?at= ---- */

static const char nodes_at_sql[] =
	"SELECT id, key, kind, label, type, name, exe, user, service,"
	"  container, pid, start_ms, addr, port, first_ms, last_ms, exit_ms"
	" FROM nodes WHERE id IN (SELECT src FROM edge_minutes WHERE"
	"  minute = ?1 UNION SELECT dst FROM edge_minutes WHERE minute = ?1)"
	" OR (kind = 0 AND first_ms < ?2 AND last_ms >= ?3)"
	" ORDER BY key LIMIT ?4";

static const char edges_at_sql[] =
	"SELECT s.key, d.key, e.proto, e.port, e.conns, e.opened, e.closed,"
	"  e.bytes_out, e.bytes_in"
	" FROM edge_minutes e JOIN nodes s ON s.id = e.src"
	"  JOIN nodes d ON d.id = e.dst"
	" WHERE e.minute = ?1 ORDER BY s.key, d.key, e.proto, e.port LIMIT ?2";

static void
put_node_row(struct jsonw *b, sqlite3_stmt *st)
{
	int kind = sqlite3_column_int(st, 2);

	KEY1(b, "id");
	jsonw_str(b, col(st, 1));
	KEY(b, "kind");
	jsonw_str(b, graph_node_kind_name((unsigned)kind) != NULL ?
	    graph_node_kind_name((unsigned)kind) : "?");
	if (kind == GRAPH_NODE_PROCESS) {
		KEY(b, "pid");
		jsonw_i64(b, sqlite3_column_int64(st, 10));
		KEY(b, "start_ms");
		jsonw_i64(b, sqlite3_column_int64(st, 11));
		KEY(b, "name");
		jsonw_str(b, col(st, 5));
		KEY(b, "exe");
		jsonw_str(b, col(st, 6));
		KEY(b, "user");
		jsonw_str(b, col(st, 7));
		KEY(b, "service");
		jsonw_str(b, col(st, 8));
		KEY(b, "container");
		jsonw_str(b, col(st, 9));
		/* command lines are not kept in the history */
		KEY(b, "cmdline");
		jsonw_str(b, "");
		KEY(b, "listen");
		JSONW_LIT(b, "[]");
	} else {
		KEY(b, "addr");
		jsonw_str(b, col(st, 12));
		if (kind == GRAPH_NODE_ENDPOINT) {
			KEY(b, "port");
			jsonw_i64(b, sqlite3_column_int64(st, 13));
		}
	}
	KEY(b, "label");
	jsonw_str(b, col(st, 3));
	KEY(b, "type");
	jsonw_str(b, col(st, 4));
	KEY(b, "first_ms");
	jsonw_i64(b, sqlite3_column_int64(st, 14));
	KEY(b, "last_ms");
	jsonw_i64(b, sqlite3_column_int64(st, 15));
	if (sqlite3_column_type(st, 16) != SQLITE_NULL) {
		KEY(b, "exit_ms");
		jsonw_i64(b, sqlite3_column_int64(st, 16));
	}
	jsonw_char(b, '}');
}

static void
put_edge_id(struct jsonw *b, const char *proto, const char *from,
    const char *to, int port)
{
	char num[8];
	int n = snprintf(num, sizeof(num), "%d", port);

	/* the live graph's id: <proto>:<from>><to>:<port> (graph.c) */
	jsonw_char(b, '"');
	jsonw_put(b, proto, strlen(proto));
	jsonw_char(b, ':');
	jsonw_put(b, from, strlen(from));
	jsonw_char(b, '>');
	jsonw_put(b, to, strlen(to));
	jsonw_char(b, ':');
	jsonw_put(b, num, (size_t)n);
	jsonw_char(b, '"');
}

static void
put_traffic(struct jsonw *b, sqlite3_stmt *st, int first)
{
	KEY(b, "opened");
	jsonw_i64(b, sqlite3_column_int64(st, first));
	KEY(b, "closed");
	jsonw_i64(b, sqlite3_column_int64(st, first + 1));
	KEY(b, "bytes_sent");
	jsonw_i64(b, sqlite3_column_int64(st, first + 2));
	KEY(b, "bytes_received");
	jsonw_i64(b, sqlite3_column_int64(st, first + 3));
}

static int
graph_at(struct req *q, const struct hq_params *p, int64_t now_ms)
{
	const char *at_s = hq_get(p, "at");
	sqlite3_stmt *st = NULL;
	struct jsonw b;
	int64_t at, minute;
	size_t n_edges = 0;
	char e[300];
	int rc;

	if (timeparse_instant(at_s, &at, e, sizeof(e)) != 0)
		return reply_error(q->r, 400, "at: %s", e);
	if (at > now_ms + 60000)
		return reply_error(q->r, 400, "at is in the future");
	minute = at / 60000;

	jsonw_init(&b, NULL, NULL);
	JSONW_LIT(&b, "{\"nodes\":[");
	rc = sqlite3_prepare_v2(q->db, nodes_at_sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, minute);
		sqlite3_bind_int64(st, 2, (minute + 1) * 60000);
		sqlite3_bind_int64(st, 3, minute * 60000);
		sqlite3_bind_int(st, 4, HISTORY_API_MAX_GRAPH_EDGES * 2);
		for (int i = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; i++) {
			if (i > 0)
				jsonw_char(&b, ',');
			put_node_row(&b, st);
		}
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	JSONW_LIT(&b, "],\"edges\":[");
	rc = sqlite3_prepare_v2(q->db, edges_at_sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, minute);
		sqlite3_bind_int(st, 2, HISTORY_API_MAX_GRAPH_EDGES);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *proto = proto_name(sqlite3_column_int(st,
			    2));

			if (n_edges++ > 0)
				jsonw_char(&b, ',');
			KEY1(&b, "id");
			put_edge_id(&b, proto, col(st, 0), col(st, 1),
			    sqlite3_column_int(st, 3));
			KEY(&b, "from");
			jsonw_str(&b, col(st, 0));
			KEY(&b, "to");
			jsonw_str(&b, col(st, 1));
			KEY(&b, "proto");
			jsonw_str(&b, proto);
			KEY(&b, "count");
			jsonw_i64(&b, sqlite3_column_int64(st, 4));
			KEY(&b, "server_port");
			jsonw_i64(&b, sqlite3_column_int64(st, 3));
			KEY(&b, "reason");
			jsonw_str(&b, "history");
			JSONW_LIT(&b, ",\"states\":{},\"conns\":[]");
			KEY(&b, "recent");
			jsonw_char(&b, '{');
			JSONW_LIT(&b, "\"minute\":true");
			put_traffic(&b, st, 5);
			JSONW_LIT(&b, "}}");
		}
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	JSONW_LIT(&b, "],\"meta\":{\"history\":");
	KEY1(&b, "at");
	jsonw_i64(&b, at);
	KEY(&b, "minute_ms");
	jsonw_i64(&b, minute * 60000);
	KEY(&b, "recorded");
	jsonw_bool(&b, n_edges > 0);
	KEY(&b, "truncated");
	jsonw_bool(&b, n_edges == HISTORY_API_MAX_GRAPH_EDGES);
	JSONW_LIT(&b, "},\"time_ms\":");
	jsonw_i64(&b, minute * 60000);
	JSONW_LIT(&b, "}}");
	q->r->code = 200;
	return jsonw_finish(&b, &q->r->body, &q->r->len) == 0 ? 0 : -ENOMEM;
sqlfail:
	jsonw_discard(&b);
	return reply_sql(q, rc);
}

/* ---- node selection for edges and series ---- */

static const char *
node_where(const struct hq_node *n)
{
	if (n->is_port)
		return "e.port = ?10";
	if (n->by_key)
		return "(e.src IN (SELECT id FROM nodes WHERE key = ?10) OR "
		    "e.dst IN (SELECT id FROM nodes WHERE key = ?10))";
	return "(e.src IN (SELECT id FROM nodes WHERE name = ?10) OR "
	    "e.dst IN (SELECT id FROM nodes WHERE name = ?10))";
}

static void
bind_node(sqlite3_stmt *st, const struct hq_node *n)
{
	if (n->is_port)
		sqlite3_bind_int(st, 10, n->port);
	else
		sqlite3_bind_text(st, 10, n->text, -1, SQLITE_STATIC);
}

/* ---- /api/history/edges and the summary's edges ---- */

static int
put_edge_rows(struct req *q, struct jsonw *b, int64_t from, int64_t to,
    const struct hq_node *n, int limit)
{
	char sql[1400];
	sqlite3_stmt *st;
	int rc, i = 0;

	snprintf(sql, sizeof(sql),
	    "SELECT s.key, s.label, d.key, d.label, r.proto, r.port, r.c,"
	    "  r.o, r.cl, r.bo, r.bi, r.mins, r.first, r.last"
	    " FROM (SELECT e.src, e.dst, e.proto, e.port, max(e.conns) c,"
	    "  sum(e.opened) o, sum(e.closed) cl, sum(e.bytes_out) bo,"
	    "  sum(e.bytes_in) bi, count(*) mins, min(e.minute) first,"
	    "  max(e.minute) last FROM edge_minutes e"
	    "  WHERE e.minute BETWEEN ?1 AND ?2 AND %s"
	    "  GROUP BY e.src, e.dst, e.proto, e.port) r"
	    " JOIN nodes s ON s.id = r.src JOIN nodes d ON d.id = r.dst"
	    " ORDER BY r.bo + r.bi DESC, r.o DESC, r.c DESC, r.mins DESC"
	    " LIMIT ?3", n != NULL ? node_where(n) : "1");
	if ((rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	sqlite3_bind_int(st, 3, limit);
	if (n != NULL)
		bind_node(st, n);
	jsonw_char(b, '[');
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *proto = proto_name(sqlite3_column_int(st, 4));

		if (i++ > 0)
			jsonw_char(b, ',');
		KEY1(b, "id");
		put_edge_id(b, proto, col(st, 0), col(st, 2),
		    sqlite3_column_int(st, 5));
		KEY(b, "from");
		jsonw_str(b, col(st, 0));
		KEY(b, "from_label");
		jsonw_str(b, col(st, 1));
		KEY(b, "to");
		jsonw_str(b, col(st, 2));
		KEY(b, "to_label");
		jsonw_str(b, col(st, 3));
		KEY(b, "proto");
		jsonw_str(b, proto);
		KEY(b, "server_port");
		jsonw_i64(b, sqlite3_column_int64(st, 5));
		KEY(b, "max_count");
		jsonw_i64(b, sqlite3_column_int64(st, 6));
		put_traffic(b, st, 7);
		KEY(b, "minutes");
		jsonw_i64(b, sqlite3_column_int64(st, 11));
		KEY(b, "first_ms");
		jsonw_i64(b, sqlite3_column_int64(st, 12) * 60000);
		KEY(b, "last_ms");
		jsonw_i64(b, sqlite3_column_int64(st, 13) * 60000);
		jsonw_char(b, '}');
	}
	jsonw_char(b, ']');
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void
put_range(struct jsonw *b, int64_t from, int64_t to)
{
	KEY1(b, "from_ms");
	jsonw_i64(b, from * 60000);
	KEY(b, "to_ms");
	jsonw_i64(b, (to + 1) * 60000);
	jsonw_char(b, '}');
}

static int
edges(struct req *q, const struct hq_params *p, int64_t now_ms)
{
	struct hq_node n;
	struct jsonw b;
	int64_t from, to;
	int limit, rc;

	if (hq_range(p, now_ms, HISTORY_API_DEFAULT_RANGE_MS,
	    HISTORY_API_MAX_RANGE_MS, &from, &to, q->err, sizeof(q->err)) != 0 ||
	    hq_limit(p, HISTORY_API_DEFAULT_ROWS,
	    HISTORY_API_MAX_ROWS, &limit, q->err, sizeof(q->err)) != 0 ||
	    hq_node(hq_get(p, "node"), &n, q->err, sizeof(q->err)) != 0)
		return reply_error(q->r, 400, "%s", q->err);
	jsonw_init(&b, NULL, NULL);
	JSONW_LIT(&b, "{\"range\":");
	put_range(&b, from, to);
	KEY(&b, "node");
	jsonw_str(&b, hq_get(p, "node"));
	KEY(&b, "edges");
	if ((rc = put_edge_rows(q, &b, from, to, &n, limit)) != SQLITE_OK) {
		jsonw_discard(&b);
		return reply_sql(q, rc);
	}
	jsonw_char(&b, '}');
	q->r->code = 200;
	return jsonw_finish(&b, &q->r->body, &q->r->len) == 0 ? 0 : -ENOMEM;
}

/* ---- /api/history/summary ---- */

static const char talkers_sql[] =
	"WITH r AS (SELECT src, dst, max(conns) c, sum(opened) o,"
	"  sum(bytes_out) + sum(bytes_in) b FROM edge_minutes"
	"  WHERE minute BETWEEN ?1 AND ?2 GROUP BY src, dst, proto, port),"
	" t AS (SELECT src n, dst peer, b, o, c FROM r"
	"  UNION ALL SELECT dst, src, b, o, c FROM r)"
	" SELECT n.key, n.label, n.kind, n.name, n.pid, sum(t.b), sum(t.o),"
	"  sum(t.c), count(DISTINCT t.peer)"
	" FROM t JOIN nodes n ON n.id = t.n GROUP BY t.n"
	" ORDER BY sum(t.b) DESC, sum(t.o) DESC, sum(t.c) DESC LIMIT ?3";

static int
summary(struct req *q, const struct hq_params *p, int64_t now_ms)
{
	sqlite3_stmt *st;
	struct jsonw b;
	int64_t from, to;
	int limit, rc, i = 0;

	if (hq_range(p, now_ms, HISTORY_API_DEFAULT_RANGE_MS,
	    HISTORY_API_MAX_RANGE_MS, &from, &to, q->err, sizeof(q->err)) != 0 ||
	    hq_limit(p, HISTORY_API_DEFAULT_ROWS,
	    HISTORY_API_MAX_ROWS, &limit, q->err, sizeof(q->err)) != 0)
		return reply_error(q->r, 400, "%s", q->err);
	jsonw_init(&b, NULL, NULL);
	JSONW_LIT(&b, "{\"range\":");
	put_range(&b, from, to);
	KEY(&b, "talkers");
	jsonw_char(&b, '[');
	rc = sqlite3_prepare_v2(q->db, talkers_sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, from);
		sqlite3_bind_int64(st, 2, to);
		sqlite3_bind_int(st, 3, limit);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			unsigned kind = (unsigned)sqlite3_column_int(st, 2);

			if (i++ > 0)
				jsonw_char(&b, ',');
			KEY1(&b, "id");
			jsonw_str(&b, col(st, 0));
			KEY(&b, "label");
			jsonw_str(&b, col(st, 1));
			KEY(&b, "kind");
			jsonw_str(&b, graph_node_kind_name(kind) != NULL ?
			    graph_node_kind_name(kind) : "?");
			if (kind == GRAPH_NODE_PROCESS) {
				KEY(&b, "name");
				jsonw_str(&b, col(st, 3));
				KEY(&b, "pid");
				jsonw_i64(&b, sqlite3_column_int64(st, 4));
			}
			KEY(&b, "bytes");
			jsonw_i64(&b, sqlite3_column_int64(st, 5));
			KEY(&b, "opened");
			jsonw_i64(&b, sqlite3_column_int64(st, 6));
			KEY(&b, "max_count");
			jsonw_i64(&b, sqlite3_column_int64(st, 7));
			KEY(&b, "peers");
			jsonw_i64(&b, sqlite3_column_int64(st, 8));
			jsonw_char(&b, '}');
		}
		sqlite3_finalize(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_OK) {
		JSONW_LIT(&b, "],\"edges\":");
		rc = put_edge_rows(q, &b, from, to, NULL, limit);
	}
	if (rc != SQLITE_OK) {
		jsonw_discard(&b);
		return reply_sql(q, rc);
	}
	jsonw_char(&b, '}');
	q->r->code = 200;
	return jsonw_finish(&b, &q->r->body, &q->r->len) == 0 ? 0 : -ENOMEM;
}

/* ---- /api/history/series ---- */

static int
series(struct req *q, const struct hq_params *p, int64_t now_ms)
{
	char sql[900], from_key[HQ_MAX_VALUE], to_key[HQ_MAX_VALUE];
	const char *edge = hq_get(p, "edge"), *node = hq_get(p, "node");
	struct hq_node n;
	sqlite3_stmt *st;
	struct jsonw b;
	int64_t from, to;
	int rc, proto = 0, port = 0, i = 0;

	if (hq_range(p, now_ms, HISTORY_API_DEFAULT_RANGE_MS,
	    HISTORY_API_MAX_RANGE_MS, &from, &to, q->err, sizeof(q->err)) != 0)
		return reply_error(q->r, 400, "%s", q->err);
	/* one point a minute: a day at most, the sparkline's width */
	if (to - from >= 1440)
		return reply_error(q->r, 400, "series: range longer than a "
		    "day");
	if ((edge == NULL) == (node == NULL))
		return reply_error(q->r, 400, "series: give node or edge, one "
		    "of them");
	if (edge != NULL) {
		if (hq_edge(edge, &proto, from_key, to_key, &port) != 0)
			return reply_error(q->r, 400, "edge '%s' is not "
			    "<proto>:<from>><to>:<port>", edge);
		snprintf(sql, sizeof(sql),
		    "SELECT e.minute, max(e.conns), sum(e.opened),"
		    "  sum(e.closed), sum(e.bytes_out), sum(e.bytes_in)"
		    " FROM edge_minutes e WHERE e.minute BETWEEN ?1 AND ?2"
		    "  AND e.src = (SELECT id FROM nodes WHERE key = ?3)"
		    "  AND e.dst = (SELECT id FROM nodes WHERE key = ?4)"
		    "  AND e.proto = ?5 AND e.port = ?6"
		    " GROUP BY e.minute ORDER BY e.minute");
	} else {
		if (hq_node(node, &n, q->err, sizeof(q->err)) != 0)
			return reply_error(q->r, 400, "%s", q->err);
		/* a node's connections at once: the sum over its edges */
		snprintf(sql, sizeof(sql),
		    "SELECT e.minute, sum(e.conns), sum(e.opened),"
		    "  sum(e.closed), sum(e.bytes_out), sum(e.bytes_in)"
		    " FROM edge_minutes e WHERE e.minute BETWEEN ?1 AND ?2"
		    "  AND %s GROUP BY e.minute ORDER BY e.minute",
		    node_where(&n));
	}
	if ((rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return reply_sql(q, rc);
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	if (edge != NULL) {
		sqlite3_bind_text(st, 3, from_key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, to_key, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, proto);
		sqlite3_bind_int(st, 6, port);
	} else
		bind_node(st, &n);
	jsonw_init(&b, NULL, NULL);
	JSONW_LIT(&b, "{\"range\":");
	put_range(&b, from, to);
	JSONW_LIT(&b, ",\"columns\":[\"minute_ms\",\"count\",\"opened\","
	    "\"closed\",\"bytes_sent\",\"bytes_received\"],\"points\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (i++ > 0)
			jsonw_char(&b, ',');
		jsonw_char(&b, '[');
		jsonw_i64(&b, sqlite3_column_int64(st, 0) * 60000);
		for (int c = 1; c <= 5; c++) {
			jsonw_char(&b, ',');
			jsonw_i64(&b, sqlite3_column_int64(st, c));
		}
		jsonw_char(&b, ']');
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		jsonw_discard(&b);
		return reply_sql(q, rc);
	}
	JSONW_LIT(&b, "]}");
	q->r->code = 200;
	return jsonw_finish(&b, &q->r->body, &q->r->len) == 0 ? 0 : -ENOMEM;
}

int
history_api_handle(const char *path, const char *route, const char *query,
    int64_t now_ms, struct history_reply *r)
{
	static const char *const at_params[] = { "at", NULL };
	static const char *const edge_params[] = { "from", "to", "node",
	    "limit", NULL };
	static const char *const sum_params[] = { "from", "to", "limit",
	    NULL };
	static const char *const series_params[] = { "from", "to", "node",
	    "edge", NULL };
	const char *const *allowed;
	struct hq_params p;
	struct req q;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&q, 0, sizeof(q));
	q.r = r;
	if (strcmp(route, "graph") == 0)
		allowed = at_params;
	else if (strcmp(route, "history/edges") == 0)
		allowed = edge_params;
	else if (strcmp(route, "history/summary") == 0)
		allowed = sum_params;
	else if (strcmp(route, "history/series") == 0)
		allowed = series_params;
	else
		return reply_error(r, 404, "no such history API");
	if (hq_parse(query, &p, allowed, q.err, sizeof(q.err)) != 0)
		return reply_error(r, 400, "%s", q.err);
	if (allowed == at_params && hq_get(&p, "at") == NULL)
		return reply_error(r, 400, "at is required");
	if (path == NULL)
		return reply_error(r, 404, "history is off (--history none)");

	if (atomic_fetch_add(&busy, 1) >= HISTORY_API_MAX_CONCURRENT) {
		atomic_fetch_sub(&busy, 1);
		return reply_error(r, 503, "too many history requests at once");
	}
	rc = sqlite3_open_v2(path, &q.db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = reply_error(r, 503, "cannot open the history file %s: %s",
		    path, q.db != NULL ? sqlite3_errmsg(q.db) :
		    sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(q.db, 2000);
	q.steps_k = STEP_BUDGET_K;
	sqlite3_progress_handler(q.db, 1000, on_progress, &q);
	if (allowed == at_params)
		rc = graph_at(&q, &p, now_ms);
	else if (allowed == edge_params)
		rc = edges(&q, &p, now_ms);
	else if (allowed == sum_params)
		rc = summary(&q, &p, now_ms);
	else
		rc = series(&q, &p, now_ms);
out:
	sqlite3_close_v2(q.db);
	atomic_fetch_sub(&busy, 1);
	return rc;
}
