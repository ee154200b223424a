/*
 * common/utf8.c: validity, cutting, the sanitiser and printable().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static void
test_valid(void **state)
{
	(void)state;
	assert_true(utf8_valid("caf\xC3\xA9", 5));
	assert_true(utf8_valid("\xF0\x9F\x98\x80", 4));
	assert_false(utf8_valid("\xC0\xAF", 2));	/* overlong */
	assert_false(utf8_valid("\xED\xA0\x80", 3));	/* surrogate */
	assert_false(utf8_valid("\xF4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(utf8_valid("\xC3", 1));		/* truncated */
	assert_int_equal(utf8_cut("ab\xC3\xA9", 3), 2);
	assert_int_equal(utf8_cut("ab\xC3\xA9", 4), 4);
}

static void
test_sanitize(void **state)
{
	char out[64];
	size_t used;

	(void)state;
	assert_int_equal(utf8_sanitize(out, "ok \xC3\xA9", 5), 5);
	assert_string_equal(out, "ok \xC3\xA9");
	assert_int_equal(utf8_sanitize(out, "a\xFF" "b\xC3", 4), 8);
	assert_string_equal(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
	assert_int_equal(utf8_copy_char(out, (const unsigned char *)"\xE2\x82\xAC",
	    3, &used), 3);
	assert_int_equal(used, 3);
	assert_int_equal(utf8_copy_char(out, (const unsigned char *)"\x80x",
	    2, &used), 3);
	assert_int_equal(used, 1);
}

static void
test_printable(void **state)
{
	char out[16];
	char big[80];

	(void)state;
	utf8_printable(out, sizeof(out), "a\nb\x1b[2J");
	assert_string_equal(out, "a?b?[2J");
	/* DEL, a C1 control (U+009B, a CSI to some terminals), bad bytes */
	utf8_printable(out, sizeof(out), "\x7f\xC2\x9B\xFFz");
	assert_string_equal(out, "???z");
	/* valid characters stay */
	utf8_printable(out, sizeof(out), "caf\xC3\xA9");
	assert_string_equal(out, "caf\xC3\xA9");
	/* too long: cut at a character boundary, marked */
	utf8_printable(out, sizeof(out), "abcdefghij\xC3\xA9xyzw");
	assert_string_equal(out, "abcdefghij\xC3\xA9...");
	utf8_printable(out, sizeof(out), "abcdefghijk\xC3\xA9xyzw");
	assert_string_equal(out, "abcdefghijk...");
	utf8_printable(out, sizeof(out), "abcdefghijk");
	assert_string_equal(out, "abcdefghijk");
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	utf8_printable(out, sizeof(out), big);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	assert_string_equal(out + sizeof(out) - 4, "...");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
