/*
 * ipc_win.c under Wine (or Windows): the named-pipe transport's contract
 * from transport.h, and the DACL read back from a live pipe.  Each test
 * uses its own pipe name (pid + counter), never the product's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"
#include "ipc_win_priv.h"

/* What ipc_win.c means the pipe's DACL to be (docs/windows.md): webd's
 * service SID NT SERVICE\procnetwebd, worked out independently (SHA-1 of
 * "PROCNETWEBD" in UTF-16LE as five little-endian numbers). */
#define WEBD_SID "S-1-5-80-3777129986-558812580-1413062468-239889822-726858214"
#define WANT_SDDL "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x12019b;;;" WEBD_SID ")"

static void
pipe_name(char *buf, size_t len)
{
	static int n;

	snprintf(buf, len, "\\\\.\\pipe\\procnet-test-%lu-%d",
	    (unsigned long)GetCurrentProcessId(), ++n);
}

static void
test_default_endpoint(void **state)
{
	char buf[IPC_ENDPOINT_MAX], tiny[8];

	assert_int_equal(ipc_default_endpoint(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "\\\\.\\pipe\\procnet-collector");
	assert_int_equal(ipc_default_endpoint(tiny, sizeof(tiny)),
	    -ENAMETOOLONG);
}

static void
test_bad_endpoints(void **state)
{
	struct ipc_server *srv = NULL;
	struct ipc_conn *c = NULL;
	char longname[IPC_ENDPOINT_MAX + 16];

	assert_int_equal(ipc_server_open("/tmp/x.sock", NULL, &srv), -EINVAL);
	assert_int_equal(ipc_server_open("\\\\.\\pipe\\", NULL, &srv),
	    -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "\\\\.\\pipe\\", 9);
	assert_int_equal(ipc_server_open(longname, NULL, &srv),
	    -ENAMETOOLONG);
	assert_int_equal(ipc_connect("C:\\x", 10, &c), -EINVAL);
	assert_null(srv);
	assert_null(c);
}

static void
test_connect_nobody(void **state)
{
	struct ipc_conn *c = NULL;
	char name[128];

	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_connect(name, 100, &c), -ENOENT);
	assert_null(c);
}

static void
test_accept_times_out(void **state)
{
	struct ipc_server *srv;
	struct ipc_conn *c = NULL;
	char name[128];

	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, NULL, &srv), 0);
	assert_int_equal(ipc_server_accept(srv, 0, &c), -ETIMEDOUT);
	assert_int_equal(ipc_server_accept(srv, 50, &c), -ETIMEDOUT);
	assert_null(c);
	ipc_server_close(srv);
	ipc_server_close(NULL);
	ipc_conn_close(NULL);
}

static void
test_roundtrip_and_peer(void **state)
{
	struct ipc_server *srv;
	struct ipc_conn *cl, *sv;
	char name[128], peer[IPC_PEER_MAX], want[32];
	unsigned char out[100000], in[100000];

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + 3);
	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, NULL, &srv), 0);
	assert_int_equal(ipc_connect(name, 1000, &cl), 0);
	assert_int_equal(ipc_server_accept(srv, 5000, &sv), 0);

	/* Bigger than the pipe buffer: the write completes as it is read,
	 * so write from the client in pieces the server reads. */
	assert_int_equal(ipc_write_full(cl, out, 60000, 5000), 0);
	assert_int_equal(ipc_read_full(sv, in, 60000, 5000), 0);
	assert_memory_equal(in, out, 60000);
	assert_int_equal(ipc_write_full(sv, "pong", 4, 1000), 0);
	assert_int_equal(ipc_conn_wait_readable(cl, 1000), 1);
	assert_int_equal(ipc_read_full(cl, in, 4, 1000), 0);
	assert_memory_equal(in, "pong", 4);

	/* Nothing pending: wait and read time out. */
	assert_int_equal(ipc_conn_wait_readable(cl, 0), 0);
	assert_int_equal(ipc_conn_wait_readable(cl, 30), 0);
	assert_int_equal(ipc_read_full(cl, in, 1, 30), -ETIMEDOUT);

	snprintf(want, sizeof(want), "pid=%lu",
	    (unsigned long)GetCurrentProcessId());
	assert_int_equal(ipc_conn_peer(sv, peer, sizeof(peer)), 0);
	assert_string_equal(peer, want);
	assert_int_equal(ipc_conn_peer(cl, peer, sizeof(peer)), 0);
	assert_string_equal(peer, want);

	/* The client hangs up: readable, then EOF as -EPIPE. */
	ipc_conn_close(cl);
	assert_int_equal(ipc_conn_wait_readable(sv, 1000), 1);
	assert_int_equal(ipc_read_full(sv, in, 1, 1000), -EPIPE);
	ipc_conn_close(sv);
	ipc_server_close(srv);
}

/* Bytes written just before the server closes still reach the client. */
static void
test_close_keeps_unread_bytes(void **state)
{
	struct ipc_server *srv;
	struct ipc_conn *cl, *sv;
	char name[128], in[8];

	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, NULL, &srv), 0);
	assert_int_equal(ipc_connect(name, 1000, &cl), 0);
	assert_int_equal(ipc_server_accept(srv, 5000, &sv), 0);
	assert_int_equal(ipc_write_full(sv, "bye", 3, 1000), 0);
	ipc_conn_close(sv);
	assert_int_equal(ipc_read_full(cl, in, 3, 1000), 0);
	assert_memory_equal(in, "bye", 3);
	assert_int_equal(ipc_read_full(cl, in, 1, 1000), -EPIPE);
	ipc_conn_close(cl);
	ipc_server_close(srv);
}

static void
test_several_clients(void **state)
{
	struct ipc_server *srv;
	struct ipc_conn *cl[4], *sv[4];
	char name[128];
	unsigned char b;

	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, NULL, &srv), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ipc_connect(name, 2000, &cl[i]), 0);
		assert_int_equal(ipc_server_accept(srv, 5000, &sv[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		b = (unsigned char)('a' + i);
		assert_int_equal(ipc_write_full(sv[i], &b, 1, 1000), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ipc_read_full(cl[i], &b, 1, 1000), 0);
		assert_int_equal(b, 'a' + i);
		ipc_conn_close(cl[i]);
		ipc_conn_close(sv[i]);
	}
	ipc_server_close(srv);
	/* Closed: the name is gone. */
	assert_int_equal(ipc_connect(name, 100, &cl[0]), -ENOENT);
}

struct blocked {
	struct ipc_conn *c;
	int rc;
};

static void *
blocked_reader(void *arg)
{
	struct blocked *b = arg;
	char x;

	b->rc = ipc_read_full(b->c, &x, 1, -1);
	return NULL;
}

/* ipc_conn_shutdown from another thread ends a read that waits forever. */
static void
test_shutdown_wakes_reader(void **state)
{
	struct ipc_server *srv;
	struct ipc_conn *cl, *sv;
	struct blocked b;
	pthread_t t;
	char name[128];

	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, NULL, &srv), 0);
	assert_int_equal(ipc_connect(name, 1000, &cl), 0);
	assert_int_equal(ipc_server_accept(srv, 5000, &sv), 0);
	b.c = sv;
	b.rc = 1;
	assert_int_equal(pthread_create(&t, NULL, blocked_reader, &b), 0);
	Sleep(50);
	ipc_conn_shutdown(sv);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(b.rc == -EINTR || b.rc == -EPIPE);
	assert_int_equal(ipc_write_full(sv, "x", 1, 100), -EINTR);
	ipc_conn_close(sv);
	ipc_conn_close(cl);
	ipc_server_close(srv);
}

/* The DACL as stored on the pipe, as SDDL; NULL on failure. */
static char *
pipe_dacl_sddl(const char *name)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	wchar_t wname[256], *str = NULL;
	char *out = NULL;
	HANDLE h;
	DWORD rc;

	MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 256);
	h = CreateFileW(wname, READ_CONTROL, 0, NULL, OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return NULL;
	rc = GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION,
	    NULL, NULL, NULL, NULL, &sd);
	CloseHandle(h);
	if (rc != ERROR_SUCCESS)
		return NULL;
	if (ConvertSecurityDescriptorToStringSecurityDescriptorW(sd,
	    SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &str, NULL)) {
		int n = WideCharToMultiByte(CP_UTF8, 0, str, -1, NULL, 0,
		    NULL, NULL);

		if (n > 0 && (out = malloc((size_t)n)) != NULL)
			WideCharToMultiByte(CP_UTF8, 0, str, -1, out, n, NULL,
			    NULL);
		LocalFree(str);
	}
	LocalFree(sd);
	return out;
}

/* A server opened with group has exactly the DACL want. */
static void
check_dacl(const char *group, const char *want)
{
	struct ipc_server_opts o = { .group = group };
	struct ipc_server *srv;
	char name[128], *sddl;

	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, &o, &srv), 0);
	sddl = pipe_dacl_sddl(name);
	assert_non_null(sddl);
	assert_string_equal(sddl, want);
	free(sddl);
	ipc_server_close(srv);
}

static void
test_pipe_dacl(void **state)
{
	check_dacl("", WANT_SDDL);
}

/* A group that does not exist adds nothing to the DACL. */
static void
test_pipe_dacl_missing_group(void **state)
{
	check_dacl("procnet-no-such-group", WANT_SDDL);
}

/* A group that exists gets the same read/write entry as LocalService. */
static void
test_pipe_dacl_with_group(void **state)
{
	check_dacl("BUILTIN\\Users", WANT_SDDL "(A;;0x12019b;;;BU)");
}

/* The service SID derivation against a SID Windows documents. */
static void
test_service_sid(void **state)
{
	wchar_t sid[100], tiny[10];

	(void)state;
	assert_int_equal(ipc_win_service_sid("TrustedInstaller", sid, 100), 0);
	assert_int_equal(wcscmp(sid, L"S-1-5-80-956008885-3418522649-"
	    "1831038044-1853292631-2271478464"), 0);
	/* Case does not matter: the name is upper-cased first. */
	assert_int_equal(ipc_win_service_sid("PROCNETWEBD", sid, 100), 0);
	assert_int_equal(wcscmp(sid, L"" WEBD_SID), 0);
	assert_int_equal(ipc_win_service_sid("procnetwebd", tiny, 10),
	    -ENAMETOOLONG);
	assert_int_equal(ipc_win_service_sid("", sid, 100), -EINVAL);
}

/* Someone else holds the name first (a squatter, or a second collector):
 * the server refuses with -EADDRINUSE (under Wine too, which does not
 * enforce FILE_FLAG_FIRST_PIPE_INSTANCE), and ipc_endpoint_owner names
 * the holder's pid for the log. */
static void
test_squatted_name_refused_and_owner_named(void **state)
{
	struct ipc_server *first, *second = NULL;
	char name[128], who[IPC_PEER_MAX], want[64];

	(void)state;
	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, NULL, &first), 0);
	assert_int_equal(ipc_server_open(name, NULL, &second), -EADDRINUSE);
	assert_null(second);
	assert_int_equal(ipc_endpoint_owner(name, who, sizeof(who)), 0);
	snprintf(want, sizeof(want), "pid=%lu",
	    (unsigned long)GetCurrentProcessId());
	assert_string_equal(who, want);
	ipc_server_close(first);
	assert_int_equal(ipc_endpoint_owner(name, who, sizeof(who)), -ENOENT);
}

/* The name never has zero instances while the server is open: after the
 * only client was accepted and hung up, the name still exists (nobody
 * else can create it) and a new client connects without another accept
 * having run first. */
static void
test_instance_count_never_zero(void **state)
{
	struct ipc_server *srv, *other = NULL;
	struct ipc_conn *cl, *sv, *cl2;
	char name[128];

	(void)state;
	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, NULL, &srv), 0);
	assert_int_equal(ipc_connect(name, 2000, &cl), 0);
	assert_int_equal(ipc_server_accept(srv, 2000, &sv), 0);
	ipc_conn_close(cl);
	ipc_conn_close(sv);
	assert_int_equal(ipc_server_open(name, NULL, &other), -EADDRINUSE);
	assert_int_equal(ipc_connect(name, 2000, &cl2), 0);
	ipc_conn_close(cl2);
	ipc_server_close(srv);
}

/* This process's user as a SID string. */
static void
own_sid(char *buf, size_t len)
{
	BYTE tu[256];
	DWORD n;
	HANDLE t;
	wchar_t *str;

	assert_true(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t));
	assert_true(GetTokenInformation(t, TokenUser, tu, sizeof(tu), &n));
	CloseHandle(t);
	assert_true(ConvertSidToStringSidW(((TOKEN_USER *)tu)->User.Sid,
	    &str));
	WideCharToMultiByte(CP_UTF8, 0, str, -1, buf, (int)len, NULL, NULL);
	LocalFree(str);
}

/* A server that is not LocalSystem (this test, standing in for a
 * squatter) is refused by default, with its pid and account in the
 * reason; naming its account as the expected one accepts it. */
static void
test_check_server_identity(void **state)
{
	struct ipc_server *srv;
	struct ipc_conn *cl;
	char name[128], why[512], sid[200], pid[32];

	(void)state;
	own_sid(sid, sizeof(sid));
	pipe_name(name, sizeof(name));
	assert_int_equal(ipc_server_open(name, NULL, &srv), 0);
	assert_int_equal(ipc_connect(name, 2000, &cl), 0);
	why[0] = '\0';
	if (strcmp(sid, "S-1-5-18") != 0) {
		assert_int_equal(ipc_conn_check_server(cl, NULL, why,
		    sizeof(why)), -EPERM);
		snprintf(pid, sizeof(pid), "pid %lu ",
		    (unsigned long)GetCurrentProcessId());
		assert_non_null(strstr(why, pid));
		assert_non_null(strstr(why, sid));
		assert_non_null(strstr(why, "S-1-5-18"));
	}
	assert_int_equal(ipc_conn_check_server(cl, sid, why, sizeof(why)), 0);
	/* An account that does not exist is a refusal, not a pass. */
	assert_true(ipc_conn_check_server(cl, "procnet-no-such-user-x", why,
	    sizeof(why)) < 0);
	print_message("check_server: own SID %s; refusal: %s\n", sid, why);
	ipc_conn_close(cl);
	ipc_server_close(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_endpoint),
		cmocka_unit_test(test_bad_endpoints),
		cmocka_unit_test(test_connect_nobody),
		cmocka_unit_test(test_accept_times_out),
		cmocka_unit_test(test_roundtrip_and_peer),
		cmocka_unit_test(test_close_keeps_unread_bytes),
		cmocka_unit_test(test_several_clients),
		cmocka_unit_test(test_shutdown_wakes_reader),
		cmocka_unit_test(test_pipe_dacl),
		cmocka_unit_test(test_pipe_dacl_missing_group),
		cmocka_unit_test(test_pipe_dacl_with_group),
		cmocka_unit_test(test_service_sid),
		cmocka_unit_test(test_squatted_name_refused_and_owner_named),
		cmocka_unit_test(test_instance_count_never_zero),
		cmocka_unit_test(test_check_server_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
