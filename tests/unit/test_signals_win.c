/* webd/signals_win.c: which console control events stop webd.  A service
 * gets CTRL_LOGOFF_EVENT whenever any user logs off and CTRL_SHUTDOWN_EVENT
 * before the SCM's own SHUTDOWN control; neither may stop it.  Ctrl-C,
 * Ctrl-Break and closing the console stop a webd run in a console. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <windows.h>

#include "signals.h"
#include "signals_win.h"

/* Runs first (cmocka keeps the order): the stop flag is sticky. */
static void
test_logoff_and_shutdown_keep_running(void **state)
{
	(void)state;
	assert_int_equal(signals_init(), 0);
	assert_int_equal(signals_win_ctrl(CTRL_LOGOFF_EVENT), 0);
	assert_false(signals_stop_requested());
	assert_int_equal(signals_win_ctrl(CTRL_SHUTDOWN_EVENT), 0);
	assert_false(signals_stop_requested());
	/* 3 and 4 are reserved; anything unknown is not a stop either. */
	assert_int_equal(signals_win_ctrl(3), 0);
	assert_int_equal(signals_win_ctrl(4), 0);
	assert_false(signals_stop_requested());
	assert_false(signals_take_reload());
}

static void
test_ctrl_c_stops(void **state)
{
	(void)state;
	assert_int_equal(signals_win_ctrl(CTRL_C_EVENT), 1);
	assert_true(signals_stop_requested());
	/* The wake event is set: this returns at once rather than after a
	 * minute (a hang here is the failure, not a timing). */
	signals_wait(60000);
}

static void
test_break_and_close_are_handled_as_stop(void **state)
{
	(void)state;
	assert_int_equal(signals_win_ctrl(CTRL_BREAK_EVENT), 1);
	assert_int_equal(signals_win_ctrl(CTRL_CLOSE_EVENT), 1);
	assert_true(signals_stop_requested());
	/* Still not ours after a stop. */
	assert_int_equal(signals_win_ctrl(CTRL_LOGOFF_EVENT), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logoff_and_shutdown_keep_running),
		cmocka_unit_test(test_ctrl_c_stops),
		cmocka_unit_test(test_break_and_close_are_handled_as_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
