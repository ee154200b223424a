/*
 * Interface addresses through GetAdaptersAddresses: every unicast address
 * of every adapter, the loopback pseudo-interface included.
 */
#include "netif.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The adapter list can grow between the size call and the data call. */
#define ADAPTERS_RETRIES	4
#define ADAPTERS_MAX_BYTES	(16u << 20)

static int
win_errno(ULONG err)
{
	switch (err) {
	case ERROR_NOT_ENOUGH_MEMORY:
		return -ENOMEM;
	case ERROR_BUFFER_OVERFLOW:
		return -E2BIG;
	case ERROR_INVALID_PARAMETER:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int
read_adapters(IP_ADAPTER_ADDRESSES **out)
{
	const ULONG flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST |
	    GAA_FLAG_SKIP_DNS_SERVER | GAA_FLAG_SKIP_FRIENDLY_NAME;
	IP_ADAPTER_ADDRESSES *buf = NULL;
	ULONG size = 16 * 1024, rc = ERROR_BUFFER_OVERFLOW;

	for (int i = 0; i < ADAPTERS_RETRIES; i++) {
		if (size > ADAPTERS_MAX_BYTES)
			return -E2BIG;
		if ((buf = malloc(size)) == NULL)
			return -ENOMEM;
		rc = GetAdaptersAddresses(AF_UNSPEC, flags, NULL, buf, &size);
		if (rc == NO_ERROR) {
			*out = buf;
			return 0;
		}
		free(buf);
		buf = NULL;
		if (rc == ERROR_NO_DATA) {
			*out = NULL;	/* no adapters at all */
			return 0;
		}
		if (rc != ERROR_BUFFER_OVERFLOW)
			break;
		size += size / 4;
	}
	return win_errno(rc);
}

int
netif_local_addrs(struct snap_addr **out, size_t *n)
{
	IP_ADAPTER_ADDRESSES *ad, *a;
	IP_ADAPTER_UNICAST_ADDRESS *u;
	struct snap_addr *arr;
	size_t count = 0, k = 0;
	int rc;

	if ((rc = read_adapters(&ad)) != 0)
		return rc;
	for (a = ad; a != NULL; a = a->Next)
		for (u = a->FirstUnicastAddress; u != NULL; u = u->Next)
			count++;
	if (count > NETIF_MAX_ADDRS)
		count = NETIF_MAX_ADDRS;
	/* calloc(0) may return NULL; always ask for one. */
	if ((arr = calloc(count ? count : 1, sizeof(*arr))) == NULL) {
		free(ad);
		return -ENOMEM;
	}
	for (a = ad; a != NULL && k < count; a = a->Next) {
		for (u = a->FirstUnicastAddress; u != NULL && k < count;
		    u = u->Next) {
			const struct sockaddr *sa = u->Address.lpSockaddr;

			if (sa == NULL)
				continue;
			if (sa->sa_family == AF_INET) {
				const struct sockaddr_in *sin =
				    (const struct sockaddr_in *)sa;

				arr[k].family = 4;
				memcpy(arr[k].bytes, &sin->sin_addr, 4);
				k++;
			} else if (sa->sa_family == AF_INET6) {
				const struct sockaddr_in6 *sin6 =
				    (const struct sockaddr_in6 *)sa;

				arr[k].family = 6;
				memcpy(arr[k].bytes, &sin6->sin6_addr, 16);
				k++;
			}
		}
	}
	free(ad);
	*out = arr;
	*n = k;
	return 0;
}
