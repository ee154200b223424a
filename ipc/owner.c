/* ipc_endpoint_owner: the same on every platform, through the transport. */
#include "transport.h"

#include <stdio.h>

#define OWNER_CONNECT_MS	1000

int
ipc_endpoint_owner(const char *endpoint, char *buf, size_t len)
{
	struct ipc_conn *c;
	int r;

	if (len > 0)
		snprintf(buf, len, "unknown");
	if ((r = ipc_connect(endpoint, OWNER_CONNECT_MS, &c)) < 0)
		return r;
	r = ipc_conn_peer(c, buf, len);
	ipc_conn_close(c);
	return r;
}
