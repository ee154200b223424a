/*
 * estats_set.c: at most cap connections hold ESTATS slots; the ones held
 * keep them from sample to sample, new ones get the slots of those gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "estats_set.h"

static struct estats_key key(unsigned n)
{
	struct estats_key k;

	memset(&k, 0, sizeof(k));
	k.local.family = k.remote.family = 4;
	k.local.bytes[0] = k.remote.bytes[0] = 127;
	k.local.bytes[3] = 1;
	k.remote.bytes[3] = 2;
	k.local_port = (uint16_t)(20000 + n);
	k.remote_port = 80;
	return k;
}

/* One sample over connections first..last: keep, then claim. */
static size_t sample(struct estats_set *s, unsigned first, unsigned last,
    size_t *kept)
{
	size_t claimed = 0;

	*kept = 0;
	estats_set_begin(s);
	for (unsigned i = first; i <= last; i++) {
		struct estats_key k = key(i);

		*kept += estats_set_keep(s, &k);
	}
	for (unsigned i = first; i <= last; i++) {
		struct estats_key k = key(i);

		if (!estats_set_keep(s, &k) && estats_set_claim(s, &k))
			claimed++;
	}
	estats_set_end(s);
	return claimed;
}

static void test_cap_and_turnover(void **state)
{
	struct estats_set *s = estats_set_new(10);
	size_t kept;

	(void)state;
	assert_non_null(s);
	assert_int_equal(estats_set_cap(s), 10);
	/* 15 connections: 10 slots */
	assert_int_equal(sample(s, 0, 14, &kept), 10);
	assert_int_equal(kept, 0);
	assert_int_equal(estats_set_count(s), 10);
	/* same 15: the 10 keep theirs, nothing new */
	assert_int_equal(sample(s, 0, 14, &kept), 0);
	assert_int_equal(kept, 10);
	/* 0..4 closed, 15..19 new: 5 held kept, 5 freed slots go to the
	 * connections without one */
	assert_int_equal(sample(s, 5, 19, &kept), 5);
	assert_int_equal(kept, 5);
	assert_int_equal(estats_set_count(s), 10);
	/* everything gone */
	assert_int_equal(sample(s, 100, 99, &kept), 0);
	assert_int_equal(estats_set_count(s), 0);
	estats_set_free(s);
}

/* A held connection listed after new ones keeps its slot. */
static void test_old_keeps_slot(void **state)
{
	struct estats_set *s = estats_set_new(2);
	struct estats_key a = key(1), b = key(2), c = key(3);
	size_t kept;

	(void)state;
	assert_int_equal(sample(s, 2, 3, &kept), 2);	/* b, c */
	estats_set_begin(s);
	/* a table order a, b, c: a is new */
	assert_false(estats_set_keep(s, &a));
	assert_true(estats_set_keep(s, &b));
	assert_true(estats_set_keep(s, &c));
	assert_false(estats_set_claim(s, &a));
	estats_set_end(s);
	estats_set_begin(s);
	assert_true(estats_set_keep(s, &c));
	assert_true(estats_set_claim(s, &a));
	/* turning a's counters on failed: its slot goes back */
	estats_set_release(s, &a);
	assert_true(estats_set_claim(s, &b));
	assert_false(estats_set_claim(s, &a));	/* c and b hold both */
	estats_set_end(s);
	assert_int_equal(estats_set_count(s), 2);
	estats_set_begin(s);
	assert_false(estats_set_keep(s, &a));
	assert_true(estats_set_keep(s, &b));
	estats_set_end(s);
	estats_set_free(s);
}

static void test_bounds(void **state)
{
	(void)state;
	assert_null(estats_set_new(ESTATS_MAX_CAP + 1));
	estats_set_free(NULL);
	{
		struct estats_set *s = estats_set_new(0);

		assert_int_equal(estats_set_cap(s), ESTATS_DEFAULT_CAP);
		estats_set_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_and_turnover),
		cmocka_unit_test(test_old_keeps_slot),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
