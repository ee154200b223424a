/*
 * This host's interface addresses, so the graph can tell local peers from
 * remote ones.  netif_unix.c uses getifaddrs, netif_win.c
 * GetAdaptersAddresses.
 */
#ifndef PROCNET_NETIF_H
#define PROCNET_NETIF_H

#include <stddef.h>

#include "snapshot.h"

#define NETIF_MAX_ADDRS	4096u

/* A malloc'd array of every IPv4/IPv6 address on this host's interfaces
 * (loopback included) in *out, its length in *n.  Returns 0 or a negative
 * errno-style code; *out is only written on success.  Free with free(). */
int netif_local_addrs(struct snap_addr **out, size_t *n);

#endif
