/*
 * webd's history: every sample's graph is folded into per-minute rows
 * (each edge's most connections at once, opened, closed, bytes each way,
 * and the identities of the nodes it joins; each process's appearance and
 * exit) and written to an SQLite file by a thread of its own, so neither
 * sampling nor serving waits on the disk.  A file that cannot be written,
 * is deleted or corrupted while webd runs is reported in the status and
 * replaced; live data is served regardless.
 */
#ifndef PROCNET_WEBD_HISTORY_H
#define PROCNET_WEBD_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "graph.h"

#define HISTORY_DEFAULT_RETENTION_S	(7 * 86400)
#define HISTORY_DEFAULT_MAX_SIZE	(256ull * 1024 * 1024)
/* Graphs waiting for the writer; past this the oldest is dropped. */
#define HISTORY_QUEUE_MAX		8

struct history_config {
	const char *path;	/* the file; its directory is created */
	int64_t retention_s;	/* > 0 */
	uint64_t max_size;	/* bytes, >= HDB_MIN_SIZE */
};

struct history;

/* Starts the writer.  Problems with the file do not fail this: they show
 * in the status.  Returns 0, -ENOMEM or a thread error. */
int history_new(const struct history_config *c, struct history **out);
/* Writes the minute so far and stops the writer.  NULL is fine. */
void history_free(struct history *h);

/* Hands a graph to the writer, which frees it.  Never blocks on the disk.
 * h may be NULL (the graph is freed). */
void history_offer(struct history *h, struct graph *g);

/* The history part of /api/status (a new reference), or NULL when out of
 * memory. */
json_t *history_status_json(struct history *h);

/* The file, for readers (history_api.c). */
const char *history_path(const struct history *h);

#endif
