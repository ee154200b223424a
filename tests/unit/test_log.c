/*
 * common/log.c's rate limiter.  The clocks and the platform writer are
 * replaced at link time (-Wl,--wrap): time() and clock_gettime() return
 * what the test sets, and every finished line is kept here, so the tests
 * step the wall clock back, move the monotonic one on, and count lines
 * without sleeping.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "log.h"

/* ---- the wrapped clocks and writer ---- */

static int64_t fake_mono_ms = 1000000;		/* an hour or so after boot */
static int64_t fake_real_s = 1800000000;	/* 2027 */

time_t __wrap_time(time_t *t);
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts);
void __wrap_log_platform_write(enum log_level level, const char *line);

time_t
__wrap_time(time_t *t)
{
	if (t != NULL)
		*t = (time_t)fake_real_s;
	return (time_t)fake_real_s;
}

int
__wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	int64_t ms = clk == CLOCK_REALTIME ? fake_real_s * 1000 : fake_mono_ms;

	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
	return 0;
}

static pthread_mutex_t lines_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned n_lines;
static char last[2][256];	/* the last two lines */

void
__wrap_log_platform_write(enum log_level level, const char *line)
{
	(void)level;
	pthread_mutex_lock(&lines_mu);
	n_lines++;
	memcpy(last[0], last[1], sizeof(last[0]));
	snprintf(last[1], sizeof(last[1]), "%s", line);
	pthread_mutex_unlock(&lines_mu);
}

static int
reset(void **state)
{
	(void)state;
	n_lines = 0;
	memset(last, 0, sizeof(last));
	log_init("t", LOG_LEVEL_INFO);
	return 0;
}

/* ---- tests ---- */

/* Lines within a window beyond max are held back and counted; the count
 * comes with the next line that passes. */
static void
test_window(void **state)
{
	struct log_limit l = LOG_LIMIT(2, 10);

	(void)state;
	for (int i = 0; i < 5; i++)
		log_limited(&l, LOG_LEVEL_WARN, "line %d", i);
	assert_int_equal(n_lines, 2);
	assert_string_equal(last[1], "t: warn: line 1");
	fake_mono_ms += 10 * 1000;
	log_limited(&l, LOG_LEVEL_WARN, "line %d", 5);
	assert_int_equal(n_lines, 4);
	assert_string_equal(last[0], "t: warn: line 5");
	assert_string_equal(last[1], "t: warn: (3 similar lines not logged)");
}

/* A wall clock stepped back an hour must not silence a key for an hour:
 * the windows are on the monotonic clock. */
static void
test_wall_clock_stepped_back(void **state)
{
	(void)state;
	log_warnx_limited("step", 5, "first");
	assert_int_equal(n_lines, 1);
	fake_real_s -= 3600;
	fake_mono_ms += 6 * 1000;
	log_warnx_limited("step", 5, "after the step");
	assert_int_equal(n_lines, 2);
	assert_string_equal(last[1], "t: warn: after the step");

	/* and a wall clock stepped forward does not open the window early */
	fake_real_s += 7200;
	fake_mono_ms += 1000;
	log_warnx_limited("step", 5, "too soon");
	assert_int_equal(n_lines, 2);
}

/* Threads sharing one key: exactly one line passes and every other call
 * is counted, none lost to a race. */
#define THREADS	4
#define CALLS	20000

static void *
hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < CALLS; i++)
		log_warnx_limited("shared", 60, "hammer");
	return NULL;
}

static void
test_threads_share_a_key(void **state)
{
	pthread_t th[THREADS];
	char want[128];

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(n_lines, 1);
	fake_mono_ms += 61 * 1000;
	log_warnx_limited("shared", 60, "later");
	assert_int_equal(n_lines, 3);
	snprintf(want, sizeof(want), "t: warn: (%u similar lines not logged)",
	    THREADS * CALLS - 1);
	assert_string_equal(last[1], want);
}

/* Below the level nothing is written or counted. */
static void
test_level(void **state)
{
	struct log_limit l = LOG_LIMIT(1, 10);

	(void)state;
	log_set_level(LOG_LEVEL_WARN);
	log_limited(&l, LOG_LEVEL_INFO, "quiet");
	log_limited(&l, LOG_LEVEL_WARN, "loud");
	assert_int_equal(n_lines, 1);
	assert_string_equal(last[1], "t: warn: loud");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_window, reset),
		cmocka_unit_test_setup(test_wall_clock_stepped_back, reset),
		cmocka_unit_test_setup(test_threads_share_a_key, reset),
		cmocka_unit_test_setup(test_level, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
