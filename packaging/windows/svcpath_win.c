/*
 * procnet-svcpath SERVICE...: makes each service's registered command line
 * start with its executable path in quotes (see svcpath.h for why).  Run by
 * the MSI as a deferred, non-impersonated custom action after
 * InstallServices; safe to run again (a quoted path is left alone).
 * Exits 0 when every service ends up quoted, 1 otherwise, so a failure
 * rolls the installation back rather than leaving an exploitable path.
 */
#include "log.h"
#include "svcpath.h"
#include "wstr_win.h"

#include <windows.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns 0 when the service's path is quoted (now or already). */
static int
svcpath_fix(SC_HANDLE scm, const wchar_t *wname)
{
	QUERY_SERVICE_CONFIGW *cfg = NULL;
	SC_HANDLE svc;
	DWORD need = 0;
	char *name = NULL, *cur = NULL, quoted[SVCPATH_MAX];
	wchar_t *wquoted = NULL;
	int r, ret = -1;

	name = wstr_to_utf8_dup(wname, -1);
	svc = OpenServiceW(scm, wname,
	    SERVICE_QUERY_CONFIG | SERVICE_CHANGE_CONFIG);
	if (svc == NULL) {
		log_warn("%s: cannot open the service", name ? name : "?");
		goto out;
	}
	if (!QueryServiceConfigW(svc, NULL, 0, &need) &&
	    GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
		log_warn("%s: cannot read the configuration", name);
		goto out;
	}
	if (need == 0 || need > 64u * 1024u ||
	    (cfg = malloc(need)) == NULL) {
		log_warnx("%s: configuration of %lu bytes refused", name,
		    (unsigned long)need);
		goto out;
	}
	if (!QueryServiceConfigW(svc, cfg, need, &need)) {
		log_warn("%s: cannot read the configuration", name);
		goto out;
	}
	if ((cur = wstr_to_utf8_dup(cfg->lpBinaryPathName, -1)) == NULL) {
		log_warnx("%s: command line is not valid text", name);
		goto out;
	}
	if ((r = svcpath_quote(cur, quoted, sizeof(quoted))) < 0) {
		log_warnx("%s: cannot quote command line '%s': %s", name, cur,
		    strerror(-r));
		goto out;
	}
	if (strcmp(cur, quoted) == 0) {
		log_info("%s: command line already quoted", name);
		ret = 0;
		goto out;
	}
	if ((wquoted = wstr_from_utf8(quoted)) == NULL) {
		log_warnx("%s: out of memory", name);
		goto out;
	}
	/* ChangeServiceConfigW updates the SCM's running database and the
	 * registry (ImagePath) together; nothing else changes. */
	if (!ChangeServiceConfigW(svc, SERVICE_NO_CHANGE, SERVICE_NO_CHANGE,
	    SERVICE_NO_CHANGE, wquoted, NULL, NULL, NULL, NULL, NULL, NULL)) {
		log_warn("%s: cannot change the command line", name);
		goto out;
	}
	log_info("%s: command line now %s", name, quoted);
	ret = 0;
out:
	if (svc != NULL)
		CloseServiceHandle(svc);
	free(wquoted);
	free(cur);
	free(cfg);
	free(name);
	return ret;
}

int
wmain(int argc, wchar_t **argv)
{
	SC_HANDLE scm;
	int failed = 0;

	log_init("procnet-svcpath", LOG_LEVEL_INFO);
	if (argc < 2) {
		fprintf(stderr, "usage: procnet-svcpath SERVICE...\n");
		return 2;
	}
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (scm == NULL) {
		log_warn("cannot open the service control manager");
		return 1;
	}
	for (int i = 1; i < argc; i++)
		if (svcpath_fix(scm, argv[i]) < 0)
			failed = 1;
	CloseServiceHandle(scm);
	return failed;
}
