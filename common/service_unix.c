/*
 * Unix: systemd (or any init) starts the daemon itself, so there is
 * nothing to register; "run" just runs the program.
 */
#include "service.h"

#include <errno.h>
#include <stdio.h>

int
service_platform_install(const struct service_def *d, int argc, char **argv,
    char *msg, size_t msglen)
{
	(void)argc;
	(void)argv;
	snprintf(msg, msglen, "'install' registers the Windows service %s; "
	    "here the systemd unit starts the daemon (docs/install.md)",
	    d->name);
	return -ENOTSUP;
}

int
service_platform_uninstall(const struct service_def *d, char *msg,
    size_t msglen)
{
	snprintf(msg, msglen, "'uninstall' removes the Windows service %s; "
	    "here disable the systemd unit instead (docs/install.md)",
	    d->name);
	return -ENOTSUP;
}

void
service_ready(void)
{
	/* systemd units are Type=simple: nothing to tell. */
}

int
service_platform_run(const struct service_def *d, int argc, char **argv,
    char *msg, size_t msglen)
{
	(void)msg;
	(void)msglen;
	return d->main(argc, argv);
}
