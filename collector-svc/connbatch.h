/*
 * The connections one sample reports: records from the event source go in
 * (an open, a close, or both), records of the same connection are merged,
 * and once the batch holds max_conns connections further ones are folded
 * into aggregates per (proto, client pid, server pid, server port), so a
 * flood costs bounded memory and is still counted, never dropped.  Pure,
 * platform-neutral, unit-tested (tests/test_connbatch.c); events_linux.c and
 * events_win.c each keep one.
 */
#ifndef PROCNET_CONNBATCH_H
#define PROCNET_CONNBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "snapshot.h"

/* Distinct aggregates a batch keeps; past it, one catch-all aggregate
 * (pids -1, port 0) takes the rest. */
#define CONNBATCH_MAX_AGGS	65536u

/* One event about one connection. */
struct conn_rec {
	struct snap_conn c;	/* open_ms / close_ms 0 when not known */
	bool opened;		/* it opened since the last batch was taken */
	bool closed;		/* it closed (close_ms and bytes are final) */
	char name[16];		/* the owner's process name; "" unknown */
};

struct connbatch;

/* max_conns: 1 .. EVENTS_MAX_CONNS_LIMIT.  NULL on ENOMEM or a bad cap. */
struct connbatch *connbatch_new(uint32_t max_conns);
void connbatch_free(struct connbatch *b);	/* NULL is fine */

/* Adds r.  Returns 0, or -ENOMEM (r is then counted in an aggregate if
 * one could be had, else lost: connbatch_lost() says how many). */
int connbatch_add(struct connbatch *b, const struct conn_rec *r);

/* The batch as it stands; valid until the next add or clear. */
void connbatch_view(const struct connbatch *b, struct events_batch *out);

/* Records lost to allocation failures since connbatch_new(). */
uint64_t connbatch_lost(const struct connbatch *b);

/* Empties the batch, keeping its memory for the next one. */
void connbatch_clear(struct connbatch *b);

#endif
