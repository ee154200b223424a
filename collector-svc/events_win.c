/*
 * Connection events on Windows (events.h): a real-time ETW session on
 * Microsoft-Windows-Kernel-Network (etw_session_win.c) whose connect,
 * accept, disconnect and send/receive events become connections in
 * etw_conns.c; each sample's go through a connbatch (cap, aggregates) as
 * records made by etw_rec.c.  Where ETW cannot run (not elevated; Wine),
 * the source is "none" and the reason says why.
 *
 * A connection whose close no event gives ends when the sample's socket
 * table no longer has it (events_note_*).
 *
 * Owners: the events carry the pid of the process that connected or
 * accepted.  Its start time and image name are read from the process at
 * the sample (cached per pid while its creation time stays the same); one
 * that exited before the sample keeps its pid, with the start time and
 * name last read for that pid if any, else 0 and "".
 */
#include "collect_win_priv.h"	/* filetime_unix_ms */
#include "connbatch.h"
#include "etw_rec.h"
#include "etw_session.h"
#include "events.h"
#include "wstr_win.h"

#include <windows.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Owners remembered between samples, by pid modulo this. */
#define OWNER_CACHE	1024u

struct events {
	const char *source;
	char reason[256];
	struct etw_session *etw;
	struct connbatch *batch;
	bool taken;
	int64_t table_ms;	/* a socket table is being noted: its time */
	int rc;			/* first error of a take's records */
	wchar_t path[MAX_PATH];
	struct events_owner owners[OWNER_CACHE];	/* pid 0: empty */
};

int
events_new(const struct events_opts *o, struct events **out, char *why,
    size_t whylen)
{
	uint32_t cap = o->max_conns ? o->max_conns : EVENTS_MAX_CONNS_DEFAULT;
	struct events *e;
	uint64_t lost;

	why[0] = '\0';
	if (o->mode >= EVENTS_MODE_MAX || cap > EVENTS_MAX_CONNS_LIMIT) {
		snprintf(why, whylen, "bad events options");
		return -EINVAL;
	}
	if (o->mode == EVENTS_EBPF || o->mode == EVENTS_SOCK_DIAG) {
		snprintf(why, whylen, "--events %s is Linux only",
		    events_mode_name(o->mode));
		return -ENOTSUP;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	e->source = "none";
	if ((e->batch = connbatch_new(cap)) == NULL) {
		events_free(e);
		return -ENOMEM;
	}
	if (o->mode == EVENTS_NONE) {
		snprintf(e->reason, sizeof(e->reason), "%s",
		    "disabled (--events none)");
		*out = e;
		return 0;
	}
	if ((e->etw = etw_session_start(ETW_CONNS_DEFAULT_MAX)) == NULL) {
		events_free(e);
		return -ENOMEM;
	}
	if (etw_session_status(e->etw, e->reason, sizeof(e->reason), &lost)) {
		e->source = "etw";
	} else {
		etw_session_stop(e->etw);
		e->etw = NULL;
		if (o->mode == EVENTS_ETW) {
			snprintf(why, whylen, "%s", e->reason);
			events_free(e);
			return -ENOTSUP;
		}
	}
	*out = e;
	return 0;
}

void
events_free(struct events *e)
{
	if (e == NULL)
		return;
	etw_session_stop(e->etw);
	connbatch_free(e->batch);
	free(e);
}

const char *
events_source(const struct events *e)
{
	return e->source;
}

const char *
events_reason(const struct events *e)
{
	return e->reason;
}

uint64_t
events_lost(const struct events *e)
{
	char reason[8];
	uint64_t n = 0;

	if (e->etw != NULL)
		(void)etw_session_status(e->etw, reason, sizeof(reason), &n);
	return n + connbatch_lost(e->batch);
}

int
events_poll(struct events *e)
{
	char reason[sizeof(e->reason)];
	uint64_t lost;

	if (e->taken) {
		connbatch_clear(e->batch);
		e->taken = false;
	}
	/* The ETW thread takes events by itself; what a poll can learn is
	 * that the session ended (stopped from outside).  Its connections
	 * until then are still taken. */
	if (e->etw != NULL && strcmp(e->source, "etw") == 0 &&
	    !etw_session_status(e->etw, reason, sizeof(reason), &lost)) {
		e->source = "none";
		snprintf(e->reason, sizeof(e->reason), "%s", reason);
	}
	return 0;
}

/* The owner with this pid as it runs now; the last one read when it is
 * gone; NULL when none ever was. */
static const struct events_owner *
owner_of(struct events *e, int32_t pid)
{
	struct events_owner *o = &e->owners[(uint32_t)pid % OWNER_CACHE];
	FILETIME ct, xt, kt, ut;
	uint64_t start;
	DWORD n = MAX_PATH;
	HANDLE h;

	h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
	if (h == NULL)
		return o->pid == pid ? o : NULL;
	if (!GetProcessTimes(h, &ct, &xt, &kt, &ut)) {
		CloseHandle(h);
		return o->pid == pid ? o : NULL;
	}
	start = filetime_unix_ms(&ct);
	if (o->pid == pid && o->start_time == start) {
		CloseHandle(h);
		return o;
	}
	memset(o, 0, sizeof(*o));
	o->pid = pid;
	o->start_time = start;
	if (QueryFullProcessImageNameW(h, 0, e->path, &n)) {
		const wchar_t *base = e->path;

		for (DWORD i = 0; i < n; i++)
			if (e->path[i] == L'\\')
				base = e->path + i + 1;
		/* Cut at a character boundary to fit, as a comm is. */
		(void)wstr_to_utf8(base, -1, o->name, sizeof(o->name));
	}
	CloseHandle(h);
	return o;
}

static void
add_conn(void *ctx, const struct etw_conn *c)
{
	struct events *e = ctx;
	const struct events_owner *o = NULL;
	struct conn_rec r;
	int rc;

	if (c->pid != 0 && c->pid <= INT32_MAX)
		o = owner_of(e, (int32_t)c->pid);
	etw_rec_fill(&r, c, o);
	rc = connbatch_add(e->batch, &r);
	if (rc < 0 && e->rc == 0)
		e->rc = rc;
}

/*
 * The socket table of a sample: ETW names each connection's owner itself,
 * but a connection whose close no event gave (a failed connect: the
 * failure event has no addresses; a lost disconnect) ends once the table
 * no longer has it (etw_conns_table_*).  collect_win_events.c calls these
 * right after a complete TCP table was read, with every connected TCP
 * socket of it (owner unused here), then events_take().  The table must
 * be read in less than ETW_CONNS_QUIET_MS (on Windows it takes
 * milliseconds), so a connection opened while it was read is not ended.
 */
void
events_note_begin(struct events *e)
{
	FILETIME ft;

	if (e->etw == NULL)
		return;
	GetSystemTimeAsFileTime(&ft);
	e->table_ms = (int64_t)filetime_unix_ms(&ft);
	etw_session_table_begin(e->etw);
}

void
events_note_socket(struct events *e, const struct snap_socket *s,
    const struct snap_process *owner)
{
	(void)owner;
	if (e->etw != NULL && e->table_ms != 0)
		etw_session_table_note(e->etw, s);
}

int
events_take(struct events *e, struct events_batch *out)
{
	int rc = events_poll(e);

	e->rc = 0;
	if (e->etw != NULL && e->table_ms != 0) {
		etw_session_table_end(e->etw, e->table_ms);
		e->table_ms = 0;
	}
	if (e->etw != NULL)
		(void)etw_session_take(e->etw, add_conn, e);
	connbatch_view(e->batch, out);
	e->taken = true;
	return rc < 0 ? rc : e->rc;
}
