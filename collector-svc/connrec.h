/*
 * The BPF program's ring-buffer record (bpf/conn_event.h) into a conn_rec.
 * Pure: every field is checked (size, kind, family, role), so a record the
 * program did not write the way we expect is refused, not guessed at.
 */
#ifndef PROCNET_CONNREC_H
#define PROCNET_CONNREC_H

#include <stddef.h>
#include <stdint.h>

#include "connbatch.h"

/* How the kernel's clocks map onto the snapshot's. */
struct connrec_clock {
	int64_t real_minus_mono_ms;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	int64_t btime;			/* boot time, Unix seconds (/proc/stat) */
	long ticks;			/* clock ticks a second (_SC_CLK_TCK) */
};

/* A process start in ns since boot (task start_boottime) as the snapshot's
 * start time: /proc/<pid>/stat's ticks turned into ms the same way, so
 * both give the same number for the same process. */
uint64_t connrec_start_ms(const struct connrec_clock *k, uint64_t boot_ns);

/* Parses one record.  0, or -EBADMSG (wrong size or a field out of range). */
int connrec_parse(const void *data, size_t len, const struct connrec_clock *k,
    struct conn_rec *out);

#endif
