/*
 * ipc_unix.c: the transport.h contract on AF_UNIX sockets, and the socket
 * file rules (permissions, stale socket replaced, live one refused, other
 * files never touched).  Every socket lives in its own mkdtemp directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport.h"

struct fix {
	char dir[64];
	char path[100];
	struct ipc_server *srv;
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/procnet-ipc-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/sub/c.sock", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char sub[160];

	ipc_server_close(f->srv);
	unlink(f->path);
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/file", f->dir);
	unlink(sub);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A connected pair through f's server. */
static void
pair(struct fix *f, struct ipc_conn **cl, struct ipc_conn **sv)
{
	assert_int_equal(ipc_connect(f->path, 1000, cl), 0);
	assert_int_equal(ipc_server_accept(f->srv, 5000, sv), 0);
}

static void
test_default_endpoint(void **state)
{
	char buf[IPC_ENDPOINT_MAX], tiny[8];
	const char *old = getenv("XDG_RUNTIME_DIR");
	char *keep = old ? strdup(old) : NULL;

	if (geteuid() == 0) {
		assert_int_equal(ipc_default_endpoint(buf, sizeof(buf)), 0);
		assert_string_equal(buf, "/run/procnet/collector.sock");
	} else {
		setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
		assert_int_equal(ipc_default_endpoint(buf, sizeof(buf)), 0);
		assert_string_equal(buf,
		    "/run/user/1000/procnet/collector.sock");
		unsetenv("XDG_RUNTIME_DIR");
		assert_int_equal(ipc_default_endpoint(buf, sizeof(buf)),
		    -ENOENT);
		setenv("XDG_RUNTIME_DIR", "relative", 1);
		assert_int_equal(ipc_default_endpoint(buf, sizeof(buf)),
		    -ENOENT);
	}
	if (keep != NULL)
		setenv("XDG_RUNTIME_DIR", keep, 1);
	free(keep);
	assert_int_equal(ipc_default_endpoint(tiny, sizeof(tiny)),
	    -ENAMETOOLONG);
}

static void
test_permissions(void **state)
{
	struct fix *f = *state;
	struct ipc_server_opts o = { .group = "procnet-no-such-group" };
	struct stat st;
	char sub[160];

	assert_int_equal(ipc_server_open(f->path, &o, &f->srv), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	ipc_server_close(f->srv);
	f->srv = NULL;
	/* closing removes the socket it made */
	assert_int_equal(lstat(f->path, &st), -1);
}

static void
test_permissions_group(void **state)
{
	struct fix *f = *state;
	struct group *g = getgrgid(getegid());
	struct ipc_server_opts o = { 0 };
	struct stat st;

	if (g == NULL)
		skip();
	o.group = g->gr_name;
	assert_int_equal(ipc_server_open(f->path, &o, &f->srv), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, getegid());
	assert_int_equal(st.st_mode & 0007, 0);
}

static void
test_stale_live_and_foreign(void **state)
{
	struct fix *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ipc_server *second = NULL;
	char file[160];
	int fd;

	/* a socket file nobody listens on: what a crash leaves */
	assert_int_equal(ipc_server_open(f->path, NULL, &f->srv), 0);
	ipc_server_close(f->srv);
	f->srv = NULL;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(ipc_server_open(f->path, NULL, &f->srv), 0);

	/* a live one is refused, and left working */
	assert_int_equal(ipc_server_open(f->path, NULL, &second), -EADDRINUSE);
	assert_null(second);
	struct ipc_conn *cl, *sv;
	pair(f, &cl, &sv);
	ipc_conn_close(cl);
	ipc_conn_close(sv);

	/* something that is not a socket is never removed */
	snprintf(file, sizeof(file), "%s/file", f->dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(ipc_server_open(file, NULL, &second), -EEXIST);
	assert_int_equal(access(file, F_OK), 0);
}

static void
test_bad_endpoints(void **state)
{
	struct ipc_server *srv = NULL;
	struct ipc_conn *c = NULL;
	char longpath[300];

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(ipc_server_open(longpath, NULL, &srv), -ENAMETOOLONG);
	assert_int_equal(ipc_connect(longpath, 0, &c), -ENAMETOOLONG);
	assert_int_equal(ipc_server_open("", NULL, &srv), -EINVAL);
	assert_null(srv);
	assert_null(c);
}

static void
test_connect_nobody(void **state)
{
	struct fix *f = *state;
	struct ipc_conn *c = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	assert_int_equal(ipc_connect(f->path, 100, &c), -ENOENT);
	assert_int_equal(ipc_server_open(f->path, NULL, &f->srv), 0);
	ipc_server_close(f->srv);
	f->srv = NULL;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(ipc_connect(f->path, 100, &c), -ECONNREFUSED);
	close(fd);
	assert_null(c);
}

static void
test_accept_times_out(void **state)
{
	struct fix *f = *state;
	struct ipc_conn *c = NULL;

	assert_int_equal(ipc_server_open(f->path, NULL, &f->srv), 0);
	assert_int_equal(ipc_server_accept(f->srv, 0, &c), -ETIMEDOUT);
	assert_int_equal(ipc_server_accept(f->srv, 30, &c), -ETIMEDOUT);
	assert_null(c);
}

static void
test_roundtrip_peer_eof(void **state)
{
	struct fix *f = *state;
	struct ipc_conn *cl, *sv;
	char peer[IPC_PEER_MAX], want[64], buf[8];

	assert_int_equal(ipc_server_open(f->path, NULL, &f->srv), 0);
	pair(f, &cl, &sv);
	assert_int_equal(ipc_conn_peer(sv, peer, sizeof(peer)), 0);
	snprintf(want, sizeof(want), "pid=%ld uid=%lu", (long)getpid(),
	    (unsigned long)geteuid());
	assert_non_null(strstr(peer, want));

	assert_int_equal(ipc_conn_wait_readable(sv, 0), 0);
	assert_int_equal(ipc_write_full(cl, "hello", 5, 1000), 0);
	assert_int_equal(ipc_conn_wait_readable(sv, 1000), 1);
	assert_int_equal(ipc_read_full(sv, buf, 5, 1000), 0);
	assert_memory_equal(buf, "hello", 5);
	/* nothing more: a read times out */
	assert_int_equal(ipc_read_full(sv, buf, 1, 20), -ETIMEDOUT);
	/* half a message, then the peer goes: EPIPE */
	assert_int_equal(ipc_write_full(cl, "ab", 2, 1000), 0);
	ipc_conn_close(cl);
	assert_int_equal(ipc_conn_wait_readable(sv, 1000), 1);
	assert_int_equal(ipc_read_full(sv, buf, 4, 1000), -EPIPE);
	/* and writing to it says so too, without SIGPIPE */
	assert_int_equal(ipc_write_full(sv, "x", 1, 1000), -EPIPE);
	ipc_conn_close(sv);
}

/* A peer that never reads: a large write ends with -ETIMEDOUT. */
static void
test_write_times_out(void **state)
{
	struct fix *f = *state;
	struct ipc_conn *cl, *sv;
	size_t n = 16u << 20;
	char *big = calloc(1, n);

	assert_int_equal(ipc_server_open(f->path, NULL, &f->srv), 0);
	pair(f, &cl, &sv);
	assert_int_equal(ipc_write_full(sv, big, n, 50), -ETIMEDOUT);
	free(big);
	ipc_conn_close(cl);
	ipc_conn_close(sv);
}

static void *
blocked_reader(void *arg)
{
	char b;

	return (void *)(intptr_t)ipc_read_full(arg, &b, 1, -1);
}

static void
test_shutdown_wakes_reader(void **state)
{
	struct fix *f = *state;
	struct ipc_conn *cl, *sv;
	pthread_t t;
	void *ret;

	assert_int_equal(ipc_server_open(f->path, NULL, &f->srv), 0);
	pair(f, &cl, &sv);
	assert_int_equal(pthread_create(&t, NULL, blocked_reader, sv), 0);
	/* whether the reader is already blocked or not, it must end */
	ipc_conn_shutdown(sv);
	pthread_join(t, &ret);
	assert_int_equal((int)(intptr_t)ret, -EINTR);
	assert_int_equal(ipc_conn_wait_readable(sv, 100), -EINTR);
	assert_int_equal(ipc_write_full(sv, "x", 1, 100), -EINTR);
	ipc_conn_close(cl);
	ipc_conn_close(sv);
	ipc_conn_close(NULL);
	ipc_conn_shutdown(NULL);
	ipc_server_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_endpoint),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions_group, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_live_and_foreign,
		    setup, teardown),
		cmocka_unit_test(test_bad_endpoints),
		cmocka_unit_test_setup_teardown(test_connect_nobody, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_accept_times_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_peer_eof, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_times_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_wakes_reader,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
