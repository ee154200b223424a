/* Frame header and the small messages: HELLO, SUBSCRIBE, ERROR. */
#include "frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "le.h"
#include "utf8.h"

static const char *const type_names[FRAME_TYPE_MAX] = {
	"NONE", "HELLO", "SUBSCRIBE", "SNAPSHOT", "ERROR",
};

const char *
frame_type_name(unsigned type)
{
	return type < FRAME_TYPE_MAX ? type_names[type] : NULL;
}

static int fail(struct frame_error *err, size_t offset, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(struct frame_error *err, size_t offset, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->offset = offset;
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	return code;
}

void
frame_header_write(uint8_t out[FRAME_HEADER_SIZE], uint16_t version,
    enum frame_type type, uint32_t len)
{
	le32_put(out, FRAME_MAGIC);
	le16_put(out + 4, version);
	le16_put(out + 6, (uint16_t)type);
	le32_put(out + 8, len);
	le32_put(out + 12, 0);
}

int
frame_header_read(const uint8_t *buf, size_t len, uint16_t version,
    uint32_t max_payload, struct frame_header *out, struct frame_error *err)
{
	uint32_t magic, length, reserved;
	uint16_t v, type;

	if (len < FRAME_HEADER_SIZE)
		return fail(err, len, -ENODATA,
		    "truncated header: %zu of %u bytes", len, FRAME_HEADER_SIZE);
	magic = le32_get(buf);
	v = le16_get(buf + 4);
	type = le16_get(buf + 6);
	length = le32_get(buf + 8);
	reserved = le32_get(buf + 12);
	if (magic != FRAME_MAGIC)
		return fail(err, 0, -EBADMSG, "bad magic 0x%08x", magic);
	if (type == FRAME_NONE || type >= FRAME_TYPE_MAX)
		return fail(err, 6, -EBADMSG, "unknown message type %u", type);
	/* HELLO and ERROR never change layout: HELLO is how versions are
	 * agreed, and an ERROR may come before that (a collector with no
	 * room answers any HELLO with one, in its own version). */
	if (type == FRAME_HELLO || type == FRAME_ERROR ? v == 0 : v != version)
		return fail(err, 4, -EPROTO,
		    "%s frame has protocol version %u, expected %u",
		    type_names[type], v, type == FRAME_HELLO ||
		    type == FRAME_ERROR ? 1 : version);
	if (length > max_payload)
		return fail(err, 8, -EMSGSIZE,
		    "%s payload of %u bytes exceeds the limit of %u",
		    type_names[type], length, max_payload);
	if (reserved != 0)
		return fail(err, 12, -EBADMSG, "reserved header field is 0x%x",
		    reserved);
	out->version = v;
	out->type = type;
	out->length = length;
	return 0;
}

int
frame_read(const uint8_t *buf, size_t len, uint16_t version,
    uint32_t max_payload, struct frame_header *hdr, const uint8_t **payload,
    struct frame_error *err)
{
	struct frame_header h;
	int r;

	r = frame_header_read(buf, len, version, max_payload, &h, err);
	if (r < 0)
		return r;
	if (len - FRAME_HEADER_SIZE < h.length)
		return fail(err, len, -ENODATA,
		    "truncated payload: %zu of %u bytes",
		    len - FRAME_HEADER_SIZE, h.length);
	if (len - FRAME_HEADER_SIZE > h.length)
		return fail(err, FRAME_HEADER_SIZE + h.length, -EBADMSG,
		    "%zu trailing bytes after the frame",
		    len - FRAME_HEADER_SIZE - h.length);
	*hdr = h;
	*payload = buf + FRAME_HEADER_SIZE;
	return 0;
}

/* A string field: u16 length, then that many bytes, no NUL among them. */
static size_t
put_str(uint8_t *p, const char *s, size_t len)
{
	le16_put(p, (uint16_t)len);
	memcpy(p + 2, s, len);
	return 2 + len;
}

static int
get_str(const uint8_t *p, size_t len, size_t *pos, size_t max,
    const char *what, char *out, size_t cap, struct frame_error *err)
{
	size_t n, copy;

	if (len - *pos < 2)
		return fail(err, *pos, -EBADMSG, "%s length truncated", what);
	n = le16_get(p + *pos);
	if (n > max)
		return fail(err, *pos, -EBADMSG,
		    "%s of %zu bytes exceeds the limit of %zu", what, n, max);
	*pos += 2;
	if (len - *pos < n)
		return fail(err, *pos, -EBADMSG,
		    "%s of %zu bytes but only %zu remain", what, n, len - *pos);
	if (memchr(p + *pos, '\0', n) != NULL)
		return fail(err, *pos, -EBADMSG, "%s contains a NUL byte", what);
	if (!utf8_valid((const char *)p + *pos, n))
		return fail(err, *pos, -EBADMSG, "%s is not valid UTF-8", what);
	copy = n < cap - 1 ? n : cap - 1;
	memcpy(out, p + *pos, copy);
	out[copy] = '\0';
	*pos += n;
	return 0;
}

static int
finish(uint8_t *buf, uint16_t version, enum frame_type type, size_t plen,
    size_t *len)
{
	frame_header_write(buf, version, type, (uint32_t)plen);
	*len = FRAME_HEADER_SIZE + plen;
	return 0;
}

int
frame_encode_hello(const struct frame_hello *h, uint16_t version,
    uint8_t *buf, size_t cap, size_t *len)
{
	size_t alen = strnlen(h->agent, sizeof(h->agent));
	uint8_t *p = buf + FRAME_HEADER_SIZE;

	if (alen > FRAME_MAX_AGENT || h->min_version == 0 ||
	    h->min_version > h->max_version || !utf8_valid(h->agent, alen))
		return -EINVAL;
	if (cap < FRAME_HEADER_SIZE + 6 + alen)
		return -ENOSPC;
	le16_put(p, h->min_version);
	le16_put(p + 2, h->max_version);
	return finish(buf, version, FRAME_HELLO, 4 + put_str(p + 4, h->agent,
	    alen), len);
}

int
frame_encode_subscribe(const struct frame_subscribe *s, uint16_t version,
    uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t *p = buf + FRAME_HEADER_SIZE;

	if (cap < FRAME_HEADER_SIZE + 8)
		return -ENOSPC;
	le32_put(p, s->interval_ms);
	le32_put(p + 4, s->udp ? FRAME_SUB_UDP : 0);
	return finish(buf, version, FRAME_SUBSCRIBE, 8, len);
}

int
frame_encode_error(const char *text, uint16_t version, uint8_t *buf,
    size_t cap, size_t *len)
{
	size_t tlen = utf8_cut(text, FRAME_MAX_ERROR_TEXT);

	if (!utf8_valid(text, tlen))
		return -EINVAL;
	if (cap < FRAME_HEADER_SIZE + 2 + tlen)
		return -ENOSPC;
	return finish(buf, version, FRAME_ERROR,
	    put_str(buf + FRAME_HEADER_SIZE, text, tlen), len);
}

static int
no_trailing(size_t pos, size_t len, const char *what, struct frame_error *err)
{
	if (pos != len)
		return fail(err, pos, -EBADMSG, "%zu trailing bytes in %s",
		    len - pos, what);
	return 0;
}

int
frame_decode_hello(const uint8_t *p, size_t len, struct frame_hello *out,
    struct frame_error *err)
{
	struct frame_hello h;
	size_t pos = 4;
	int r;

	if (len < 4)
		return fail(err, len, -EBADMSG, "HELLO truncated: %zu bytes",
		    len);
	h.min_version = le16_get(p);
	h.max_version = le16_get(p + 2);
	if (h.min_version == 0 || h.min_version > h.max_version)
		return fail(err, 0, -EBADMSG,
		    "HELLO has an empty version range %u..%u",
		    h.min_version, h.max_version);
	r = get_str(p, len, &pos, FRAME_MAX_AGENT, "HELLO agent", h.agent,
	    sizeof(h.agent), err);
	if (r < 0)
		return r;
	if ((r = no_trailing(pos, len, "HELLO", err)) < 0)
		return r;
	*out = h;
	return 0;
}

int
frame_decode_subscribe(const uint8_t *p, size_t len,
    struct frame_subscribe *out, struct frame_error *err)
{
	uint32_t flags;

	if (len < 8)
		return fail(err, len, -EBADMSG,
		    "SUBSCRIBE truncated: %zu of 8 bytes", len);
	if (len > 8)
		return fail(err, 8, -EBADMSG, "%zu trailing bytes in SUBSCRIBE",
		    len - 8);
	flags = le32_get(p + 4);
	if (flags & ~FRAME_SUB_FLAGS)
		return fail(err, 4, -EBADMSG,
		    "SUBSCRIBE has unknown flags 0x%x", flags);
	out->interval_ms = le32_get(p);
	out->udp = (flags & FRAME_SUB_UDP) != 0;
	return 0;
}

int
frame_decode_error(const uint8_t *p, size_t len, char *text, size_t cap,
    struct frame_error *err)
{
	char tmp[FRAME_MAX_ERROR_TEXT + 1];
	size_t pos = 0, n;
	int r;

	if (cap == 0)
		return -EINVAL;
	r = get_str(p, len, &pos, FRAME_MAX_ERROR_TEXT, "ERROR text", tmp,
	    sizeof(tmp), err);
	if (r < 0)
		return r;
	if ((r = no_trailing(pos, len, "ERROR", err)) < 0)
		return r;
	/* a short buffer gets whole characters only */
	n = utf8_cut(tmp, cap - 1);
	memcpy(text, tmp, n);
	text[n] = '\0';
	return 0;
}

int
frame_negotiate(uint16_t my_min, uint16_t my_max, uint16_t peer_min,
    uint16_t peer_max, uint16_t *chosen)
{
	uint16_t hi = my_max < peer_max ? my_max : peer_max;
	uint16_t lo = my_min > peer_min ? my_min : peer_min;

	if (my_min > my_max || peer_min > peer_max || lo > hi || lo == 0)
		return -EPROTONOSUPPORT;
	*chosen = hi;
	return 0;
}
