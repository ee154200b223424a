/*
 * A snapshot as the JSON of docs/snapshot-json.md (what
 * `procnet-collector --once --format json` prints).  Hand-written for speed
 * at 100k sockets: one growing buffer, no per-value allocation.  Strings are
 * escaped per RFC 8259; bytes that are not valid UTF-8 become U+FFFD, so the
 * output is always valid JSON.
 */
#ifndef PROCNET_SNAPSHOT_JSON_H
#define PROCNET_SNAPSHOT_JSON_H

#include <stddef.h>

#include "snapshot.h"

/* On success returns 0 and a malloc'd, NUL-terminated text in *out (length
 * in *len, without the NUL, when len is not NULL).  -ENOMEM otherwise;
 * *out is only written on success. */
int snapshot_json(const struct snapshot *s, char **out, size_t *len);

/*
 * The same text handed to sink in pieces (about 64 KiB each, in order), so
 * a large snapshot is written without holding all of its JSON.  sink
 * returns 0, or a negative code that stops the walk and is returned.
 * Returns 0, -ENOMEM or sink's code.
 */
typedef int (*snapshot_json_sink)(void *arg, const char *buf, size_t len);
int snapshot_json_stream(const struct snapshot *s, snapshot_json_sink sink,
    void *arg);

/* Appends the JSON string literal for str (with quotes) to a buffer; used by
 * the encoder and exposed for tests.  Same return and ownership rules as
 * above: buf, len and cap describe a malloc'd buffer that may move. */
int snapshot_json_string(char **buf, size_t *len, size_t *cap,
    const char *str);

#endif
