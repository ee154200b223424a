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
#include "collect_win_priv.h"
#include "utf8.h"
#include "winargv.h"
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

void
set_err(struct collector *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* The one place Win32 errors become errno codes for this file. */
int
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

uint64_t
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
	if (win_info_init(c) != 0) {
		collector_free(c);
		return -ENOMEM;
	}
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
	win_info_free(c);
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

/* A command line as arguments in c->argv (CommandLineToArgvW's rules, so
 * argument boundaries reach webd as the program saw them); the count. */
static uint32_t
split_cmdline(struct collector *c, const char *cmdline)
{
	size_t len = utf8_cut(cmdline, CMDLINE_MAX_BYTES);
	uint32_t argc = winargv_split(cmdline, len, c->argbuf), n;
	const char *a = c->argbuf;

	for (n = 0; n < argc && n < SNAP_MAX_ARGC; n++) {
		c->argv[n] = a;
		a += strlen(a) + 1;
	}
	return n;
}

/* A process into the snapshot: tp from the Toolhelp list, p its details
 * (only the pid when it could not be opened). */
int
add_process(struct collector *c, struct snapshot_builder *b,
    const struct th_proc *tp, const struct proc_info *p)
{
	struct snap_process sp;
	int rc;

	memset(&sp, 0, sizeof(sp));
	sp.pid = tp->pid;
	sp.ppid = tp->ppid;
	sp.start_time = p->start_time;
	sp.name = tp->name;
	sp.exe = p->exe;
	sp.cmdline = p->cmdline;
	if (p->cmdline != NULL)
		sp.argc = split_cmdline(c, p->cmdline);
	sp.argv = c->argv;
	sp.user = p->user;
	sp.service = win_service_of(c, tp->pid);
	if ((rc = snapshot_builder_add_process(b, &sp)) != 0)
		set_err(c, "adding process %d: %s", (int)sp.pid,
		    strerror(-rc));
	return rc;
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
	if ((rc = win_services(c)) != 0 ||
	    (rc = win_estats(c, o->incremental)) != 0) {
		set_err(c, "out of memory");
		goto out;
	}
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
		enum proc_open opened;

		if (tp == NULL)
			continue;	/* exited since the table was read */
		opened = read_proc(c, pids[i], p);
		n_fresh++;
		if (opened == PROC_DENIED)
			all_open = false;
		if ((rc = add_process(c, b, tp, p)) != 0)
			goto out;
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
	/* The connections since the last sample, after the socket owners
	 * (fresh, by pid), so an owner that holds a socket is not added
	 * twice. */
	if ((rc = win_events(c, b, o->events, o->tcp, th, n_th, fresh,
	    n_fresh)) != 0)
		goto out;
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
	snprintf(st.tcp_info_note, sizeof(st.tcp_info_note), "%s",
	    c->est_note);
	snprintf(st.services_note, sizeof(st.services_note), "%s",
	    c->svc_err);
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
