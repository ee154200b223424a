/* common/progpath_unix.c: the executable's path from the OS, also when
 * the program was started through PATH (argv[0] without a directory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "progpath.h"

#define SELF	"test_progpath"

/* This test's own directory in the build tree, resolved. */
static void
expected_dir(char *buf, size_t len)
{
	const char *root = getenv("PROCNET_BUILD_ROOT");
	char joined[PATH_MAX], *real;

	if (root == NULL)
		skip();
	snprintf(joined, sizeof(joined), "%s/tests", root);
	real = realpath(joined, NULL);
	assert_non_null(real);
	snprintf(buf, len, "%s", real);
	free(real);
}

static void
test_exe_is_this_program(void **state)
{
	char exe[PATH_MAX], dir[PATH_MAX], want[PATH_MAX + 32];
	struct stat a, b;

	(void)state;
	expected_dir(dir, sizeof(dir));
	assert_int_equal(progpath_exe(exe, sizeof(exe)), 0);
	assert_true(exe[0] == '/');
	snprintf(want, sizeof(want), "%s/%s", dir, SELF);
	assert_string_equal(exe, want);
	assert_int_equal(stat(exe, &a), 0);
	assert_int_equal(stat("/proc/self/exe", &b), 0);
	assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
}

static void
test_dir_is_the_build_tests_dir(void **state)
{
	char dir[PATH_MAX], want[PATH_MAX];

	(void)state;
	expected_dir(want, sizeof(want));
	assert_int_equal(progpath_dir(dir, sizeof(dir)), 0);
	assert_string_equal(dir, want);
}

static void
test_short_buffers_refused_untouched(void **state)
{
	char dir[PATH_MAX], small[PATH_MAX];
	size_t n;

	(void)state;
	assert_int_equal(progpath_dir(dir, sizeof(dir)), 0);
	n = strlen(dir);
	/* Exactly too small by one: the NUL does not fit. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(progpath_dir(small, n), -ENAMETOOLONG);
	assert_int_equal(small[0], 'x');
	assert_int_equal(progpath_dir(small, n + 1), 0);
	assert_string_equal(small, dir);
	memset(small, 'x', sizeof(small));
	assert_int_equal(progpath_exe(small, n + 1), -ENAMETOOLONG);
	assert_int_equal(small[0], 'x');
	assert_int_equal(progpath_exe(small, 0), -ENAMETOOLONG);
}

/* Runs this program again found through PATH, with a bare argv[0], and
 * compares the directory it reports. */
static void
test_started_through_path(void **state)
{
	char want[PATH_MAX], got[PATH_MAX + 1];
	int fds[2], status;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	(void)state;
	expected_dir(want, sizeof(want));
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0 ||
		    setenv("PATH", want, 1) != 0)
			_exit(126);
		execlp(SELF, SELF, "--print-dir", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (len < sizeof(got) - 1 &&
	    (n = read(fds[0], got + len, sizeof(got) - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	got[len] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(got, want);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exe_is_this_program),
		cmocka_unit_test(test_dir_is_the_build_tests_dir),
		cmocka_unit_test(test_short_buffers_refused_untouched),
		cmocka_unit_test(test_started_through_path),
	};

	/* The child of test_started_through_path. */
	if (argc == 2 && strcmp(argv[1], "--print-dir") == 0) {
		char dir[PATH_MAX];

		if (strchr(argv[0], '/') != NULL ||
		    progpath_dir(dir, sizeof(dir)) != 0)
			return 1;
		fputs(dir, stdout);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
