/*
 * A JSON text writer for hand-built documents that must be fast at a
 * hundred thousand values (the snapshot JSON, the graph JSON): one growing
 * buffer, no per-value allocation, and optionally a sink that takes the
 * text in pieces instead of holding all of it.  Errors are sticky: after
 * the first one every call is a no-op, and jsonw_finish() reports it.
 * Strings are escaped per RFC 8259; bytes that are not valid UTF-8 become
 * U+FFFD, so the text is always valid JSON.  Pure: nothing logged.
 */
#ifndef PROCNET_JSONW_H
#define PROCNET_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Takes len bytes of text; 0, or a negative code that stops the writer. */
typedef int (*jsonw_sink)(void *arg, const char *buf, size_t len);

struct jsonw {
	char *p;
	size_t len, cap;
	int error;		/* 0, -ENOMEM, or what sink returned */
	jsonw_sink sink;	/* NULL: keep everything in p */
	void *sink_arg;
};

/* With a sink, text is handed over in pieces of about this size. */
#define JSONW_CHUNK	(64u * 1024u)

/* An empty writer; sink may be NULL. */
void jsonw_init(struct jsonw *w, jsonw_sink sink, void *arg);

/* Room for need more bytes plus a NUL, flushing to the sink first when
 * there is one.  false after an error.  Pointers into p are stale after. */
bool jsonw_reserve(struct jsonw *w, size_t need);

void jsonw_put(struct jsonw *w, const char *s, size_t n);
#define JSONW_LIT(w, lit)	jsonw_put((w), (lit), sizeof(lit) - 1)
void jsonw_char(struct jsonw *w, char c);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
/* A string literal with its quotes; NULL is written as "". */
void jsonw_str(struct jsonw *w, const char *s);

/* Hands what is buffered to the sink.  0 or the sticky error. */
int jsonw_flush(struct jsonw *w);

/*
 * Without a sink: NUL-terminates and hands the buffer to *out (length in
 * *len when len is not NULL; caller frees).  With a sink: flushes.  Either
 * way the writer is empty after, and the return is 0 or the first error
 * (then *out is not written and the buffer is freed).
 */
int jsonw_finish(struct jsonw *w, char **out, size_t *len);

/* Frees the buffer without handing it over. */
void jsonw_discard(struct jsonw *w);

#endif
