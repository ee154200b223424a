/*
 * Windows log sink: stderr in console mode; as a service (log_to_eventlog)
 * warnings and errors also go to the Application Event Log under the
 * program's ident, since a service's stderr goes nowhere.
 */
#include "log.h"
#include "progpath.h"
#include "wstr_win.h"

#include <windows.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE event_source;

/* The event source is the program's file name without ".exe", which is
 * also the ident the daemons pass to log_init(). */
static wchar_t *
event_source_name(void)
{
	char path[4096], *base, *dot;

	if (progpath_exe(path, sizeof(path)) != 0)
		return _wcsdup(L"procnet");
	base = strrchr(path, '\\');
	base = base != NULL ? base + 1 : path;
	if ((dot = strrchr(base, '.')) != NULL)
		*dot = '\0';
	return wstr_from_utf8(base);
}

void
log_to_eventlog(int on)
{
	wchar_t *name;

	if (!on) {
		if (event_source != NULL)
			DeregisterEventSource(event_source);
		event_source = NULL;
		return;
	}
	if (event_source != NULL || (name = event_source_name()) == NULL)
		return;
	event_source = RegisterEventSourceW(NULL, name);
	free(name);
}

void
log_platform_write(enum log_level level, const char *line)
{
	const wchar_t *strings[1];
	wchar_t *wline;
	WORD type;

	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	if (event_source == NULL || level > LOG_LEVEL_WARN)
		return;
	type = level == LOG_LEVEL_ERROR ? EVENTLOG_ERROR_TYPE :
	    EVENTLOG_WARNING_TYPE;
	if ((wline = wstr_from_utf8(line)) == NULL)
		return;
	strings[0] = wline;
	ReportEventW(event_source, type, 0, 0, NULL, 1, 0, strings, NULL);
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
