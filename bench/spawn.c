/*
 * procnet-bench-spawn: runs one command and prints what exactly that
 * process cost, as JSON: wall time from fork to reaped, user and system CPU
 * time and peak RSS from wait4().
 *
 * Why not measure from python: on Linux a child's ru_maxrss starts at its
 * parent's RSS at fork (the memory map is copied, then replaced at exec), so
 * every tool spawned from a python harness would show python's ~18 MB.
 * Forked from this small program, the floor is its own few hundred KB.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
usage(FILE *f)
{
	fprintf(f, "usage: procnet-bench-spawn [-o stdout-file] "
	    "[-e stderr-file] -- command [arg...]\n");
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
redirect(const char *path, int fd, int flags)
{
	int nfd = open(path, flags, 0600);

	if (nfd == -1 || dup2(nfd, fd) == -1) {
		fprintf(stderr, "procnet-bench-spawn: %s: %s\n", path,
		    strerror(errno));
		_exit(126);
	}
	if (nfd != fd)
		close(nfd);
}

int
main(int argc, char **argv)
{
	const char *out = "/dev/null", *err = "/dev/null";
	struct rusage ru;
	int ch, status, rc;
	double t0, t1;
	pid_t pid;

	while ((ch = getopt(argc, argv, "+o:e:h")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'e':
			err = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	fflush(NULL);
	t0 = now_ms();
	pid = fork();
	if (pid == -1) {
		fprintf(stderr, "procnet-bench-spawn: fork: %s\n",
		    strerror(errno));
		return 1;
	}
	if (pid == 0) {
		redirect("/dev/null", 0, O_RDONLY);
		redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC);
		redirect(err, 2, O_WRONLY | O_CREAT | O_TRUNC);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "procnet-bench-spawn: %s: %s\n", argv[optind],
		    strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "procnet-bench-spawn: wait4: %s\n",
			    strerror(errno));
			return 1;
		}
	}
	t1 = now_ms();
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		rc = 128 + WTERMSIG(status);
	printf("{\"wall_ms\":%.3f,\"user_ms\":%.3f,\"sys_ms\":%.3f,"
	    "\"rss_kb\":%ld,\"rc\":%d}\n", t1 - t0,
	    (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3,
	    (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3,
	    ru.ru_maxrss, rc);
	return 0;
}
