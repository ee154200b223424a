/* packaging/windows/svcpath.c: quoting a service command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "svcpath.h"

struct quote_case {
	const char *in;
	int rc;
	const char *out;	/* when rc == 0 */
};

static const struct quote_case cases[] = {
	/* What Wine's msiexec registers, and what it must become. */
	{ "C:\\Program Files\\ProcnetLive\\procnet-collector.exe", 0,
	  "\"C:\\Program Files\\ProcnetLive\\procnet-collector.exe\"" },
	{ "C:\\Program Files\\ProcnetLive\\procnet-webd.exe --port 8765 "
	  "--rules \"C:\\ProgramData\\ProcnetLive\\node_types.yaml\"", 0,
	  "\"C:\\Program Files\\ProcnetLive\\procnet-webd.exe\" --port 8765 "
	  "--rules \"C:\\ProgramData\\ProcnetLive\\node_types.yaml\"" },
	/* ".exe" in any case; a directory named x.exe.d is not the end. */
	{ "C:\\A B\\X.EXE", 0, "\"C:\\A B\\X.EXE\"" },
	{ "C:\\a.exe.d\\b c\\svc.Exe -v", 0, "\"C:\\a.exe.d\\b c\\svc.Exe\" -v" },
	/* The first .exe that ends a word wins, later ones are arguments. */
	{ "C:\\x y\\a.exe C:\\other.exe", 0, "\"C:\\x y\\a.exe\" C:\\other.exe" },
	/* No spaces: quoting is harmless and makes the rule simple. */
	{ "C:\\ProcnetLive\\a.exe", 0, "\"C:\\ProcnetLive\\a.exe\"" },
	/* Already quoted: left exactly as it is. */
	{ "\"C:\\Program Files\\P\\a.exe\" --x", 0, "\"C:\\Program Files\\P\\a.exe\" --x" },
	/* Refused: nothing to go on, or a shape we will not guess at. */
	{ "", -EINVAL, NULL },
	{ "C:\\Program Files\\P\\a.com", -EINVAL, NULL },
	{ "C:\\Program Files\\P\\a.exec", -EINVAL, NULL },
	{ "\"C:\\Program Files\\P\\a.exe", -EINVAL, NULL },
	{ "\"\" a.exe", -EINVAL, NULL },
	{ "C:\\Pro\"gram\\a.exe", -EINVAL, NULL },
};

static void
test_quote_table(void **state)
{
	char out[SVCPATH_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'x', sizeof(out));
		int rc = svcpath_quote(cases[i].in, out, sizeof(out));
		if (rc != cases[i].rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, cases[i].in,
			    rc, cases[i].rc);
		if (rc == 0)
			assert_string_equal(out, cases[i].out);
	}
}

static void
test_quote_limits(void **state)
{
	const char *in = "C:\\A B\\a.exe";
	char small[16], *big;
	size_t n = SVCPATH_MAX + 10;

	/* Exactly big enough: len + 2 quotes + NUL. */
	assert_int_equal(svcpath_quote(in, small, strlen(in) + 3), 0);
	assert_string_equal(small, "\"C:\\A B\\a.exe\"");
	assert_int_equal(svcpath_quote(in, small, strlen(in) + 2), -ENAMETOOLONG);
	assert_int_equal(svcpath_quote(NULL, small, sizeof(small)), -EINVAL);
	assert_int_equal(svcpath_quote(in, NULL, 10), -EINVAL);
	assert_int_equal(svcpath_quote(in, small, 0), -EINVAL);

	/* A command line past the SCM's limit is refused, never cut. */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big + n - 4, ".exe", 4);
	big[n] = '\0';
	char *out = malloc(n + 8);
	assert_non_null(out);
	assert_int_equal(svcpath_quote(big, out, n + 8), -ENAMETOOLONG);
	free(out);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_table),
		cmocka_unit_test(test_quote_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
