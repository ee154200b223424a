/*
 * The history file on SQLite.  One writer connection, prepared statements
 * kept for the life of the handle.  The size cap is enforced twice: a soft
 * limit at which the oldest minutes are pruned before each write, and
 * SQLite's max_page_count as the hard one, so the file can never pass the
 * cap even when a single minute is larger than expected.
 */
#include "history_db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#define PAGE_SIZE	4096
/* Room kept for the write-ahead log (truncated after every minute). */
#define WAL_ROOM_MAX	(8u * 1024u * 1024u)
/* Prune when the live pages pass this share of the hard limit. */
#define SOFT_PERCENT	85
/* Writes that hit the hard limit prune and retry this often. */
#define FULL_RETRIES	64

struct hdb {
	sqlite3 *db;
	char *path;
	uint64_t max_size, max_pages;
	struct stat st;		/* of the file as opened */
	sqlite3_stmt *node_upsert, *edge_insert;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
	"CREATE TABLE IF NOT EXISTS nodes("
	"  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
	"  kind INTEGER NOT NULL, label TEXT, type TEXT, name TEXT,"
	"  exe TEXT, user TEXT, service TEXT, container TEXT,"
	"  pid INTEGER, start_ms INTEGER, addr TEXT, port INTEGER,"
	"  first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,"
	"  exit_ms INTEGER);"
	"CREATE INDEX IF NOT EXISTS nodes_name ON nodes(name);"
	"CREATE INDEX IF NOT EXISTS nodes_last ON nodes(last_ms);"
	"CREATE TABLE IF NOT EXISTS edge_minutes("
	"  minute INTEGER NOT NULL, src INTEGER NOT NULL,"
	"  dst INTEGER NOT NULL, proto INTEGER NOT NULL,"
	"  port INTEGER NOT NULL, conns INTEGER NOT NULL,"
	"  opened INTEGER NOT NULL, closed INTEGER NOT NULL,"
	"  bytes_out INTEGER NOT NULL, bytes_in INTEGER NOT NULL,"
	"  PRIMARY KEY(minute, src, dst, proto, port)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS edge_minutes_src "
	"  ON edge_minutes(src, minute);"
	"CREATE INDEX IF NOT EXISTS edge_minutes_dst "
	"  ON edge_minutes(dst, minute);";

static const char node_upsert_sql[] =
	"INSERT INTO nodes(key, kind, label, type, name, exe, user, service,"
	"  container, pid, start_ms, addr, port, first_ms, last_ms, exit_ms)"
	" VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
	" ON CONFLICT(key) DO UPDATE SET label=excluded.label,"
	"  type=excluded.type, name=excluded.name, exe=excluded.exe,"
	"  user=excluded.user, service=excluded.service,"
	"  container=excluded.container,"
	"  first_ms=min(first_ms, excluded.first_ms),"
	"  last_ms=max(last_ms, excluded.last_ms),"
	"  exit_ms=excluded.exit_ms"
	" RETURNING id";

static const char edge_insert_sql[] =
	"INSERT INTO edge_minutes(minute, src, dst, proto, port, conns,"
	"  opened, closed, bytes_out, bytes_in)"
	" VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
	" ON CONFLICT DO UPDATE SET conns=max(conns, excluded.conns),"
	"  opened=opened+excluded.opened, closed=closed+excluded.closed,"
	"  bytes_out=bytes_out+excluded.bytes_out,"
	"  bytes_in=bytes_in+excluded.bytes_in";

bool
hdb_is_corrupt_code(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

static int
sql_fail(struct hdb *db, sqlite3 *s, int rc, const char *what, char *err,
    size_t errlen)
{
	(void)db;
	snprintf(err, errlen, "%s: %s", what, s != NULL ? sqlite3_errmsg(s) :
	    sqlite3_errstr(rc));
	if (hdb_is_corrupt_code(rc))
		return -EBADMSG;
	if ((rc & 0xff) == SQLITE_FULL)
		return -ENOSPC;
	return -EIO;
}

static int
exec(sqlite3 *s, const char *sql)
{
	return sqlite3_exec(s, sql, NULL, NULL, NULL);
}

static int
pragma_int(sqlite3 *s, const char *sql, int64_t *v)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = sqlite3_prepare_v2(s, sql, -1, &st, NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static const char *fault_names[HDB_FAULT_MAX] = {
	"none", "corrupt", "version", "io",
};

const char *
hdb_fault_name(enum hdb_fault f)
{
	return (unsigned)f < HDB_FAULT_MAX ? fault_names[f] : "?";
}

int
hdb_open(const char *path, uint64_t max_size, struct hdb **out,
    enum hdb_fault *fault, char *err, size_t errlen)
{
	struct hdb *db;
	uint64_t wal_room;
	int64_t version = 0, v;
	char sql[128];
	int rc;

	*fault = HDB_FAULT_IO;
	if (max_size < HDB_MIN_SIZE) {
		snprintf(err, errlen, "size cap below %u bytes", HDB_MIN_SIZE);
		return -EINVAL;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		free(db);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	wal_room = max_size / 8 < WAL_ROOM_MAX ? max_size / 8 : WAL_ROOM_MAX;
	db->max_size = max_size;
	db->max_pages = (max_size - wal_room) / PAGE_SIZE;

	rc = sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    db->db != NULL ? sqlite3_errmsg(db->db) :
		    sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, 2000);
	/* page_size only takes on a new file, before WAL is turned on */
	snprintf(sql, sizeof(sql), "PRAGMA page_size=%d", PAGE_SIZE);
	exec(db->db, sql);
	if ((rc = pragma_int(db->db, "PRAGMA user_version", &version)) !=
	    SQLITE_OK)
		goto sqlfail;
	if (version > HDB_SCHEMA_VERSION) {
		*fault = HDB_FAULT_VERSION;
		snprintf(err, errlen, "%s has history schema version %lld; this "
		    "webd knows version %d", path, (long long)version,
		    HDB_SCHEMA_VERSION);
		goto fail;
	}
	if ((rc = pragma_int(db->db, "PRAGMA journal_mode=WAL", &v)) !=
	    SQLITE_OK)
		goto sqlfail;
	if ((rc = exec(db->db, "PRAGMA synchronous=NORMAL")) != SQLITE_OK)
		goto sqlfail;
	if (version != 0) {
		/* an existing file: a quick look at its structure first */
		sqlite3_stmt *st;

		rc = sqlite3_prepare_v2(db->db, "PRAGMA quick_check(1)", -1,
		    &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW) {
				const char *t = (const char *)
				    sqlite3_column_text(st, 0);

				if (t == NULL || strcmp(t, "ok") != 0) {
					snprintf(err, errlen, "%s fails its "
					    "check: %s", path, t != NULL ? t :
					    "?");
					sqlite3_finalize(st);
					*fault = HDB_FAULT_CORRUPT;
					goto fail;
				}
				rc = SQLITE_OK;
			}
			sqlite3_finalize(st);
		}
		if (rc != SQLITE_OK)
			goto sqlfail;
	}
	if ((rc = exec(db->db, schema)) != SQLITE_OK)
		goto sqlfail;
	if (version == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
		    HDB_SCHEMA_VERSION);
		if ((rc = exec(db->db, sql)) != SQLITE_OK)
			goto sqlfail;
	}
	/* A file made under a larger cap keeps its pages: the limit cannot
	 * go below them, pruning frees them for reuse instead. */
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%llu",
	    (unsigned long long)db->max_pages);
	if ((rc = pragma_int(db->db, sql, &v)) != SQLITE_OK)
		goto sqlfail;
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit=%llu",
	    (unsigned long long)wal_room);
	exec(db->db, sql);
	if ((rc = sqlite3_prepare_v3(db->db, node_upsert_sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &db->node_upsert, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v3(db->db, edge_insert_sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &db->edge_insert, NULL)) != SQLITE_OK)
		goto sqlfail;
	if (stat(path, &db->st) != 0) {
		snprintf(err, errlen, "%s vanished while being opened", path);
		goto fail;
	}
	*fault = HDB_FAULT_NONE;
	*out = db;
	return 0;
sqlfail:
	if (hdb_is_corrupt_code(rc))
		*fault = HDB_FAULT_CORRUPT;
	snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db->db));
fail:
	hdb_close(db);
	return *fault == HDB_FAULT_CORRUPT ? -EBADMSG : -EIO;
}

void
hdb_close(struct hdb *db)
{
	if (db == NULL)
		return;
	sqlite3_finalize(db->node_upsert);
	sqlite3_finalize(db->edge_insert);
	sqlite3_close_v2(db->db);
	free(db->path);
	free(db);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL && *s != '\0')
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int
write_nodes(struct hdb *db, struct hdb_node *nodes, size_t n)
{
	sqlite3_stmt *st = db->node_upsert;
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct hdb_node *x = &nodes[i];

		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		bind_text(st, 1, x->key);
		sqlite3_bind_int(st, 2, x->kind);
		bind_text(st, 3, x->label);
		bind_text(st, 4, x->type);
		bind_text(st, 5, x->name);
		bind_text(st, 6, x->exe);
		bind_text(st, 7, x->user);
		bind_text(st, 8, x->service);
		bind_text(st, 9, x->container);
		if (x->kind == 0) {	/* a process */
			sqlite3_bind_int(st, 10, x->pid);
			sqlite3_bind_int64(st, 11, (int64_t)x->start_ms);
		}
		bind_text(st, 12, x->addr);
		if (x->port != 0)
			sqlite3_bind_int(st, 13, x->port);
		sqlite3_bind_int64(st, 14, x->first_ms);
		sqlite3_bind_int64(st, 15, x->last_ms);
		if (x->exit_ms != 0)
			sqlite3_bind_int64(st, 16, x->exit_ms);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(st);
			return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
		}
		x->id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	return SQLITE_OK;
}

static int
write_edges(struct hdb *db, int64_t minute, const struct hdb_node *nodes,
    const struct hdb_edge *edges, size_t n)
{
	sqlite3_stmt *st = db->edge_insert;
	int rc;

	for (size_t i = 0; i < n; i++) {
		const struct hdb_edge *e = &edges[i];

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, minute);
		sqlite3_bind_int64(st, 2, nodes[e->from].id);
		sqlite3_bind_int64(st, 3, nodes[e->to].id);
		sqlite3_bind_int(st, 4, e->proto);
		sqlite3_bind_int(st, 5, e->port);
		sqlite3_bind_int64(st, 6, e->conns);
		sqlite3_bind_int64(st, 7, e->opened);
		sqlite3_bind_int64(st, 8, e->closed);
		sqlite3_bind_int64(st, 9, (int64_t)e->bytes_out);
		sqlite3_bind_int64(st, 10, (int64_t)e->bytes_in);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return rc;
	}
	return SQLITE_OK;
}

/* Live pages over the soft limit? */
static bool
over_soft(struct hdb *db)
{
	int64_t pages = 0, free_pages = 0;

	if (pragma_int(db->db, "PRAGMA page_count", &pages) != SQLITE_OK ||
	    pragma_int(db->db, "PRAGMA freelist_count", &free_pages) !=
	    SQLITE_OK)
		return false;
	return (uint64_t)(pages - free_pages) * 100 >
	    db->max_pages * SOFT_PERCENT;
}

int
hdb_write_minute(struct hdb *db, int64_t minute, struct hdb_node *nodes,
    size_t n_nodes, const struct hdb_edge *edges, size_t n_edges, char *err,
    size_t errlen)
{
	int rc = SQLITE_OK, tries;

	for (tries = 0; tries <= FULL_RETRIES; tries++) {
		while (over_soft(db)) {
			int r = hdb_prune_step(db, INT64_MAX, err, errlen);

			if (r < 0)
				return r;
			if (r == 0)
				break;
		}
		if ((rc = exec(db->db, "BEGIN IMMEDIATE")) != SQLITE_OK)
			break;
		rc = write_nodes(db, nodes, n_nodes);
		if (rc == SQLITE_OK)
			rc = write_edges(db, minute, nodes, edges, n_edges);
		if (rc == SQLITE_OK && (rc = exec(db->db, "COMMIT")) ==
		    SQLITE_OK)
			return 0;
		exec(db->db, "ROLLBACK");
		if ((rc & 0xff) != SQLITE_FULL)
			break;
		/* Full: make room from the oldest end and try again. */
		if (hdb_prune_step(db, INT64_MAX, err, errlen) <= 0)
			break;
	}
	return sql_fail(db, db->db, rc, "writing a minute", err, errlen);
}

int
hdb_prune_step(struct hdb *db, int64_t before_minute, char *err,
    size_t errlen)
{
	int64_t oldest = 0, newest = 0;
	sqlite3_stmt *st;
	int rc, n;

	if ((rc = hdb_range(db, &oldest, &newest)) != 0)
		return sql_fail(db, db->db, rc, "pruning", err, errlen);
	if (oldest == 0)
		return 0;
	if (before_minute == INT64_MAX) {
		/* the size cap: never the minute being written, nor the
		 * only one */
		if (oldest == newest)
			return 0;
	} else if (oldest >= before_minute)
		return 0;
	if ((rc = exec(db->db, "BEGIN IMMEDIATE")) != SQLITE_OK)
		return sql_fail(db, db->db, rc, "pruning", err, errlen);
	rc = sqlite3_prepare_v2(db->db, "DELETE FROM edge_minutes WHERE "
	    "minute = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, oldest);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	n = rc == SQLITE_DONE ? sqlite3_changes(db->db) : 0;
	if (rc == SQLITE_DONE) {
		/* nodes no row refers to any more, and seen last before the
		 * oldest minute left */
		rc = sqlite3_prepare_v2(db->db, "DELETE FROM nodes WHERE "
		    "last_ms < ?1 AND id NOT IN (SELECT src FROM "
		    "edge_minutes WHERE minute = ?2) AND id NOT IN (SELECT dst "
		    "FROM edge_minutes WHERE minute = ?2)", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, (oldest + 1) * 60000);
			sqlite3_bind_int64(st, 2, oldest + 1);
			rc = sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	if (rc != SQLITE_DONE) {
		exec(db->db, "ROLLBACK");
		return sql_fail(db, db->db, rc, "pruning", err, errlen);
	}
	if ((rc = exec(db->db, "COMMIT")) != SQLITE_OK) {
		exec(db->db, "ROLLBACK");
		return sql_fail(db, db->db, rc, "pruning", err, errlen);
	}
	return n > 0 ? n : 1;
}

int
hdb_shrink(struct hdb *db, char *err, size_t errlen)
{
	int64_t pages = 0, free_pages = 0;
	char sql[80];
	int rc, n;

	if (hdb_size(db) <= db->max_size)
		return 0;
	for (;;) {
		if ((rc = pragma_int(db->db, "PRAGMA page_count", &pages)) !=
		    SQLITE_OK || (rc = pragma_int(db->db,
		    "PRAGMA freelist_count", &free_pages)) != SQLITE_OK)
			return sql_fail(db, db->db, rc, "shrinking", err,
			    errlen);
		if ((uint64_t)(pages - free_pages) * 100 <=
		    db->max_pages * SOFT_PERCENT)
			break;
		/* a whole backlog at start: the oldest minutes in chunks,
		 * never the newest, the nodes they leave behind once after */
		rc = exec(db->db, "DELETE FROM edge_minutes WHERE minute IN "
		    "(SELECT DISTINCT minute FROM edge_minutes WHERE minute < "
		    "(SELECT max(minute) FROM edge_minutes) ORDER BY minute "
		    "LIMIT 32)");
		if (rc != SQLITE_OK)
			return sql_fail(db, db->db, rc, "shrinking", err,
			    errlen);
		if ((n = sqlite3_changes(db->db)) == 0)
			break;
	}
	rc = exec(db->db, "DELETE FROM nodes WHERE last_ms < "
	    "(SELECT ifnull(min(minute), 0) * 60000 FROM edge_minutes) AND "
	    "id NOT IN (SELECT src FROM edge_minutes) AND id NOT IN "
	    "(SELECT dst FROM edge_minutes)");
	if (rc != SQLITE_OK)
		return sql_fail(db, db->db, rc, "shrinking", err, errlen);
	if ((rc = exec(db->db, "VACUUM")) != SQLITE_OK)
		return sql_fail(db, db->db, rc, "shrinking (VACUUM)", err,
		    errlen);
	hdb_checkpoint(db);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%llu",
	    (unsigned long long)db->max_pages);
	pragma_int(db->db, sql, &pages);
	return 0;
}

int
hdb_checkpoint(struct hdb *db)
{
	int rc = sqlite3_wal_checkpoint_v2(db->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 :
	    hdb_is_corrupt_code(rc) ? -EBADMSG : -EIO;
}

uint64_t
hdb_size(const struct hdb *db)
{
	char wal[4200];
	struct stat a, b;
	uint64_t n = 0;

	if (stat(db->path, &a) == 0)
		n += (uint64_t)a.st_size;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", db->path) <
	    sizeof(wal) && stat(wal, &b) == 0)
		n += (uint64_t)b.st_size;
	return n;
}

int
hdb_range(struct hdb *db, int64_t *oldest, int64_t *newest)
{
	sqlite3_stmt *st;
	int rc;

	*oldest = *newest = 0;
	rc = sqlite3_prepare_v2(db->db, "SELECT min(minute), max(minute) "
	    "FROM edge_minutes", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*oldest = sqlite3_column_int64(st, 0);
		*newest = sqlite3_column_int64(st, 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : rc;
}

int
hdb_check_file(struct hdb *db)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	struct stat st;
	size_t n;
	FILE *f;

	if (stat(db->path, &st) != 0)
		return -ENOENT;
	/* st_ino is 0 where the OS has none (Windows): size and device
	 * alone cannot tell a replaced file, the header still can */
	if (st.st_ino != 0 && (st.st_ino != db->st.st_ino ||
	    st.st_dev != db->st.st_dev))
		return -EEXIST;
	if ((f = fopen(db->path, "rb")) == NULL)
		return errno == ENOENT ? -ENOENT : 0;
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	/* a new file is empty until its first commit */
	if (n == 0)
		return 0;
	if (n != sizeof(head) || memcmp(head, magic, 16) != 0)
		return -EBADMSG;
	return 0;
}
