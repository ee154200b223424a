/*
 * Windows services through the Service Control Manager, OpenVPN-service
 * style: install/uninstall verbs beside the dispatcher; the program's own
 * main() runs in ServiceMain.  Start: START_PENDING with a checkpoint every
 * second until the program calls service_ready() (RUNNING), or returns
 * (STOPPED, its exit status as the service-specific code).  STOP, SHUTDOWN
 * and PRESHUTDOWN report STOP_PENDING with a wait hint (bumped every
 * second) and ask the program to stop.  While a service, warnings and
 * errors go to the Event Log (log_to_eventlog).
 */
#include "service.h"
#include "log.h"
#include "log_win.h"
#include "progpath.h"
#include "wstr_win.h"

#include <windows.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMDLINE_MAX		8192	/* wchar_t; the SCM allows more */
#define START_WAIT_HINT_MS	10000
#define START_TICKS		300	/* seconds of START_PENDING checkpoints */
#define STOP_WAIT_HINT_MS	10000
#define STOP_TICKS		60	/* seconds of STOP_PENDING checkpoints */
#define UNINSTALL_WAIT_MS	30000
#define CONTROLS	(SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | \
			 SERVICE_ACCEPT_PRESHUTDOWN)

static const struct service_def *svc;
static int svc_argc;
static char **svc_argv;
static wchar_t *svc_name;
static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static CRITICAL_SECTION status_lock;
static volatile LONG main_done, stopping, ready;
static int exit_status;
static DWORD run_error;

static void
set_state(DWORD state, int exit, DWORD wait_hint)
{
	DWORD cur;

	EnterCriticalSection(&status_lock);
	cur = status.dwCurrentState;
	/* STOPPED is final; once stopping, a late tick of the start ticker
	 * or a late service_ready() must not step back. */
	if (cur == SERVICE_STOPPED || (cur == SERVICE_STOP_PENDING &&
	    state != SERVICE_STOP_PENDING && state != SERVICE_STOPPED)) {
		LeaveCriticalSection(&status_lock);
		return;
	}
	status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	status.dwCurrentState = state;
	/* A stop may come while the program is still starting. */
	status.dwControlsAccepted = state == SERVICE_RUNNING ||
	    state == SERVICE_START_PENDING ? CONTROLS : 0;
	if (exit != 0) {
		status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
		status.dwServiceSpecificExitCode = (DWORD)exit;
	} else {
		status.dwWin32ExitCode = NO_ERROR;
		status.dwServiceSpecificExitCode = 0;
	}
	status.dwWaitHint = wait_hint;
	if (state == SERVICE_RUNNING || state == SERVICE_STOPPED)
		status.dwCheckPoint = 0;
	else if (state != cur)
		status.dwCheckPoint = 1;
	else
		status.dwCheckPoint++;
	if (status_handle != NULL)
		SetServiceStatus(status_handle, &status);
	LeaveCriticalSection(&status_lock);
}

static bool
flag(volatile LONG *f)
{
	return InterlockedCompareExchange(f, 0, 0) != 0;
}

/* Keeps the SCM patient while the program starts: a new checkpoint every
 * second shows progress, so a slow start (a busy machine's first socket
 * table) is not taken for a hung one. */
static DWORD WINAPI
start_ticker(LPVOID arg)
{
	(void)arg;
	for (int i = 0; i < START_TICKS; i++) {
		Sleep(1000);
		if (flag(&ready) || flag(&main_done) || flag(&stopping))
			break;
		set_state(SERVICE_START_PENDING, 0, START_WAIT_HINT_MS);
	}
	return 0;
}

/* Keeps the SCM patient while the program winds down. */
static DWORD WINAPI
stop_ticker(LPVOID arg)
{
	(void)arg;
	for (int i = 0; i < STOP_TICKS; i++) {
		Sleep(1000);
		if (flag(&main_done))
			break;
		set_state(SERVICE_STOP_PENDING, 0, STOP_WAIT_HINT_MS);
	}
	return 0;
}

static void
start_thread(LPTHREAD_START_ROUTINE fn)
{
	HANDLE t;

	if ((t = CreateThread(NULL, 0, fn, NULL, 0, NULL)) != NULL)
		CloseHandle(t);
}

static DWORD WINAPI
control_handler(DWORD control, DWORD type, LPVOID data, LPVOID ctx)
{
	(void)type;
	(void)data;
	(void)ctx;
	switch (control) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
	case SERVICE_CONTROL_PRESHUTDOWN:
		if (InterlockedExchange(&stopping, 1) != 0)
			return NO_ERROR;	/* already on its way */
		set_state(SERVICE_STOP_PENDING, 0, STOP_WAIT_HINT_MS);
		svc->stop();
		start_thread(stop_ticker);
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;	/* the SCM re-reads the last status */
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

void
service_ready(void)
{
	if (InterlockedExchange(&ready, 1) != 0 || status_handle == NULL)
		return;		/* said already, or not under the SCM */
	set_state(SERVICE_RUNNING, 0, 0);
}

static void WINAPI
scm_service_main(DWORD argc, LPWSTR *argv)
{
	(void)argc;
	(void)argv;	/* start parameters; the program's are svc_argv */
	log_to_eventlog(1);
	status_handle = RegisterServiceCtrlHandlerExW(svc_name,
	    control_handler, NULL);
	if (status_handle == NULL) {
		run_error = GetLastError();
		exit_status = 1;
		return;
	}
	set_state(SERVICE_START_PENDING, 0, START_WAIT_HINT_MS);
	start_thread(start_ticker);
	exit_status = svc->main(svc_argc, svc_argv);
	InterlockedExchange(&main_done, 1);
	if (exit_status != 0 && !flag(&ready))
		log_errx("%s did not start (exit status %d)", svc->name,
		    exit_status);
	set_state(SERVICE_STOPPED, exit_status, 0);
}

static void
win_msg(char *msg, size_t len, const char *what, DWORD err)
{
	wchar_t w[256];
	char text[256];
	DWORD n;

	n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM |
	    FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0, w, 256, NULL);
	while (n > 0 && (w[n - 1] == L'\r' || w[n - 1] == L'\n' ||
	    w[n - 1] == L' ' || w[n - 1] == L'.'))
		n--;
	if (n == 0 || wstr_to_utf8(w, (int)n, text, sizeof(text)) != 0)
		snprintf(text, sizeof(text), "error");
	snprintf(msg, len, "%s: %s (error %lu)", what, text,
	    (unsigned long)err);
}

int
service_platform_run(const struct service_def *d, int argc, char **argv,
    char *msg, size_t msglen)
{
	SERVICE_TABLE_ENTRYW table[2];
	DWORD err;
	int rc;

	svc = d;
	svc_argc = argc;
	svc_argv = argv;
	if ((svc_name = wstr_from_utf8(d->name)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return 1;
	}
	InitializeCriticalSection(&status_lock);
	memset(table, 0, sizeof(table));
	table[0].lpServiceName = svc_name;
	table[0].lpServiceProc = scm_service_main;
	if (StartServiceCtrlDispatcherW(table)) {
		/* Returns once ServiceMain has reported STOPPED. */
		if (run_error != 0)
			win_msg(msg, msglen, "RegisterServiceCtrlHandlerExW",
			    run_error);
		rc = exit_status;
	} else if ((err = GetLastError()) ==
	    ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
		rc = d->main(argc, argv);	/* started from a console */
	else {
		win_msg(msg, msglen, "StartServiceCtrlDispatcherW", err);
		rc = 1;
	}
	free(svc_name);
	svc_name = NULL;
	return rc;
}

/* Appends one argument quoted the way CommandLineToArgvW reads it back:
 * backslashes before a quote (or the closing quote) doubled. */
static bool
append_arg(wchar_t *cmd, size_t cap, const wchar_t *arg)
{
	size_t len = wcslen(cmd), bs;
	bool quote = arg[0] == L'\0' || wcspbrk(arg, L" \t\"") != NULL;

#define PUT(ch) do { if (len + 1 >= cap) return false; cmd[len++] = (ch); } while (0)
	PUT(L' ');
	if (quote)
		PUT(L'"');
	for (const wchar_t *p = arg; ; p++) {
		for (bs = 0; *p == L'\\'; p++)
			bs++;
		if (*p == L'\0') {
			for (size_t i = 0; i < (quote ? bs * 2 : bs); i++)
				PUT(L'\\');
			break;
		}
		if (*p == L'"') {
			for (size_t i = 0; i < bs * 2 + 1; i++)
				PUT(L'\\');
		} else {
			for (size_t i = 0; i < bs; i++)
				PUT(L'\\');
		}
		PUT(*p);
	}
	if (quote)
		PUT(L'"');
	cmd[len] = L'\0';
	return true;
#undef PUT
}

/* One ChangeServiceConfig2W.  A level this SCM does not know
 * (ERROR_INVALID_LEVEL: Wine has no failure-actions flag nor service SID
 * type; Windows has both since Vista) is noted in skipped, not fatal. */
static bool
config2(SC_HANDLE s, DWORD level, void *info, const char *what,
    char *skipped, size_t skiplen)
{
	size_t n;

	if (ChangeServiceConfig2W(s, level, info))
		return true;
	if (GetLastError() != ERROR_INVALID_LEVEL)
		return false;
	n = strlen(skipped);
	snprintf(skipped + n, skiplen - n, "%s%s", n > 0 ? ", " : "", what);
	return true;
}

/* Restart on failure (SERVICE_RESTART_DELAYS_MS), also when the program
 * returns an error status rather than crashing; and the service SID when
 * the service asks for one.  False with GetLastError() set on failure. */
static bool
set_recovery(const struct service_def *d, SC_HANDLE s, char *skipped,
    size_t skiplen)
{
	static const DWORD delays[] = SERVICE_RESTART_DELAYS_MS;
	SC_ACTION actions[sizeof(delays) / sizeof(delays[0])];
	SERVICE_FAILURE_ACTIONSW fa;
	SERVICE_FAILURE_ACTIONS_FLAG fl;
	SERVICE_SID_INFO si;

	for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		actions[i].Type = SC_ACTION_RESTART;
		actions[i].Delay = delays[i];
	}
	memset(&fa, 0, sizeof(fa));
	fa.dwResetPeriod = SERVICE_FAILURE_RESET_S;
	fa.cActions = sizeof(actions) / sizeof(actions[0]);
	fa.lpsaActions = actions;
	fl.fFailureActionsOnNonCrashFailures = TRUE;
	si.dwServiceSidType = SERVICE_SID_TYPE_UNRESTRICTED;
	return config2(s, SERVICE_CONFIG_FAILURE_ACTIONS, &fa,
	    "failure actions", skipped, skiplen) &&
	    config2(s, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &fl,
	    "failure actions on non-crash failures", skipped, skiplen) &&
	    (!d->service_sid || config2(s, SERVICE_CONFIG_SERVICE_SID_INFO,
	    &si, "service SID type", skipped, skiplen));
}

#define EVENTLOG_KEY \
	L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"

/* HKLM\...\EventLog\Application\<source>: EventMessageFile is this
 * program (it carries the message table, common/messages.mc) and
 * TypesSupported error | warning | information, so Event Viewer shows our
 * text.  The MSI writes the same values. */
static int
eventlog_register(const wchar_t *exe, char *msg, size_t msglen)
{
	wchar_t key[300], src[128];
	DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE |
	    EVENTLOG_INFORMATION_TYPE;
	HKEY k;
	LONG r;

	if (log_win_source(src, 128) != 0) {
		snprintf(msg, msglen, "cannot name the Event Log source");
		return -ENOENT;
	}
	_snwprintf(key, 300, L"%ls%ls", EVENTLOG_KEY, src);
	key[299] = L'\0';
	r = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, NULL, 0,
	    KEY_SET_VALUE, NULL, &k, NULL);
	if (r == ERROR_SUCCESS) {
		r = RegSetValueExW(k, L"EventMessageFile", 0, REG_EXPAND_SZ,
		    (const BYTE *)exe, (DWORD)((wcslen(exe) + 1) *
		    sizeof(wchar_t)));
		if (r == ERROR_SUCCESS)
			r = RegSetValueExW(k, L"TypesSupported", 0, REG_DWORD,
			    (const BYTE *)&types, sizeof(types));
		RegCloseKey(k);
	}
	if (r != ERROR_SUCCESS) {
		win_msg(msg, msglen, "registering the Event Log source",
		    (DWORD)r);
		return -EACCES;
	}
	return 0;
}

static void
eventlog_unregister(void)
{
	wchar_t key[300], src[128];

	if (log_win_source(src, 128) != 0)
		return;
	_snwprintf(key, 300, L"%ls%ls", EVENTLOG_KEY, src);
	key[299] = L'\0';
	RegDeleteKeyW(HKEY_LOCAL_MACHINE, key);
}

int
service_platform_install(const struct service_def *d, int argc, char **argv,
    char *msg, size_t msglen)
{
	SERVICE_DESCRIPTIONW desc;
	wchar_t *exe = NULL, *cmd = NULL, *name = NULL, *display = NULL;
	wchar_t *account = NULL, *descw = NULL, *w;
	SC_HANDLE scm = NULL, s = NULL;
	char exe8[CMDLINE_MAX * 3], skipped[160] = "";
	DWORD err;
	int n, rc = -EIO;

	/* Long paths too: the service's image path is the whole file name. */
	if ((rc = progpath_exe(exe8, sizeof(exe8))) != 0) {
		snprintf(msg, msglen, "cannot find this program's file: %s",
		    strerror(-rc));
		return rc;
	}
	rc = -EIO;
	if ((exe = wstr_from_utf8(exe8)) == NULL ||
	    (cmd = calloc(CMDLINE_MAX, sizeof(*cmd))) == NULL)
		goto nomem;
	/* The image path quoted: a path with spaces must not be read as
	 * "C:\Program.exe Files\...". */
	n = _snwprintf(cmd, CMDLINE_MAX, L"\"%ls\" run", exe);
	if (n < 0 || n >= CMDLINE_MAX) {
		snprintf(msg, msglen, "service command line too long");
		rc = -E2BIG;
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		if ((w = wstr_from_utf8(argv[i])) == NULL)
			goto nomem;
		if (!append_arg(cmd, CMDLINE_MAX, w)) {
			free(w);
			snprintf(msg, msglen, "service command line too long");
			rc = -E2BIG;
			goto out;
		}
		free(w);
	}
	name = wstr_from_utf8(d->name);
	display = wstr_from_utf8(d->display);
	descw = wstr_from_utf8(d->description ? d->description : "");
	if (d->account != NULL)
		account = wstr_from_utf8(d->account);
	if (name == NULL || display == NULL || descw == NULL ||
	    (d->account != NULL && account == NULL))
		goto nomem;

	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT |
	    SC_MANAGER_CREATE_SERVICE);
	if (scm == NULL) {
		win_msg(msg, msglen, "OpenSCManagerW", GetLastError());
		goto out;
	}
	s = CreateServiceW(scm, name, display, SERVICE_CHANGE_CONFIG |
	    SERVICE_QUERY_STATUS | SERVICE_START | DELETE, SERVICE_WIN32_OWN_PROCESS,
	    SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL,
	    account, NULL);
	if (s == NULL) {
		err = GetLastError();
		if (err == ERROR_SERVICE_EXISTS) {
			snprintf(msg, msglen, "service %s is already "
			    "installed (uninstall it first)", d->name);
			rc = -EEXIST;
		} else
			win_msg(msg, msglen, "CreateServiceW", err);
		goto out;
	}
	desc.lpDescription = descw;
	if (!config2(s, SERVICE_CONFIG_DESCRIPTION, &desc, "description",
	    skipped, sizeof(skipped)) ||
	    !set_recovery(d, s, skipped, sizeof(skipped))) {
		win_msg(msg, msglen, "ChangeServiceConfig2W", GetLastError());
		rc = -EIO;
	} else
		rc = eventlog_register(exe, msg, msglen);
	if (rc != 0) {
		/* Half-configured is worse than absent: undo. */
		DeleteService(s);
		goto out;
	}
	{
		char cmd8[1024];

		wstr_to_utf8(cmd, -1, cmd8, sizeof(cmd8));
		snprintf(msg, msglen, "installed service %s (%s): %s%s%s%s",
		    d->name, d->account ? d->account : "LocalSystem", cmd8,
		    skipped[0] != '\0' ? " (this system does not store: " : "",
		    skipped, skipped[0] != '\0' ? ")" : "");
	}
	rc = 0;
	goto out;
nomem:
	snprintf(msg, msglen, "out of memory");
	rc = -ENOMEM;
out:
	if (s != NULL)
		CloseServiceHandle(s);
	if (scm != NULL)
		CloseServiceHandle(scm);
	free(exe);
	free(cmd);
	free(name);
	free(display);
	free(descw);
	free(account);
	return rc;
}

int
service_platform_uninstall(const struct service_def *d, char *msg,
    size_t msglen)
{
	SERVICE_STATUS st;
	SC_HANDLE scm = NULL, s = NULL;
	wchar_t *name;
	DWORD err;
	int rc = -EIO;

	if ((name = wstr_from_utf8(d->name)) == NULL) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL) {
		win_msg(msg, msglen, "OpenSCManagerW", GetLastError());
		goto out;
	}
	s = OpenServiceW(scm, name, SERVICE_STOP | SERVICE_QUERY_STATUS |
	    DELETE);
	if (s == NULL) {
		err = GetLastError();
		if (err == ERROR_SERVICE_DOES_NOT_EXIST) {
			snprintf(msg, msglen, "service %s is not installed",
			    d->name);
			rc = -ENOENT;
		} else
			win_msg(msg, msglen, "OpenServiceW", err);
		goto out;
	}
	if (QueryServiceStatus(s, &st) && st.dwCurrentState !=
	    SERVICE_STOPPED) {
		ControlService(s, SERVICE_CONTROL_STOP, &st);
		for (int waited = 0; waited < UNINSTALL_WAIT_MS &&
		    QueryServiceStatus(s, &st) &&
		    st.dwCurrentState != SERVICE_STOPPED; waited += 250)
			Sleep(250);
	}
	if (!DeleteService(s)) {
		win_msg(msg, msglen, "DeleteService", GetLastError());
		goto out;
	}
	eventlog_unregister();
	snprintf(msg, msglen, "removed service %s", d->name);
	rc = 0;
out:
	if (s != NULL)
		CloseServiceHandle(s);
	if (scm != NULL)
		CloseServiceHandle(scm);
	free(name);
	return rc;
}
