/*
 * Windows per-connection TCP statistics (ESTATS, issue 16): bytes each way,
 * smoothed RTT and retransmissions of established connections, from
 * GetPerTcp(6)ConnectionEStats (Data and Path), after the collector turned
 * collection on with SetPerTcp(6)ConnectionEStats.  Turning it on costs
 * the stack work on every segment of that connection and needs
 * administrator rights (the collector service runs as LocalSystem), so it
 * is turned on for at most `cap` connections (estats_set.h).  The counters
 * start when collection is turned on: bytes are "since the collector began
 * watching this connection", which is what rates need.
 *
 * The functions are looked up at run time (Wine has none of the Get ones),
 * and when they cannot be used the status says why.
 */
#ifndef PROCNET_ESTATS_H
#define PROCNET_ESTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "estats_set.h"

struct estats_conn {
	struct estats_key key;
	bool established;
};

struct estats_info {
	bool valid;
	uint64_t bytes_sent;		/* DataBytesOut */
	uint64_t bytes_received;	/* DataBytesIn */
	uint32_t rtt_us;		/* SmoothedRtt (ms) * 1000 */
	uint32_t retrans;		/* PktsRetrans */
};

struct estats;

/* cap 0 = ESTATS_DEFAULT_CAP.  NULL on ENOMEM or a bad cap. */
struct estats *estats_new(size_t cap);
void estats_free(struct estats *e);	/* NULL is fine */

/* One sample: out[i] for conns[i] (valid when its counters are on and
 * were read); new established connections get counters while slots are
 * free (read from the next sample).  Returns how many were read. */
size_t estats_sample(struct estats *e, const struct estats_conn *conns,
    size_t n, struct estats_info *out);

/* 1 when counters are being read, 0 when ESTATS is off; reason says why
 * it is off, or how many connections went without for the cap ("" when
 * none). */
int estats_status(const struct estats *e, char *reason, size_t len);

#endif
