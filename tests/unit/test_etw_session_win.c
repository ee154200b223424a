/*
 * etw_session_win.c: the Kernel-Network session starts and stops, and says
 * honestly whether events flow.  Under Wine ETW does not work, so the
 * session must report "not running" with a reason and hand out nothing.
 * On Windows, run elevated, it must run, and a loopback connection made
 * here must come back as a connect and an accept with this process's pid
 * (bounded wait: ETW flushes its buffers every second).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "etw_session.h"

struct seen {
	uint16_t port;
	int connect, accept;
};

static void on_conn(void *ctx, const struct etw_conn *c)
{
	struct seen *s = ctx;

	if (c->pid != GetCurrentProcessId())
		return;
	if (c->role == ETW_CONN_ROLE_CONNECT && c->remote_port == s->port)
		s->connect++;
	if (c->role == ETW_CONN_ROLE_ACCEPT && c->local_port == s->port)
		s->accept++;
}

static void loopback_connection(uint16_t *port)
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
	*port = ntohs(sin.sin_port);
	c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	a = accept(l, NULL, NULL);
	assert_true(a != INVALID_SOCKET);
	assert_int_equal(send(c, "hello", 5, 0), 5);
	closesocket(c);
	closesocket(a);
	closesocket(l);
}

static void test_session(void **state)
{
	struct etw_session *s = etw_session_start(0);
	char reason[256];
	uint64_t lost = 0;
	struct seen seen = { 0 };
	int running;

	(void)state;
	assert_non_null(s);
	running = etw_session_status(s, reason, sizeof(reason), &lost);
	printf("etw session: %s%s%s\n", running ? "running" : "not running",
	    reason[0] ? ": " : "", reason);
	if (!running) {
		/* Wine, or Windows without the privilege: a reason, no
		 * connections. */
		assert_true(reason[0] != '\0');
		loopback_connection(&seen.port);
		assert_int_equal(etw_session_take(s, on_conn, &seen), 0);
		etw_session_stop(s);
		return;
	}
	assert_string_equal(reason, "");
	loopback_connection(&seen.port);
	for (int i = 0; i < 50 && (!seen.connect || !seen.accept); i++) {
		Sleep(100);
		etw_session_take(s, on_conn, &seen);
	}
	assert_int_equal(seen.connect, 1);
	assert_int_equal(seen.accept, 1);
	etw_session_stop(s);
	/* Stopped: a new session can start under the same name. */
	s = etw_session_start(0);
	assert_non_null(s);
	assert_int_equal(etw_session_status(s, reason, sizeof(reason), &lost),
	    1);
	etw_session_stop(s);
}

static int setup(void **state)
{
	WSADATA wsa;

	(void)state;
	return WSAStartup(MAKEWORD(2, 2), &wsa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
