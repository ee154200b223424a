/*
 * Named-pipe transport (\\.\pipe\procnet-collector).  Every handle is
 * overlapped, so each blocking call is an overlapped operation plus one
 * wait with the call's timeout (and the connection's shutdown event), then
 * CancelIoEx when the wait ends early.
 *
 * The server always keeps one instance waiting in ConnectNamedPipe: a
 * client that comes between two accepts finds the pipe busy (and waits),
 * never missing.  The next instance is created before a connected one is
 * handed out, so the name never has zero instances while the server is
 * open: were it to vanish for a moment, anyone could create it and answer
 * webd.  A name that already exists at open (a second server, or a
 * squatter) is refused, by opening it first and by
 * FILE_FLAG_FIRST_PIPE_INSTANCE for the race; all instances reject remote
 * clients and carry the DACL below.
 */
#include "transport.h"
#include "ipc_win_priv.h"
#include "wstr_win.h"

#include <windows.h>
#include <sddl.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_PREFIX		"\\\\.\\pipe\\"
#define PIPE_BUF_SIZE		(64u * 1024u)
/*
 * SYSTEM and Administrators: full control.  The procnetwebd service, by
 * its service SID (NT SERVICE\procnetwebd, not all of LocalService, so no
 * other LocalService service reads unredacted command lines): read and
 * write data, 0x12019b, which is FILE_GENERIC_READ | FILE_GENERIC_WRITE
 * without FILE_APPEND_DATA -- on a pipe that bit is
 * FILE_CREATE_PIPE_INSTANCE, and a client holding it could add its own
 * instances and answer other clients.  "P": nothing inherited, so nobody
 * else has any access.  docs/windows.md.
 */
#define PIPE_SDDL_ADMINS	L"D:P(A;;FA;;;SY)(A;;FA;;;BA)"
#define PIPE_CLIENT_RIGHTS	L"0x12019b"
#define DEFAULT_GROUP		"procnet"

struct ipc_server {
	wchar_t *name;
	PSECURITY_DESCRIPTOR sd;
	SECURITY_ATTRIBUTES sa;
	HANDLE pending;			/* the instance we accept on; never
					 * NULL once open */
	OVERLAPPED ov;			/* its connect; ov.hEvent is ours */
	bool listening;			/* pending is in ConnectNamedPipe */
	bool connected;			/* pending already has a client */
};


struct ipc_conn {
	HANDLE h;
	HANDLE rd_ev, wr_ev;		/* events of the read and write OVERLAPPED */
	HANDLE stop_ev;			/* set by ipc_conn_shutdown */
	bool server_side;
};

HANDLE
ipc_win_conn_handle(const struct ipc_conn *c)
{
	return c->h;
}

/* The one place Win32 errors become errno codes for this file. */
static int
win_errno(DWORD err)
{
	switch (err) {
	case ERROR_BROKEN_PIPE:
	case ERROR_PIPE_NOT_CONNECTED:
	case ERROR_NO_DATA:
	case ERROR_HANDLE_EOF:
		return -EPIPE;
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		return -ENOENT;
	case ERROR_ACCESS_DENIED:
		return -EACCES;
	case ERROR_PIPE_BUSY:
	case ERROR_SEM_TIMEOUT:
		return -ETIMEDOUT;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return -ENOMEM;
	case ERROR_OPERATION_ABORTED:
		return -EINTR;
	case ERROR_INVALID_NAME:
	case ERROR_BAD_PATHNAME:
	case ERROR_INVALID_PARAMETER:
		return -EINVAL;
	case ERROR_FILENAME_EXCED_RANGE:
		return -ENAMETOOLONG;
	default:
		return -EIO;
	}
}

/* Milliseconds left until deadline, as a wait timeout (INFINITE for
 * "forever"). */
static DWORD
remaining(int timeout_ms, ULONGLONG deadline)
{
	ULONGLONG now;

	if (timeout_ms < 0)
		return INFINITE;
	now = GetTickCount64();
	return now >= deadline ? 0 : (DWORD)(deadline - now);
}

static ULONGLONG
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? 0 : GetTickCount64() + (ULONGLONG)timeout_ms;
}

/* A pipe name we accept: \\.\pipe\ and a non-empty rest without
 * backslashes beyond what the pipe namespace allows. */
static int
endpoint_wide(const char *endpoint, wchar_t **out)
{
	size_t len, plen = strlen(PIPE_PREFIX);

	if (endpoint == NULL)
		return -EINVAL;
	len = strlen(endpoint);
	if (len >= IPC_ENDPOINT_MAX)
		return -ENAMETOOLONG;
	if (len <= plen || _strnicmp(endpoint, PIPE_PREFIX, plen) != 0)
		return -EINVAL;
	if ((*out = wstr_from_utf8(endpoint)) == NULL)
		return -ENOMEM;
	return 0;
}

/* The DACL: the base one, plus the optional local group's SID when that
 * group exists (ipc_server_opts.group). */
static int
build_sd(const char *group, PSECURITY_DESCRIPTOR *out)
{
	wchar_t sddl[600], base[300], svcsid[100], *wgroup, *sidstr = NULL;
	wchar_t dom[256], name[300];
	wchar_t host[MAX_COMPUTERNAME_LENGTH + 1];
	BYTE sidbuf[SECURITY_MAX_SID_SIZE];
	DWORD sidlen = sizeof(sidbuf), domlen = 256;
	DWORD hostlen = MAX_COMPUTERNAME_LENGTH + 1;
	SID_NAME_USE use;
	int rc;

	if ((rc = ipc_win_service_sid(IPC_CLIENT_SERVICE, svcsid, 100)) != 0)
		return rc;
	_snwprintf(base, 300, L"%ls(A;;%ls;;;%ls)", PIPE_SDDL_ADMINS,
	    PIPE_CLIENT_RIGHTS, svcsid);
	base[299] = L'\0';
	_snwprintf(sddl, 600, L"%ls", base);
	if (group == NULL)
		group = DEFAULT_GROUP;
	if (group[0] != '\0' && (wgroup = wstr_from_utf8(group)) != NULL) {
		/* A bare name is looked up as a group of this computer only:
		 * unqualified, LookupAccountName would also take a domain
		 * group of that name. */
		if (wcschr(wgroup, L'\\') == NULL &&
		    GetComputerNameW(host, &hostlen))
			_snwprintf(name, 300, L"%ls\\%ls", host, wgroup);
		else
			_snwprintf(name, 300, L"%ls", wgroup);
		name[299] = L'\0';
		if (LookupAccountNameW(NULL, name, sidbuf, &sidlen, dom,
		    &domlen, &use) && (use == SidTypeGroup ||
		    use == SidTypeAlias || use == SidTypeWellKnownGroup) &&
		    ConvertSidToStringSidW(sidbuf, &sidstr)) {
			_snwprintf(sddl, 600, L"%ls(A;;%ls;;;%ls)", base,
			    PIPE_CLIENT_RIGHTS, sidstr);
			LocalFree(sidstr);
		}
		free(wgroup);
	}
	sddl[599] = L'\0';
	if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl,
	    SDDL_REVISION_1, out, NULL))
		return win_errno(GetLastError());
	return 0;
}

static HANDLE
new_instance(struct ipc_server *srv, bool first)
{
	DWORD mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;

	if (first)
		mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
	return CreateNamedPipeW(srv->name, mode,
	    PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
	    PIPE_REJECT_REMOTE_CLIENTS, PIPE_UNLIMITED_INSTANCES,
	    PIPE_BUF_SIZE, PIPE_BUF_SIZE, 0, &srv->sa);
}

/* Puts srv->pending into ConnectNamedPipe. */
static int
start_connect(struct ipc_server *srv)
{
	ResetEvent(srv->ov.hEvent);
	srv->connected = false;
	srv->listening = false;
	if (ConnectNamedPipe(srv->pending, &srv->ov))
		srv->connected = true;	/* rare: overlapped usually pends */
	else {
		switch (GetLastError()) {
		case ERROR_IO_PENDING:
			break;
		case ERROR_PIPE_CONNECTED:
			srv->connected = true;
			break;
		default:
			return win_errno(GetLastError());
		}
	}
	srv->listening = true;
	return 0;
}

/* The first instance, after making sure nobody holds the name:
 * WaitNamedPipe finds an existing pipe (free or busy) without taking one
 * of its instances, so the holder can still be asked who it is. */
static int
open_first(struct ipc_server *srv)
{
	DWORD err;
	int rc;

	if (WaitNamedPipeW(srv->name, 1))
		return -EADDRINUSE;
	err = GetLastError();
	if (err == ERROR_SEM_TIMEOUT || err == ERROR_PIPE_BUSY)
		return -EADDRINUSE;
	srv->pending = new_instance(srv, true);
	if (srv->pending == INVALID_HANDLE_VALUE) {
		srv->pending = NULL;
		err = GetLastError();
		/* FILE_FLAG_FIRST_PIPE_INSTANCE refused: the name is taken. */
		if (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY)
			return -EADDRINUSE;
		return win_errno(err);
	}
	if ((rc = start_connect(srv)) != 0) {
		CloseHandle(srv->pending);
		srv->pending = NULL;
	}
	return rc;
}

int
ipc_server_open(const char *endpoint, const struct ipc_server_opts *opts,
    struct ipc_server **out)
{
	struct ipc_server *srv;
	int rc;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return -ENOMEM;
	if ((rc = endpoint_wide(endpoint, &srv->name)) != 0)
		goto fail;
	if ((rc = build_sd(opts != NULL ? opts->group : NULL, &srv->sd)) != 0)
		goto fail;
	srv->sa.nLength = sizeof(srv->sa);
	srv->sa.lpSecurityDescriptor = srv->sd;
	srv->sa.bInheritHandle = FALSE;
	if ((srv->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL)) == NULL) {
		rc = win_errno(GetLastError());
		goto fail;
	}
	if ((rc = open_first(srv)) != 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	ipc_server_close(srv);
	return rc;
}

static struct ipc_conn *
conn_new(HANDLE h, bool server_side)
{
	struct ipc_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->h = h;
	c->server_side = server_side;
	c->rd_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	c->wr_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	c->stop_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (c->rd_ev == NULL || c->wr_ev == NULL || c->stop_ev == NULL) {
		c->h = NULL;	/* the caller still owns h */
		ipc_conn_close(c);
		return NULL;
	}
	return c;
}

int
ipc_server_accept(struct ipc_server *srv, int timeout_ms,
    struct ipc_conn **out)
{
	struct ipc_conn *c;
	HANDLE next;
	DWORD w, n;
	int rc;

	if (!srv->listening && (rc = start_connect(srv)) != 0)
		return rc;
	if (!srv->connected) {
		w = WaitForSingleObject(srv->ov.hEvent,
		    timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
		if (w == WAIT_TIMEOUT)
			return -ETIMEDOUT;
		if (w != WAIT_OBJECT_0)
			return win_errno(GetLastError());
		if (!GetOverlappedResult(srv->pending, &srv->ov, &n, FALSE)) {
			/* The client came and went: reuse the instance (a
			 * failure is retried by the next call; the instance
			 * stays, so the name does). */
			DisconnectNamedPipe(srv->pending);
			srv->listening = false;
			if ((rc = start_connect(srv)) != 0)
				return rc;
			return -ETIMEDOUT;
		}
		srv->connected = true;
	}
	/* The next instance exists before the connected one is handed out,
	 * so the name never has zero instances.  When it cannot be made
	 * now, the client stays connected here and the next call tries
	 * again. */
	next = new_instance(srv, false);
	if (next == INVALID_HANDLE_VALUE)
		return win_errno(GetLastError());
	if ((c = conn_new(srv->pending, true)) == NULL) {
		CloseHandle(next);
		return -ENOMEM;
	}
	srv->pending = next;
	srv->connected = false;
	srv->listening = false;
	(void)start_connect(srv);	/* retried by the next call */
	*out = c;
	return 0;
}

void
ipc_server_close(struct ipc_server *srv)
{
	DWORD n;

	if (srv == NULL)
		return;
	if (srv->pending != NULL) {
		/* Only a connect still in flight is cancelled and waited for:
		 * one that ended with ERROR_PIPE_CONNECTED never signals the
		 * event, so waiting on it would hang the close for good. */
		if (srv->listening && !srv->connected) {
			CancelIoEx(srv->pending, &srv->ov);
			GetOverlappedResult(srv->pending, &srv->ov, &n, TRUE);
		}
		CloseHandle(srv->pending);
	}
	if (srv->ov.hEvent != NULL)
		CloseHandle(srv->ov.hEvent);
	if (srv->sd != NULL)
		LocalFree(srv->sd);
	free(srv->name);
	free(srv);
}

int
ipc_connect(const char *endpoint, int timeout_ms, struct ipc_conn **out)
{
	ULONGLONG deadline = deadline_of(timeout_ms);
	struct ipc_conn *c;
	wchar_t *name;
	DWORD err, left;
	HANDLE h;
	int rc;

	if ((rc = endpoint_wide(endpoint, &name)) != 0)
		return rc;
	for (;;) {
		/* GENERIC_READ | FILE_WRITE_DATA: exactly what the DACL grants
		 * LocalService (GENERIC_WRITE would ask for more).  The
		 * server may identify but not impersonate us. */
		h = CreateFileW(name, GENERIC_READ | FILE_WRITE_DATA, 0, NULL,
		    OPEN_EXISTING,
		    FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT |
		    SECURITY_IDENTIFICATION, NULL);
		if (h != INVALID_HANDLE_VALUE)
			break;
		err = GetLastError();
		if (err != ERROR_PIPE_BUSY) {
			free(name);
			return win_errno(err);
		}
		/* Every instance busy: wait for the server's next one. */
		left = remaining(timeout_ms, deadline);
		if (left == 0) {
			free(name);
			return -ETIMEDOUT;
		}
		if (!WaitNamedPipeW(name, left == INFINITE ?
		    NMPWAIT_WAIT_FOREVER : left) &&
		    GetLastError() != ERROR_SEM_TIMEOUT &&
		    GetLastError() != ERROR_PIPE_BUSY) {
			err = GetLastError();
			free(name);
			return win_errno(err);
		}
	}
	free(name);
	if ((c = conn_new(h, false)) == NULL) {
		CloseHandle(h);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

/*
 * Runs one overlapped ReadFile/WriteFile of up to n bytes and waits for
 * it, for at most `wait` ms or until shutdown.  Returns bytes moved (>= 0)
 * or a negative code.  An interrupted operation is cancelled and waited
 * for, since it points into the caller's buffer.
 */
static long
one_io(struct ipc_conn *c, bool write, void *buf, DWORD n, DWORD wait)
{
	OVERLAPPED ov;
	HANDLE evs[2];
	DWORD got = 0, w, err;
	BOOL ok;

	if (WaitForSingleObject(c->stop_ev, 0) == WAIT_OBJECT_0)
		return -EINTR;
	memset(&ov, 0, sizeof(ov));
	ov.hEvent = write ? c->wr_ev : c->rd_ev;
	ResetEvent(ov.hEvent);
	ok = write ? WriteFile(c->h, buf, n, NULL, &ov) :
	    ReadFile(c->h, buf, n, NULL, &ov);
	if (!ok && (err = GetLastError()) != ERROR_IO_PENDING)
		return win_errno(err);
	evs[0] = ov.hEvent;
	evs[1] = c->stop_ev;
	w = WaitForMultipleObjects(2, evs, FALSE, wait);
	if (w != WAIT_OBJECT_0) {
		CancelIoEx(c->h, &ov);
		/* The cancel may lose the race: then the bytes did move. */
		if (GetOverlappedResult(c->h, &ov, &got, TRUE))
			return (long)got;
		if (w == WAIT_OBJECT_0 + 1)
			return -EINTR;
		if (w == WAIT_TIMEOUT)
			return -ETIMEDOUT;
		return win_errno(GetLastError());
	}
	if (!GetOverlappedResult(c->h, &ov, &got, FALSE))
		return win_errno(GetLastError());
	return (long)got;
}

static int
io_full(struct ipc_conn *c, bool write, void *buf, size_t n, int timeout_ms)
{
	ULONGLONG deadline = deadline_of(timeout_ms);
	unsigned char *p = buf;
	DWORD chunk, left;
	long r;

	while (n > 0) {
		left = remaining(timeout_ms, deadline);
		if (left == 0 && timeout_ms >= 0 && timeout_ms != 0)
			return -ETIMEDOUT;
		chunk = n > (1u << 30) ? (1u << 30) : (DWORD)n;
		if ((r = one_io(c, write, p, chunk, left)) < 0)
			return (int)r;
		if (r == 0) {
			/* A zero-byte message; with timeout 0 nothing more
			 * will come in this call. */
			if (timeout_ms == 0)
				return -ETIMEDOUT;
			continue;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
ipc_read_full(struct ipc_conn *c, void *buf, size_t n, int timeout_ms)
{
	return io_full(c, false, buf, n, timeout_ms);
}

int
ipc_write_full(struct ipc_conn *c, const void *buf, size_t n, int timeout_ms)
{
	/* WriteFile does not write through the pointer. */
	return io_full(c, true, (void *)(uintptr_t)buf, n, timeout_ms);
}

/* Pipes have no select(): poll PeekNamedPipe, with a short sleep that
 * grows to 20 ms, or until shutdown. */
int
ipc_conn_wait_readable(struct ipc_conn *c, int timeout_ms)
{
	ULONGLONG deadline = deadline_of(timeout_ms);
	DWORD avail, nap = 1, left, err;

	for (;;) {
		if (WaitForSingleObject(c->stop_ev, 0) == WAIT_OBJECT_0)
			return -EINTR;
		if (!PeekNamedPipe(c->h, NULL, 0, NULL, &avail, NULL)) {
			err = GetLastError();
			/* EOF is "readable": the next read says -EPIPE. */
			if (win_errno(err) == -EPIPE)
				return 1;
			return win_errno(err);
		}
		if (avail > 0)
			return 1;
		left = remaining(timeout_ms, deadline);
		if (timeout_ms == 0 || left == 0)
			return 0;
		if (WaitForSingleObject(c->stop_ev, nap < left ? nap : left) ==
		    WAIT_OBJECT_0)
			return -EINTR;
		if (nap < 20)
			nap *= 2;
	}
}

int
ipc_conn_peer(struct ipc_conn *c, char *buf, size_t len)
{
	ULONG pid = 0;
	BOOL ok;

	if (len == 0)
		return -EINVAL;
	ok = c->server_side ? GetNamedPipeClientProcessId(c->h, &pid) :
	    GetNamedPipeServerProcessId(c->h, &pid);
	if (ok)
		snprintf(buf, len, "pid=%lu", (unsigned long)pid);
	else
		snprintf(buf, len, "unknown");
	return 0;
}

void
ipc_conn_shutdown(struct ipc_conn *c)
{
	if (c == NULL)
		return;
	SetEvent(c->stop_ev);
	/* Wakes a thread blocked in one_io() even before it waits. */
	CancelIoEx(c->h, NULL);
}

void
ipc_conn_close(struct ipc_conn *c)
{
	if (c == NULL)
		return;
	/* A plain close: DisconnectNamedPipe would throw away bytes the
	 * client has not read yet. */
	if (c->h != NULL)
		CloseHandle(c->h);
	if (c->rd_ev != NULL)
		CloseHandle(c->rd_ev);
	if (c->wr_ev != NULL)
		CloseHandle(c->wr_ev);
	if (c->stop_ev != NULL)
		CloseHandle(c->stop_ev);
	free(c);
}

int
ipc_default_endpoint(char *buf, size_t len)
{
	static const char name[] = PIPE_PREFIX "procnet-collector";

	if (len < sizeof(name))
		return -ENAMETOOLONG;
	memcpy(buf, name, sizeof(name));
	return 0;
}
