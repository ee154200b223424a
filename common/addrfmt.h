/*
 * Socket addresses as text, the one form every output uses: the address as
 * inet_ntop writes it, and an endpoint as "a.b.c.d:port" or "[v6]:port".
 * IPv4 is formatted by hand, as it is most of what a big snapshot or graph
 * prints.  Pure: no allocation.
 */
#ifndef PROCNET_ADDRFMT_H
#define PROCNET_ADDRFMT_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* Room for addrfmt_endpoint(): "[", the address, "]:65535" and a NUL. */
#define ADDRFMT_ENDPOINT_MAX	(SNAP_ADDRSTRLEN + 8)

/* a in inet_ntop form into out (SNAP_ADDRSTRLEN bytes); returns the
 * length. */
size_t addrfmt_addr(const struct snap_addr *a, char *out);

/* "a.b.c.d:port" or "[v6]:port" into out (ADDRFMT_ENDPOINT_MAX bytes);
 * returns the length. */
size_t addrfmt_endpoint(const struct snap_addr *a, uint16_t port, char *out);

/* The canonical form of a for comparing addresses: IPv4-mapped IPv6
 * (::ffff:a.b.c.d) becomes IPv4, bytes past an IPv4 address are zero. */
void addrfmt_canon(const struct snap_addr *in, struct snap_addr *out);

#endif
