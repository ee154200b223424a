/*
 * Running a daemon as an operating-system service.  Windows: the Service
 * Control Manager (service_win.c); elsewhere the init system starts the
 * program directly, so only "run" means anything (service_unix.c).
 *
 * A program hands its real main() and a stop function to service_dispatch()
 * first thing; the verbs are
 *	install [ARGS...]	register the service; the SCM will start
 *				"PROGRAM run ARGS..." (default_args when none)
 *	uninstall		stop the service if it runs, then delete it
 *	run [ARGS...]		under the SCM: report to it and run
 *				main(ARGS); from a console: just main(ARGS)
 * Library code: nothing here logs; what a person should read comes back in
 * msg, and the caller prints it.
 */
#ifndef PROCNET_SERVICE_H
#define PROCNET_SERVICE_H

#include <stddef.h>

struct service_def {
	const char *name;		/* SCM key name, e.g. "procnetcollector" */
	const char *display;		/* e.g. "Procnet Live Collector" */
	const char *description;
	const char *account;		/* NULL: LocalSystem; else e.g.
					 * "NT AUTHORITY\\LocalService" */
	/* Windows: give the process the service SID NT SERVICE\<name>
	 * (SID type unrestricted), so an ACL can name this service alone
	 * rather than every service of its account. */
	int service_sid;
	const char *const *default_args;/* NULL-terminated; may be NULL */
	/* The program proper; argv[0] is the program, the rest its options. */
	int (*main)(int argc, char **argv);
	/* Asks main() to return soon; called from another thread. */
	void (*stop)(void);
};

#define SERVICE_MAX_ARGS	64

/*
 * When argv[1] is a verb above, carries it out and returns the process's
 * exit status (msg says what happened, or why not); otherwise returns -1
 * and leaves msg empty.
 */
int service_dispatch(const struct service_def *d, int argc, char **argv,
    char *msg, size_t msglen);

/*
 * A daemon's whole main(): the verbs when argv[1] is one, their outcome
 * handed to report (may be NULL) and its exit status returned; otherwise
 * d->main(argc, argv).
 */
int service_main(const struct service_def *d, int argc, char **argv,
    void (*report)(int status, const char *msg));

/*
 * The program calls this once it really serves (the collector: its
 * endpoint is open; webd: its port is open and the first collector
 * attempt is done).  Windows, under the SCM: START_PENDING (with a
 * checkpoint every second) becomes RUNNING; a program that returns
 * before this ends START_PENDING in STOPPED with its exit status as the
 * service-specific code.  Elsewhere, and in a console, nothing.
 */
void service_ready(void);

/* Windows install: restart after a failure (a crash, or a stop with an
 * error status): after 5 s, 30 s, then 60 s; the count resets after a
 * day.  The MSI sets the same (packaging/windows/build-msi.sh). */
#define SERVICE_RESTART_DELAYS_MS	{ 5000, 30000, 60000 }
#define SERVICE_FAILURE_RESET_S		86400

/* Platform parts (service_unix.c / service_win.c). */
int service_platform_install(const struct service_def *d, int argc,
    char **argv, char *msg, size_t msglen);
int service_platform_uninstall(const struct service_def *d, char *msg,
    size_t msglen);
/* argv[0] is the program, then its options (the verb removed). */
int service_platform_run(const struct service_def *d, int argc, char **argv,
    char *msg, size_t msglen);

#endif
