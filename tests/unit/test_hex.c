/*
 * common/hex.h: every digit's value both cases, non-digits refused, and
 * hex_digit as its inverse on the low four bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"

static void
test_value(void **state)
{
	(void)state;
	assert_int_equal(hex_value('0'), 0);
	assert_int_equal(hex_value('9'), 9);
	assert_int_equal(hex_value('a'), 10);
	assert_int_equal(hex_value('F'), 15);
	assert_int_equal(hex_value('g'), -1);
	assert_int_equal(hex_value('G'), -1);
	assert_int_equal(hex_value('/'), -1);
	assert_int_equal(hex_value(':'), -1);
	assert_int_equal(hex_value('\0'), -1);
	assert_int_equal(hex_value((char)0xc1), -1);
}

static void
test_digit(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 16; v++)
		assert_int_equal(hex_value(hex_digit(v)), (int)v);
	assert_int_equal(hex_digit(10), 'a');	/* lower case */
	assert_int_equal(hex_digit(0x1f), 'f');	/* low four bits only */
	assert_int_equal(hex_digit(0xf0), '0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_digit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
