/*
 * Services per process on Windows (svcscan.h).
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "svcscan.h"
#include "wstr_win.h"

/* A table bigger than this is not a socket table. */
#define TABLE_MAX_BYTES	(256u << 20)
#define TABLE_RETRIES	8

typedef DWORD (WINAPI *owner_fn)(const void *row,
    TCPIP_OWNER_MODULE_INFO_CLASS cls, void *buf, DWORD *size);

struct svcscan {
	owner_fn owner_tcp4, owner_tcp6, owner_udp4, owner_udp6;
	void *scm_buf;
	DWORD scm_cap;
	void *tbuf;
	DWORD tcap;
	unsigned char mod[4096];	/* TCPIP_OWNER_MODULE_BASIC_INFO + strings */
	int32_t *shared;		/* pids hosting more than one service */
	size_t n_shared, cap_shared;
	struct svcscan_stats st;
};

struct svcscan *svcscan_new(void)
{
	struct svcscan *s = calloc(1, sizeof(*s));
	HMODULE ip;

	if (!s)
		return NULL;
	ip = GetModuleHandleW(L"iphlpapi.dll");
	if (!ip)
		ip = LoadLibraryW(L"iphlpapi.dll");
	if (ip) {
		s->owner_tcp4 = (owner_fn)(void *)GetProcAddress(ip,
		    "GetOwnerModuleFromTcpEntry");
		s->owner_tcp6 = (owner_fn)(void *)GetProcAddress(ip,
		    "GetOwnerModuleFromTcp6Entry");
		s->owner_udp4 = (owner_fn)(void *)GetProcAddress(ip,
		    "GetOwnerModuleFromUdpEntry");
		s->owner_udp6 = (owner_fn)(void *)GetProcAddress(ip,
		    "GetOwnerModuleFromUdp6Entry");
	}
	return s;
}

void svcscan_free(struct svcscan *s)
{
	if (!s)
		return;
	free(s->scm_buf);
	free(s->tbuf);
	free(s->shared);
	free(s);
}

void svcscan_stats(const struct svcscan *s, struct svcscan_stats *out)
{
	*out = s->st;
	out->owner_module_api = s->owner_tcp4 && s->owner_tcp6 &&
	    s->owner_udp4 && s->owner_udp6;
}

static void win_err(char *err, size_t len, const char *what, DWORD code)
{
	char text[160];

	SetLastError(code);
	snprintf(err, len, "%s: %s", what,
	    log_platform_errstr(text, sizeof(text)));
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* The SCM's running services into m; pids with two or more into
 * s->shared (sorted). */
static int scan_scm(struct svcscan *s, struct svcmap *m, char *err,
    size_t errlen)
{
	SC_HANDLE scm = OpenSCManagerW(NULL, NULL,
	    SC_MANAGER_ENUMERATE_SERVICE);
	DWORD need = 0, count = 0, resume = 0;
	ENUM_SERVICE_STATUS_PROCESSW *v;
	BOOL ok;

	if (!scm) {
		win_err(err, errlen, "OpenSCManager", GetLastError());
		return -EACCES;
	}
	for (;;) {
		resume = 0;
		ok = EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO,
		    SERVICE_WIN32, SERVICE_ACTIVE, s->scm_buf, s->scm_cap,
		    &need, &count, &resume, NULL);
		if (ok)
			break;
		if (GetLastError() != ERROR_MORE_DATA ||
		    need > TABLE_MAX_BYTES) {
			win_err(err, errlen, "EnumServicesStatusEx",
			    GetLastError());
			CloseServiceHandle(scm);
			return -EIO;
		}
		free(s->scm_buf);
		s->scm_cap = need + need / 4 + 4096;
		if ((s->scm_buf = malloc(s->scm_cap)) == NULL) {
			s->scm_cap = 0;
			CloseServiceHandle(scm);
			return -ENOMEM;
		}
	}
	CloseServiceHandle(scm);

	v = s->scm_buf;
	s->n_shared = 0;
	s->st.services = count;
	for (DWORD i = 0; i < count; i++) {
		DWORD pid = v[i].ServiceStatusProcess.dwProcessId;
		char name[SVCMAP_MAX_NAME * 3 + 1];
		int rc;

		if (pid == 0 || pid > INT32_MAX || !v[i].lpServiceName ||
		    wstr_to_utf8(v[i].lpServiceName, -1, name,
		    sizeof(name)) != 0)
			continue;
		rc = svcmap_add_scm(m, (int32_t)pid, name);
		if (rc == -ENOMEM)
			return rc;
		/* Sharing: any other service with the same pid. */
		for (DWORD j = 0; j < i; j++) {
			if (v[j].ServiceStatusProcess.dwProcessId != pid)
				continue;
			if (s->n_shared == s->cap_shared) {
				size_t cap = s->cap_shared ?
				    s->cap_shared * 2 : 32;
				int32_t *n = realloc(s->shared,
				    cap * sizeof(*n));

				if (!n)
					return -ENOMEM;
				s->shared = n;
				s->cap_shared = cap;
			}
			s->shared[s->n_shared++] = (int32_t)pid;
			break;
		}
	}
	qsort(s->shared, s->n_shared, sizeof(*s->shared), cmp_i32);
	/* a pid with three services was added twice */
	{
		size_t w = 0;

		for (size_t i = 0; i < s->n_shared; i++)
			if (w == 0 || s->shared[w - 1] != s->shared[i])
				s->shared[w++] = s->shared[i];
		s->n_shared = w;
	}
	s->st.shared_hosts = (unsigned)s->n_shared;
	return 0;
}

static bool is_shared(const struct svcscan *s, DWORD pid)
{
	int32_t p = (int32_t)pid;

	return pid <= INT32_MAX && bsearch(&p, s->shared, s->n_shared,
	    sizeof(p), cmp_i32) != NULL;
}

static int read_table(struct svcscan *s, bool tcp, ULONG af)
{
	for (int i = 0; i < TABLE_RETRIES; i++) {
		DWORD size = s->tcap, rc;

		rc = tcp ? GetExtendedTcpTable(s->tbuf, &size, FALSE, af,
		    TCP_TABLE_OWNER_MODULE_ALL, 0) :
		    GetExtendedUdpTable(s->tbuf, &size, FALSE, af,
		    UDP_TABLE_OWNER_MODULE, 0);
		if (rc == NO_ERROR && s->tbuf)
			return 0;
		if (rc != ERROR_INSUFFICIENT_BUFFER || size > TABLE_MAX_BYTES)
			return -EIO;
		free(s->tbuf);
		s->tcap = size + size / 4 + 1024;
		if ((s->tbuf = malloc(s->tcap)) == NULL) {
			s->tcap = 0;
			return -ENOMEM;
		}
	}
	return -EAGAIN;
}

/* One row's owner module into m. */
static int query_row(struct svcscan *s, struct svcmap *m, owner_fn fn,
    const void *row, DWORD pid)
{
	TCPIP_OWNER_MODULE_BASIC_INFO *info = (void *)s->mod;
	DWORD size = sizeof(s->mod);
	char name[SVCMAP_MAX_NAME * 3 + 1], path[1024];
	int rc;

	s->st.queries++;
	if (fn(row, TCPIP_OWNER_MODULE_INFO_BASIC, s->mod, &size) != NO_ERROR)
		return 0;	/* gone, or no owner module: the SCM list stays */
	if (!info->pModuleName || wstr_to_utf8(info->pModuleName, -1, name,
	    sizeof(name)) != 0)
		return 0;
	if (!info->pModulePath || wstr_to_utf8(info->pModulePath, -1, path,
	    sizeof(path)) != 0)
		path[0] = '\0';
	rc = svcmap_add_owner_module(m, (int32_t)pid, NULL, name, path);
	if (rc > 0)
		s->st.owner_services++;
	return rc < 0 ? rc : 0;
}

/* The owner modules of the shared hosts' sockets, one table class. */
static int scan_table(struct svcscan *s, struct svcmap *m, bool tcp,
    ULONG af)
{
	size_t head, rowsz, pidoff;
	owner_fn fn;
	DWORD n;
	int rc;

	if (tcp && af == AF_INET) {
		fn = s->owner_tcp4;
		head = offsetof(MIB_TCPTABLE_OWNER_MODULE, table);
		rowsz = sizeof(MIB_TCPROW_OWNER_MODULE);
		pidoff = offsetof(MIB_TCPROW_OWNER_MODULE, dwOwningPid);
	} else if (tcp) {
		fn = s->owner_tcp6;
		head = offsetof(MIB_TCP6TABLE_OWNER_MODULE, table);
		rowsz = sizeof(MIB_TCP6ROW_OWNER_MODULE);
		pidoff = offsetof(MIB_TCP6ROW_OWNER_MODULE, dwOwningPid);
	} else if (af == AF_INET) {
		fn = s->owner_udp4;
		head = offsetof(MIB_UDPTABLE_OWNER_MODULE, table);
		rowsz = sizeof(MIB_UDPROW_OWNER_MODULE);
		pidoff = offsetof(MIB_UDPROW_OWNER_MODULE, dwOwningPid);
	} else {
		fn = s->owner_udp6;
		head = offsetof(MIB_UDP6TABLE_OWNER_MODULE, table);
		rowsz = sizeof(MIB_UDP6ROW_OWNER_MODULE);
		pidoff = offsetof(MIB_UDP6ROW_OWNER_MODULE, dwOwningPid);
	}
	if (!fn)
		return 0;
	if ((rc = read_table(s, tcp, af)) < 0)
		return rc == -ENOMEM ? rc : 0;	/* the SCM list stays */
	memcpy(&n, s->tbuf, sizeof(n));
	if (n > (s->tcap - head) / rowsz)
		return 0;
	for (DWORD i = 0; i < n; i++) {
		const unsigned char *row = (const unsigned char *)s->tbuf +
		    head + (size_t)i * rowsz;
		DWORD pid;

		memcpy(&pid, row + pidoff, sizeof(pid));
		if (!is_shared(s, pid))
			continue;
		if (s->st.queries >= SVCSCAN_MAX_QUERIES)
			return 0;
		if ((rc = query_row(s, m, fn, row, pid)) < 0)
			return rc;
	}
	return 0;
}

int svcscan_run(struct svcscan *s, struct svcmap *m, char *err,
    size_t errlen)
{
	int rc;

	svcmap_clear(m);
	memset(&s->st, 0, sizeof(s->st));
	err[0] = '\0';
	if ((rc = scan_scm(s, m, err, errlen)) < 0)
		return rc;
	if (s->n_shared == 0)
		return 0;
	if ((rc = scan_table(s, m, true, AF_INET)) < 0 ||
	    (rc = scan_table(s, m, true, AF_INET6)) < 0 ||
	    (rc = scan_table(s, m, false, AF_INET)) < 0 ||
	    (rc = scan_table(s, m, false, AF_INET6)) < 0) {
		snprintf(err, errlen, "owner modules: %s", strerror(-rc));
		return rc;
	}
	return 0;
}
