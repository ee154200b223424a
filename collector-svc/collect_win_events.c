/*
 * Connection events into a Windows sample (collect_win_priv.h): the
 * sample's TCP table handed to the events (which end connections no event
 * closed), the connections the ETW session saw since the last sample
 * (events_win.c),
 * the aggregates past the cap, the source and its reason, and each owner
 * that holds no socket now: with its details while the same process runs
 * (pid and start time), else as an exited process with the name the event
 * side read.
 */
#include "collect_win_priv.h"
#include "events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_info_pid(const void *key, const void *elem)
{
	int32_t pid = *(const int32_t *)key;
	int32_t other = ((const struct proc_info *)elem)->pid;

	return (pid > other) - (pid < other);
}

static int
add_owner(struct collector *c, struct snapshot_builder *b,
    const struct events_owner *o, const struct th_proc *th, size_t n_th,
    const struct proc_info *added, size_t n_added)
{
	const struct th_proc *tp;
	struct snap_process sp;
	struct proc_info p;
	int rc;

	/* One pid once: a socket owner is in already. */
	if (n_added > 0 && bsearch(&o->pid, added, n_added, sizeof(*added),
	    cmp_info_pid) != NULL)
		return 0;
	if ((tp = th_find(th, n_th, o->pid)) != NULL) {
		(void)read_proc(c, o->pid, &p);
		rc = p.start_time == o->start_time ? add_process(c, b, tp, &p) :
		    1;
		free(p.exe);
		free(p.cmdline);
		free(p.user);
		if (rc <= 0)
			return rc;
		/* The pid runs another process now. */
	}
	memset(&sp, 0, sizeof(sp));
	sp.pid = o->pid;
	sp.start_time = o->start_time;
	sp.name = o->name;
	sp.flags = SNAP_PROC_EXITED;
	if ((rc = snapshot_builder_add_process(b, &sp)) != 0)
		set_err(c, "adding exited process %d: %s", (int)o->pid,
		    strerror(-rc));
	return rc;
}

int
win_events(struct collector *c, struct snapshot_builder *b,
    struct events *events, bool tcp_table, const struct th_proc *th,
    size_t n_th, const struct proc_info *added, size_t n_added)
{
	struct events_batch eb;
	size_t i;
	int rc = 0;

	if (events == NULL)
		return snapshot_builder_set_events(b, "none",
		    "not collected in this mode", 0);
	/* A connection no event closed ends when the table no longer has
	 * it: only a whole TCP table can say so. */
	if (tcp_table) {
		events_note_begin(events);
		for (i = 0; i < c->n_socks; i++)
			if (c->socks[i].proto == SNAP_PROTO_TCP &&
			    c->socks[i].remote_port != 0)
				events_note_socket(events, &c->socks[i], NULL);
	}
	/* A failed add leaves what was taken before it: still reported. */
	(void)events_take(events, &eb);
	for (i = 0; rc == 0 && i < eb.n_owners; i++)
		rc = add_owner(c, b, &eb.owners[i], th, n_th, added, n_added);
	for (i = 0; rc == 0 && i < eb.n_conns; i++)
		rc = snapshot_builder_add_conn(b, &eb.conns[i]);
	for (i = 0; rc == 0 && i < eb.n_aggs; i++)
		rc = snapshot_builder_add_conn_agg(b, &eb.aggs[i]);
	if (rc == 0)
		rc = snapshot_builder_set_events(b, events_source(events),
		    events_reason(events), events_lost(events));
	if (rc != 0 && c->err[0] == '\0')
		set_err(c, "adding connection events: %s", strerror(-rc));
	return rc;
}
