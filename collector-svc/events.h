/*
 * Connection events: every TCP connection opened or closed between two
 * samples, so one that lives for a few milliseconds is still seen (the
 * socket table only shows what is open at the instant of a sample).
 *
 * One interface, one implementation per platform, meson picks:
 *	events_linux.c	BPF (bpf/conn.bpf.c through evbpf.c), or the sock_diag
 *			destroy multicast groups when BPF cannot load
 *	events_win.c	ETW (Microsoft-Windows-Kernel-Network)
 * Both hand what they saw to a connbatch (connbatch.h), which caps a
 * sample's connections and aggregates the rest.
 *
 * Threading: one thread uses a struct events (the collector's sampler).
 * events_poll() takes what the kernel queued without waiting; call it often
 * enough that the kernel's queue never fills (the daemon's sampler calls it
 * at least every 200 ms, and events_take() does too).
 */
#ifndef PROCNET_EVENTS_H
#define PROCNET_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

enum events_mode {
	EVENTS_AUTO,		/* the best this platform and kernel allow */
	EVENTS_EBPF,		/* Linux: BPF, or fail */
	EVENTS_SOCK_DIAG,	/* Linux: sock_diag destroy groups, or fail */
	EVENTS_ETW,		/* Windows: ETW, or fail */
	EVENTS_NONE,		/* no events */
	EVENTS_MODE_MAX
};

/* "auto" "ebpf" "sock_diag" "etw" "none"; -1 for an unknown name. */
int events_mode_parse(const char *name);
const char *events_mode_name(unsigned mode);

/* Connections a sample carries one by one; past it they are aggregated. */
#define EVENTS_MAX_CONNS_DEFAULT	100000u
#define EVENTS_MAX_CONNS_LIMIT		(SNAP_MAX_CONNS / 2)

struct events_opts {
	enum events_mode mode;
	uint32_t max_conns;	/* 0: EVENTS_MAX_CONNS_DEFAULT */
};

/*
 * A process seen owning a connection in this batch: the collector puts it
 * in the snapshot, with its details when it still runs, else flagged
 * SNAP_PROC_EXITED with this name.
 */
struct events_owner {
	int32_t pid;
	uint64_t start_time;	/* ms since the epoch, as snap_process */
	char name[16];		/* comm / image name; "" when unknown */
};

/* What happened since the last events_take(); valid until the next call
 * of any events_* function on the same object. */
struct events_batch {
	size_t n_conns;
	const struct snap_conn *conns;
	size_t n_aggs;
	const struct snap_conn_agg *aggs;
	size_t n_owners;
	const struct events_owner *owners;
	uint64_t aggregated;	/* connections folded into aggs (cap reached) */
};

struct events;

/*
 * Opens the source the mode asks for.  EVENTS_AUTO and EVENTS_NONE always
 * succeed (auto falls back, and says why in events_reason()); an explicit
 * source that cannot be had is an error: a negative errno code, with the
 * reason in why.
 */
int events_new(const struct events_opts *o, struct events **out, char *why,
    size_t whylen);
void events_free(struct events *e);	/* NULL is fine */

/* "ebpf", "sock_diag-destroy", "etw" or "none". */
const char *events_source(const struct events *e);
/* Why not a better source ("" when nothing better exists). */
const char *events_reason(const struct events *e);
/* Events lost since events_new (the kernel's queue overflowed). */
uint64_t events_lost(const struct events *e);

/* Takes what is queued, without waiting.  0 or a negative code. */
int events_poll(struct events *e);

/*
 * The socket table of a sample, for owners the source cannot name itself
 * (the sock_diag destroy messages carry none; BPF misses those opened
 * before it was loaded): each TCP socket with a cookie and a known owner.
 * Call events_note_begin(), then events_note_socket() for each, before
 * events_take().
 */
void events_note_begin(struct events *e);
void events_note_socket(struct events *e, const struct snap_socket *s,
    const struct snap_process *owner);

/* Everything since the last take, at wall-clock time now_ms; the batch
 * is then empty again.  0 or a negative code. */
int events_take(struct events *e, struct events_batch *out);

#endif
