/* fleet.h where the NATS C client is not built (Windows; docs/windows.md). */
#include "fleet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
fleet_start(const struct fleet_config *c, struct fleet **out, char *err,
    size_t errlen)
{
	(void)c;
	(void)out;
	snprintf(err, errlen, "--fleet: this build has no NATS client");
	return -ENOTSUP;
}

void
fleet_stop(struct fleet *f)
{
	(void)f;
}

void
fleet_get_stats(struct fleet *f, struct fleet_stats *s)
{
	(void)f;
	memset(s, 0, sizeof(*s));
}

int
fleet_want(struct fleet *f, unsigned mode)
{
	(void)f;
	(void)mode;
	return -ENOTSUP;
}
