/*
 * estats_win.c: under Wine the ESTATS functions do not exist, so the
 * status must say ESTATS is off and why, and no connection gets numbers.
 * On Windows, run elevated, a loopback connection gets its counters turned
 * on at the first sample and shows the bytes sent after that at the next.
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

#include "estats.h"

static uint16_t port_of(SOCKET s, bool peer)
{
	struct sockaddr_in sin;
	int len = sizeof(sin);

	assert_int_equal(peer ? getpeername(s, (struct sockaddr *)&sin, &len) :
	    getsockname(s, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static void test_loopback(void **state)
{
	struct estats *e = estats_new(4);
	struct estats_conn conn;
	struct estats_info info;
	struct sockaddr_in sin;
	int len = sizeof(sin);
	char reason[256], buf[4096];
	SOCKET l, c, a;
	int on;

	(void)state;
	assert_non_null(e);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	a = accept(l, NULL, NULL);
	assert_true(a != INVALID_SOCKET);

	memset(&conn, 0, sizeof(conn));
	conn.established = true;
	conn.key.local.family = conn.key.remote.family = 4;
	conn.key.local.bytes[0] = conn.key.remote.bytes[0] = 127;
	conn.key.local.bytes[3] = conn.key.remote.bytes[3] = 1;
	conn.key.local_port = port_of(c, false);
	conn.key.remote_port = port_of(c, true);

	assert_int_equal(estats_sample(e, &conn, 1, &info), 0);
	assert_false(info.valid);
	on = estats_status(e, reason, sizeof(reason));
	printf("estats: %s%s%s\n", on ? "on" : "off", reason[0] ? ": " : "",
	    reason);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(send(c, buf, 3000, 0), 3000);
	for (int got = 0; got < 3000;) {
		int r = recv(a, buf, sizeof(buf), 0);

		assert_true(r > 0);
		got += r;
	}
	if (!on) {
		assert_true(reason[0] != '\0');
		assert_int_equal(estats_sample(e, &conn, 1, &info), 0);
		assert_false(info.valid);
	} else {
		assert_int_equal(estats_sample(e, &conn, 1, &info), 1);
		assert_true(info.valid);
		assert_true(info.bytes_sent >= 3000);
	}
	closesocket(c);
	closesocket(a);
	closesocket(l);
	estats_free(e);
	estats_free(NULL);
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
		cmocka_unit_test(test_loopback),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
