/*
 * signals on Windows: Ctrl-C, Ctrl-Break and console close stop a webd
 * running in a console.  Logoff and shutdown do not: Windows sends
 * CTRL_LOGOFF_EVENT to every service whenever *any* user logs off, and a
 * service learns of shutdown from the SCM (SERVICE_CONTROL_SHUTDOWN, which
 * common/service_win.c turns into signals_request_stop).  Those two are
 * passed on unhandled; the default handler of a service process does not
 * end it for them.  There is no SIGHUP; the rules file is reloaded when it
 * changes.
 */
#include "signals.h"
#include "signals_win.h"

#include <windows.h>

static volatile LONG stop_flag;
static HANDLE wake;

static void
request_stop(void)
{
	InterlockedExchange(&stop_flag, 1);
	if (wake != NULL)
		SetEvent(wake);
}

int
signals_win_ctrl(unsigned long type)
{
	switch (type) {
	case CTRL_C_EVENT:
	case CTRL_BREAK_EVENT:
	case CTRL_CLOSE_EVENT:
		request_stop();
		return 1;
	default:	/* CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT, future ones */
		return 0;
	}
}

static BOOL WINAPI
on_ctrl(DWORD type)
{
	return signals_win_ctrl(type) ? TRUE : FALSE;
}

int
signals_init(void)
{
	if (wake == NULL)
		wake = CreateEventW(NULL, FALSE, FALSE, NULL);
	if (!SetConsoleCtrlHandler(on_ctrl, TRUE))
		return -1;
	return 0;
}

bool
signals_stop_requested(void)
{
	return InterlockedCompareExchange(&stop_flag, 0, 0) != 0;
}

bool
signals_take_reload(void)
{
	return false;
}

void
signals_wait(int ms)
{
	if (wake != NULL)
		WaitForSingleObject(wake, (DWORD)ms);
	else
		Sleep((DWORD)ms);
}

void
signals_request_stop(void)
{
	request_stop();
}
