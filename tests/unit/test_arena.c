/*
 * common/arena.c: alignment, strings, chunks larger than the default,
 * pointers that stay put as the arena grows, release and reuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static void
test_alloc(void **state)
{
	struct arena a = ARENA_INIT;
	char *s, *first;
	void *big;

	(void)state;
	first = arena_strdup(&a, "first");
	assert_non_null(first);
	for (int i = 0; i < 10000; i++) {
		unsigned char *p = arena_alloc(&a, 24, 16);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xAB, 24);
		s = arena_alloc(&a, 3, 1);
		assert_non_null(s);
	}
	/* bigger than a chunk: a chunk of its own */
	big = arena_alloc(&a, 200000, 8);
	assert_non_null(big);
	memset(big, 0, 200000);
	s = arena_strndup(&a, "abcdef", 3);
	assert_string_equal(s, "abc");
	assert_string_equal(first, "first");	/* never moved */
	arena_release(&a);
	assert_null(a.chunks);
	assert_string_equal(arena_strdup(&a, "again"), "again");
	arena_release(&a);
	arena_release(&a);	/* empty: nothing to do */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
