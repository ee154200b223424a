/*
 * libFuzzer target for the Windows collector's ETW path, which parses what
 * the kernel's Kernel-Network provider hands over: the input is a stream
 * of records [event id (1 byte, mapped onto the provider's id range),
 * length (1 byte), payload], each decoded by etw_net and fed to an
 * etw_conns tracker with a small cap (so the cap, growth and rehash paths
 * run), with a take every few records (after an empty socket table, so
 * quiet connections end) into a sample's batch (etw_rec, connbatch) with a
 * smaller cap still.  Invariants: the tracker never
 * holds more than its cap, a take empties it of closed connections, and a
 * batch lists at most its cap and folds the rest into aggregates.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connbatch.h"
#include "etw_conns.h"
#include "etw_net.h"
#include "etw_rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP		64u
#define BATCH_CAP	8u

struct take {
	struct connbatch *batch;
	size_t n;
};

static void
on_conn(void *ctx, const struct etw_conn *c)
{
	struct take *t = ctx;
	struct events_owner o = { .pid = (int32_t)(c->pid & 0x7fffffff),
	    .start_time = c->pid, .name = "fuzz.exe" };
	struct conn_rec r;

	if (c->family != 4 && c->family != 6)
		abort();
	etw_rec_fill(&r, c, c->pid & 1 ? &o : NULL);
	if (r.c.owner == SNAP_OWNER_KNOWN && r.c.pid < 0)
		abort();
	(void)connbatch_add(t->batch, &r);
	t->n++;
}

static void
take(struct etw_conns *c, struct take *t, int64_t now)
{
	struct events_batch eb;

	/* An empty socket table: what is quiet for 3 ticks ends. */
	etw_conns_table_begin(c);
	(void)etw_conns_table_end(c, now, 3);
	(void)etw_conns_take(c, on_conn, t);
	connbatch_view(t->batch, &eb);
	if (eb.n_conns > BATCH_CAP)
		abort();
	connbatch_clear(t->batch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct etw_conns *c = etw_conns_new(CAP);
	struct take tk = { connbatch_new(BATCH_CAP), 0 };
	size_t i = 0, recs = 0;
	int64_t t = 1;

	if (c == NULL || tk.batch == NULL) {
		etw_conns_free(c);
		connbatch_free(tk.batch);
		return 0;
	}
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
			take(c, &tk, t);
	}
	take(c, &tk, t);
	etw_conns_free(c);
	connbatch_free(tk.batch);
	return 0;
}
