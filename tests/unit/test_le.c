/*
 * common/le.h: exact byte order both ways, at any alignment, and the
 * extremes (no sign extension from the high byte).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "le.h"

static void
test_put(void **state)
{
	uint8_t b[9];

	(void)state;
	le16_put(b, 0x1234);
	assert_memory_equal(b, "\x34\x12", 2);
	le32_put(b, 0x89abcdefu);
	assert_memory_equal(b, "\xef\xcd\xab\x89", 4);
	/* odd address: no alignment needed */
	le64_put(b + 1, 0x0102030405060708ull);
	assert_memory_equal(b + 1, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
}

static void
test_get(void **state)
{
	const uint8_t hi[9] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff };
	const uint8_t b[8] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02,
	    0x81 };

	(void)state;
	assert_int_equal(le16_get(b), 0x0708);
	assert_int_equal(le32_get(b), 0x05060708u);
	assert_true(le64_get(b) == 0x8102030405060708ull);
	assert_int_equal(le16_get(hi + 1), 0xffff);
	assert_true(le32_get(hi + 1) == 0xffffffffu);
	assert_true(le64_get(hi + 1) == UINT64_MAX);
}

static void
test_round_trip(void **state)
{
	uint8_t b[8];
	uint64_t v = 1;

	(void)state;
	for (int i = 0; i < 64; i++, v = v * 3 + 0x9e37u) {
		le16_put(b, (uint16_t)v);
		assert_int_equal(le16_get(b), (uint16_t)v);
		le32_put(b, (uint32_t)v);
		assert_true(le32_get(b) == (uint32_t)v);
		le64_put(b, v);
		assert_true(le64_get(b) == v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
