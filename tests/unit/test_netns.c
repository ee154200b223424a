/*
 * netns_linux: the set of namespaces follows processes and bind mounts,
 * each kept namespace has a socket that really lives in it (SIOCGSKNS),
 * gone namespaces give their socket back, and the cap holds.  Needs root
 * (unshare, setns, mount): it fails loudly without.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "netns_linux.h"

static int procfd = -1;

static int
open_diag(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG);

	return fd >= 0 ? fd : -errno;
}

/* The namespace a socket lives in. */
static uint64_t
sock_ns(int fd)
{
	struct stat st;
	int nfd = ioctl(fd, SIOCGSKNS);

	assert_true(nfd >= 0);
	assert_int_equal(fstat(nfd, &st), 0);
	close(nfd);
	return (uint64_t)st.st_ino;
}

/* A child in a new network namespace, waiting to be killed. */
static pid_t
child_in_new_netns(uint64_t *ino)
{
	int p[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (unshare(CLONE_NEWNET) != 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		fail_msg("child could not unshare(CLONE_NEWNET): are we root?");
	close(p[0]);
	assert_int_equal(netns_of_pid(procfd, pid, ino), 0);
	return pid;
}

static void
reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
test_own_only(void **state)
{
	struct netns_set *s;
	struct netns_ent *e;
	uint64_t self;

	(void)state;
	assert_int_equal(netns_set_new(procfd, NULL, open_diag, &s), 0);
	assert_int_equal(netns_of_pid(procfd, 0, &self), 0);
	assert_int_equal(netns_set_self(s), self);
	netns_set_begin(s);
	assert_int_equal(netns_set_update(s, 0), 0);
	assert_int_equal(netns_set_count(s), 1);
	e = netns_set_at(s, 0);
	assert_true(e->own);
	assert_true(e->fd >= 0);
	assert_int_equal(sock_ns(e->fd), self);
	netns_set_free(s);
}

static void
test_follows_processes(void **state)
{
	struct netns_set *s;
	struct netns_ent *e;
	uint64_t self, other;
	pid_t child;
	int fd;

	(void)state;
	child = child_in_new_netns(&other);
	assert_int_equal(netns_set_new(procfd, NULL, open_diag, &s), 0);
	self = netns_set_self(s);
	assert_true(other != self);

	netns_set_begin(s);
	assert_int_equal(netns_set_note(s, self, getpid()), 0);
	assert_int_equal(netns_set_note(s, other, child), 0);
	assert_int_equal(netns_set_update(s, 0), 0);
	assert_int_equal(netns_set_count(s), 2);
	assert_true(netns_set_at(s, 0)->own);
	e = netns_set_find(s, other);
	assert_non_null(e);
	assert_false(e->own);
	assert_int_equal(e->members, 1);
	assert_int_equal(e->pid, child);
	assert_true(e->fd >= 0);
	assert_int_equal(sock_ns(e->fd), other);
	fd = e->fd;

	/* Still there: the socket is kept, not reopened. */
	netns_set_begin(s);
	assert_int_equal(netns_set_note(s, other, child), 0);
	assert_int_equal(netns_set_update(s, 0), 0);
	assert_int_equal(netns_set_find(s, other)->fd, fd);

	/* Gone: dropped, its socket closed. */
	reap(child);
	netns_set_begin(s);
	assert_int_equal(netns_set_update(s, 0), 0);
	assert_int_equal(netns_set_count(s), 1);
	assert_null(netns_set_find(s, other));
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	netns_set_free(s);
}

/* A namespace only a bind mount holds (ip netns add) is found in the run
 * dir, and dropped when unmounted; a plain file there is no namespace. */
static void
test_bound(void **state)
{
	char dir[] = "/tmp/netns-test-XXXXXX", path[256], src[64], plain[256];
	struct netns_set *s;
	struct netns_ent *e;
	uint64_t other;
	pid_t child;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t%d", dir, (int)getpid());
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0444)) >= 0);
	close(fd);
	assert_true((fd = open(plain, O_CREAT | O_WRONLY, 0444)) >= 0);
	close(fd);
	child = child_in_new_netns(&other);
	snprintf(src, sizeof(src), "/proc/%d/ns/net", (int)child);
	if (mount(src, path, NULL, MS_BIND, NULL) != 0)
		fail_msg("bind mount of %s: %s (root needed)", src,
		    strerror(errno));
	reap(child);	/* now only the mount holds it */

	assert_int_equal(netns_set_new(procfd, dir, open_diag, &s), 0);
	netns_set_begin(s);
	assert_int_equal(netns_set_update(s, 0), 0);
	assert_int_equal(netns_set_count(s), 2);
	e = netns_set_find(s, other);
	assert_non_null(e);
	assert_true(e->bound);
	assert_int_equal(e->members, 0);
	assert_true(e->fd >= 0);
	assert_int_equal(sock_ns(e->fd), other);

	assert_int_equal(umount2(path, MNT_DETACH), 0);
	netns_set_begin(s);
	assert_int_equal(netns_set_update(s, 0), 0);
	assert_int_equal(netns_set_count(s), 1);
	netns_set_free(s);
	unlink(path);
	unlink(plain);
	rmdir(dir);
}

static void
test_cap(void **state)
{
	struct netns_set *s;
	uint64_t a, b;
	pid_t ca, cb;

	(void)state;
	ca = child_in_new_netns(&a);
	cb = child_in_new_netns(&b);
	assert_int_equal(netns_set_new(procfd, NULL, open_diag, &s), 0);
	netns_set_begin(s);
	assert_int_equal(netns_set_note(s, a, ca), 0);
	assert_int_equal(netns_set_note(s, b, cb), 0);
	assert_int_equal(netns_set_update(s, 2), 0);
	/* own + one of the two; the other counted */
	assert_int_equal(netns_set_count(s), 2);
	assert_true(netns_set_at(s, 0)->own);
	assert_int_equal(netns_set_skipped(s), 1);
	/* the one kept stays kept (it is open) */
	uint64_t kept = netns_set_at(s, 1)->ino;

	netns_set_begin(s);
	assert_int_equal(netns_set_note(s, b, cb), 0);
	assert_int_equal(netns_set_note(s, a, ca), 0);
	assert_int_equal(netns_set_update(s, 2), 0);
	assert_int_equal(netns_set_at(s, 1)->ino, kept);
	/* a pid that left gives -ESRCH, not a crash */
	reap(ca);
	reap(cb);
	assert_int_equal(netns_of_pid(procfd, ca, &a), -ESRCH);
	netns_set_free(s);
}

/* A noted pid that is gone by the time the socket is made: the entry has
 * no socket and says why; the next round tries again. */
static void
test_pid_gone(void **state)
{
	struct netns_set *s;
	struct netns_ent *e;
	uint64_t other;
	pid_t child;

	(void)state;
	child = child_in_new_netns(&other);
	reap(child);
	assert_int_equal(netns_set_new(procfd, NULL, open_diag, &s), 0);
	netns_set_begin(s);
	assert_int_equal(netns_set_note(s, other, child), 0);
	assert_int_equal(netns_set_update(s, 0), 0);
	e = netns_set_find(s, other);
	assert_non_null(e);
	assert_int_equal(e->fd, -1);
	assert_int_equal(e->open_err, -ESRCH);
	netns_set_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_only),
		cmocka_unit_test(test_follows_processes),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_pid_gone),
	};

	procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0 || geteuid() != 0) {
		fprintf(stderr, "test_netns: needs root and /proc "
		    "(make test runs as root)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
