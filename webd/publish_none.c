/* publish.h where the NATS C client is not built (Windows: Debian's
 * archive has no source of it to cross-build; docs/windows.md). */
#include "publish.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
publish_start(const struct publish_config *c, struct publish **out,
    char *err, size_t errlen)
{
	(void)c;
	(void)out;
	snprintf(err, errlen, "--publish: this build has no NATS client");
	return -ENOTSUP;
}

void
publish_notify(struct publish *p)
{
	(void)p;
}

void
publish_stop(struct publish *p)
{
	(void)p;
}

void
publish_get_stats(struct publish *p, struct publish_stats *s)
{
	(void)p;
	memset(s, 0, sizeof(*s));
}
