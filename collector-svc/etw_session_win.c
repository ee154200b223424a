/*
 * The Kernel-Network real-time session (etw_session.h).
 *
 * StartTraceW creates a private real-time session with fixed buffers and
 * system-time stamps; EnableTraceEx2 adds the provider with its IPv4 and
 * IPv6 keywords; OpenTraceW + ProcessTrace deliver the events to
 * on_event() on our own thread.  A session left behind by a collector that
 * died is stopped and replaced.  Wine has none of this working: there
 * the session reports why it is not running, and nothing pretends.
 */
#include <winsock2.h>
#include <windows.h>
#include <evntrace.h>
#include <evntcons.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etw_session.h"
#include "log.h"

static const GUID kernel_network_guid = { 0x7dd42a49, 0x5329, 0x4832,
	{ 0x8d, 0xfd, 0x43, 0xd9, 0x79, 0x15, 0x3a, 0x88 } };

/* FILETIME of 1970-01-01, in 100 ns units. */
#define FILETIME_UNIX_EPOCH	116444736000000000LL

struct props_buf {
	EVENT_TRACE_PROPERTIES p;
	wchar_t name[64];
};

struct etw_session {
	SRWLOCK lock;			/* conns, bad */
	struct etw_conns *conns;
	uint64_t bad;			/* payloads too short */
	TRACEHANDLE session;		/* 0: none */
	TRACEHANDLE trace;		/* INVALID_PROCESSTRACE_HANDLE: none */
	HANDLE thread;
	volatile LONG running;
	volatile LONG stopping;
	DWORD thread_rc;		/* ProcessTrace's result */
	char reason[192];
};

static void win_reason(char *buf, size_t len, const char *what, ULONG err)
{
	char text[160];

	SetLastError(err);
	snprintf(buf, len, "%s: %s", what,
	    log_platform_errstr(text, sizeof(text)));
}

/* Wine accepts StartTraceW but delivers no events: say so rather than let
 * its "access denied" read as a privilege problem. */
static bool under_wine(void)
{
	HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");

	return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

static void props_init(struct props_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->p.Wnode.BufferSize = sizeof(*b);
	b->p.Wnode.Flags = WNODE_FLAG_TRACED_GUID;
	b->p.Wnode.ClientContext = 2;	/* system time stamps (FILETIME) */
	b->p.LogFileMode = EVENT_TRACE_REAL_TIME_MODE;
	b->p.BufferSize = ETW_SESSION_BUFFER_KB;
	b->p.MinimumBuffers = ETW_SESSION_MIN_BUFFERS;
	b->p.MaximumBuffers = ETW_SESSION_MAX_BUFFERS;
	b->p.FlushTimer = 1;		/* seconds: events reach us within one */
	b->p.LoggerNameOffset = offsetof(struct props_buf, name);
}

static void WINAPI on_event(PEVENT_RECORD r)
{
	struct etw_session *s = r->UserContext;
	struct etw_net_event ev;
	int64_t t_ms;
	int rc;

	if (!IsEqualGUID(&r->EventHeader.ProviderId, &kernel_network_guid))
		return;
	rc = etw_net_decode(r->EventHeader.EventDescriptor.Id, r->UserData,
	    r->UserDataLength, &ev);
	if (rc == -ENOENT)
		return;
	t_ms = (r->EventHeader.TimeStamp.QuadPart - FILETIME_UNIX_EPOCH) /
	    10000;
	AcquireSRWLockExclusive(&s->lock);
	if (rc < 0)
		s->bad++;
	else
		etw_conns_event(s->conns, &ev, t_ms);
	ReleaseSRWLockExclusive(&s->lock);
}

static DWORD WINAPI trace_thread(void *arg)
{
	struct etw_session *s = arg;

	/* Returns when the session stops or the trace is closed. */
	s->thread_rc = ProcessTrace(&s->trace, 1, NULL, NULL);
	InterlockedExchange(&s->running, 0);
	return 0;
}

static void stop_session(TRACEHANDLE h)
{
	struct props_buf b;

	props_init(&b);
	(void)ControlTraceW(h, h ? NULL : ETW_SESSION_NAME, &b.p,
	    EVENT_TRACE_CONTROL_STOP);
}

static int start(struct etw_session *s)
{
	struct props_buf b;
	EVENT_TRACE_LOGFILEW lf;
	ULONG rc;

	props_init(&b);
	rc = StartTraceW(&s->session, ETW_SESSION_NAME, &b.p);
	if (rc == ERROR_ALREADY_EXISTS) {
		/* Left by a collector that did not stop it. */
		stop_session(0);
		props_init(&b);
		rc = StartTraceW(&s->session, ETW_SESSION_NAME, &b.p);
	}
	if (rc != ERROR_SUCCESS) {
		s->session = 0;
		win_reason(s->reason, sizeof(s->reason), rc ==
		    ERROR_ACCESS_DENIED ? "StartTraceW (a real-time session "
		    "needs LocalSystem, an administrator or Performance Log "
		    "Users)" : "StartTraceW", rc);
		return -1;
	}
	rc = EnableTraceEx2(s->session, &kernel_network_guid,
	    EVENT_CONTROL_CODE_ENABLE_PROVIDER, TRACE_LEVEL_INFORMATION,
	    ETW_NET_KEYWORD_IPV4 | ETW_NET_KEYWORD_IPV6, 0, 0, NULL);
	if (rc != ERROR_SUCCESS) {
		win_reason(s->reason, sizeof(s->reason),
		    "EnableTraceEx2 (Microsoft-Windows-Kernel-Network)", rc);
		return -1;
	}
	memset(&lf, 0, sizeof(lf));
	lf.LoggerName = (wchar_t *)ETW_SESSION_NAME;
	lf.ProcessTraceMode = PROCESS_TRACE_MODE_REAL_TIME |
	    PROCESS_TRACE_MODE_EVENT_RECORD;
	lf.EventRecordCallback = on_event;
	lf.Context = s;
	s->trace = OpenTraceW(&lf);
	if (s->trace == INVALID_PROCESSTRACE_HANDLE) {
		win_reason(s->reason, sizeof(s->reason), "OpenTraceW",
		    GetLastError());
		return -1;
	}
	InterlockedExchange(&s->running, 1);
	s->thread = CreateThread(NULL, 0, trace_thread, s, 0, NULL);
	if (!s->thread) {
		InterlockedExchange(&s->running, 0);
		win_reason(s->reason, sizeof(s->reason), "CreateThread",
		    GetLastError());
		return -1;
	}
	return 0;
}

struct etw_session *etw_session_start(size_t max_conns)
{
	struct etw_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	InitializeSRWLock(&s->lock);
	s->trace = INVALID_PROCESSTRACE_HANDLE;
	s->conns = etw_conns_new(max_conns);
	if (!s->conns) {
		free(s);
		return NULL;
	}
	if (start(s) < 0) {
		if (under_wine()) {
			char why[sizeof(s->reason)];

			snprintf(why, sizeof(why), "%s", s->reason);
			snprintf(s->reason, sizeof(s->reason),
			    "Wine does not implement ETW (%s)", why);
		}
		/* Leave nothing running: status reports the reason. */
		if (s->trace != INVALID_PROCESSTRACE_HANDLE)
			CloseTrace(s->trace);
		s->trace = INVALID_PROCESSTRACE_HANDLE;
		if (s->session)
			stop_session(s->session);
		s->session = 0;
	}
	return s;
}

void etw_session_stop(struct etw_session *s)
{
	if (!s)
		return;
	InterlockedExchange(&s->stopping, 1);
	if (s->session)
		stop_session(s->session);
	if (s->trace != INVALID_PROCESSTRACE_HANDLE)
		CloseTrace(s->trace);
	if (s->thread) {
		WaitForSingleObject(s->thread, INFINITE);
		CloseHandle(s->thread);
	}
	etw_conns_free(s->conns);
	free(s);
}

int etw_session_status(struct etw_session *s, char *reason, size_t len,
    uint64_t *lost)
{
	uint64_t n = 0;

	if (s->session) {
		struct props_buf b;

		props_init(&b);
		if (ControlTraceW(s->session, NULL, &b.p,
		    EVENT_TRACE_CONTROL_QUERY) == ERROR_SUCCESS)
			n += (uint64_t)b.p.EventsLost + b.p.RealTimeBuffersLost;
	}
	AcquireSRWLockShared(&s->lock);
	n += s->bad + etw_conns_dropped(s->conns);
	ReleaseSRWLockShared(&s->lock);
	*lost = n;
	if (s->running) {
		snprintf(reason, len, "%s", "");
		return 1;
	}
	if (s->reason[0] == '\0' && s->thread) {
		/* ProcessTrace came back by itself: the session was stopped
		 * from outside (logman, another tool) or failed. */
		if (s->thread_rc == ERROR_SUCCESS)
			snprintf(s->reason, sizeof(s->reason),
			    "the ETW session was stopped from outside");
		else
			win_reason(s->reason, sizeof(s->reason),
			    "ProcessTrace", s->thread_rc);
	}
	snprintf(reason, len, "%s", s->reason);
	return 0;
}

void etw_session_table_begin(struct etw_session *s)
{
	AcquireSRWLockExclusive(&s->lock);
	etw_conns_table_begin(s->conns);
	ReleaseSRWLockExclusive(&s->lock);
}

void etw_session_table_note(struct etw_session *s,
    const struct snap_socket *k)
{
	if (k->proto != SNAP_PROTO_TCP || k->remote_port == 0)
		return;
	AcquireSRWLockExclusive(&s->lock);
	etw_conns_table_note(s->conns, &k->local, k->local_port, &k->remote,
	    k->remote_port);
	ReleaseSRWLockExclusive(&s->lock);
}

void etw_session_table_end(struct etw_session *s, int64_t now_ms)
{
	AcquireSRWLockExclusive(&s->lock);
	(void)etw_conns_table_end(s->conns, now_ms, ETW_CONNS_QUIET_MS);
	ReleaseSRWLockExclusive(&s->lock);
}

size_t etw_session_take(struct etw_session *s,
    void (*emit)(void *ctx, const struct etw_conn *conn), void *ctx)
{
	size_t n;

	AcquireSRWLockExclusive(&s->lock);
	n = etw_conns_take(s->conns, emit, ctx);
	ReleaseSRWLockExclusive(&s->lock);
	return n;
}
