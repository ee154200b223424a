/*
 * Shared by the codec tests (test_codec.c: version 1, test_codec_v2.c):
 * a deterministic generator of strings and addresses, and a writer for
 * payloads built by hand from docs/protocol.md.  Header-only: each test
 * is one program.
 */
#ifndef PROCNET_TESTS_CODECFIX_H
#define PROCNET_TESTS_CODECFIX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

/* Deterministic generator: the same seed gives the same snapshots. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static char *
rnd_string(void)
{
	static const char *const pool[] = {
		"", "root", "www-data", "nginx", "/usr/sbin/nginx",
		"postgres: checkpointer", "caf\xc3\xa9", "\xe2\x9c\x93 ok",
	};
	uint32_t kind = rnd() % 10;
	size_t len;
	char *s;

	if (kind < 6)
		return strdup(pool[rnd() % (sizeof(pool) / sizeof(pool[0]))]);
	if (kind == 9)
		len = SNAP_MAX_STRING;	/* the longest a string may be */
	else
		len = rnd() % 300;
	s = malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		s[i] = (char)(1 + rnd() % 255);	/* any byte but NUL */
	s[len] = '\0';
	/* keep the last character whole so the builder keeps every byte */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			s[i] = (char)('a' + (unsigned char)s[i] % 26);
	return s;
}

static void
rnd_addr(struct snap_addr *a, uint8_t family)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	for (int i = 0; i < (family == 4 ? 4 : family == 6 ? 16 : 0); i++)
		a->bytes[i] = (uint8_t)rnd();
}

/* A writer for hand-made payloads, following docs/protocol.md. */
struct w {
	uint8_t b[8192];
	size_t n;
};

static void
w8(struct w *w, uint8_t v)
{
	w->b[w->n++] = v;
}

static void
w16(struct w *w, uint16_t v)
{
	w8(w, (uint8_t)v);
	w8(w, (uint8_t)(v >> 8));
}

static void
w32(struct w *w, uint32_t v)
{
	w16(w, (uint16_t)v);
	w16(w, (uint16_t)(v >> 16));
}

static void
w64(struct w *w, uint64_t v)
{
	w32(w, (uint32_t)v);
	w32(w, (uint32_t)(v >> 32));
}

static void
wvar(struct w *w, uint32_t v)
{
	do {
		w8(w, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void
wstr(struct w *w, const char *s)
{
	wvar(w, (uint32_t)strlen(s));
	memcpy(w->b + w->n, s, strlen(s));
	w->n += strlen(s);
}

#endif
