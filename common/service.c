/* The service verbs, shared by every platform and every daemon. */
#include "service.h"

#include <stdio.h>
#include <string.h>

int
service_dispatch(const struct service_def *d, int argc, char **argv,
    char *msg, size_t msglen)
{
	char *args[SERVICE_MAX_ARGS + 2];
	int n = 0;

	if (msglen > 0)
		msg[0] = '\0';
	if (argc < 2 || argv[1] == NULL)
		return -1;
	if (strcmp(argv[1], "install") != 0 &&
	    strcmp(argv[1], "uninstall") != 0 && strcmp(argv[1], "run") != 0)
		return -1;
	if (argc - 2 > SERVICE_MAX_ARGS) {
		snprintf(msg, msglen, "%s: more than %d arguments", argv[1],
		    SERVICE_MAX_ARGS);
		return 2;
	}
	if (strcmp(argv[1], "uninstall") == 0) {
		if (argc > 2) {
			snprintf(msg, msglen, "uninstall takes no arguments");
			return 2;
		}
		return service_platform_uninstall(d, msg, msglen) == 0 ? 0 : 1;
	}
	/* The program's own argv: argv[0], then the arguments after the verb
	 * or the default ones. */
	args[n++] = argv[0];
	if (argc > 2)
		for (int i = 2; i < argc; i++)
			args[n++] = argv[i];
	else if (d->default_args != NULL)
		for (int i = 0; d->default_args[i] != NULL &&
		    n < SERVICE_MAX_ARGS + 1; i++)
			args[n++] = (char *)d->default_args[i];
	args[n] = NULL;
	if (strcmp(argv[1], "install") == 0)
		return service_platform_install(d, n, args, msg, msglen) == 0 ?
		    0 : 1;
	return service_platform_run(d, n, args, msg, msglen);
}

int
service_main(const struct service_def *d, int argc, char **argv,
    void (*report)(int status, const char *msg))
{
	char msg[1024];
	int rc;

	if ((rc = service_dispatch(d, argc, argv, msg, sizeof(msg))) >= 0) {
		if (report != NULL)
			report(rc, msg);
		return rc;
	}
	return d->main(argc, argv);
}
