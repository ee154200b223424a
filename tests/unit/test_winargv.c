/*
 * collector-svc/winargv.c: CommandLineToArgvW's splitting, from the table
 * in winargv_cases.h (which test_winargv_win.c checks against Windows),
 * plus the bound on the output and a long line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "winargv.h"
#include "winargv_cases.h"

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(winargv_cases) / sizeof(winargv_cases[0]);
	    i++) {
		const char *cmd = winargv_cases[i].cmd;
		size_t len = strlen(cmd);
		char *out = malloc(len + 1), *want = strdup(winargv_cases[i].want);
		uint32_t argc = winargv_split(cmd, len, out);
		const char *a = out;
		char *w = want, *bar;

		if (argc != winargv_cases[i].argc)
			fail_msg("case %zu (%s): %u arguments, want %u", i, cmd,
			    argc, winargv_cases[i].argc);
		for (uint32_t k = 0; k < argc; k++) {
			if ((bar = strchr(w, '|')) != NULL)
				*bar = '\0';
			if (strcmp(a, w) != 0)
				fail_msg("case %zu (%s): argument %u is '%s', want "
				    "'%s'", i, cmd, k, a, w);
			a += strlen(a) + 1;
			w = bar != NULL ? bar + 1 : w + strlen(w);
		}
		assert_true((size_t)(a - out) <= len + 1);
		free(out);
		free(want);
	}
}

static void
test_empty(void **state)
{
	char out[1];

	(void)state;
	assert_int_equal(winargv_split("", 0, out), 0);
}

/* Every shape of quotes, backslashes and blanks stays within len + 1
 * bytes (the caller's buffer): all strings of up to 7 of these bytes. */
static void
test_bound(void **state)
{
	static const char alphabet[] = { 'a', ' ', '"', '\\', '\t' };
	char cmd[8], out[9 + 16];

	(void)state;
	for (size_t n = 1; n <= 7; n++) {
		size_t total = 1;

		for (size_t k = 0; k < n; k++)
			total *= sizeof(alphabet);
		for (size_t v = 0; v < total; v++) {
			size_t x = v, used = 0;
			uint32_t argc;

			for (size_t k = 0; k < n; k++) {
				cmd[k] = alphabet[x % sizeof(alphabet)];
				x /= sizeof(alphabet);
			}
			memset(out, 0x55, sizeof(out));
			argc = winargv_split(cmd, n, out);
			for (uint32_t a = 0; a < argc; a++)
				used += strlen(out + used) + 1;
			assert_true(argc >= 1);
			assert_true(used <= n + 1);
			/* nothing written past the bound */
			assert_int_equal((unsigned char)out[n + 1], 0x55);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
