/*
 * signals on POSIX: handlers only set flags; SIGPIPE is ignored so a peer
 * that went away is an EPIPE, not a dead daemon.
 */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop_flag, reload_flag;

static void
on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	reload_flag = 1;
}

int
signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGTERM, &sa, NULL) != 0)
		return -errno;
	sa.sa_handler = on_hup;
	if (sigaction(SIGHUP, &sa, NULL) != 0)
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -errno;
	return 0;
}

bool
signals_stop_requested(void)
{
	return stop_flag != 0;
}

bool
signals_take_reload(void)
{
	if (reload_flag == 0)
		return false;
	reload_flag = 0;
	return true;
}

void
signals_wait(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	/* EINTR is the point: a signal ends the wait early. */
	nanosleep(&ts, NULL);
}

void
signals_request_stop(void)
{
	stop_flag = 1;
}
