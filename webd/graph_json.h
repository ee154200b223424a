/*
 * Graph and delta to JSON text, in the form docs/api.md describes and the
 * web UI consumes.  Strings are escaped and invalid UTF-8 is replaced by
 * U+FFFD so a browser always gets valid JSON.
 */
#ifndef PROCNET_GRAPH_JSON_H
#define PROCNET_GRAPH_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "redact.h"

struct graph_json_opts {
	enum redact_mode cmdline;	/* what of a command line is served */
};

/* Each returns a malloc'd NUL-terminated string (length in *len when len
 * is not NULL), or NULL when out of memory.  opts may be NULL: the
 * command line is then served redacted. */

/* {"nodes":[..],"edges":[..],"meta":{..}}: /api/graph and --dump */
char *graph_json(const struct graph *g, const struct graph_json_opts *opts,
    size_t *len);

/* {"type":"full","seq":N,"graph":{..}}: first /api/stream message */
char *graph_json_full(const struct graph *g, uint64_t seq,
    const struct graph_json_opts *opts, size_t *len);

/* {"type":"delta","seq":N,"nodes":{"add":..,"update":..,"remove":..},
 *  "edges":{..},"meta":{..}}: every later /api/stream message */
char *graph_delta_json(const struct graph_delta *d, uint64_t seq,
    const struct graph_json_opts *opts, size_t *len);

#endif
