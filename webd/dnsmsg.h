/*
 * Reverse-DNS on the wire: the query name for an address, and the PTR
 * answer of a reply with its TTL.  c-ares sends the queries and collects
 * the replies; this reads them.  Pure: no I/O, no allocation, every length
 * checked against what remains, so a hostile server's reply cannot make it
 * read outside the buffer or loop.
 */
#ifndef PROCNET_DNSMSG_H
#define PROCNET_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define DNSMSG_CLASS_IN		1
#define DNSMSG_TYPE_PTR		12

/* A presentation-form domain name, without the trailing dot. */
#define DNSMSG_NAME_MAX		254u

/* "77.0.0.127.in-addr.arpa" or the 72-byte ip6.arpa nibble form; out must
 * hold DNSMSG_REVERSE_MAX bytes.  Returns the length, or -EINVAL for an
 * address family that is neither 4 nor 6. */
#define DNSMSG_REVERSE_MAX	73u
int dnsmsg_reverse_name(const struct snap_addr *a, char *out);

enum dnsmsg_result {
	DNSMSG_ANSWER = 0,	/* name and ttl filled */
	DNSMSG_NXDOMAIN,	/* the server says there is no such name */
	DNSMSG_NODATA,		/* a good reply without a PTR record */
	DNSMSG_RESULT_MAX
};

/*
 * Reads a reply to a PTR query: the first PTR record of the answer section
 * whose owner is the question's name, as a lower-case name in out
 * (DNSMSG_NAME_MAX + 1 bytes), and its TTL.  A name is accepted only when
 * every label is letters, digits, '-' or '_' (what a host name can be), so
 * what the UI shows is a name and nothing else.  Returns an enum
 * dnsmsg_result, or -EBADMSG for a reply that is malformed, truncated, not
 * a response, or not an answer to one IN PTR question; -EPROTO for a
 * server failure (SERVFAIL, REFUSED, ...).
 */
int dnsmsg_ptr_answer(const uint8_t *msg, size_t len, char *out,
    uint32_t *ttl);

#endif
