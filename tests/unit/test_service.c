/* common/service.c: the verbs in front of a daemon's main() (the Unix
 * platform part, where "run" only runs the program). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "service.h"

static int main_calls, main_argc;
static char main_argv[8][64];
static int report_calls, report_status;
static char report_msg[1024];

static int
fake_main(int argc, char **argv)
{
	main_calls++;
	main_argc = argc;
	for (int i = 0; i < argc && i < 8; i++)
		snprintf(main_argv[i], sizeof(main_argv[i]), "%s", argv[i]);
	return 7;
}

static void
fake_stop(void)
{
}

static void
fake_report(int status, const char *msg)
{
	report_calls++;
	report_status = status;
	snprintf(report_msg, sizeof(report_msg), "%s", msg);
}

static const char *const dflt[] = { "--foreground", NULL };
static const struct service_def def = {
	.name = "procnettest",
	.display = "Procnet test",
	.description = "test",
	.default_args = dflt,
	.main = fake_main,
	.stop = fake_stop,
};

static int
setup(void **state)
{
	(void)state;
	main_calls = main_argc = report_calls = report_status = 0;
	memset(main_argv, 0, sizeof(main_argv));
	report_msg[0] = '\0';
	return 0;
}

static void
test_no_verb_runs_main_with_all_args(void **state)
{
	char *argv[] = { "prog", "--once", "-v", NULL };

	(void)state;
	assert_int_equal(service_main(&def, 3, argv, fake_report), 7);
	assert_int_equal(main_calls, 1);
	assert_int_equal(main_argc, 3);
	assert_string_equal(main_argv[1], "--once");
	assert_string_equal(main_argv[2], "-v");
	assert_int_equal(report_calls, 0);
}

static void
test_run_drops_the_verb(void **state)
{
	char *argv[] = { "prog", "run", "--port", "9", NULL };

	(void)state;
	assert_int_equal(service_main(&def, 4, argv, fake_report), 7);
	assert_int_equal(main_argc, 3);
	assert_string_equal(main_argv[0], "prog");
	assert_string_equal(main_argv[1], "--port");
	assert_string_equal(main_argv[2], "9");
	assert_int_equal(report_calls, 1);
	assert_int_equal(report_status, 7);
	assert_string_equal(report_msg, "");
}

static void
test_run_alone_gets_default_args(void **state)
{
	char *argv[] = { "prog", "run", NULL };

	(void)state;
	assert_int_equal(service_main(&def, 2, argv, NULL), 7);
	assert_int_equal(main_argc, 2);
	assert_string_equal(main_argv[1], "--foreground");
}

static void
test_uninstall_with_args_refused(void **state)
{
	char *argv[] = { "prog", "uninstall", "x", NULL };

	(void)state;
	assert_int_equal(service_main(&def, 3, argv, fake_report), 2);
	assert_int_equal(main_calls, 0);
	assert_int_equal(report_calls, 1);
	assert_int_equal(report_status, 2);
	assert_non_null(strstr(report_msg, "uninstall takes no arguments"));
}

static void
test_install_is_windows_only_here(void **state)
{
	char *argv[] = { "prog", "install", NULL };

	(void)state;
	assert_int_equal(service_main(&def, 2, argv, fake_report), 1);
	assert_int_equal(main_calls, 0);
	assert_int_equal(report_status, 1);
	assert_non_null(strstr(report_msg, "procnettest"));
}

static void
test_too_many_args_refused(void **state)
{
	char *argv[SERVICE_MAX_ARGS + 4];
	int argc = 0;

	(void)state;
	argv[argc++] = "prog";
	argv[argc++] = "run";
	while (argc < SERVICE_MAX_ARGS + 3)
		argv[argc++] = "a";
	argv[argc] = NULL;
	assert_int_equal(service_main(&def, argc, argv, fake_report), 2);
	assert_int_equal(main_calls, 0);
	assert_non_null(strstr(report_msg, "more than"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_verb_runs_main_with_all_args,
		    setup),
		cmocka_unit_test_setup(test_run_drops_the_verb, setup),
		cmocka_unit_test_setup(test_run_alone_gets_default_args, setup),
		cmocka_unit_test_setup(test_uninstall_with_args_refused, setup),
		cmocka_unit_test_setup(test_install_is_windows_only_here,
		    setup),
		cmocka_unit_test_setup(test_too_many_args_refused, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
