/*
 * webd's HTTP face on civetweb: the routes (/, /api/graph, /api/status,
 * /api/stream, /icons/<type>.png) and the policy every request passes first
 * (Host, method, path; see http_policy.h).  Responses come from buffers the
 * state published; nothing here builds a graph.
 */
#ifndef PROCNET_WEBD_HTTP_H
#define PROCNET_WEBD_HTTP_H

#include <stddef.h>

#include "state.h"
#include "stream.h"
#include "subscriber.h"

/* civetweb worker threads: each WebSocket client holds one for its life,
 * so the stream cap stays well below this to leave room for requests. */
#define HTTP_THREADS		64
#define HTTP_MAX_STREAMS	32
#define HTTP_MAX_REQUEST	16384	/* request line + headers, bytes */
#define HTTP_TIMEOUT_MS		10000

struct http_config {
	const char *bind;	/* numeric address */
	int port;
	const char *web_root;	/* directory of the UI */
	const char *icons_dir;	/* NULL: <web_root>/icons when it exists */
	struct state *state;
	struct subscriber *sub;
	struct stream *stream;
	const char *history_path;	/* NULL: history off; must outlive */
};

struct http;

/* Starts listening.  On failure returns a negative code and a message a
 * person can act on in err (port in use, bad address). */
int http_start(const struct http_config *c, struct http **out, char *err,
    size_t errlen);
/* Stops serving; blocks until every connection is closed.  NULL is fine. */
void http_stop(struct http *h);

#endif
