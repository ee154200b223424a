/* Windows collector: every process's name and parent from Toolhelp, and
 * the details of socket owners (image, command line, user), cached by pid
 * and creation time (collect_win_priv.h). */
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

static int
cmp_th(const void *a, const void *b)
{
	const struct th_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process's pid, parent and image name, sorted by pid. */
int
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

const struct th_proc *
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

enum proc_open
proc_open_outcome(DWORD err)
{
	/* OpenProcess of a pid that is gone says ERROR_INVALID_PARAMETER;
	 * only a refusal is about our rights. */
	return err == ERROR_ACCESS_DENIED ? PROC_DENIED : PROC_GONE;
}

/*
 * Fills *p for pid: details as far as its token and memory allow when
 * the process could be opened (PROC_OPENED); otherwise p keeps only the
 * pid, and why not is PROC_DENIED or PROC_GONE.
 */
enum proc_open
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
		return proc_open_outcome(GetLastError());
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
	return PROC_OPENED;
}
