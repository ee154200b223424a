/* Windows collector: the TCP and UDP tables, IPv4 and IPv6, with their
 * owner pids, into the sample's sockets (collect_win_priv.h). */
#include "collect_win_priv.h"
#include "utf8.h"
#include "wstr_win.h"

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <psapi.h>
#include <tlhelp32.h>
#include <winternl.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads one OS table into c->tbuf, growing it while the table grows. */
static int
read_table(struct collector *c, bool tcp, ULONG af)
{
	DWORD size, rc = ERROR_INSUFFICIENT_BUFFER;

	for (int i = 0; i < TABLE_RETRIES; i++) {
		size = c->tcap;
		if (tcp)
			rc = GetExtendedTcpTable(c->tbuf, &size, FALSE, af,
			    TCP_TABLE_OWNER_PID_ALL, 0);
		else
			rc = GetExtendedUdpTable(c->tbuf, &size, FALSE, af,
			    UDP_TABLE_OWNER_PID, 0);
		if (rc == NO_ERROR && c->tbuf != NULL)
			return 0;
		if (rc != ERROR_INSUFFICIENT_BUFFER && rc != NO_ERROR)
			break;
		/* Headroom for sockets opened before the next call. */
		size = size + size / 4 + 4096;
		if (size > TABLE_MAX_BYTES) {
			set_err(c, "%s%s table larger than %u MB",
			    tcp ? "tcp" : "udp", af == AF_INET6 ? "6" : "",
			    TABLE_MAX_BYTES >> 20);
			return -E2BIG;
		}
		free(c->tbuf);
		c->tcap = 0;
		if ((c->tbuf = malloc(size)) == NULL) {
			set_err(c, "out of memory for a %lu byte socket table",
			    (unsigned long)size);
			return -ENOMEM;
		}
		c->tcap = size;
	}
	set_err(c, "GetExtended%sTable(%s) failed: error %lu",
	    tcp ? "Tcp" : "Udp", af == AF_INET6 ? "AF_INET6" : "AF_INET",
	    (unsigned long)rc);
	return win_errno(rc);
}

static int
push_socket(struct collector *c, const struct snap_socket *s)
{
	if (c->n_socks == c->cap_socks) {
		size_t ncap = c->cap_socks ? c->cap_socks * 2 : 1024;
		struct snap_socket *n;

		if (ncap > SNAP_MAX_SOCKETS) {
			set_err(c, "more than %u sockets", SNAP_MAX_SOCKETS);
			return -E2BIG;
		}
		if ((n = realloc(c->socks, ncap * sizeof(*n))) == NULL) {
			set_err(c, "out of memory for %zu sockets", ncap);
			return -ENOMEM;
		}
		c->socks = n;
		c->cap_socks = ncap;
	}
	c->socks[c->n_socks++] = *s;
	return 0;
}

/* MIB_TCP_STATE_* to the Linux numbering the snapshot uses. */
static uint8_t
tcp_state(DWORD st)
{
	switch (st) {
	case MIB_TCP_STATE_LISTEN:	return SNAP_STATE_LISTEN;
	case MIB_TCP_STATE_SYN_SENT:	return SNAP_STATE_SYN_SENT;
	case MIB_TCP_STATE_SYN_RCVD:	return SNAP_STATE_SYN_RECV;
	case MIB_TCP_STATE_ESTAB:	return SNAP_STATE_ESTABLISHED;
	case MIB_TCP_STATE_FIN_WAIT1:	return SNAP_STATE_FIN_WAIT1;
	case MIB_TCP_STATE_FIN_WAIT2:	return SNAP_STATE_FIN_WAIT2;
	case MIB_TCP_STATE_CLOSE_WAIT:	return SNAP_STATE_CLOSE_WAIT;
	case MIB_TCP_STATE_CLOSING:	return SNAP_STATE_CLOSING;
	case MIB_TCP_STATE_LAST_ACK:	return SNAP_STATE_LAST_ACK;
	case MIB_TCP_STATE_TIME_WAIT:	return SNAP_STATE_TIME_WAIT;
	default:			return SNAP_STATE_CLOSE;
	}
}

/* Pid 0 is the idle process: Windows files TIME_WAIT and other orphaned
 * sockets under it (and Wine every socket of the Linux host). */
static void
set_owner(struct snap_socket *s, DWORD pid)
{
	if (pid == 0) {
		s->owner = SNAP_OWNER_KERNEL;
		s->pid = -1;
	} else {
		s->owner = SNAP_OWNER_KNOWN;
		s->pid = (int32_t)pid;
	}
}

static void
addr4(struct snap_addr *a, DWORD netorder)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(a->bytes, &netorder, 4);
}

static void
addr6(struct snap_addr *a, const UCHAR *bytes)
{
	memset(a, 0, sizeof(*a));
	a->family = 6;
	memcpy(a->bytes, bytes, 16);
}

/* One table row as a socket.  remote is NULL for UDP (the table has no
 * remote side) and ignored for a listener; either way only its family is
 * kept, as on Linux. */
static int
push_row(struct collector *c, uint8_t proto, uint8_t state,
    const struct snap_addr *local, DWORD lport, const struct snap_addr *remote,
    DWORD rport, DWORD pid)
{
	struct snap_socket s;

	memset(&s, 0, sizeof(s));
	s.proto = proto;
	s.family = local->family;
	s.state = state;
	s.local = *local;
	s.local_port = ntohs((u_short)lport);
	if (remote != NULL && state != SNAP_STATE_LISTEN) {
		s.remote = *remote;
		s.remote_port = ntohs((u_short)rport);
	} else
		s.remote.family = local->family;
	set_owner(&s, pid);
	return push_socket(c, &s);
}

static int
row_tcp4(struct collector *c, const void *p)
{
	const MIB_TCPROW_OWNER_PID *row = p;
	struct snap_addr l, r;

	addr4(&l, row->dwLocalAddr);
	addr4(&r, row->dwRemoteAddr);
	return push_row(c, SNAP_PROTO_TCP, tcp_state(row->dwState), &l,
	    row->dwLocalPort, &r, row->dwRemotePort, row->dwOwningPid);
}

static int
row_tcp6(struct collector *c, const void *p)
{
	const MIB_TCP6ROW_OWNER_PID *row = p;
	struct snap_addr l, r;

	addr6(&l, row->ucLocalAddr);
	addr6(&r, row->ucRemoteAddr);
	return push_row(c, SNAP_PROTO_TCP, tcp_state(row->dwState), &l,
	    row->dwLocalPort, &r, row->dwRemotePort, row->dwOwningPid);
}

static int
row_udp4(struct collector *c, const void *p)
{
	const MIB_UDPROW_OWNER_PID *row = p;
	struct snap_addr l;

	addr4(&l, row->dwLocalAddr);
	return push_row(c, SNAP_PROTO_UDP, SNAP_STATE_NONE, &l,
	    row->dwLocalPort, NULL, 0, row->dwOwningPid);
}

static int
row_udp6(struct collector *c, const void *p)
{
	const MIB_UDP6ROW_OWNER_PID *row = p;
	struct snap_addr l;

	addr6(&l, row->ucLocalAddr);
	return push_row(c, SNAP_PROTO_UDP, SNAP_STATE_NONE, &l,
	    row->dwLocalPort, NULL, 0, row->dwOwningPid);
}

/* walk_table() reads the row count of any of the four tables here. */
_Static_assert(offsetof(MIB_TCPTABLE_OWNER_PID, dwNumEntries) == 0 &&
    offsetof(MIB_TCP6TABLE_OWNER_PID, dwNumEntries) == 0 &&
    offsetof(MIB_UDPTABLE_OWNER_PID, dwNumEntries) == 0 &&
    offsetof(MIB_UDP6TABLE_OWNER_PID, dwNumEntries) == 0,
    "socket tables start with their row count");

/* Hands every row of the table in c->tbuf (rows of size row from offset
 * head) to one().  The rows are walked by the table's own count: it must
 * fit the buffer the OS filled, whatever the OS (or Wine) says. */
static int
walk_table(struct collector *c, size_t head, size_t row,
    int (*one)(struct collector *, const void *))
{
	const unsigned char *base = c->tbuf;
	DWORD n = *(const DWORD *)c->tbuf;
	int rc;

	if (c->tcap < head || n > (c->tcap - head) / row) {
		set_err(c, "socket table claims %lu rows, more than its %lu "
		    "bytes hold", (unsigned long)n, (unsigned long)c->tcap);
		return -EIO;
	}
	for (DWORD i = 0; i < n; i++)
		if ((rc = one(c, base + head + (size_t)i * row)) != 0)
			return rc;
	return 0;
}

int
collect_sockets(struct collector *c, const struct collect_opts *o)
{
	static const struct {
		bool tcp;
		ULONG af;
		size_t head, row;	/* where the rows start, and their size */
		int (*one)(struct collector *, const void *);
	} tables[] = {
		{ true, AF_INET, offsetof(MIB_TCPTABLE_OWNER_PID, table),
		    sizeof(MIB_TCPROW_OWNER_PID), row_tcp4 },
		{ true, AF_INET6, offsetof(MIB_TCP6TABLE_OWNER_PID, table),
		    sizeof(MIB_TCP6ROW_OWNER_PID), row_tcp6 },
		{ false, AF_INET, offsetof(MIB_UDPTABLE_OWNER_PID, table),
		    sizeof(MIB_UDPROW_OWNER_PID), row_udp4 },
		{ false, AF_INET6, offsetof(MIB_UDP6TABLE_OWNER_PID, table),
		    sizeof(MIB_UDP6ROW_OWNER_PID), row_udp6 },
	};
	int rc;

	c->n_socks = 0;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (tables[i].tcp ? !o->tcp : !o->udp)
			continue;
		if ((rc = read_table(c, tables[i].tcp, tables[i].af)) != 0)
			return rc;
		if ((rc = walk_table(c, tables[i].head, tables[i].row,
		    tables[i].one)) != 0)
			return rc;
	}
	return 0;
}
