/*
 * SNAPSHOT payload, version 1 (docs/protocol.md has the byte layout).
 * Little-endian fixed-width numbers; string lengths and string indices are
 * LEB128 varints of at most 5 bytes in their shortest form.
 */
#include "codec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every process refers to 4 strings; the header to 2 more. */
#define CODEC_MAX_STRINGS	(4u * SNAP_MAX_PROCESSES + 2u)
/* Smallest encodings, used to reject counts the payload cannot hold
 * before allocating for them. */
#define PROC_MIN_SIZE		(4 + 4 + 8 + 4 * 1)
#define SOCK_MIN_SIZE		(6 + 2 + 2 + 4 + 0 + 4 + 8)

struct buf {
	uint8_t *data;
	size_t len, cap, max;
	int error;		/* sticky: -ENOMEM / -E2BIG */
};

static int
buf_reserve(struct buf *b, size_t n)
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

static void
buf_put(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
put_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

static void
put_u16(struct buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	buf_put(b, p, 2);
}

static void
put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24) };

	buf_put(b, p, 4);
}

static void
put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void
put_varint(struct buf *b, uint32_t v)
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
	buf_put(b, p, n);
}

/* String interning: open addressing over the distinct strings seen. */
struct intern {
	const char **keys;
	uint32_t *idx;
	size_t mask;
	uint32_t n;
};

static uint32_t
str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static int
intern_init(struct intern *in, size_t expect)
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

static void
intern_free(struct intern *in)
{
	free(in->keys);
	free(in->idx);
}

/* Index of s, appending it to the string table in b when new.  The
 * table is sized for every string the snapshot can hold, so it never
 * fills. */
static uint32_t
intern(struct intern *in, struct buf *b, const char *s)
{
	size_t i = str_hash(s) & in->mask;
	size_t len;

	while (in->keys[i] != NULL) {
		if (strcmp(in->keys[i], s) == 0)
			return in->idx[i];
		i = (i + 1) & in->mask;
	}
	in->keys[i] = s;
	in->idx[i] = in->n;
	len = strnlen(s, SNAP_MAX_STRING);
	put_varint(b, (uint32_t)len);
	buf_put(b, s, len);
	return in->n++;
}

static void
put_addr(struct buf *b, const struct snap_addr *a, uint8_t family)
{
	if (family == 4)
		buf_put(b, a->bytes, 4);
	else if (family == 6)
		buf_put(b, a->bytes, 16);
}

/* A first allocation, never past the cap (the guess may be generous). */
static size_t
estimate(size_t n)
{
	return n < FRAME_MAX_PAYLOAD ? n : FRAME_MAX_PAYLOAD;
}

static int
encode(const struct snapshot *s, size_t reserve, uint8_t **out, size_t *len)
{
	struct buf strs = { .max = FRAME_MAX_PAYLOAD };
	struct buf body = { .max = FRAME_MAX_PAYLOAD };
	struct buf all = { .max = (size_t)FRAME_MAX_PAYLOAD + reserve };
	struct intern in = { 0 };
	uint32_t *refs = NULL;
	size_t i, nrefs = 2 + 4 * s->n_processes;
	int r;

	if (s->n_processes > SNAP_MAX_PROCESSES || s->n_sockets > SNAP_MAX_SOCKETS)
		return -E2BIG;
	refs = malloc(nrefs * sizeof(*refs));
	if (refs == NULL || intern_init(&in, nrefs) < 0) {
		free(refs);
		intern_free(&in);
		return -ENOMEM;
	}

	/* Room for the usual case up front: growing by doubling would copy
	 * a large snapshot several times over. */
	buf_reserve(&body, estimate(32 + s->n_processes * 40 +
	    s->n_sockets * 48));
	buf_reserve(&strs, estimate(64 + s->n_processes * 16));

	/* String table first, so the decoder can resolve indices as it goes. */
	refs[0] = intern(&in, &strs, s->host);
	refs[1] = intern(&in, &strs, s->os);
	for (i = 0; i < s->n_processes; i++) {
		const struct snap_process *p = &s->processes[i];

		refs[2 + 4 * i] = intern(&in, &strs, p->user);
		refs[3 + 4 * i] = intern(&in, &strs, p->name);
		refs[4 + 4 * i] = intern(&in, &strs, p->exe);
		refs[5 + 4 * i] = intern(&in, &strs, p->cmdline);
	}

	put_varint(&body, refs[0]);
	put_varint(&body, refs[1]);
	put_u64(&body, (uint64_t)s->time_ms);
	put_u32(&body, s->sample_us);
	put_u8(&body, s->privileged ? 1 : 0);
	put_u32(&body, (uint32_t)s->n_processes);
	for (i = 0; i < s->n_processes && !body.error; i++) {
		const struct snap_process *p = &s->processes[i];

		put_u32(&body, (uint32_t)p->pid);
		put_u32(&body, (uint32_t)p->ppid);
		put_u64(&body, p->start_time);
		for (size_t k = 0; k < 4; k++)
			put_varint(&body, refs[2 + 4 * i + k]);
	}
	put_u32(&body, (uint32_t)s->n_sockets);
	for (i = 0; i < s->n_sockets && !body.error; i++) {
		const struct snap_socket *k = &s->sockets[i];

		put_u8(&body, k->proto);
		put_u8(&body, k->state);
		put_u8(&body, k->owner);
		put_u8(&body, k->family);
		put_u8(&body, k->remote.family);
		put_u8(&body, 0);	/* reserved, keeps the ports aligned */
		put_u16(&body, k->local_port);
		put_u16(&body, k->remote_port);
		put_addr(&body, &k->local, k->family);
		put_addr(&body, &k->remote, k->remote.family);
		put_u32(&body, (uint32_t)k->pid);
		put_u64(&body, k->inode);
	}

	r = strs.error ? strs.error : body.error;
	if (r == 0 && strs.len + body.len + 4 > FRAME_MAX_PAYLOAD)
		r = -E2BIG;
	if (r == 0 && buf_reserve(&all, reserve + 4 + strs.len + body.len) < 0)
		r = all.error;
	if (r == 0) {
		all.len = reserve;
		put_u32(&all, in.n);
		buf_put(&all, strs.data, strs.len);
		buf_put(&all, body.data, body.len);
		*out = all.data;
		*len = all.len;
		all.data = NULL;
	}
	free(all.data);
	free(strs.data);
	free(body.data);
	free(refs);
	intern_free(&in);
	return r;
}

int
codec_encode_snapshot(const struct snapshot *s, uint8_t **buf, size_t *len)
{
	return encode(s, 0, buf, len);
}

int
codec_encode_snapshot_frame(const struct snapshot *s, uint16_t version,
    uint8_t **buf, size_t *len)
{
	uint8_t *b;
	size_t n;
	int r;

	r = encode(s, FRAME_HEADER_SIZE, &b, &n);
	if (r < 0)
		return r;
	frame_header_write(b, version, FRAME_SNAPSHOT,
	    (uint32_t)(n - FRAME_HEADER_SIZE));
	*buf = b;
	*len = n;
	return 0;
}

/* Decoding: a cursor that refuses to read past the end. */
struct cur {
	const uint8_t *p;
	size_t len, pos;
	struct frame_error *err;
};

static int bad(struct cur *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
bad(struct cur *c, const char *fmt, ...)
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

static int
need(struct cur *c, size_t n, const char *what)
{
	if (c->len - c->pos < n)
		return bad(c, "%s truncated: needs %zu bytes, %zu remain", what,
		    n, c->len - c->pos);
	return 0;
}

static int
get_u8(struct cur *c, const char *what, uint8_t *v)
{
	if (need(c, 1, what) < 0)
		return -EBADMSG;
	*v = c->p[c->pos++];
	return 0;
}

static int
get_u16(struct cur *c, const char *what, uint16_t *v)
{
	if (need(c, 2, what) < 0)
		return -EBADMSG;
	*v = (uint16_t)(c->p[c->pos] | c->p[c->pos + 1] << 8);
	c->pos += 2;
	return 0;
}

static int
get_u32(struct cur *c, const char *what, uint32_t *v)
{
	const uint8_t *p = c->p + c->pos;

	if (need(c, 4, what) < 0)
		return -EBADMSG;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	c->pos += 4;
	return 0;
}

static int
get_u64(struct cur *c, const char *what, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;

	if (get_u32(c, what, &lo) < 0 || get_u32(c, what, &hi) < 0)
		return -EBADMSG;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static int
get_varint(struct cur *c, const char *what, uint32_t *v)
{
	uint64_t val = 0;
	size_t start = c->pos;

	for (unsigned shift = 0; shift < 35; shift += 7) {
		uint8_t byte;

		if (get_u8(c, what, &byte) < 0)
			return -EBADMSG;
		val |= (uint64_t)(byte & 0x7f) << shift;
		if ((byte & 0x80) == 0) {
			if (byte == 0 && c->pos - start > 1) {
				c->pos = start;
				return bad(c, "%s: varint not in shortest form",
				    what);
			}
			if (val > UINT32_MAX) {
				c->pos = start;
				return bad(c, "%s: varint exceeds 32 bits", what);
			}
			*v = (uint32_t)val;
			return 0;
		}
	}
	c->pos = start;
	return bad(c, "%s: varint longer than 5 bytes", what);
}

struct strtab {
	char *data;		/* all strings, each NUL-ended */
	uint32_t *off;		/* start of string i in data */
	uint32_t n;
	uint32_t next;		/* first string not referred to yet */
};

/* Each string is listed once (the encoder interns), so a table with a
 * repeat is not one the encoder wrote. */
static int
no_duplicates(struct cur *c, struct strtab *t, size_t start)
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

		for (i = str_hash(str) & mask; slot[i] != UINT32_MAX;
		    i = (i + 1) & mask) {
			if (strcmp(t->data + t->off[slot[i]], str) == 0) {
				c->pos = start;
				r = bad(c, "string %u repeats string %u", k,
				    slot[i]);
				break;
			}
		}
		slot[i] = k;
	}
	free(slot);
	return r;
}

static int
get_strings(struct cur *c, struct strtab *t)
{
	size_t start, total = 0;
	uint32_t n, i, len;

	if (get_u32(c, "string count", &n) < 0)
		return -EBADMSG;
	if (n > CODEC_MAX_STRINGS) {
		c->pos -= 4;
		return bad(c, "string count %u exceeds the limit of %u", n,
		    CODEC_MAX_STRINGS);
	}
	/* each string takes at least its one-byte length */
	if (n > c->len - c->pos) {
		c->pos -= 4;
		return bad(c, "string count %u but only %zu bytes remain", n,
		    c->len - c->pos - 4);
	}
	/* First pass validates and sizes; second copies. */
	start = c->pos;
	for (i = 0; i < n; i++) {
		if (get_varint(c, "string length", &len) < 0)
			return -EBADMSG;
		if (len > SNAP_MAX_STRING) {
			c->pos--;
			return bad(c, "string %u is %u bytes, limit %u", i, len,
			    SNAP_MAX_STRING);
		}
		if (need(c, len, "string") < 0)
			return -EBADMSG;
		if (memchr(c->p + c->pos, '\0', len) != NULL)
			return bad(c, "string %u contains a NUL byte", i);
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
		get_varint(c, "string length", &len);
		memcpy(t->data + total, c->p + c->pos, len);
		t->data[total + len] = '\0';
		t->off[i] = (uint32_t)total;
		c->pos += len;
		total += len + 1;
	}
	t->n = n;
	return no_duplicates(c, t, start);
}

static int
get_strref(struct cur *c, struct strtab *t, const char *what,
    const char **out)
{
	uint32_t i;

	if (get_varint(c, what, &i) < 0)
		return -EBADMSG;
	if (i >= t->n) {
		c->pos--;
		return bad(c, "%s refers to string %u of %u", what, i, t->n);
	}
	/* The table lists strings in order of first use, as the encoder
	 * writes it: one snapshot has one encoding. */
	if (i > t->next) {
		c->pos--;
		return bad(c, "%s refers to string %u before string %u was "
		    "used", what, i, t->next);
	}
	if (i == t->next)
		t->next++;
	*out = t->data + t->off[i];
	return 0;
}

static int
get_addr(struct cur *c, uint8_t family, struct snap_addr *a)
{
	size_t n = family == 4 ? 4 : family == 6 ? 16 : 0;

	memset(a, 0, sizeof(*a));
	a->family = family;
	if (need(c, n, "address") < 0)
		return -EBADMSG;
	memcpy(a->bytes, c->p + c->pos, n);
	c->pos += n;
	return 0;
}

static int
get_processes(struct cur *c, struct strtab *t,
    struct snapshot_builder *b)
{
	uint32_t n, i;
	int64_t last = INT64_MIN;
	int r;

	if (get_u32(c, "process count", &n) < 0)
		return -EBADMSG;
	if (n > SNAP_MAX_PROCESSES) {
		c->pos -= 4;
		return bad(c, "process count %u exceeds the limit of %u", n,
		    SNAP_MAX_PROCESSES);
	}
	if ((uint64_t)n * PROC_MIN_SIZE > c->len - c->pos) {
		c->pos -= 4;
		return bad(c, "process count %u cannot fit in %zu bytes", n,
		    c->len - c->pos - 4);
	}
	for (i = 0; i < n; i++) {
		struct snap_process p;
		uint32_t pid, ppid;
		size_t at = c->pos;

		if (get_u32(c, "process pid", &pid) < 0 ||
		    get_u32(c, "process ppid", &ppid) < 0 ||
		    get_u64(c, "process start time", &p.start_time) < 0 ||
		    get_strref(c, t, "process user", &p.user) < 0 ||
		    get_strref(c, t, "process name", &p.name) < 0 ||
		    get_strref(c, t, "process exe", &p.exe) < 0 ||
		    get_strref(c, t, "process cmdline", &p.cmdline) < 0)
			return -EBADMSG;
		p.pid = (int32_t)pid;
		p.ppid = (int32_t)ppid;
		if (p.pid <= last) {
			c->pos = at;
			return bad(c, "process %u: pid %d not above %lld "
			    "(must be sorted, unique)", i, p.pid,
			    (long long)last);
		}
		last = p.pid;
		if ((r = snapshot_builder_add_process(b, &p)) < 0)
			return r;
	}
	return 0;
}

static int
get_sockets(struct cur *c, struct snapshot_builder *b)
{
	uint32_t n, i;
	int r;

	if (get_u32(c, "socket count", &n) < 0)
		return -EBADMSG;
	if (n > SNAP_MAX_SOCKETS) {
		c->pos -= 4;
		return bad(c, "socket count %u exceeds the limit of %u", n,
		    SNAP_MAX_SOCKETS);
	}
	if ((uint64_t)n * SOCK_MIN_SIZE > c->len - c->pos) {
		c->pos -= 4;
		return bad(c, "socket count %u cannot fit in %zu bytes", n,
		    c->len - c->pos - 4);
	}
	for (i = 0; i < n; i++) {
		struct snap_socket k;
		uint8_t rfam, reserved;
		uint32_t pid;
		size_t at = c->pos;

		memset(&k, 0, sizeof(k));
		if (get_u8(c, "socket proto", &k.proto) < 0 ||
		    get_u8(c, "socket state", &k.state) < 0 ||
		    get_u8(c, "socket owner", &k.owner) < 0 ||
		    get_u8(c, "socket family", &k.family) < 0 ||
		    get_u8(c, "socket remote family", &rfam) < 0 ||
		    get_u8(c, "socket reserved", &reserved) < 0)
			return -EBADMSG;
		c->pos = at;
		if (k.proto >= SNAP_PROTO_MAX)
			return bad(c, "socket %u: unknown proto %u", i, k.proto);
		c->pos++;
		if (k.state >= SNAP_STATE_MAX)
			return bad(c, "socket %u: unknown state %u", i, k.state);
		c->pos++;
		if (k.owner >= SNAP_OWNER_MAX)
			return bad(c, "socket %u: unknown owner kind %u", i,
			    k.owner);
		c->pos++;
		if (k.family != 4 && k.family != 6)
			return bad(c, "socket %u: bad family %u", i, k.family);
		c->pos++;
		if (rfam != 0 && rfam != 4 && rfam != 6)
			return bad(c, "socket %u: bad remote family %u", i, rfam);
		c->pos++;
		if (reserved != 0)
			return bad(c, "socket %u: reserved byte is %u", i,
			    reserved);
		c->pos++;
		if (get_u16(c, "socket local port", &k.local_port) < 0 ||
		    get_u16(c, "socket remote port", &k.remote_port) < 0 ||
		    get_addr(c, k.family, &k.local) < 0 ||
		    get_addr(c, rfam, &k.remote) < 0)
			return -EBADMSG;
		at = c->pos;
		if (get_u32(c, "socket pid", &pid) < 0 ||
		    get_u64(c, "socket inode", &k.inode) < 0)
			return -EBADMSG;
		k.pid = (int32_t)pid;
		c->pos = at;
		if (k.owner == SNAP_OWNER_KNOWN ? k.pid < 0 : k.pid != -1)
			return bad(c, "socket %u: pid %d does not fit owner "
			    "kind %s", i, k.pid, snap_owner_name(k.owner));
		c->pos += 12;
		if ((r = snapshot_builder_add_socket(b, &k)) < 0)
			return r == -EINVAL ? bad(c, "socket %u rejected", i) : r;
	}
	return 0;
}

int
codec_decode_snapshot(const uint8_t *buf, size_t len, struct snapshot **out,
    struct frame_error *err)
{
	struct cur c = { .p = buf, .len = len, .err = err };
	struct strtab t = { 0 };
	struct snapshot_builder *b;
	const char *host, *os;
	uint64_t time_ms;
	uint32_t sample_us;
	uint8_t flags;
	int r;

	if (len > FRAME_MAX_PAYLOAD)
		return bad(&c, "snapshot of %zu bytes exceeds the limit of %u",
		    len, FRAME_MAX_PAYLOAD);
	if ((b = snapshot_builder_new()) == NULL)
		return -ENOMEM;
	if ((r = get_strings(&c, &t)) < 0)
		goto out;
	r = -EBADMSG;
	if (get_strref(&c, &t, "host", &host) < 0 ||
	    get_strref(&c, &t, "os", &os) < 0 ||
	    get_u64(&c, "time", &time_ms) < 0 ||
	    get_u32(&c, "sample time", &sample_us) < 0 ||
	    get_u8(&c, "flags", &flags) < 0)
		goto out;
	if (flags & ~1u) {
		c.pos--;
		bad(&c, "unknown snapshot flags 0x%x", flags);
		goto out;
	}
	if ((r = snapshot_builder_set_meta(b, host, os, (int64_t)time_ms,
	    flags & 1)) < 0)
		goto out;
	snapshot_builder_set_sample_us(b, sample_us);
	if ((r = get_processes(&c, &t, b)) < 0)
		goto out;
	if (t.next != t.n) {
		r = bad(&c, "string %u is never used", t.next);
		goto out;
	}
	if ((r = get_sockets(&c, b)) < 0)
		goto out;
	if (c.pos != c.len) {
		r = bad(&c, "%zu trailing bytes after the snapshot",
		    c.len - c.pos);
		goto out;
	}
	free(t.data);
	free(t.off);
	return snapshot_builder_finish(b, out);
out:
	if (r == -ENOMEM && err != NULL) {
		err->offset = c.pos;
		snprintf(err->text, sizeof(err->text), "out of memory");
	}
	free(t.data);
	free(t.off);
	snapshot_builder_free(b);
	return r;
}
