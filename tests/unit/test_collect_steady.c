/*
 * The Linux collector against real processes, in steady state (the owner
 * map kept between samples): a socket shared after fork whose first holder
 * closes it, a socket passed over SCM_RIGHTS, and a pid reused by a new
 * process between two samples (also when the second is a full pass).  Each check also holds for a cold sample,
 * and each runs twice: with fd counts from st_size (Linux 6.2+) and
 * counted with getdents (older kernels).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/sched.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "collect.h"

static const struct collect_opts steady = {
	.tcp = true, .udp = true, .incremental = true, .full_every = 1000,
};
static const struct collect_opts cold = { .tcp = true, .udp = true };

static int
listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static uint64_t
inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_ino;
}

/* Owner pid of the socket with this inode in a fresh sample (-1 unknown,
 * -2 absent); *name gets the owner's comm when known. */
static int32_t
owner_in(struct collector *c, const struct collect_opts *o, uint64_t ino,
    char *name, size_t namelen, uint64_t *start)
{
	struct snapshot *s;
	int32_t pid = -2;
	size_t i;

	assert_int_equal(collector_sample(c, o, &s), 0);
	for (i = 0; i < s->n_sockets; i++) {
		if (s->sockets[i].inode != ino)
			continue;
		pid = s->sockets[i].owner == SNAP_OWNER_KNOWN ?
		    s->sockets[i].pid : -1;
		if (pid > 0) {
			const struct snap_process *p =
			    snapshot_find_process(s, pid);

			assert_non_null(p);
			if (name != NULL)
				snprintf(name, namelen, "%s", p->name);
			if (start != NULL)
				*start = p->start_time;
		}
	}
	snapshot_unref(s);
	return pid;
}

static void
wait_byte(int fd)
{
	char b;

	assert_int_equal(read(fd, &b, 1), 1);
}

static void
test_shared_after_fork(void **state)
{
	struct collector *c;
	int lfd, pipefd[2], ready[2];
	uint64_t ino;
	pid_t child;

	(void)state;
	assert_int_equal(collector_new(&c), 0);
	lfd = listener();
	ino = inode_of(lfd);
	assert_int_equal(owner_in(c, &steady, ino, NULL, 0, NULL), getpid());

	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(pipe(ready), 0);
	if ((child = fork()) == 0) {
		prctl(PR_SET_NAME, "pn-fork-child");
		close(pipefd[1]);
		(void)write(ready[1], "r", 1);
		wait_byte(pipefd[0]);	/* until the parent says go */
		_exit(0);
	}
	close(pipefd[0]);
	wait_byte(ready[0]);
	/* Both hold it: the smaller pid is reported, and it is one of us. */
	{
		int32_t o = owner_in(c, &steady, ino, NULL, 0, NULL);

		assert_int_equal(o, getpid() < child ? getpid() : child);
	}
	/* The parent lets go: the child alone holds it now. */
	close(lfd);
	{
		char name[32] = "";

		assert_int_equal(owner_in(c, &steady, ino, name, sizeof(name),
		    NULL), child);
		assert_string_equal(name, "pn-fork-child");
		assert_int_equal(owner_in(c, &cold, ino, NULL, 0, NULL),
		    child);
	}
	(void)write(pipefd[1], "x", 1);
	assert_int_equal(waitpid(child, NULL, 0), child);
	/* Gone with its last holder. */
	assert_int_equal(owner_in(c, &steady, ino, NULL, 0, NULL), -2);
	close(pipefd[1]);
	close(ready[0]);
	close(ready[1]);
	collector_free(c);
}

static int
send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b = 'f';
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int
recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1 || (cm = CMSG_FIRSTHDR(&mh)) == NULL)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void
test_passed_scm_rights(void **state)
{
	struct collector *c;
	int sp[2], lfd;
	uint64_t ino;
	pid_t child;

	(void)state;
	assert_int_equal(collector_new(&c), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	if ((child = fork()) == 0) {
		int got;

		close(sp[0]);
		prctl(PR_SET_NAME, "pn-scm-child");
		if ((got = recv_fd(sp[1])) < 0)
			_exit(1);
		(void)write(sp[1], "a", 1);
		wait_byte(sp[1]);
		_exit(0);
	}
	close(sp[1]);
	/* The child exists (and is scanned) before the socket does. */
	assert_int_equal(owner_in(c, &steady, 1, NULL, 0, NULL), -2);
	lfd = listener();
	ino = inode_of(lfd);
	assert_int_equal(owner_in(c, &steady, ino, NULL, 0, NULL), getpid());
	assert_int_equal(send_fd(sp[0], lfd), 0);
	wait_byte(sp[0]);
	close(lfd);
	{
		char name[32] = "";

		assert_int_equal(owner_in(c, &steady, ino, name, sizeof(name),
		    NULL), child);
		assert_string_equal(name, "pn-scm-child");
		assert_int_equal(owner_in(c, &cold, ino, NULL, 0, NULL),
		    child);
	}
	(void)write(sp[0], "x", 1);
	assert_int_equal(waitpid(child, NULL, 0), child);
	close(sp[0]);
	collector_free(c);
}

/* A child at a chosen pid (clone3 set_tid); -errno when not allowed. */
static pid_t
fork_at(pid_t want)
{
	pid_t tid = want;
	struct clone_args ca;
	long r;

	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)(uintptr_t)&tid;
	ca.set_tid_size = 1;
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	return r < 0 ? -errno : (pid_t)r;
}

/* Child body: one listener, its inode to the parent, then wait. */
static void
reuse_child(const char *name, int rep, int go)
{
	int fd;
	uint64_t ino;

	prctl(PR_SET_NAME, name);
	/* a failed check leaves the parent's test early: go with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = listener();
	ino = inode_of(fd);
	(void)write(rep, &ino, sizeof(ino));
	wait_byte(go);
	_exit(0);
}

/* A pid reused by a new process between two samples: the second sample
 * (taken with o) must give the new process its socket, and forget the old
 * one's. */
static void
pid_reused(const struct collect_opts *o)
{
	struct collector *c;
	int rep[2], go1[2], go2[2];
	uint64_t ino1, ino2, start1 = 0, start2 = 0;
	pid_t p1, p2;
	char name[32] = "";
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	assert_int_equal(collector_new(&c), 0);
	assert_int_equal(pipe(rep), 0);
	assert_int_equal(pipe(go1), 0);
	assert_int_equal(pipe(go2), 0);
	if ((p1 = fork()) == 0)
		reuse_child("pn-reuse-one", rep[1], go1[0]);
	assert_int_equal(read(rep[0], &ino1, sizeof(ino1)), sizeof(ino1));
	assert_int_equal(owner_in(c, &steady, ino1, name, sizeof(name),
	    &start1), p1);
	assert_string_equal(name, "pn-reuse-one");

	(void)write(go1[1], "x", 1);
	assert_int_equal(waitpid(p1, NULL, 0), p1);
	/* Start times count in clock ticks: let at least one pass. */
	nanosleep(&pause, NULL);
	p2 = fork_at(p1);
	if (p2 == 0)
		reuse_child("pn-reuse-two", rep[1], go2[0]);
	if (p2 < 0) {
		collector_free(c);
		skip();		/* needs CAP_SYS_ADMIN for set_tid */
	}
	assert_int_equal(p2, p1);
	assert_int_equal(read(rep[0], &ino2, sizeof(ino2)), sizeof(ino2));

	/* Same pid, same fd count, a different process. */
	assert_int_equal(owner_in(c, o, ino2, name, sizeof(name),
	    &start2), p1);
	assert_string_equal(name, "pn-reuse-two");
	assert_true(start2 > start1);
	assert_int_equal(owner_in(c, o, ino1, NULL, 0, NULL), -2);

	(void)write(go2[1], "x", 1);
	assert_int_equal(waitpid(p2, NULL, 0), p2);
	close(rep[0]);
	close(rep[1]);
	close(go1[0]);
	close(go1[1]);
	close(go2[0]);
	close(go2[1]);
	collector_free(c);
}

static void
test_pid_reused(void **state)
{
	(void)state;
	pid_reused(&steady);
}

/* The same when the second sample is a full pass (the backstop, or the
 * escalation): every record is walked there without mark_changed. */
static void
test_pid_reused_full_pass(void **state)
{
	static const struct collect_opts full = {
		.tcp = true, .udp = true, .incremental = true, .full_every = 1,
	};

	(void)state;
	pid_reused(&full);
}

/* And in one-shot mode (every sample full, nothing incremental). */
static void
test_pid_reused_cold(void **state)
{
	(void)state;
	pid_reused(&cold);
}

static void
test_stats(void **state)
{
	struct collector *c;
	struct collect_stats st;
	struct snapshot *s;

	(void)state;
	assert_int_equal(collector_new(&c), 0);
	collector_stats(c, &st);
	assert_int_equal(st.n_sockets, 0);
	assert_string_equal(collector_error(c), "");
	assert_int_equal(collector_sample(c, &steady, &s), 0);
	collector_stats(c, &st);
	assert_true(st.full_pass);		/* the first is always full */
	assert_int_equal(st.n_sockets, s->n_sockets);
	assert_int_equal(st.n_processes, s->n_processes);
	assert_true(st.peak_rss_kb > 0);
	assert_true(st.n_pids_scanned > 0);
	assert_true(s->time_ms > 1600000000000LL);
	assert_string_equal(s->os, "linux");
	snapshot_unref(s);
	collector_free(c);
	collector_free(NULL);
}

/* The same again with fd counts taken the pre-Linux-6.2 way. */
static int
use_getdents(void **state)
{
	(void)state;
	return setenv("PROCNET_FD_COUNT", "getdents", 1);
}

static int
use_st_size(void **state)
{
	(void)state;
	return unsetenv("PROCNET_FD_COUNT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_shared_after_fork),
		cmocka_unit_test(test_passed_scm_rights),
		cmocka_unit_test(test_pid_reused),
		cmocka_unit_test(test_pid_reused_full_pass),
		cmocka_unit_test(test_pid_reused_cold),
		cmocka_unit_test_setup_teardown(test_shared_after_fork,
		    use_getdents, use_st_size),
		cmocka_unit_test_setup_teardown(test_passed_scm_rights,
		    use_getdents, use_st_size),
		cmocka_unit_test_setup_teardown(test_pid_reused,
		    use_getdents, use_st_size),
		cmocka_unit_test_setup_teardown(test_pid_reused_full_pass,
		    use_getdents, use_st_size),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
