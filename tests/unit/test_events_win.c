/*
 * events_win.c: the Windows connection event source behind events.h.
 * Every mode's outcome: auto always opens, ETW when the Kernel-Network
 * session runs, else "none" with the reason (under Wine: that Wine does
 * not implement ETW; on Windows without the right: the access error);
 * --events etw is then an error with that reason; the Linux sources are
 * refused; none says it was asked for.  A source that is "none" hands out
 * nothing.  On Windows, elevated, the session runs and a loopback
 * connection comes back with this process as owner (bounded wait: ETW
 * flushes its buffers every second).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "events.h"

static bool
under_wine(void)
{
	HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");

	return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

/* A loopback connection opened and closed; its client port. */
static uint16_t
loopback_connection(void)
{
	struct sockaddr_in sin;
	int len = sizeof(sin);
	SOCKET l, c, a;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	assert_true(l != INVALID_SOCKET);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	assert_true(c != INVALID_SOCKET);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	a = accept(l, NULL, NULL);
	assert_true(a != INVALID_SOCKET);
	assert_int_equal(send(c, "hello", 5, 0), 5);
	len = sizeof(sin);
	assert_int_equal(getsockname(c, (struct sockaddr *)&sin, &len), 0);
	closesocket(c);
	closesocket(a);
	closesocket(l);
	return ntohs(sin.sin_port);
}

static bool
batch_has(const struct events_batch *b, uint16_t cport)
{
	int32_t me = (int32_t)GetCurrentProcessId();

	for (size_t i = 0; i < b->n_conns; i++)
		if (b->conns[i].role == SNAP_ROLE_CONNECT &&
		    b->conns[i].local_port == cport && b->conns[i].pid == me)
			return true;
	return false;
}

static void
test_modes(void **state)
{
	struct events_opts o = { .mode = EVENTS_AUTO };
	struct events_batch b;
	struct events *e = NULL;
	char why[384], reason[256];
	int rc;

	(void)state;
	assert_int_equal(events_new(&o, &e, why, sizeof(why)), 0);
	assert_non_null(e);
	printf("events: %s%s%s\n", events_source(e),
	    events_reason(e)[0] ? ": " : "", events_reason(e));
	snprintf(reason, sizeof(reason), "%s", events_reason(e));

	if (strcmp(events_source(e), "etw") == 0) {
		uint16_t port;
		bool seen = false;

		assert_false(under_wine());
		assert_string_equal(events_reason(e), "");
		port = loopback_connection();
		for (int i = 0; i < 50 && !seen; i++) {
			Sleep(100);
			assert_int_equal(events_take(e, &b), 0);
			seen = batch_has(&b, port);
		}
		assert_true(seen);
		events_free(e);
		/* Stopped with the object: the session name is free again. */
		o.mode = EVENTS_ETW;
		assert_int_equal(events_new(&o, &e, why, sizeof(why)), 0);
		assert_string_equal(events_source(e), "etw");
		events_free(e);
		return;
	}

	assert_string_equal(events_source(e), "none");
	assert_true(reason[0] != '\0');
	if (under_wine())
		assert_non_null(strstr(reason, "Wine does not implement ETW"));
	/* Nothing flows and nothing is claimed lost. */
	(void)loopback_connection();
	assert_int_equal(events_poll(e), 0);
	assert_int_equal(events_take(e, &b), 0);
	assert_int_equal(b.n_conns, 0);
	assert_int_equal(b.n_aggs, 0);
	assert_int_equal(b.n_owners, 0);
	assert_int_equal(events_lost(e), 0);
	events_free(e);

	/* Asked for by name, it is an error with the same reason. */
	o.mode = EVENTS_ETW;
	e = NULL;
	rc = events_new(&o, &e, why, sizeof(why));
	assert_int_equal(rc, -ENOTSUP);
	assert_null(e);
	assert_string_equal(why, reason);
}

static void
test_other_modes(void **state)
{
	struct events_opts o = { .mode = EVENTS_NONE };
	struct events_batch b;
	struct events *e = NULL;
	char why[384];

	(void)state;
	assert_int_equal(events_new(&o, &e, why, sizeof(why)), 0);
	assert_string_equal(events_source(e), "none");
	assert_string_equal(events_reason(e), "disabled (--events none)");
	assert_int_equal(events_take(e, &b), 0);
	assert_int_equal(b.n_conns, 0);
	events_free(e);

	o.mode = EVENTS_EBPF;
	e = NULL;
	assert_int_equal(events_new(&o, &e, why, sizeof(why)), -ENOTSUP);
	assert_null(e);
	assert_string_equal(why, "--events ebpf is Linux only");
	o.mode = EVENTS_SOCK_DIAG;
	assert_int_equal(events_new(&o, &e, why, sizeof(why)), -ENOTSUP);
	assert_string_equal(why, "--events sock_diag is Linux only");

	/* A cap out of range is refused before anything starts. */
	o.mode = EVENTS_AUTO;
	o.max_conns = EVENTS_MAX_CONNS_LIMIT + 1;
	assert_int_equal(events_new(&o, &e, why, sizeof(why)), -EINVAL);
	assert_null(e);

	assert_int_equal(events_mode_parse("etw"), EVENTS_ETW);
	assert_int_equal(events_mode_parse("bpf"), -1);
	assert_string_equal(events_mode_name(EVENTS_ETW), "etw");
	assert_null(events_mode_name(EVENTS_MODE_MAX));
	events_free(NULL);
}

static int
setup(void **state)
{
	WSADATA wsa;

	(void)state;
	return WSAStartup(MAKEWORD(2, 2), &wsa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_other_modes),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
