/*
 * The collector: one call takes one snapshot of which process owns which
 * TCP/UDP socket.  collect_linux.c implements it with netlink sock_diag and
 * /proc, collect_win.c with GetExtendedTcpTable/UdpTable; meson picks one.
 *
 * A struct collector keeps state between samples (buffers, the user-name
 * cache, and on Linux the inode->owner map of the steady state), so a daemon
 * makes one and calls collector_sample() from its sampler thread.  One
 * collector must not be used by two threads at once; the snapshots it hands
 * out are immutable and may be shared freely (snapshot_ref/unref).  The
 * Linux backend may start one helper thread inside collector_sample() (the
 * /proc fd walk on the second core) and always joins it before returning.
 */
#ifndef PROCNET_COLLECT_H
#define PROCNET_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct events;

/*
 * What to collect.  Zero-initialise and set what you need:
 *	struct collect_opts o = { .tcp = true, .udp = true };
 * Zero in the tuning fields means "the default".
 */
struct collect_opts {
	bool tcp;
	bool udp;
	/*
	 * Steady state (daemon mode): keep the socket->owner map between
	 * samples and rescan only processes whose fd count changed when
	 * sockets of unknown owner appear.  false: every sample is a cold,
	 * full pass (what --once does).  Backends without such a map
	 * (Windows: the OS table carries the pid) ignore it, except that
	 * Windows turns ESTATS counters on only here: they can be read
	 * from the sample after they were turned on.
	 */
	bool incremental;
	/* In incremental mode, do a full pass at least every this many
	 * samples as a backstop; 0 = COLLECT_FULL_EVERY_DEFAULT. */
	unsigned full_every;
	/* Linux: read the /proc/net text tables even when netlink works
	 * (tests and old kernels; the backend falls back by itself when
	 * netlink is refused).  Other backends ignore it. */
	bool text_tables;
	/* Linux: the most network namespaces whose sockets are dumped
	 * (the collector's own always is); 0 = the default (256). */
	unsigned max_netns;
	/* Connection events (events.h), not owned: each sample drains them
	 * and carries the connections seen since the last one, and their
	 * owners as processes.  NULL: none (events_source "none"). */
	struct events *events;
};

#define COLLECT_FULL_EVERY_DEFAULT	30u

/* What the last sample cost and did; for --stats, logs and the bench. */
struct collect_stats {
	uint32_t sample_us;		/* whole collector_sample() */
	uint32_t dump_us;		/* socket table (netlink / OS table) */
	uint32_t owner_us;		/* socket->owner mapping (fd scan); on
				 * Linux it overlaps the dump, so this is
				 * dump and scan together */
	uint32_t procinfo_us;		/* per-process details */
	size_t n_sockets;
	size_t n_processes;		/* processes in the snapshot */
	size_t n_fds_scanned;		/* fd entries looked at this sample */
	size_t n_pids_scanned;		/* processes whose fds were read */
	bool full_pass;			/* owner map rebuilt from scratch */
	bool fallback;			/* /proc/net text instead of netlink */
	bool privileged;		/* every process's fds were readable */
	size_t n_netns;			/* network namespaces dumped (Linux) */
	size_t n_netns_skipped;		/* seen but past max_netns */
	size_t n_netns_failed;		/* dumped in vain this sample */
	uint64_t peak_rss_kb;		/* collector process's peak RSS so far
					 * (Linux VmHWM, Windows PeakWorkingSetSize) */
	/* Windows: why per-connection TCP counters (ESTATS) are off or
	 * partial, and why services per process could not be read; ""
	 * when all is well (the daemon logs a change). */
	char tcp_info_note[192];
	char services_note[192];
};

struct collector;

/* Returns 0 and an owned collector in *out, or a negative errno-style
 * code: -ENOMEM, or (Linux) why /proc could not be opened. */
int collector_new(struct collector **out);
void collector_free(struct collector *c);	/* NULL is fine */

/*
 * Takes one snapshot.  On success returns 0 and *out holds one reference
 * (snapshot_unref() it).  On failure returns a negative errno-style code,
 * leaves *out untouched, and collector_error() says what went wrong.
 * Processes that exit during the sample are normal, never an error.
 */
int collector_sample(struct collector *c, const struct collect_opts *o,
    struct snapshot **out);

/* Counters of the last successful sample; all zero before the first. */
void collector_stats(const struct collector *c, struct collect_stats *out);

/* Text of the last failure ("" when none); valid until the next call. */
const char *collector_error(const struct collector *c);

#endif
