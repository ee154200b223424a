/* The --events sources by name (events.h), one table for every platform. */
#include "events.h"

#include <string.h>

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
	for (unsigned i = 0; i < EVENTS_MODE_MAX; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
events_mode_name(unsigned mode)
{
	return mode < EVENTS_MODE_MAX ? mode_names[mode] : NULL;
}
