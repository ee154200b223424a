/*
 * Windows build only (packaging/windows/compat is on the include path of
 * the mingw cross build): portable code that needs no more than
 * inet_pton/inet_ntop/htons and the in_addr types finds them in Winsock,
 * which every program links through common_dep.  Anything that opens
 * sockets belongs in a *_win.c file instead.
 */
#ifndef PROCNET_COMPAT_ARPA_INET_H
#define PROCNET_COMPAT_ARPA_INET_H
#include <winsock2.h>
#include <ws2tcpip.h>
#endif
