/*
 * procnet-svcpath: the MSI's service helper, run as deferred,
 * non-impersonated custom actions (procnet.wxs).
 *
 *   procnet-svcpath quote SERVICE...
 *	Makes each service's registered command line start with its
 *	executable path in quotes (see svcpath.h for why), right after
 *	InstallServices.  Safe to run again (a quoted path is left alone).
 *	Exits 0 when every service ends up quoted, 1 otherwise, so a failure
 *	rolls the installation back rather than leaving an exploitable path.
 *
 *   procnet-svcpath wait-stopped SECONDS SERVICE...
 *	Waits until each service is stopped or gone and its process has
 *	exited, right after StopServices.  Windows Installer waits for a stop
 *	itself; Wine's msiexec only asks and goes on, and deleting and
 *	re-creating a service that is still STOP_PENDING (or replacing an exe
 *	still running) then fails the upgrade.  Exits 0 when all are stopped;
 *	after SECONDS ends what still runs and exits 1.
 *
 *   procnet-svcpath protect-dir DIR
 *	Gives DIR (C:\ProgramData\ProcnetLive, where webd reads its rules)
 *	the owner Administrators and a protected DACL: SYSTEM and
 *	Administrators full control, Users read, inherited by everything in
 *	it; and resets what is inside to owner Administrators and only those
 *	inherited entries.  A folder pre-created by a non-admin (who, as its
 *	owner, could otherwise change its DACL and swap the rules later) is
 *	taken over.  Right after InstallFiles; exits 1 on failure, which
 *	rolls the installation back.
 */
#include "log.h"
#include "svcpath.h"
#include "wstr_win.h"

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

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
	 * registry (ImagePath) together; nothing else changes.  (Wine's SCM
	 * drops a service's dependencies here, one reason the MSI gives
	 * procnetwebd none: it reconnects to the collector by itself.) */
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

#define WAIT_STEP_MS	200
#define WAIT_MAX_SERVICES	16

/*
 * 1 while the service is not stopped, or while the process it ran in is
 * still alive: a stopped service's process may linger in its exit (and
 * keep its exe locked).  Its process is remembered in *proc while it runs.
 */
static int
svcpath_busy(SC_HANDLE scm, const wchar_t *wname, HANDLE *proc)
{
	SERVICE_STATUS_PROCESS st;
	SC_HANDLE svc;
	DWORD need;
	int busy = 0;

	svc = OpenServiceW(scm, wname, SERVICE_QUERY_STATUS);
	if (svc == NULL) {
		if (GetLastError() != ERROR_SERVICE_DOES_NOT_EXIST)
			busy = 1;
	} else {
		if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO,
		    (BYTE *)&st, sizeof(st), &need))
			busy = 1;
		else if (st.dwCurrentState != SERVICE_STOPPED) {
			busy = 1;
			if (*proc == NULL && st.dwProcessId != 0)
				*proc = OpenProcess(SYNCHRONIZE |
				    PROCESS_TERMINATE, FALSE, st.dwProcessId);
		}
		CloseServiceHandle(svc);
	}
	if (!busy && *proc != NULL &&
	    WaitForSingleObject(*proc, 0) == WAIT_TIMEOUT)
		busy = 1;
	return busy;
}

static int
svcpath_wait_stopped(SC_HANDLE scm, int seconds, int n, wchar_t **names)
{
	ULONGLONG deadline = GetTickCount64() + (ULONGLONG)seconds * 1000u;
	HANDLE procs[WAIT_MAX_SERVICES] = { NULL };
	int busy, ret = -1;

	if (n > WAIT_MAX_SERVICES)
		n = WAIT_MAX_SERVICES;
	for (;;) {
		busy = 0;
		for (int i = 0; i < n; i++)
			busy += svcpath_busy(scm, names[i], &procs[i]);
		if (busy == 0) {
			ret = 0;
			goto out;
		}
		if (GetTickCount64() >= deadline)
			break;
		Sleep(WAIT_STEP_MS);
	}
	for (int i = 0; i < n; i++) {
		char *name = wstr_to_utf8_dup(names[i], -1);

		if (!svcpath_busy(scm, names[i], &procs[i])) {
			free(name);
			continue;
		}
		log_warnx("%s: still not stopped after %d s", name ? name : "?",
		    seconds);
		/* Its files are about to be replaced or removed: a process
		 * that will not go is ended, so the exe is not left locked. */
		if (procs[i] != NULL && TerminateProcess(procs[i], 1))
			WaitForSingleObject(procs[i], 5000);
		free(name);
	}
out:
	for (int i = 0; i < n; i++)
		if (procs[i] != NULL)
			CloseHandle(procs[i]);
	return ret;
}

/* SYSTEM, Administrators: full; Users: read and execute (0x1200a9 =
 * FILE_GENERIC_READ | FILE_GENERIC_EXECUTE); to files and subfolders. */
#define DATA_SDDL	L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
#define PROTECT_DEPTH	8

/* Owner Administrators and nothing but inherited entries, for everything
 * below dir (depth-limited; links are not followed). */
static int
reset_children(const wchar_t *dir, PSID owner, PACL empty, int depth)
{
	WIN32_FIND_DATAW fd;
	wchar_t pat[MAX_PATH * 2], child[MAX_PATH * 2];
	HANDLE f;
	DWORD r;
	int failed = 0;

	_snwprintf(pat, MAX_PATH * 2, L"%ls\\*", dir);
	pat[MAX_PATH * 2 - 1] = L'\0';
	if ((f = FindFirstFileW(pat, &fd)) == INVALID_HANDLE_VALUE)
		return 0;
	do {
		if (wcscmp(fd.cFileName, L".") == 0 ||
		    wcscmp(fd.cFileName, L"..") == 0)
			continue;
		_snwprintf(child, MAX_PATH * 2, L"%ls\\%ls", dir,
		    fd.cFileName);
		child[MAX_PATH * 2 - 1] = L'\0';
		r = SetNamedSecurityInfoW(child, SE_FILE_OBJECT,
		    OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
		    UNPROTECTED_DACL_SECURITY_INFORMATION, owner, NULL, empty,
		    NULL);
		if (r != ERROR_SUCCESS) {
			SetLastError(r);
			log_warn("%ls: cannot reset its owner and DACL", child);
			failed = 1;
		}
		if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
		    !(fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
		    depth > 0 &&
		    reset_children(child, owner, empty, depth - 1) != 0)
			failed = 1;
	} while (FindNextFileW(f, &fd));
	FindClose(f);
	return failed;
}

static int
protect_dir(const wchar_t *arg)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	wchar_t dir[MAX_PATH * 2];
	size_t len;
	BYTE admins[SECURITY_MAX_SID_SIZE];
	DWORD n = sizeof(admins), r;
	BOOL present, defaulted;
	ACL empty;
	PACL dacl;
	int rc = 1;

	/* "C:\\ProgramData\\ProcnetLive\\" as the MSI passes it: no trailing
	 * separator ("C:\\" keeps its own). */
	_snwprintf(dir, MAX_PATH * 2, L"%ls", arg);
	dir[MAX_PATH * 2 - 1] = L'\0';
	len = wcslen(dir);
	while (len > 3 && (dir[len - 1] == L'\\' || dir[len - 1] == L'/'))
		dir[--len] = L'\0';
	if (!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins,
	    &n) || !ConvertStringSecurityDescriptorToSecurityDescriptorW(
	    DATA_SDDL, SDDL_REVISION_1, &sd, NULL) ||
	    !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) ||
	    !InitializeAcl(&empty, sizeof(empty), ACL_REVISION)) {
		log_warn("cannot build the security descriptor");
		goto out;
	}
	r = SetNamedSecurityInfoW((wchar_t *)dir, SE_FILE_OBJECT,
	    OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
	    PROTECTED_DACL_SECURITY_INFORMATION, admins, NULL, dacl, NULL);
	if (r != ERROR_SUCCESS) {
		SetLastError(r);
		log_warn("%ls: cannot set its owner and DACL", dir);
		goto out;
	}
	rc = reset_children(dir, admins, &empty, PROTECT_DEPTH);
	if (rc == 0)
		log_info("%ls: owner Administrators, DACL %ls", dir, DATA_SDDL);
out:
	if (sd != NULL)
		LocalFree(sd);
	return rc;
}

static int
usage(void)
{
	fprintf(stderr, "usage: procnet-svcpath quote SERVICE...\n"
	    "       procnet-svcpath wait-stopped SECONDS SERVICE...\n"
	    "       procnet-svcpath protect-dir DIR\n");
	return 2;
}

int wmain(int argc, wchar_t **argv);

int
wmain(int argc, wchar_t **argv)
{
	SC_HANDLE scm;
	wchar_t *end;
	long seconds;
	int failed = 0;

	log_init("procnet-svcpath", LOG_LEVEL_INFO);
	if (argc < 3)
		return usage();
	if (wcscmp(argv[1], L"protect-dir") == 0)
		return argc == 3 ? protect_dir(argv[2]) : usage();
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (scm == NULL) {
		log_warn("cannot open the service control manager");
		return 1;
	}
	if (wcscmp(argv[1], L"quote") == 0) {
		for (int i = 2; i < argc; i++)
			if (svcpath_fix(scm, argv[i]) < 0)
				failed = 1;
	} else if (wcscmp(argv[1], L"wait-stopped") == 0 && argc >= 4) {
		seconds = wcstol(argv[2], &end, 10);
		if (*end != L'\0' || seconds < 1 || seconds > 600) {
			CloseServiceHandle(scm);
			return usage();
		}
		if (svcpath_wait_stopped(scm, (int)seconds, argc - 3,
		    argv + 3) < 0)
			failed = 1;
	} else {
		CloseServiceHandle(scm);
		return usage();
	}
	CloseServiceHandle(scm);
	return failed;
}
