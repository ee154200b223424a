/*
 * netif_win.c under Wine (or Windows): GetAdaptersAddresses yields this
 * host's addresses, loopback included, with valid families.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "netif.h"

static void
test_local_addrs(void **state)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	struct snap_addr *a = NULL;
	size_t n = 0;
	int have_lo = 0;

	assert_int_equal(netif_local_addrs(&a, &n), 0);
	assert_non_null(a);
	assert_true(n >= 1 && n <= NETIF_MAX_ADDRS);
	for (size_t i = 0; i < n; i++) {
		assert_true(a[i].family == 4 || a[i].family == 6);
		if (a[i].family == 4 && memcmp(a[i].bytes, lo4, 4) == 0)
			have_lo = 1;
	}
	assert_true(have_lo);
	free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_addrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
