/*
 * ESTATS on Windows (estats.h).
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <tcpestats.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estats.h"
#include "log.h"

typedef ULONG (WINAPI *get4_fn)(PMIB_TCPROW, TCP_ESTATS_TYPE, PUCHAR, ULONG,
    ULONG, PUCHAR, ULONG, ULONG, PUCHAR, ULONG, ULONG);
typedef ULONG (WINAPI *set4_fn)(PMIB_TCPROW, TCP_ESTATS_TYPE, PUCHAR, ULONG,
    ULONG, ULONG);
typedef ULONG (WINAPI *get6_fn)(PMIB_TCP6ROW, TCP_ESTATS_TYPE, PUCHAR, ULONG,
    ULONG, PUCHAR, ULONG, ULONG, PUCHAR, ULONG, ULONG);
typedef ULONG (WINAPI *set6_fn)(PMIB_TCP6ROW, TCP_ESTATS_TYPE, PUCHAR, ULONG,
    ULONG, ULONG);

struct estats {
	get4_fn get4;
	set4_fn set4;
	get6_fn get6;
	set6_fn set6;
	struct estats_set *set;
	bool off;		/* for good: API missing or access denied */
	size_t without;		/* established, no slot, last sample */
	size_t read;		/* read last sample */
	char reason[192];
};

struct estats *estats_new(size_t cap)
{
	struct estats *e = calloc(1, sizeof(*e));
	HMODULE ip;

	if (!e)
		return NULL;
	if ((e->set = estats_set_new(cap)) == NULL) {
		free(e);
		return NULL;
	}
	ip = GetModuleHandleW(L"iphlpapi.dll");
	if (!ip)
		ip = LoadLibraryW(L"iphlpapi.dll");
	if (ip) {
		e->get4 = (get4_fn)(void *)GetProcAddress(ip,
		    "GetPerTcpConnectionEStats");
		e->set4 = (set4_fn)(void *)GetProcAddress(ip,
		    "SetPerTcpConnectionEStats");
		e->get6 = (get6_fn)(void *)GetProcAddress(ip,
		    "GetPerTcp6ConnectionEStats");
		e->set6 = (set6_fn)(void *)GetProcAddress(ip,
		    "SetPerTcp6ConnectionEStats");
	}
	if (!e->get4 || !e->set4 || !e->get6 || !e->set6) {
		e->off = true;
		snprintf(e->reason, sizeof(e->reason), "%s",
		    "GetPerTcpConnectionEStats / SetPerTcpConnectionEStats "
		    "not available in iphlpapi.dll (Wine has none)");
	}
	return e;
}

void estats_free(struct estats *e)
{
	if (!e)
		return;
	estats_set_free(e->set);
	free(e);
}

static void row4(const struct estats_key *k, MIB_TCPROW *r)
{
	memset(r, 0, sizeof(*r));
	r->dwState = MIB_TCP_STATE_ESTAB;
	memcpy(&r->dwLocalAddr, k->local.bytes, 4);
	memcpy(&r->dwRemoteAddr, k->remote.bytes, 4);
	r->dwLocalPort = htons(k->local_port);
	r->dwRemotePort = htons(k->remote_port);
}

/* The snapshot has no scope ids: link-local peers (fe80::/10) cannot be
 * named to ESTATS and go without. */
static void row6(const struct estats_key *k, MIB_TCP6ROW *r)
{
	memset(r, 0, sizeof(*r));
	r->State = MIB_TCP_STATE_ESTAB;
	memcpy(&r->LocalAddr, k->local.bytes, 16);
	memcpy(&r->RemoteAddr, k->remote.bytes, 16);
	r->dwLocalPort = htons(k->local_port);
	r->dwRemotePort = htons(k->remote_port);
}

/* Turns Data and Path collection on; a Win32 error code. */
static ULONG enable(struct estats *e, const struct estats_key *k)
{
	TCP_ESTATS_DATA_RW_v0 d = { .EnableCollection = TRUE };
	TCP_ESTATS_PATH_RW_v0 p = { .EnableCollection = TRUE };
	ULONG rc;

	if (k->local.family == 4) {
		MIB_TCPROW r;

		row4(k, &r);
		rc = e->set4(&r, TcpConnectionEstatsData, (PUCHAR)&d, 0,
		    sizeof(d), 0);
		if (rc == NO_ERROR)
			rc = e->set4(&r, TcpConnectionEstatsPath, (PUCHAR)&p,
			    0, sizeof(p), 0);
	} else {
		MIB_TCP6ROW r;

		row6(k, &r);
		rc = e->set6(&r, TcpConnectionEstatsData, (PUCHAR)&d, 0,
		    sizeof(d), 0);
		if (rc == NO_ERROR)
			rc = e->set6(&r, TcpConnectionEstatsPath, (PUCHAR)&p,
			    0, sizeof(p), 0);
	}
	return rc;
}

static bool read_one(struct estats *e, const struct estats_key *k,
    struct estats_info *out)
{
	TCP_ESTATS_DATA_ROD_v0 d;
	TCP_ESTATS_PATH_ROD_v0 p;
	ULONG rd, rp;

	memset(&d, 0, sizeof(d));
	memset(&p, 0, sizeof(p));
	if (k->local.family == 4) {
		MIB_TCPROW r;

		row4(k, &r);
		rd = e->get4(&r, TcpConnectionEstatsData, NULL, 0, 0, NULL, 0,
		    0, (PUCHAR)&d, 0, sizeof(d));
		rp = e->get4(&r, TcpConnectionEstatsPath, NULL, 0, 0, NULL, 0,
		    0, (PUCHAR)&p, 0, sizeof(p));
	} else {
		MIB_TCP6ROW r;

		row6(k, &r);
		rd = e->get6(&r, TcpConnectionEstatsData, NULL, 0, 0, NULL, 0,
		    0, (PUCHAR)&d, 0, sizeof(d));
		rp = e->get6(&r, TcpConnectionEstatsPath, NULL, 0, 0, NULL, 0,
		    0, (PUCHAR)&p, 0, sizeof(p));
	}
	if (rd != NO_ERROR || rp != NO_ERROR)
		return false;
	out->valid = true;
	out->bytes_sent = d.DataBytesOut;
	out->bytes_received = d.DataBytesIn;
	out->rtt_us = p.SmoothedRtt > UINT32_MAX / 1000 ? UINT32_MAX :
	    p.SmoothedRtt * 1000;
	out->retrans = p.PktsRetrans;
	return true;
}

static bool link_local(const struct estats_key *k)
{
	return k->local.family == 6 && ((k->local.bytes[0] == 0xfe &&
	    (k->local.bytes[1] & 0xc0) == 0x80) || (k->remote.bytes[0] ==
	    0xfe && (k->remote.bytes[1] & 0xc0) == 0x80));
}

size_t estats_sample(struct estats *e, const struct estats_conn *conns,
    size_t n, struct estats_info *out)
{
	size_t read = 0, without = 0;

	memset(out, 0, n * sizeof(*out));
	if (e->off)
		return 0;
	estats_set_begin(e->set);
	for (size_t i = 0; i < n; i++)
		if (conns[i].established &&
		    estats_set_keep(e->set, &conns[i].key))
			read += read_one(e, &conns[i].key, &out[i]);
	for (size_t i = 0; i < n && !e->off; i++) {
		const struct estats_key *k = &conns[i].key;
		ULONG rc;

		if (!conns[i].established || out[i].valid ||
		    estats_set_keep(e->set, k) || link_local(k))
			continue;
		if (!estats_set_claim(e->set, k)) {
			without++;
			continue;
		}
		rc = enable(e, k);
		if (rc == NO_ERROR)
			continue;
		estats_set_release(e->set, k);
		if (rc == ERROR_ACCESS_DENIED) {
			char text[128];

			SetLastError(rc);
			snprintf(e->reason, sizeof(e->reason),
			    "SetPerTcpConnectionEStats: %s (needs "
			    "administrator rights)",
			    log_platform_errstr(text, sizeof(text)));
			e->off = true;
		}
		/* Other errors: the connection closed meanwhile. */
	}
	estats_set_end(e->set);
	e->without = without;
	e->read = read;
	return read;
}

int estats_status(const struct estats *e, char *reason, size_t len)
{
	if (e->off) {
		snprintf(reason, len, "%s", e->reason);
		return 0;
	}
	if (e->without)
		/* Stable while capped, so it is logged once, not per
		 * sample. */
		snprintf(reason, len, "counters on for at most %zu "
		    "connections (the cap); the others have none",
		    estats_set_cap(e->set));
	else
		snprintf(reason, len, "%s", "");
	return 1;
}
