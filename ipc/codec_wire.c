/*
 * Shared by the SNAPSHOT codec's versions (ipc/codec.c): little-endian
 * fixed-width numbers, LEB128 varints (at most 5 bytes, shortest form),
 * the interned string table, and a decoding cursor that refuses to read
 * past the end.  Pure: no I/O, nothing logged.
 */
#include "codec_wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"

int
wire_reserve(struct wire_buf *b, size_t n)
{
	size_t ncap;
	uint8_t *nd;

	if (b->error)
		return b->error;
	if (b->cap - b->len >= n)
		return 0;
	if (n > b->max - b->len)
		return b->error = -E2BIG;
	ncap = b->cap ? b->cap : 4096;
	while (ncap - b->len < n)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	nd = realloc(b->data, ncap);
	if (nd == NULL)
		return b->error = -ENOMEM;
	b->data = nd;
	b->cap = ncap;
	return 0;
}

void
wire_put(struct wire_buf *b, const void *p, size_t n)
{
	if (wire_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
wire_put_u8(struct wire_buf *b, uint8_t v)
{
	wire_put(b, &v, 1);
}

void
wire_put_u16(struct wire_buf *b, uint16_t v)
{
	uint8_t p[2];

	le16_put(p, v);
	wire_put(b, p, 2);
}

void
wire_put_u32(struct wire_buf *b, uint32_t v)
{
	uint8_t p[4];

	le32_put(p, v);
	wire_put(b, p, 4);
}

void
wire_put_u64(struct wire_buf *b, uint64_t v)
{
	wire_put_u32(b, (uint32_t)v);
	wire_put_u32(b, (uint32_t)(v >> 32));
}

void
wire_put_varint(struct wire_buf *b, uint32_t v)
{
	uint8_t p[5];
	size_t n = 0;

	do {
		p[n] = v & 0x7f;
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	wire_put(b, p, n);
}

static uint32_t
wire_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

int
wire_intern_init(struct wire_intern *in, size_t expect)
{
	size_t cap = 64;

	while (cap < expect * 2)
		cap *= 2;
	in->keys = calloc(cap, sizeof(*in->keys));
	in->idx = calloc(cap, sizeof(*in->idx));
	if (in->keys == NULL || in->idx == NULL)
		return -ENOMEM;
	in->mask = cap - 1;
	in->n = 0;
	return 0;
}

void
wire_intern_free(struct wire_intern *in)
{
	free(in->keys);
	free(in->idx);
}

/* Index of s, appending it to the string table in b when new.  The
 * table is sized for every string the snapshot can hold, so it never
 * fills. */
uint32_t
wire_intern(struct wire_intern *in, struct wire_buf *b, const char *s)
{
	size_t i = wire_hash(s) & in->mask;
	size_t len;

	while (in->keys[i] != NULL) {
		if (strcmp(in->keys[i], s) == 0)
			return in->idx[i];
		i = (i + 1) & in->mask;
	}
	in->keys[i] = s;
	in->idx[i] = in->n;
	len = strnlen(s, SNAP_MAX_STRING);
	wire_put_varint(b, (uint32_t)len);
	wire_put(b, s, len);
	return in->n++;
}

void
wire_put_addr(struct wire_buf *b, const struct snap_addr *a, uint8_t family)
{
	if (family == 4)
		wire_put(b, a->bytes, 4);
	else if (family == 6)
		wire_put(b, a->bytes, 16);
}

int
wire_bad(struct wire_cur *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err != NULL) {
		c->err->offset = c->pos;
		va_start(ap, fmt);
		vsnprintf(c->err->text, sizeof(c->err->text), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

int
wire_need(struct wire_cur *c, size_t n, const char *what)
{
	if (c->len - c->pos < n)
		return wire_bad(c, "%s truncated: needs %zu bytes, %zu remain", what,
		    n, c->len - c->pos);
	return 0;
}

int
wire_get_u8(struct wire_cur *c, const char *what, uint8_t *v)
{
	if (wire_need(c, 1, what) < 0)
		return -EBADMSG;
	*v = c->p[c->pos++];
	return 0;
}

int
wire_get_u16(struct wire_cur *c, const char *what, uint16_t *v)
{
	if (wire_need(c, 2, what) < 0)
		return -EBADMSG;
	*v = le16_get(c->p + c->pos);
	c->pos += 2;
	return 0;
}

int
wire_get_u32(struct wire_cur *c, const char *what, uint32_t *v)
{
	const uint8_t *p = c->p + c->pos;

	if (wire_need(c, 4, what) < 0)
		return -EBADMSG;
	*v = le32_get(p);
	c->pos += 4;
	return 0;
}

int
wire_get_u64(struct wire_cur *c, const char *what, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;

	if (wire_get_u32(c, what, &lo) < 0 || wire_get_u32(c, what, &hi) < 0)
		return -EBADMSG;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
wire_get_varint(struct wire_cur *c, const char *what, uint32_t *v)
{
	uint64_t val = 0;
	size_t start = c->pos;

	for (unsigned shift = 0; shift < 35; shift += 7) {
		uint8_t byte;

		if (wire_get_u8(c, what, &byte) < 0)
			return -EBADMSG;
		val |= (uint64_t)(byte & 0x7f) << shift;
		if ((byte & 0x80) == 0) {
			if (byte == 0 && c->pos - start > 1) {
				c->pos = start;
				return wire_bad(c, "%s: varint not in shortest form",
				    what);
			}
			if (val > UINT32_MAX) {
				c->pos = start;
				return wire_bad(c, "%s: varint exceeds 32 bits", what);
			}
			*v = (uint32_t)val;
			return 0;
		}
	}
	c->pos = start;
	return wire_bad(c, "%s: varint longer than 5 bytes", what);
}

/* Each string is listed once (the encoder interns), so a table with a
 * repeat is not one the encoder wrote. */
static int
no_duplicates(struct wire_cur *c, struct wire_strtab *t, size_t start)
{
	size_t cap = 64, mask, i;
	uint32_t *slot;
	int r = 0;

	while (cap < (size_t)t->n * 2)
		cap *= 2;
	mask = cap - 1;
	if ((slot = malloc(cap * sizeof(*slot))) == NULL)
		return -ENOMEM;
	memset(slot, 0xff, cap * sizeof(*slot));
	for (uint32_t k = 0; k < t->n && r == 0; k++) {
		const char *str = t->data + t->off[k];

		for (i = wire_hash(str) & mask; slot[i] != UINT32_MAX;
		    i = (i + 1) & mask) {
			if (strcmp(t->data + t->off[slot[i]], str) == 0) {
				c->pos = start;
				r = wire_bad(c, "string %u repeats string %u", k,
				    slot[i]);
				break;
			}
		}
		slot[i] = k;
	}
	free(slot);
	return r;
}

int
wire_get_strings(struct wire_cur *c, struct wire_strtab *t, uint32_t max)
{
	size_t start, total = 0;
	uint32_t n, i, len;

	if (wire_get_u32(c, "string count", &n) < 0)
		return -EBADMSG;
	if (n > max) {
		c->pos -= 4;
		return wire_bad(c, "string count %u exceeds the limit of %u", n,
		    max);
	}
	/* each string takes at least its one-byte length */
	if (n > c->len - c->pos) {
		c->pos -= 4;
		return wire_bad(c, "string count %u but only %zu bytes remain", n,
		    c->len - c->pos - 4);
	}
	/* First pass validates and sizes; second copies. */
	start = c->pos;
	for (i = 0; i < n; i++) {
		if (wire_get_varint(c, "string length", &len) < 0)
			return -EBADMSG;
		if (len > SNAP_MAX_STRING) {
			c->pos--;
			return wire_bad(c, "string %u is %u bytes, limit %u", i, len,
			    SNAP_MAX_STRING);
		}
		if (wire_need(c, len, "string") < 0)
			return -EBADMSG;
		if (memchr(c->p + c->pos, '\0', len) != NULL)
			return wire_bad(c, "string %u contains a NUL byte", i);
		c->pos += len;
		total += len + 1;
	}
	t->data = malloc(total ? total : 1);
	t->off = malloc((n ? n : 1) * sizeof(*t->off));
	if (t->data == NULL || t->off == NULL)
		return -ENOMEM;
	c->pos = start;
	total = 0;
	for (i = 0; i < n; i++) {
		wire_get_varint(c, "string length", &len);
		memcpy(t->data + total, c->p + c->pos, len);
		t->data[total + len] = '\0';
		t->off[i] = (uint32_t)total;
		c->pos += len;
		total += len + 1;
	}
	t->n = n;
	return no_duplicates(c, t, start);
}

int
wire_get_strref(struct wire_cur *c, struct wire_strtab *t, const char *what,
    const char **out)
{
	uint32_t i;

	if (wire_get_varint(c, what, &i) < 0)
		return -EBADMSG;
	if (i >= t->n) {
		c->pos--;
		return wire_bad(c, "%s refers to string %u of %u", what, i, t->n);
	}
	/* The table lists strings in order of first use, as the encoder
	 * writes it: one snapshot has one encoding. */
	if (i > t->next) {
		c->pos--;
		return wire_bad(c, "%s refers to string %u before string %u was "
		    "used", what, i, t->next);
	}
	if (i == t->next)
		t->next++;
	*out = t->data + t->off[i];
	return 0;
}

int
wire_get_addr(struct wire_cur *c, uint8_t family, struct snap_addr *a)
{
	size_t n = family == 4 ? 4 : family == 6 ? 16 : 0;

	memset(a, 0, sizeof(*a));
	a->family = family;
	if (wire_need(c, n, "address") < 0)
		return -EBADMSG;
	memcpy(a->bytes, c->p + c->pos, n);
	c->pos += n;
	return 0;
}
