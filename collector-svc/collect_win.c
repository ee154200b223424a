/*
 * Windows collector: the OS socket tables already carry the owner pid
 * (GetExtendedTcpTable TCP_TABLE_OWNER_PID_ALL, GetExtendedUdpTable
 * UDP_TABLE_OWNER_PID, IPv4 and IPv6), so one sample is four table reads,
 * one Toolhelp snapshot for names and parents, and details for the
 * processes that own sockets.  Details (image path, command line, user)
 * are cached by pid + creation time: a process's are read once.
 *
 * The UDP tables have no remote address: UDP sockets are reported bound,
 * with an all-zero remote (docs/windows.md).
 */
#include "collect.h"
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

/* A table bigger than this is not a socket table (4 Mi sockets of the
 * largest row are ~700 MB; SNAP_MAX_SOCKETS caps the snapshot anyway). */
#define TABLE_MAX_BYTES		(256u << 20)
/* The table can grow between the size call and the data call; retry a
 * few times with headroom before calling it an error. */
#define TABLE_RETRIES		8
#define CMDLINE_MAX_BYTES	SNAP_MAX_STRING
/* ProcessCommandLineInformation (Windows 8.1+); not in mingw's enum. */
#define PROCESS_COMMAND_LINE_INFO	60
/* 100 ns ticks between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFF_100NS	116444736000000000ULL
#define USER_CACHE_MAX		256

struct proc_info {
	int32_t pid;
	uint64_t start_time;		/* Unix ms; 0 when not readable */
	char *exe, *cmdline, *user;
};

/* A Toolhelp row: every process's name and parent, openable or not. */
struct th_proc {
	int32_t pid, ppid;
	char name[MAX_PATH * 3];
};

struct user_entry {
	PSID sid;
	char *name;
};

struct collector {
	void *tbuf;			/* socket table buffer, reused */
	DWORD tcap;
	struct snap_socket *socks;	/* this sample's sockets */
	size_t n_socks, cap_socks;
	struct proc_info *cache;	/* details of last sample, by pid */
	size_t n_cache;
	struct user_entry users[USER_CACHE_MAX];
	size_t n_users;
	NTSTATUS (NTAPI *query_process)(HANDLE, PROCESSINFOCLASS, PVOID, ULONG,
	    PULONG);
	wchar_t path[32768];		/* image path scratch (long paths) */
	struct collect_stats stats;
	char err[256];
};

static void
set_err(struct collector *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* The one place Win32 errors become errno codes for this file. */
static int
win_errno(DWORD err)
{
	switch (err) {
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return -ENOMEM;
	case ERROR_ACCESS_DENIED:
		return -EACCES;
	case ERROR_INVALID_PARAMETER:
		return -EINVAL;
	case ERROR_INSUFFICIENT_BUFFER:
		return -E2BIG;
	case ERROR_NOT_SUPPORTED:
		return -ENOTSUP;
	default:
		return -EIO;
	}
}

static uint64_t
qpc_us(void)
{
	static LARGE_INTEGER freq;
	LARGE_INTEGER now;

	if (freq.QuadPart == 0)
		QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&now);
	/* Whole seconds and the remainder apart: no overflow, no rounding
	 * of a frequency that is not a multiple of 1 MHz. */
	return (uint64_t)(now.QuadPart / freq.QuadPart) * 1000000u +
	    (uint64_t)(now.QuadPart % freq.QuadPart) * 1000000u /
	    (uint64_t)freq.QuadPart;
}

static uint64_t
filetime_unix_ms(const FILETIME *ft)
{
	uint64_t t = ((uint64_t)ft->dwHighDateTime << 32) | ft->dwLowDateTime;

	return t > EPOCH_DIFF_100NS ? (t - EPOCH_DIFF_100NS) / 10000 : 0;
}

static void
proc_info_clear(struct proc_info *p)
{
	free(p->exe);
	free(p->cmdline);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

int
collector_new(struct collector **out)
{
	struct collector *c;
	HMODULE ntdll;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	/* Room for ~1500 IPv6 rows up front, so a first sample usually
	 * needs no separate size call. */
	if ((c->tbuf = malloc(64 * 1024)) != NULL)
		c->tcap = 64 * 1024;
	/* Looked up rather than linked: NtQueryInformationProcess is
	 * ntdll-only, and a missing export just means no command lines. */
	if ((ntdll = GetModuleHandleW(L"ntdll.dll")) != NULL)
		c->query_process = (NTSTATUS (NTAPI *)(HANDLE, PROCESSINFOCLASS,
		    PVOID, ULONG, PULONG))(void (*)(void))GetProcAddress(ntdll,
		    "NtQueryInformationProcess");
	*out = c;
	return 0;
}

void
collector_free(struct collector *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_cache; i++)
		proc_info_clear(&c->cache[i]);
	free(c->cache);
	for (size_t i = 0; i < c->n_users; i++) {
		free(c->users[i].sid);
		free(c->users[i].name);
	}
	free(c->tbuf);
	free(c->socks);
	free(c);
}

void
collector_stats(const struct collector *c, struct collect_stats *out)
{
	*out = c->stats;
}

const char *
collector_error(const struct collector *c)
{
	return c->err;
}

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

static int
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

static int
cmp_th(const void *a, const void *b)
{
	const struct th_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process's pid, parent and image name, sorted by pid. */
static int
toolhelp_list(struct collector *c, struct th_proc **out, size_t *n)
{
	PROCESSENTRY32W pe;
	struct th_proc *v = NULL, *nv;
	size_t len = 0, cap = 0;
	HANDLE snap;

	snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
	if (snap == INVALID_HANDLE_VALUE) {
		set_err(c, "CreateToolhelp32Snapshot failed: error %lu",
		    (unsigned long)GetLastError());
		return win_errno(GetLastError());
	}
	pe.dwSize = sizeof(pe);
	for (BOOL ok = Process32FirstW(snap, &pe); ok;
	    ok = Process32NextW(snap, &pe)) {
		if (len == cap) {
			cap = cap ? cap * 2 : 256;
			if (cap > SNAP_MAX_PROCESSES) {
				free(v);
				CloseHandle(snap);
				set_err(c, "more than %u processes",
				    SNAP_MAX_PROCESSES);
				return -E2BIG;
			}
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				CloseHandle(snap);
				set_err(c, "out of memory listing processes");
				return -ENOMEM;
			}
			v = nv;
		}
		v[len].pid = (int32_t)pe.th32ProcessID;
		v[len].ppid = (int32_t)pe.th32ParentProcessID;
		wstr_to_utf8(pe.szExeFile, -1, v[len].name,
		    sizeof(v[len].name));
		len++;
	}
	CloseHandle(snap);
	if (len > 0)
		qsort(v, len, sizeof(*v), cmp_th);
	*out = v;
	*n = len;
	return 0;
}

static const struct th_proc *
th_find(const struct th_proc *v, size_t n, int32_t pid)
{
	struct th_proc key = { .pid = pid };

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_th) : NULL;
}

static const struct proc_info *
cache_find(const struct collector *c, int32_t pid)
{
	size_t lo = 0, hi = c->n_cache;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->cache[mid].pid == pid)
			return &c->cache[mid];
		if (c->cache[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* "DOMAIN\name" of the token's user, cached by SID. */
static char *
token_user(struct collector *c, HANDLE proc)
{
	union {
		TOKEN_USER tu;
		BYTE buf[256];
	} u;
	wchar_t name[256], dom[256], full[520];
	DWORD nlen = 256, dlen = 256, len;
	SID_NAME_USE use;
	HANDLE tok;
	char *s;
	BOOL ok;

	if (!OpenProcessToken(proc, TOKEN_QUERY, &tok))
		return NULL;
	ok = GetTokenInformation(tok, TokenUser, &u, sizeof(u), &len);
	CloseHandle(tok);
	if (!ok)
		return NULL;
	for (size_t i = 0; i < c->n_users; i++)
		if (EqualSid(c->users[i].sid, u.tu.User.Sid))
			return strdup(c->users[i].name);
	if (!LookupAccountSidW(NULL, u.tu.User.Sid, name, &nlen, dom, &dlen,
	    &use))
		return NULL;
	if (dom[0] != L'\0')
		_snwprintf(full, 520, L"%ls\\%ls", dom, name);
	else
		_snwprintf(full, 520, L"%ls", name);
	full[519] = L'\0';
	if ((s = wstr_to_utf8_dup(full, -1)) == NULL)
		return NULL;
	if (c->n_users < USER_CACHE_MAX) {
		DWORD sl = GetLengthSid(u.tu.User.Sid);
		PSID copy = malloc(sl);
		char *ncopy = strdup(s);

		if (copy != NULL && ncopy != NULL &&
		    CopySid(sl, copy, u.tu.User.Sid)) {
			c->users[c->n_users].sid = copy;
			c->users[c->n_users].name = ncopy;
			c->n_users++;
		} else {
			free(copy);
			free(ncopy);
		}
	}
	return s;
}

/*
 * Before Windows 8.1 (and under Wine) there is no
 * ProcessCommandLineInformation: read the command line the documented
 * way round, from the process's PEB, which needs PROCESS_VM_READ.
 */
static char *
cmdline_from_peb(struct collector *c, int32_t pid)
{
	PROCESS_BASIC_INFORMATION pbi;
	RTL_USER_PROCESS_PARAMETERS params;
	wchar_t *w = NULL;
	char *s = NULL;
	SIZE_T got;
	PEB peb;
	HANDLE h;

	h = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE,
	    (DWORD)pid);
	if (h == NULL)
		return NULL;
	if (!NT_SUCCESS(c->query_process(h, ProcessBasicInformation, &pbi,
	    sizeof(pbi), NULL)) || pbi.PebBaseAddress == NULL)
		goto out;
	if (!ReadProcessMemory(h, pbi.PebBaseAddress, &peb, sizeof(peb),
	    &got) || got != sizeof(peb) || peb.ProcessParameters == NULL)
		goto out;
	if (!ReadProcessMemory(h, peb.ProcessParameters, &params,
	    sizeof(params), &got) || got != sizeof(params))
		goto out;
	/* Length is a USHORT: 64 KiB at most, so no cap is needed here. */
	if (params.CommandLine.Length == 0 || params.CommandLine.Buffer == NULL)
		goto out;
	if ((w = malloc(params.CommandLine.Length)) == NULL)
		goto out;
	if (!ReadProcessMemory(h, params.CommandLine.Buffer, w,
	    params.CommandLine.Length, &got) ||
	    got != params.CommandLine.Length)
		goto out;
	s = wstr_to_utf8_dup(w, (int)(got / sizeof(wchar_t)));
out:
	free(w);
	CloseHandle(h);
	return s;
}

/* The command line as the process was given it; NULL where access does
 * not allow. */
static char *
process_cmdline(struct collector *c, HANDLE proc, int32_t pid)
{
	ULONG need = 0, size = 4096;
	UNICODE_STRING *us;
	void *buf;
	char *s;
	NTSTATUS st;

	if (c->query_process == NULL)
		return NULL;
	for (int i = 0; i < 3; i++) {
		if ((buf = malloc(size)) == NULL)
			return NULL;
		st = c->query_process(proc,
		    (PROCESSINFOCLASS)PROCESS_COMMAND_LINE_INFO, buf, size,
		    &need);
		if (NT_SUCCESS(st)) {
			us = buf;
			s = wstr_to_utf8_dup(us->Buffer,
			    (int)(us->Length / sizeof(wchar_t)));
			free(buf);
			/* Cut between characters: a split one would reach
			 * the UI as U+FFFD. */
			if (s != NULL)
				s[utf8_cut(s, CMDLINE_MAX_BYTES)] = '\0';
			return s;
		}
		free(buf);
		if (st == (NTSTATUS)0xC0000003L)	/* STATUS_INVALID_INFO_CLASS */
			return cmdline_from_peb(c, pid);
		/* STATUS_INFO_LENGTH_MISMATCH / BUFFER_TOO_SMALL: retry. */
		if (need <= size || need > 4 * CMDLINE_MAX_BYTES + 64)
			return NULL;
		size = need;
	}
	return NULL;
}

/*
 * Fills *p for pid.  Returns 1 when the process could be opened (details
 * as far as its token and memory allow), 0 when it could not (p keeps
 * only the pid), -ENOMEM.
 */
static int
read_proc(struct collector *c, int32_t pid, struct proc_info *p)
{
	const struct proc_info *old;
	FILETIME ct, et, kt, ut;
	DWORD plen = sizeof(c->path) / sizeof(c->path[0]);
	HANDLE h;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
	if (h == NULL)
		return 0;
	if (GetProcessTimes(h, &ct, &et, &kt, &ut))
		p->start_time = filetime_unix_ms(&ct);
	old = cache_find(c, pid);
	if (old != NULL && old->start_time == p->start_time &&
	    p->start_time != 0) {
		p->exe = old->exe ? strdup(old->exe) : NULL;
		p->cmdline = old->cmdline ? strdup(old->cmdline) : NULL;
		p->user = old->user ? strdup(old->user) : NULL;
	} else {
		if (QueryFullProcessImageNameW(h, 0, c->path, &plen))
			p->exe = wstr_to_utf8_dup(c->path, (int)plen);
		p->cmdline = process_cmdline(c, h, pid);
		p->user = token_user(c, h);
	}
	CloseHandle(h);
	return 1;
}

static int
cmp_pid(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* Socket owners, sorted and unique. */
static int
owner_pids(struct collector *c, int32_t **out, size_t *n)
{
	int32_t *v;
	size_t len = 0;

	if ((v = malloc((c->n_socks + 1) * sizeof(*v))) == NULL) {
		set_err(c, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_socks; i++)
		if (c->socks[i].owner == SNAP_OWNER_KNOWN)
			v[len++] = c->socks[i].pid;
	if (len > 0)
		qsort(v, len, sizeof(*v), cmp_pid);
	size_t u = 0;
	for (size_t i = 0; i < len; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	*out = v;
	*n = u;
	return 0;
}

static void
host_name(char *buf, size_t len)
{
	wchar_t w[256];
	DWORD n = 256;

	if (GetComputerNameExW(ComputerNameDnsHostname, w, &n))
		wstr_to_utf8(w, (int)n, buf, len);
	else
		snprintf(buf, len, "localhost");
}

static int64_t
now_unix_ms(void)
{
	FILETIME ft;

	GetSystemTimeAsFileTime(&ft);
	return (int64_t)filetime_unix_ms(&ft);
}

int
collector_sample(struct collector *c, const struct collect_opts *o,
    struct snapshot **out)
{
	struct snapshot_builder *b = NULL;
	struct proc_info *fresh = NULL;
	struct th_proc *th = NULL;
	PROCESS_MEMORY_COUNTERS pmc;
	struct collect_stats st;
	size_t n_th = 0, n_pids = 0, n_fresh = 0;
	int32_t *pids = NULL;
	uint64_t t0, t1, t2;
	char host[256];
	int64_t when;
	bool all_open = true;
	int rc;

	memset(&st, 0, sizeof(st));
	c->err[0] = '\0';
	t0 = qpc_us();
	when = now_unix_ms();
	if ((rc = collect_sockets(c, o)) != 0)
		goto out;
	t1 = qpc_us();
	if ((rc = toolhelp_list(c, &th, &n_th)) != 0 ||
	    (rc = owner_pids(c, &pids, &n_pids)) != 0)
		goto out;
	if (n_pids > 0 && (fresh = calloc(n_pids, sizeof(*fresh))) == NULL) {
		set_err(c, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	if ((b = snapshot_builder_new()) == NULL) {
		set_err(c, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_pids; i++) {
		const struct th_proc *tp = th_find(th, n_th, pids[i]);
		struct proc_info *p = &fresh[n_fresh];
		struct snap_process sp;
		int opened;

		if (tp == NULL)
			continue;	/* exited since the table was read */
		opened = read_proc(c, pids[i], p);
		n_fresh++;
		if (!opened)
			all_open = false;
		memset(&sp, 0, sizeof(sp));
		sp.pid = pids[i];
		sp.ppid = tp->ppid;
		sp.start_time = p->start_time;
		sp.name = tp->name;
		sp.exe = p->exe;
		sp.cmdline = p->cmdline;
		sp.user = p->user;
		if ((rc = snapshot_builder_add_process(b, &sp)) != 0) {
			set_err(c, "adding process %d: %s", (int)sp.pid,
			    strerror(-rc));
			goto out;
		}
	}
	t2 = qpc_us();
	for (size_t i = 0; i < c->n_socks; i++) {
		struct snap_socket *s = &c->socks[i];

		if (s->owner == SNAP_OWNER_KNOWN &&
		    th_find(th, n_th, s->pid) == NULL) {
			s->owner = SNAP_OWNER_EXITED;
			s->pid = -1;
		}
		if ((rc = snapshot_builder_add_socket(b, s)) != 0) {
			set_err(c, "adding a socket: %s", strerror(-rc));
			goto out;
		}
	}
	host_name(host, sizeof(host));
	if ((rc = snapshot_builder_set_meta(b, host, "windows", when,
	    all_open)) != 0) {
		set_err(c, "out of memory");
		goto out;
	}
	st.sample_us = (uint32_t)(qpc_us() - t0);
	snapshot_builder_set_sample_us(b, st.sample_us);
	rc = snapshot_builder_finish(b, out);
	b = NULL;
	if (rc != 0) {
		set_err(c, "finishing the snapshot: %s", strerror(-rc));
		goto out;
	}

	/* The details read this time are next sample's cache. */
	for (size_t i = 0; i < c->n_cache; i++)
		proc_info_clear(&c->cache[i]);
	free(c->cache);
	c->cache = fresh;
	c->n_cache = n_fresh;
	fresh = NULL;
	n_fresh = 0;

	st.dump_us = (uint32_t)(t1 - t0);
	st.procinfo_us = (uint32_t)(t2 - t1);
	st.n_sockets = c->n_socks;
	st.n_processes = (*out)->n_processes;
	st.n_pids_scanned = n_pids;
	st.full_pass = true;
	st.privileged = all_open;
	memset(&pmc, 0, sizeof(pmc));
	if (GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc)))
		st.peak_rss_kb = pmc.PeakWorkingSetSize / 1024;
	c->stats = st;
out:
	snapshot_builder_free(b);
	for (size_t i = 0; i < n_fresh; i++)
		proc_info_clear(&fresh[i]);
	free(fresh);
	free(pids);
	free(th);
	return rc;
}
