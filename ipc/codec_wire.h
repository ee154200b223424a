/*
 * Byte-level pieces of the SNAPSHOT codec (ipc/codec.c), shared by its
 * protocol versions: an output buffer with a cap, little-endian numbers,
 * LEB128 varints, the interned string table, and a decoding cursor whose
 * every read is checked against what remains.  Internal to ipc/.
 */
#ifndef PROCNET_IPC_CODEC_WIRE_H
#define PROCNET_IPC_CODEC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "snapshot.h"

/* Encoding: a growing buffer that never passes max. */
struct wire_buf {
	uint8_t *data;
	size_t len, cap, max;
	int error;		/* sticky: -ENOMEM / -E2BIG */
};

int wire_reserve(struct wire_buf *b, size_t n);
void wire_put(struct wire_buf *b, const void *p, size_t n);
void wire_put_u8(struct wire_buf *b, uint8_t v);
void wire_put_u16(struct wire_buf *b, uint16_t v);
void wire_put_u32(struct wire_buf *b, uint32_t v);
void wire_put_u64(struct wire_buf *b, uint64_t v);
void wire_put_varint(struct wire_buf *b, uint32_t v);
/* 4 bytes for family 4, 16 for 6, nothing otherwise */
void wire_put_addr(struct wire_buf *b, const struct snap_addr *a,
    uint8_t family);

/* String interning: open addressing over the distinct strings seen. */
struct wire_intern {
	const char **keys;
	uint32_t *idx;
	size_t mask;
	uint32_t n;
};

/* Sized for `expect` distinct strings at most: wire_intern() never
 * fills it when expect counts every string reference. */
int wire_intern_init(struct wire_intern *in, size_t expect);
void wire_intern_free(struct wire_intern *in);
/* Index of s, appending it (varint length, bytes) to b when new. */
uint32_t wire_intern(struct wire_intern *in, struct wire_buf *b,
    const char *s);

/* Decoding: a cursor that refuses to read past the end. */
struct wire_cur {
	const uint8_t *p;
	size_t len, pos;
	struct frame_error *err;
};

/* Fills c->err (offset c->pos, the text) and returns -EBADMSG. */
int wire_bad(struct wire_cur *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int wire_need(struct wire_cur *c, size_t n, const char *what);
int wire_get_u8(struct wire_cur *c, const char *what, uint8_t *v);
int wire_get_u16(struct wire_cur *c, const char *what, uint16_t *v);
int wire_get_u32(struct wire_cur *c, const char *what, uint32_t *v);
int wire_get_u64(struct wire_cur *c, const char *what, uint64_t *v);
int wire_get_varint(struct wire_cur *c, const char *what, uint32_t *v);
int wire_get_addr(struct wire_cur *c, uint8_t family, struct snap_addr *a);

struct wire_strtab {
	char *data;		/* all strings, each NUL-ended */
	uint32_t *off;		/* start of string i in data */
	uint32_t n;
	uint32_t next;		/* first string not referred to yet */
};

/* The string table: u32 count (at most max, and no more than the bytes
 * left), then each string; no NUL inside, none longer than
 * SNAP_MAX_STRING, none listed twice.  Free t->data and t->off after. */
int wire_get_strings(struct wire_cur *c, struct wire_strtab *t,
    uint32_t max);
/* A varint string reference: within the table and in first-use order. */
int wire_get_strref(struct wire_cur *c, struct wire_strtab *t,
    const char *what, const char **out);

#endif
