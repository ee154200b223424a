/* Unix log sink: stderr, which systemd hands to the journal. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void
log_to_eventlog(int on)
{
	(void)on;	/* no Event Log here; stderr goes to the journal */
}

void
log_platform_write(enum log_level level, const char *line)
{
	(void)level;
	fprintf(stderr, "%s\n", line);
}

const char *
log_platform_errstr(char *buf, unsigned len)
{
	snprintf(buf, len, "%s", strerror(errno));
	return buf;
}
