/*
 * libFuzzer target for the Windows collector's ETW path, which parses what
 * the kernel's Kernel-Network provider hands over: the input is a stream
 * of records [event id (1 byte, mapped onto the provider's id range),
 * length (1 byte), payload], each decoded by etw_net and fed to an
 * etw_conns tracker with a small cap (so the cap, growth and rehash paths
 * run), with a take every few records.  Invariants: the tracker never
 * holds more than its cap, and a take empties it of closed connections.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etw_conns.h"
#include "etw_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP	64u

static void
on_conn(void *ctx, const struct etw_conn *c)
{
	size_t *n = ctx;

	if (c->family != 4 && c->family != 6)
		abort();
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etw_conns *c = etw_conns_new(CAP);
	size_t i = 0, recs = 0, taken = 0;
	int64_t t = 1;

	if (c == NULL)
		return 0;
	while (i + 2 <= size) {
		unsigned id = 10u + data[i] % 52u;	/* 10 .. 61 */
		size_t len = data[i + 1];
		struct etw_net_event ev;
		uint8_t *copy;

		i += 2;
		if (len > size - i)
			len = size - i;
		/* An exact-size heap copy, so ASan sees any over-read. */
		if ((copy = malloc(len ? len : 1)) == NULL)
			break;
		memcpy(copy, data + i, len);
		if (etw_net_decode(id, copy, len, &ev) == 0)
			etw_conns_event(c, &ev, t++);
		free(copy);
		i += len;
		if (etw_conns_count(c) > CAP)
			abort();
		if (++recs % 7 == 0)
			(void)etw_conns_take(c, on_conn, &taken);
	}
	(void)etw_conns_take(c, on_conn, &taken);
	etw_conns_free(c);
	return 0;
}
