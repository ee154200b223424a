/* Windows build only: see ../arpa/inet.h. */
#ifndef PROCNET_COMPAT_NETINET_IN_H
#define PROCNET_COMPAT_NETINET_IN_H
#include <winsock2.h>
#include <ws2tcpip.h>
#endif
