/*
 * winargv_cases.h against Windows itself: CommandLineToArgvW must split
 * each line of the table as the table says, so the table that
 * test_winargv.c holds winargv_split() to is Windows' behaviour.  Under
 * Wine this is Wine's shell32.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <shellapi.h>

#include "winargv.h"
#include "winargv_cases.h"

static void
test_windows_agrees(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(winargv_cases) / sizeof(winargv_cases[0]);
	    i++) {
		const char *cmd = winargv_cases[i].cmd;
		size_t len = strlen(cmd);
		wchar_t wcmd[256];
		char got[1024], *mine = malloc(len + 1);
		const char *m = mine;
		uint32_t argc;
		wchar_t **wargv;
		int n, k;

		assert_true(MultiByteToWideChar(CP_UTF8, 0, cmd, -1, wcmd,
		    256) > 0);
		wargv = CommandLineToArgvW(wcmd, &n);
		assert_non_null(wargv);
		argc = winargv_split(cmd, len, mine);
		if ((uint32_t)n != argc)
			fail_msg("case %zu (%s): Windows gives %d arguments, we "
			    "%u", i, cmd, n, argc);
		for (k = 0; k < n; k++) {
			assert_true(WideCharToMultiByte(CP_UTF8, 0, wargv[k], -1,
			    got, sizeof(got), NULL, NULL) > 0);
			if (strcmp(got, m) != 0)
				fail_msg("case %zu (%s): argument %d: Windows "
				    "'%s', we '%s'", i, cmd, k, got, m);
			m += strlen(m) + 1;
		}
		LocalFree(wargv);
		free(mine);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
