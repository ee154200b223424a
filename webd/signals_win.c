/*
 * signals on Windows: Ctrl-C, Ctrl-Break and console close stop the
 * daemon.  There is no SIGHUP; the rules file is reloaded when it changes.
 */
#include "signals.h"

#include <windows.h>

static volatile LONG stop_flag;
static HANDLE wake;

static BOOL WINAPI
on_ctrl(DWORD type)
{
	(void)type;
	InterlockedExchange(&stop_flag, 1);
	if (wake != NULL)
		SetEvent(wake);
	return TRUE;
}

int
signals_init(void)
{
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
	on_ctrl(CTRL_CLOSE_EVENT);
}
