/*
 * Interface addresses through getifaddrs(3).
 */
#include "netif.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

int
netif_local_addrs(struct snap_addr **out, size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct snap_addr *arr;
	size_t count = 0, k;

	if (getifaddrs(&ifa) == -1)
		return errno ? -errno : -EIO;
	for (i = ifa; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL && (i->ifa_addr->sa_family == AF_INET ||
		    i->ifa_addr->sa_family == AF_INET6))
			count++;
	if (count > NETIF_MAX_ADDRS)
		count = NETIF_MAX_ADDRS;
	/* calloc(0) may return NULL; always ask for one. */
	arr = calloc(count ? count : 1, sizeof(*arr));
	if (arr == NULL) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	k = 0;
	for (i = ifa; i != NULL && k < count; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *sin =
			    (const struct sockaddr_in *)i->ifa_addr;

			arr[k].family = 4;
			memcpy(arr[k].bytes, &sin->sin_addr, 4);
			k++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 =
			    (const struct sockaddr_in6 *)i->ifa_addr;

			arr[k].family = 6;
			memcpy(arr[k].bytes, &sin6->sin6_addr, 16);
			k++;
		}
	}
	freeifaddrs(ifa);
	*out = arr;
	*n = k;
	return 0;
}
