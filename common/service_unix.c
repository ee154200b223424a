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
	snprintf(msg, msglen, "'install' registers a Windows service; here "
	    "use the systemd unit for %s (packaging/)", d->name);
	return -ENOTSUP;
}

int
service_platform_uninstall(const struct service_def *d, char *msg,
    size_t msglen)
{
	snprintf(msg, msglen, "'uninstall' removes a Windows service; here "
	    "disable the systemd unit for %s instead", d->name);
	return -ENOTSUP;
}

int
service_platform_run(const struct service_def *d, int argc, char **argv,
    char *msg, size_t msglen)
{
	(void)msg;
	(void)msglen;
	return d->main(argc, argv);
}
