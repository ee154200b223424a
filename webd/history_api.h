/*
 * The history API, read from the history file on a connection of its own
 * per request (WAL lets readers run beside the writer):
 *   /api/graph?at=TIME                      the graph of that minute
 *   /api/history/edges?from=&to=&node=&limit=   what one node or port
 *                                           talked to, busiest first
 *   /api/history/summary?from=&to=&limit=   top talkers and edges
 *   /api/history/series?from=&to=&node=|edge=   per-minute traffic
 * TIME is RFC 3339 or Unix ms.  Every answer is JSON; errors are
 * {"error": text} with 400 (bad request), 404 (history off), 503 (file
 * missing or busy).
 */
#ifndef PROCNET_WEBD_HISTORY_API_H
#define PROCNET_WEBD_HISTORY_API_H

#include <stddef.h>
#include <stdint.h>

/* The longest range one request may ask for, and the most rows. */
#define HISTORY_API_MAX_RANGE_MS	(31LL * 86400 * 1000)
#define HISTORY_API_DEFAULT_RANGE_MS	(3600LL * 1000)
#define HISTORY_API_MAX_ROWS		1000
#define HISTORY_API_DEFAULT_ROWS	50
/* Edges and nodes in one /api/graph?at= answer. */
#define HISTORY_API_MAX_GRAPH_EDGES	20000
/* Requests answered at once; more get 503. */
#define HISTORY_API_MAX_CONCURRENT	4

struct history_reply {
	int code;
	char *body;		/* malloc'd JSON */
	size_t len;
};

/*
 * Answers route ("graph", "history/edges", "history/summary",
 * "history/series") with query (the raw query string, may be NULL) from the
 * file at path (NULL: history is off).  now_ms bounds "the future".
 * Returns 0 with *r filled (any code), or -ENOMEM.
 */
int history_api_handle(const char *path, const char *route,
    const char *query, int64_t now_ms, struct history_reply *r);

#endif
