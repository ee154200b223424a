/*
 * Which TCP connections have Windows extended statistics (ESTATS) turned
 * on (issue 16).  SetPerTcpConnectionEStats makes the stack keep Data and
 * Path counters for one connection, at a cost on every segment it carries,
 * so the collector turns them on for at most `cap` connections and keeps
 * the ones it already has: every sample it marks the connections still
 * present (estats_set_keep), then offers new ones (estats_set_claim),
 * which get a slot only while fewer than cap are held; estats_set_end
 * forgets the connections that went away, freeing their slots.  Pure and
 * portable; collect_win.c makes the Windows calls.
 */
#ifndef PROCNET_ESTATS_SET_H
#define PROCNET_ESTATS_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define ESTATS_DEFAULT_CAP	1024u
#define ESTATS_MAX_CAP		65536u

struct estats_key {
	struct snap_addr local, remote;
	uint16_t local_port, remote_port;
};

struct estats_set;

/* cap 0 = ESTATS_DEFAULT_CAP; NULL on ENOMEM or cap > ESTATS_MAX_CAP. */
struct estats_set *estats_set_new(size_t cap);
void estats_set_free(struct estats_set *s);	/* NULL is fine */

/* Starts a sample. */
void estats_set_begin(struct estats_set *s);

/* When k was held at the previous sample, keeps it for this one and
 * returns true (its counters are on: read them). */
bool estats_set_keep(struct estats_set *s, const struct estats_key *k);

/* Offers k (not kept) a slot: true when it got one (turn its counters
 * on), false when cap slots are taken.  Claim only after every keep of
 * the sample, so a new connection never takes the slot of an old one that
 * comes later in the table. */
bool estats_set_claim(struct estats_set *s, const struct estats_key *k);

/* Gives a claimed slot back (turning the counters on failed). */
void estats_set_release(struct estats_set *s, const struct estats_key *k);

/* Ends the sample: what was neither kept nor claimed is forgotten. */
void estats_set_end(struct estats_set *s);

size_t estats_set_count(const struct estats_set *s);	/* held now */
size_t estats_set_cap(const struct estats_set *s);

#endif
