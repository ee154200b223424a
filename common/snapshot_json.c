/*
 * Snapshot -> JSON.  The writer reserves room before each field so the hot
 * loop over sockets only formats numbers and copies bytes.
 */
#include "snapshot_json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct jbuf {
	char *p;
	size_t len, cap;
	bool failed;
	int error;		/* -ENOMEM, or what sink returned */
	/* Streaming: the text goes to sink in pieces of about STREAM_CHUNK
	 * instead of growing one buffer. */
	snapshot_json_sink sink;
	void *sink_arg;
};

#define STREAM_CHUNK	(64u * 1024u)

static bool
flush(struct jbuf *b)
{
	int rc;

	if (b->len > 0 && (rc = b->sink(b->sink_arg, b->p, b->len)) != 0) {
		b->failed = true;
		b->error = rc;
		return false;
	}
	b->len = 0;
	return true;
}

/* Room for need more bytes.  Pointers into b->p are stale after a call. */
static bool
reserve(struct jbuf *b, size_t need)
{
	size_t ncap;
	char *np;

	if (b->failed)
		return false;
	if (b->cap - b->len > need)
		return true;
	if (b->sink != NULL && !flush(b))
		return false;
	if (b->cap - b->len > need)
		return true;
	ncap = b->cap ? b->cap : 4096;
	while (ncap - b->len <= need) {
		if (ncap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		ncap *= 2;
	}
	if ((np = realloc(b->p, ncap)) == NULL) {
		b->failed = true;
		b->error = -ENOMEM;
		return false;
	}
	b->p = np;
	b->cap = ncap;
	return true;
}

static void
put(struct jbuf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

#define PUTS(b, lit)	put((b), (lit), sizeof(lit) - 1)

static void
put_u64(struct jbuf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(b, tmp + i, sizeof(tmp) - i);
}

static void
put_i64(struct jbuf *b, int64_t v)
{
	if (v < 0) {
		PUTS(b, "-");
		put_u64(b, (uint64_t)0 - (uint64_t)v);
	} else
		put_u64(b, (uint64_t)v);
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if none. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;	/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

static void
put_str(struct jbuf *b, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, run, k;

	/* Worst case every byte becomes 6 ("\u00XX") or 3 (U+FFFD). */
	if (!reserve(b, n * 6 + 2))
		return;
	b->p[b->len++] = '"';
	while (i < n) {
		/* Copy a run of plain ASCII in one go. */
		for (run = i; run < n && s[run] >= 0x20 && s[run] < 0x80 &&
		    s[run] != '"' && s[run] != '\\'; run++)
			;
		memcpy(b->p + b->len, s + i, run - i);
		b->len += run - i;
		if ((i = run) >= n)
			break;
		unsigned char c = s[i];
		char *o = b->p + b->len;

		if (c == '"' || c == '\\') {
			o[0] = '\\';
			o[1] = (char)c;
			b->len += 2;
			i++;
		} else if (c < 0x20) {
			o[0] = '\\';
			switch (c) {
			case '\n': o[1] = 'n'; b->len += 2; break;
			case '\r': o[1] = 'r'; b->len += 2; break;
			case '\t': o[1] = 't'; b->len += 2; break;
			case '\b': o[1] = 'b'; b->len += 2; break;
			case '\f': o[1] = 'f'; b->len += 2; break;
			default:
				memcpy(o + 1, "u00", 3);
				o[4] = hex[c >> 4];
				o[5] = hex[c & 15];
				b->len += 6;
			}
			i++;
		} else if ((k = utf8_seq(s + i, n - i)) != 0) {
			memcpy(o, s + i, k);
			b->len += k;
			i += k;
		} else {
			memcpy(o, "\xEF\xBF\xBD", 3);	/* U+FFFD */
			b->len += 3;
			i++;
		}
	}
	b->p[b->len++] = '"';
}

int
snapshot_json_string(char **buf, size_t *len, size_t *cap, const char *str)
{
	struct jbuf b = { *buf, *len, *cap, false, 0, NULL, NULL };

	put_str(&b, str);
	if (b.failed)
		return -ENOMEM;
	*buf = b.p;
	*len = b.len;
	*cap = b.cap;
	return 0;
}

static void
put_process(struct jbuf *b, const struct snap_process *p)
{
	PUTS(b, "{\"pid\":");
	put_i64(b, p->pid);
	PUTS(b, ",\"ppid\":");
	put_i64(b, p->ppid);
	PUTS(b, ",\"start_time\":");
	put_u64(b, p->start_time);
	PUTS(b, ",\"user\":");
	put_str(b, p->user);
	PUTS(b, ",\"name\":");
	put_str(b, p->name);
	PUTS(b, ",\"exe\":");
	put_str(b, p->exe);
	PUTS(b, ",\"cmdline\":");
	put_str(b, p->cmdline);
	PUTS(b, "}");
}

static void
put_socket(struct jbuf *b, const struct snap_socket *s)
{
	char addr[SNAP_ADDRSTRLEN];
	const char *name;

	PUTS(b, "{\"proto\":");
	name = snap_proto_name(s->proto);
	put_str(b, name != NULL ? name : "");
	PUTS(b, ",\"family\":");
	put_u64(b, s->family);
	PUTS(b, ",\"local_addr\":\"");
	snap_addr_format(&s->local, addr);
	put(b, addr, strlen(addr));
	PUTS(b, "\",\"local_port\":");
	put_u64(b, s->local_port);
	PUTS(b, ",\"remote_addr\":\"");
	snap_addr_format(&s->remote, addr);
	put(b, addr, strlen(addr));
	PUTS(b, "\",\"remote_port\":");
	put_u64(b, s->remote_port);
	PUTS(b, ",\"state\":");
	name = snap_state_name(s->state);
	put_str(b, name != NULL ? name : "");
	if (s->owner == SNAP_OWNER_KNOWN) {
		PUTS(b, ",\"pid\":");
		put_i64(b, s->pid);
	} else {
		PUTS(b, ",\"pid\":null,\"owner_unknown\":");
		name = snap_owner_name(s->owner);
		put_str(b, name != NULL ? name : "unknown");
	}
	PUTS(b, "}");
}

static void
put_snapshot(struct jbuf *b, const struct snapshot *s)
{
	int64_t secs;
	size_t i;

	PUTS(b, "{\"version\":1,\"host\":");
	put_str(b, s->host != NULL ? s->host : "");
	PUTS(b, ",\"os\":");
	put_str(b, s->os != NULL ? s->os : "");
	PUTS(b, ",\"time\":");
	/* Floor division: whole Unix seconds even before 1970. */
	secs = s->time_ms >= 0 ? s->time_ms / 1000 :
	    -((-s->time_ms + 999) / 1000);
	put_i64(b, secs);
	PUTS(b, ",\"privileged\":");
	if (s->privileged)
		PUTS(b, "true");
	else
		PUTS(b, "false");
	PUTS(b, ",\"processes\":[");
	for (i = 0; i < s->n_processes; i++) {
		if (i > 0)
			PUTS(b, ",");
		put_process(b, &s->processes[i]);
	}
	PUTS(b, "],\"sockets\":[");
	for (i = 0; i < s->n_sockets; i++) {
		if (i > 0)
			PUTS(b, ",");
		put_socket(b, &s->sockets[i]);
	}
	PUTS(b, "]}\n");
}

int
snapshot_json(const struct snapshot *s, char **out, size_t *len)
{
	struct jbuf b = { NULL, 0, 0, false, 0, NULL, NULL };

	/* About 170 bytes a socket: size once, grow rarely. */
	if (reserve(&b, 256 + s->n_sockets * 180 + s->n_processes * 256))
		put_snapshot(&b, s);
	if (!reserve(&b, 1)) {
		free(b.p);
		return -ENOMEM;
	}
	b.p[b.len] = '\0';
	*out = b.p;
	if (len != NULL)
		*len = b.len;
	return 0;
}

int
snapshot_json_stream(const struct snapshot *s, snapshot_json_sink sink,
    void *arg)
{
	struct jbuf b = { NULL, 0, 0, false, 0, sink, arg };

	if (reserve(&b, STREAM_CHUNK))
		put_snapshot(&b, s);
	if (!b.failed)
		flush(&b);
	free(b.p);
	return b.failed ? b.error : 0;
}
