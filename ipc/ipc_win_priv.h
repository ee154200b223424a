/*
 * Between ipc_win.c and peer_win.c only: the pipe handle of a connection,
 * and the service SID the pipe's DACL grants.
 */
#ifndef PROCNET_IPC_WIN_PRIV_H
#define PROCNET_IPC_WIN_PRIV_H

#include <windows.h>

#include <stddef.h>

#include "transport.h"

/* The service allowed on the collector's pipe besides SYSTEM and
 * Administrators: webd's, by its service SID NT SERVICE\procnetwebd. */
#define IPC_CLIENT_SERVICE	"procnetwebd"

HANDLE ipc_win_conn_handle(const struct ipc_conn *c);

/*
 * The service SID of a service name, "S-1-5-80-" and the SHA-1 of the
 * upper-cased UTF-16 name as five little-endian numbers (how Windows
 * derives NT SERVICE\<name>; no lookup, so it works before the service
 * exists).  0, -EINVAL, -ENAMETOOLONG, -EIO.
 */
int ipc_win_service_sid(const char *service, wchar_t *out, size_t len);

#endif
