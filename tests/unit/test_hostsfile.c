/* webd/hostsfile.c: what a hosts file names, and what it must not. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostsfile.h"

static const char *
name_of(const struct hostsfile *h, const char *addr)
{
	struct snap_addr a;

	assert_int_equal(snap_addr_parse(addr, &a), 0);
	return hostsfile_lookup(h, &a);
}

static void
test_parse(void **state)
{
	static const char text[] =
	    "# comment line\n"
	    "127.0.0.1\tlocalhost\n"
	    "127.0.1.1 Build-Host.example.org build-host\r\n"
	    "::1     localhost ip6-localhost ip6-loopback\n"
	    "10.0.0.5 first   # the first line for an address wins\n"
	    "10.0.0.5 second\n"
	    "10.0.0.6\n"				/* no name */
	    "10.0.0.7 bad<name>\n"			/* not a host name */
	    "not-an-address name\n"
	    "fe80::1%eth0 zoned\n"
	    "   192.0.2.9    spaced   \n"
	    "#192.0.2.10 commented\n"
	    "2001:db8::42 v6.example";			/* no newline at end */
	struct hostsfile *h = NULL;

	(void)state;
	assert_int_equal(hostsfile_parse(text, sizeof(text) - 1, &h), 0);
	assert_string_equal(name_of(h, "127.0.0.1"), "localhost");
	assert_string_equal(name_of(h, "127.0.1.1"), "build-host.example.org");
	assert_string_equal(name_of(h, "::1"), "localhost");
	assert_string_equal(name_of(h, "10.0.0.5"), "first");
	assert_null(name_of(h, "10.0.0.6"));
	assert_null(name_of(h, "10.0.0.7"));
	assert_null(name_of(h, "fe80::1"));
	assert_string_equal(name_of(h, "192.0.2.9"), "spaced");
	assert_null(name_of(h, "192.0.2.10"));
	assert_string_equal(name_of(h, "2001:db8::42"), "v6.example");
	assert_int_equal(hostsfile_count(h), 6);
	hostsfile_free(h);
}

static void
test_empty_and_caps(void **state)
{
	struct hostsfile *h = NULL;
	size_t n = 70000 * 16, len = 0;
	char *big = malloc(n);

	(void)state;
	assert_int_equal(hostsfile_parse("", 0, &h), 0);
	assert_int_equal(hostsfile_count(h), 0);
	assert_null(name_of(h, "127.0.0.1"));
	hostsfile_free(h);
	hostsfile_free(NULL);

	/* More lines than the cap: the table stops at the cap, and the
	 * text past HOSTSFILE_MAX_SIZE is not read at all. */
	assert_non_null(big);
	for (unsigned i = 0; len + 32 < n; i++)
		len += (size_t)snprintf(big + len, n - len,
		    "10.%u.%u.%u h%u\n", i >> 16 & 255, i >> 8 & 255,
		    i & 255, i);
	assert_int_equal(hostsfile_parse(big, len, &h), 0);
	assert_true(hostsfile_count(h) <= HOSTSFILE_MAX_ENTRIES);
	assert_true(hostsfile_count(h) > 0);
	hostsfile_free(h);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_empty_and_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
