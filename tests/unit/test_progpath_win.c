/* common/progpath_win.c: the executable's path from GetModuleFileNameW,
 * as UTF-8, and its directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "progpath.h"

#define SELF	"test_progpath_win.exe"

static void
test_exe_is_this_program(void **state)
{
	char exe[4096];
	size_t n, s = strlen(SELF);

	(void)state;
	assert_int_equal(progpath_exe(exe, sizeof(exe)), 0);
	n = strlen(exe);
	assert_true(n > s);
	/* Windows file names compare without case. */
	assert_int_equal(strcasecmp(exe + n - s, SELF), 0);
	assert_true(exe[n - s - 1] == '\\' || exe[n - s - 1] == '/');
}

static void
test_dir_is_the_exe_minus_its_name(void **state)
{
	char exe[4096], dir[4096];
	size_t d;

	(void)state;
	assert_int_equal(progpath_exe(exe, sizeof(exe)), 0);
	assert_int_equal(progpath_dir(dir, sizeof(dir)), 0);
	d = strlen(dir);
	assert_true(d > 0);
	assert_memory_equal(dir, exe, d);
	/* "C:\" keeps its separator; anything deeper drops it. */
	if (dir[d - 1] == '\\')
		assert_true(d == 3 && dir[1] == ':');
	else
		assert_true(exe[d] == '\\' || exe[d] == '/');
	assert_int_equal(strcasecmp(exe + d + (dir[d - 1] == '\\' ? 0 : 1),
	    SELF), 0);
}

static void
test_short_buffers_refused_untouched(void **state)
{
	char exe[4096], small[4096];
	size_t n;

	(void)state;
	assert_int_equal(progpath_exe(exe, sizeof(exe)), 0);
	n = strlen(exe);
	memset(small, 'x', sizeof(small));
	assert_int_equal(progpath_exe(small, n), -ENAMETOOLONG);
	assert_int_equal(small[0], 'x');
	assert_int_equal(progpath_exe(small, n + 1), 0);
	assert_string_equal(small, exe);
	memset(small, 'x', sizeof(small));
	assert_int_equal(progpath_dir(small, 1), -ENAMETOOLONG);
	assert_int_equal(small[0], 'x');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exe_is_this_program),
		cmocka_unit_test(test_dir_is_the_exe_minus_its_name),
		cmocka_unit_test(test_short_buffers_refused_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
