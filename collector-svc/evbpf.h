/*
 * The BPF connection tracer (bpf/conn.bpf.c): loading, attaching, and
 * draining its ring buffer.  Linux only; events_linux.c is the one user.
 * Records are handed over raw (struct pn_conn_event bytes) for connrec.c
 * to parse, so the parsing is tested without a kernel.
 */
#ifndef PROCNET_EVBPF_H
#define PROCNET_EVBPF_H

#include <stddef.h>
#include <stdint.h>

/* Ring buffer size: at 1 000 connections a second, about 450 KB/s of
 * records; drained at least every 200 ms this is some 40x headroom. */
#define EVBPF_RING_BYTES	(4u << 20)

struct evbpf;

/* Called for each record; a non-zero return stops the drain (kept for the
 * next one) and is what evbpf_poll() returns. */
typedef int (*evbpf_fn)(void *arg, const void *data, size_t len);

/*
 * Loads and attaches the program.  Returns 0 and *out, or a negative errno
 * code with a sentence in why saying what failed and why (no BTF, not
 * permitted, the verifier refused, ...).  fn receives every record.
 */
int evbpf_open(evbpf_fn fn, void *arg, struct evbpf **out, char *why,
    size_t whylen);
void evbpf_free(struct evbpf *b);	/* NULL is fine; detaches */

/* Drains what is queued without waiting: the number of records, or a
 * negative code. */
int evbpf_poll(struct evbpf *b);

/* Counters since the load: records lost because the ring buffer was full,
 * and sockets the kernel had no storage for (their owner unknown). */
uint64_t evbpf_lost(const struct evbpf *b);
uint64_t evbpf_untracked(const struct evbpf *b);

#endif
