/*
 * Connection events on Windows (events.h).  The ETW session
 * (Microsoft-Windows-Kernel-Network) is not built yet: until it is, the
 * source is "none" and says so, and the snapshot carries no connections.
 */
#include "events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct events {
	char reason[64];
};

static const char *const mode_names[EVENTS_MODE_MAX] = {
	[EVENTS_AUTO] = "auto",
	[EVENTS_EBPF] = "ebpf",
	[EVENTS_SOCK_DIAG] = "sock_diag",
	[EVENTS_ETW] = "etw",
	[EVENTS_NONE] = "none",
};

int
events_mode_parse(const char *name)
{
	unsigned i;

	for (i = 0; i < EVENTS_MODE_MAX; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
events_mode_name(unsigned mode)
{
	return mode < EVENTS_MODE_MAX ? mode_names[mode] : NULL;
}

int
events_new(const struct events_opts *o, struct events **out, char *why,
    size_t whylen)
{
	struct events *e;

	why[0] = '\0';
	if (o->mode == EVENTS_EBPF || o->mode == EVENTS_SOCK_DIAG) {
		snprintf(why, whylen, "--events %s is Linux only",
		    events_mode_name(o->mode));
		return -ENOTSUP;
	}
	if (o->mode == EVENTS_ETW) {
		snprintf(why, whylen, "ETW not built yet");
		return -ENOTSUP;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	snprintf(e->reason, sizeof(e->reason), "%s", o->mode == EVENTS_NONE ?
	    "disabled (--events none)" : "ETW not built yet");
	*out = e;
	return 0;
}

void
events_free(struct events *e)
{
	free(e);
}

const char *
events_source(const struct events *e)
{
	(void)e;
	return "none";
}

const char *
events_reason(const struct events *e)
{
	return e->reason;
}

uint64_t
events_lost(const struct events *e)
{
	(void)e;
	return 0;
}

int
events_poll(struct events *e)
{
	(void)e;
	return 0;
}

void
events_note_begin(struct events *e)
{
	(void)e;
}

void
events_note_socket(struct events *e, const struct snap_socket *s,
    const struct snap_process *owner)
{
	(void)e;
	(void)s;
	(void)owner;
}

int
events_take(struct events *e, struct events_batch *out)
{
	(void)e;
	memset(out, 0, sizeof(*out));
	return 0;
}
