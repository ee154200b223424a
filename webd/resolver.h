/*
 * Names for the addresses on the map, found off the sampling and serving
 * path.  A thread of its own runs c-ares; the graph pipeline only ever
 * reads the cache (resolver_name), and a miss queues a lookup whose answer
 * shows in a later sample.  Every resource has a cap: cache entries,
 * queries in flight, queries per second, and the time a query may take.
 *
 * Where a name comes from, in the order tried:
 *   hosts  the hosts file (/etc/hosts, or Windows' own), reread when it
 *          changes; answered in the call;
 *   local  this machine's interface addresses and 127.0.0.1 / ::1: its
 *          host name (loopback: "localhost"), never asked of the network;
 *   ptr    a reverse (PTR) query to the DNS server, only in mode "on",
 *          answered in a later call.
 */
#ifndef PROCNET_RESOLVER_H
#define PROCNET_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "dnsmsg.h"
#include "snapshot.h"

enum resolve_mode {
	RESOLVE_OFF,		/* no names at all, no lookups */
	RESOLVE_LOCAL,		/* hosts file and own addresses only */
	RESOLVE_ON,		/* and reverse DNS */
	RESOLVE_MODE_MAX
};

enum names_source {
	NAMES_SOURCE_NONE,
	NAMES_SOURCE_HOSTS,
	NAMES_SOURCE_LOCAL,
	NAMES_SOURCE_PTR,
	NAMES_SOURCE_MAX
};

/* A name as resolver_name() hands it out. */
#define RESOLVER_NAME_MAX	(DNSMSG_NAME_MAX + 1)

#define RESOLVER_CACHE_MAX	10000u
#define RESOLVER_NEGATIVE_S	300u	/* no name: asked again after 5 min */
#define RESOLVER_TTL_MIN_S	30u	/* a shorter TTL is held this long */
#define RESOLVER_TTL_MAX_S	86400u
#define RESOLVER_INFLIGHT_MAX	32u
#define RESOLVER_RATE_PER_S	50u
#define RESOLVER_TIMEOUT_MS	2000u
#define RESOLVER_TRIES		2

struct resolver_config {
	enum resolve_mode mode;
	/* "1.2.3.4:53" / "[::1]:5353" (options_parse_resolver's form), or
	 * NULL for the system's servers. */
	const char *server;
	/* The hosts file; NULL for the system's (hostsfile_default_path). */
	const char *hosts_path;
	/* Caps; 0 takes the default above. */
	unsigned cache_max;
	unsigned inflight_max;
	unsigned rate_per_s;
	unsigned timeout_ms;
};

struct resolver_stats {
	enum resolve_mode mode;
	uint64_t queries;	/* PTR queries sent */
	uint64_t answers;	/* ... answered with a name */
	uint64_t no_name;	/* NXDOMAIN or no PTR record */
	uint64_t failures;	/* timeouts, server failures, bad replies */
	uint64_t rate_limited;	/* misses left for a later sample */
	unsigned cached;	/* entries, names and negatives */
	unsigned in_flight;
	unsigned queued;
};

struct resolver;

/* Starts the resolver's thread (none for RESOLVE_OFF).  Returns 0, or a
 * negative code with a message for a person in err. */
int resolver_new(const struct resolver_config *c, struct resolver **out,
    char *err, size_t errlen);
void resolver_free(struct resolver *r);	/* NULL is fine */

/* This machine's interface addresses and host name, for names that never
 * leave it.  Copied. */
void resolver_set_local(struct resolver *r, const struct snap_addr *addrs,
    size_t n, const char *hostname);

/*
 * The name known for a, copied to out (RESOLVER_NAME_MAX bytes), and its
 * source; NAMES_SOURCE_NONE when there is none yet or none at all.  Never
 * blocks on the network: a miss queues a lookup (within the caps) and the
 * answer is there for a later call.  Unspecified and multicast addresses
 * have no name.
 */
enum names_source resolver_name(struct resolver *r, const struct snap_addr *a,
    char *out);

/* resolver_name in the form graph_options.name_of takes (ctx: the
 * resolver): the source's name, or NULL when a has no name. */
const char *resolver_name_of(void *ctx, const struct snap_addr *a,
    char *name);

void resolver_get_stats(struct resolver *r, struct resolver_stats *s);

const char *resolve_mode_name(unsigned mode);		/* "on" ... */
const char *names_source_name(unsigned source);		/* "ptr" ... */

#endif
