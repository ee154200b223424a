/*
 * Windows log sink: stderr in console mode; as a service (log_to_eventlog)
 * warnings and errors also go to the Application Event Log under the
 * program's ident, since a service's stderr goes nowhere.  Each event is
 * one of the message table's ids (messages.mc, linked into the program)
 * with the whole line as its one insertion string.
 */
#include "log.h"
#include "log_win.h"
#include "messages.h"
#include "progpath.h"
#include "wstr_win.h"

#include <windows.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE event_source;

int
log_win_source(wchar_t *buf, size_t len)
{
	char path[4096], *base, *dot;
	wchar_t *w;
	int rc;

	if ((rc = progpath_exe(path, sizeof(path))) != 0)
		return rc;
	base = strrchr(path, '\\');
	base = base != NULL ? base + 1 : path;
	if ((dot = strrchr(base, '.')) != NULL)
		*dot = '\0';
	if ((w = wstr_from_utf8(base)) == NULL)
		return -ENOMEM;
	if (wcslen(w) + 1 > len) {
		free(w);
		return -ENAMETOOLONG;
	}
	wcscpy(buf, w);
	free(w);
	return 0;
}

void
log_to_eventlog(int on)
{
	wchar_t name[256];

	if (!on) {
		if (event_source != NULL)
			DeregisterEventSource(event_source);
		event_source = NULL;
		return;
	}
	if (event_source != NULL)
		return;
	if (log_win_source(name, 256) != 0)
		wcscpy(name, L"procnet");
	event_source = RegisterEventSourceW(NULL, name);
}

void
log_platform_write(enum log_level level, const char *line)
{
	const wchar_t *strings[1];
	wchar_t *wline;
	WORD type;
	DWORD id;

	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	if (event_source == NULL || level > LOG_LEVEL_WARN)
		return;
	if (level == LOG_LEVEL_ERROR) {
		type = EVENTLOG_ERROR_TYPE;
		id = MSG_PROCNET_ERROR;
	} else {
		type = EVENTLOG_WARNING_TYPE;
		id = MSG_PROCNET_WARNING;
	}
	if ((wline = wstr_from_utf8(line)) == NULL)
		return;
	strings[0] = wline;
	ReportEventW(event_source, type, 0, id, NULL, 1, 0, strings, NULL);
	free(wline);
}

const char *
log_platform_errstr(char *buf, unsigned len)
{
	DWORD err = GetLastError();
	wchar_t wmsg[512];
	DWORD n;
	char *p;

	n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM |
	    FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err,
	    MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), wmsg,
	    sizeof(wmsg) / sizeof(wmsg[0]), NULL);
	if (n == 0 || wstr_to_utf8(wmsg, (int)n, buf, len) != 0 ||
	    buf[0] == '\0') {
		snprintf(buf, len, "error %lu", (unsigned long)err);
		return buf;
	}
	/* FormatMessage ends its text with ".\r\n"; a log line must not. */
	p = buf + strlen(buf);
	while (p > buf && (p[-1] == '\r' || p[-1] == '\n' || p[-1] == ' '))
		*--p = '\0';
	snprintf(p, len - (size_t)(p - buf), " (error %lu)",
	    (unsigned long)err);
	return buf;
}
