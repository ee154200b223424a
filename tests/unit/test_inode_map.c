/*
 * inode_map: the multimap against a plain model under random operations
 * (so backward-shift deletion and growth are exercised), plus the edges.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inode_map.h"

static void
test_basic(void **state)
{
	struct inode_map *m = inode_map_new(0);
	uint32_t v;

	(void)state;
	assert_non_null(m);
	assert_int_equal(inode_map_get_min(m, 42, &v), -ENOENT);
	assert_int_equal(inode_map_add(m, 0, 1), -EINVAL);
	assert_int_equal(inode_map_add(m, 42, 7), 0);
	assert_int_equal(inode_map_add(m, 42, 7), 0);	/* same pair: once */
	assert_int_equal(inode_map_count(m), 1);
	assert_int_equal(inode_map_add(m, 42, 3), 0);
	assert_int_equal(inode_map_add(m, 42, 9), 0);
	assert_int_equal(inode_map_count_key(m, 42), 3);
	assert_int_equal(inode_map_get_min(m, 42, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(inode_map_remove(m, 42, 3), 0);
	assert_int_equal(inode_map_remove(m, 42, 3), -ENOENT);
	assert_int_equal(inode_map_get_min(m, 42, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(inode_map_set(m, 42, 100), 0);
	assert_int_equal(inode_map_count_key(m, 42), 1);
	assert_int_equal(inode_map_get_min(m, 42, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(inode_map_remove_key(m, 42), 1);
	assert_int_equal(inode_map_count(m), 0);
	assert_int_equal(inode_map_get_min(m, 42, &v), -ENOENT);
	assert_int_equal(inode_map_set(m, 0, 1), -EINVAL);
	assert_int_equal(inode_map_add(m, 1ULL << 32, 1), -EINVAL);
	assert_int_equal(inode_map_get_min(m, 1ULL << 32, &v), -ENOENT);
	inode_map_free(m);
	inode_map_free(NULL);
}

static void
test_grow_and_clear(void **state)
{
	struct inode_map *m = inode_map_new(1);
	uint32_t v, i;

	(void)state;
	for (i = 1; i <= 200000; i++)
		assert_int_equal(inode_map_add(m, 1000000u + i, i), 0);
	assert_int_equal(inode_map_count(m), 200000);
	for (i = 1; i <= 200000; i += 997) {
		assert_int_equal(inode_map_get_min(m, 1000000u + i, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(inode_map_get_min(m, 999, &v), -ENOENT);
	inode_map_clear(m);
	assert_int_equal(inode_map_count(m), 0);
	assert_int_equal(inode_map_get_min(m, 1000001u, &v), -ENOENT);
	assert_int_equal(inode_map_add(m, 5, 5), 0);
	assert_int_equal(inode_map_count(m), 1);
	inode_map_free(m);
}

/* The model: a flat list of pairs. */
struct pair {
	uint64_t key;
	uint32_t value;
	int live;
};

#define KEYS	64u	/* few keys, many values each: long shared runs */
#define OPS	60000u

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void
test_random_model(void **state)
{
	struct inode_map *m = inode_map_new(4);
	struct pair *model = calloc(OPS, sizeof(*model));
	size_t n = 0, i;
	uint32_t op, k;

	(void)state;
	assert_non_null(m);
	assert_non_null(model);
	for (op = 0; op < OPS; op++) {
		uint64_t key = 1 + rnd() % KEYS;
		uint32_t value = rnd() % 16;
		int r = (int)(rnd() % 10);

		if (r < 5) {
			int had = 0;

			for (i = 0; i < n; i++)
				if (model[i].live && model[i].key == key &&
				    model[i].value == value)
					had = 1;
			assert_int_equal(inode_map_add(m, key, value), 0);
			if (!had) {
				model[n].key = key;
				model[n].value = value;
				model[n].live = 1;
				n++;
			}
		} else if (r < 9) {
			int had = 0;

			for (i = 0; i < n; i++)
				if (model[i].live && model[i].key == key &&
				    model[i].value == value) {
					model[i--] = model[--n];
					had = 1;
				}
			assert_int_equal(inode_map_remove(m, key, value),
			    had ? 0 : -ENOENT);
		} else {
			size_t gone = 0;

			for (i = 0; i < n; i++)
				if (model[i].live && model[i].key == key) {
					model[i--] = model[--n];
					gone++;
				}
			assert_int_equal(inode_map_remove_key(m, key), gone);
		}
		/* Every key agrees with the model after every step. */
		if (op % 97 != 0)
			continue;
		size_t total = 0;
		for (k = 1; k <= KEYS; k++) {
			uint32_t min = UINT32_MAX, got;
			size_t cnt = 0;

			for (i = 0; i < n; i++)
				if (model[i].live && model[i].key == k) {
					cnt++;
					if (model[i].value < min)
						min = model[i].value;
				}
			total += cnt;
			assert_int_equal(inode_map_count_key(m, k), cnt);
			if (cnt == 0) {
				assert_int_equal(inode_map_get_min(m, k, &got),
				    -ENOENT);
			} else {
				assert_int_equal(inode_map_get_min(m, k, &got),
				    0);
				assert_int_equal(got, min);
			}
		}
		assert_int_equal(inode_map_count(m), total);
	}
	free(model);
	inode_map_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_grow_and_clear),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
