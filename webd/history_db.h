/*
 * The history file: an SQLite database of per-minute edge rows and the
 * identities of the nodes they join.  This file owns the schema, writing a
 * minute, pruning and the size cap; history.c decides when, history_api.c
 * reads.  Library code: errors come back as codes and text, nothing logs.
 *
 * Schema version 1 (PRAGMA user_version):
 *   nodes(id, key UNIQUE, kind, label, type, name, exe, user, service,
 *         container, pid, start_ms, addr, port, first_ms, last_ms, exit_ms)
 *   edge_minutes(minute, src, dst, proto, port, conns, opened, closed,
 *         bytes_out, bytes_in)  PRIMARY KEY(minute, src, dst, proto, port)
 *   meta(key, value)
 * minute is Unix time in whole minutes; times elsewhere are Unix ms.
 */
#ifndef PROCNET_WEBD_HISTORY_DB_H
#define PROCNET_WEBD_HISTORY_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HDB_SCHEMA_VERSION	1
/* The smallest size cap that leaves room for the schema and a minute. */
#define HDB_MIN_SIZE		(256u * 1024u)

struct hdb;

/* One node as a minute saw it last.  id is filled by hdb_write_minute. */
struct hdb_node {
	char *key;		/* the graph's node id: p:<pid>:<start>, e:.., l:.. */
	uint8_t kind;		/* enum graph_node_kind */
	char *label, *type, *name, *exe, *user, *service, *container, *addr;
	int32_t pid;
	uint64_t start_ms;
	uint16_t port;
	int64_t first_ms, last_ms;	/* seen in this minute */
	int64_t exit_ms;	/* a process gone in this minute; 0: not */
	int64_t id;
};

struct hdb_edge {
	size_t from, to;	/* indexes into the minute's nodes */
	uint8_t proto;
	uint16_t port;
	uint32_t conns;		/* most connections at once in the minute */
	uint32_t opened, closed;
	uint64_t bytes_out, bytes_in;	/* client->server, server->client */
};

/* What hdb_open found wrong with an existing file. */
enum hdb_fault {
	HDB_FAULT_NONE,
	HDB_FAULT_CORRUPT,	/* not an SQLite file, or fails its check */
	HDB_FAULT_VERSION,	/* a schema this webd does not know */
	HDB_FAULT_IO,		/* cannot create, open or write */
	HDB_FAULT_MAX
};

/*
 * Opens (creating when missing) the file at path for writing, in WAL mode,
 * with the schema, and a hard page limit so the file stays within
 * max_size.  Returns 0, or a negative code with *fault and a reason in err.
 */
int hdb_open(const char *path, uint64_t max_size, struct hdb **out,
    enum hdb_fault *fault, char *err, size_t errlen);
void hdb_close(struct hdb *db);		/* NULL is fine */

/*
 * Writes one minute in one transaction: upserts the nodes (filling their
 * id), then the edges.  On a full file the oldest minutes are pruned and the
 * write tried again.  Returns 0, -ENOSPC when even an emptied file cannot
 * take it, -EBADMSG when SQLite says the file is corrupt, or -EIO; err says
 * why.
 */
int hdb_write_minute(struct hdb *db, int64_t minute, struct hdb_node *nodes,
    size_t n_nodes, const struct hdb_edge *edges, size_t n_edges, char *err,
    size_t errlen);

/*
 * Deletes the oldest minute before before_minute (or the oldest at all when
 * the file is above its soft size limit), in one small transaction.
 * Returns the rows deleted (0: nothing to do) or a negative code.
 */
int hdb_prune_step(struct hdb *db, int64_t before_minute, char *err,
    size_t errlen);

/*
 * A file larger than the cap (made under a larger one): drops the oldest
 * minutes until what is left fits, then rewrites the file (VACUUM) so it
 * really is smaller.  0 when it already fits or now does, or a negative
 * code with err.
 */
int hdb_shrink(struct hdb *db, char *err, size_t errlen);

/* Truncates the write-ahead log back into the file (once a minute). */
int hdb_checkpoint(struct hdb *db);

/* Bytes used by the file and its write-ahead log. */
uint64_t hdb_size(const struct hdb *db);
/* Oldest and newest minute stored, or 0 when empty. */
int hdb_range(struct hdb *db, int64_t *oldest, int64_t *newest);

/*
 * Whether the file at the path is still the one this handle writes and
 * still starts like an SQLite file: 0, -ENOENT (deleted), -EEXIST
 * (replaced by another file) or -EBADMSG (its header was overwritten).
 */
int hdb_check_file(struct hdb *db);

/* True for what a corrupt file makes SQLite say. */
bool hdb_is_corrupt_code(int rc);

const char *hdb_fault_name(enum hdb_fault f);

#endif
