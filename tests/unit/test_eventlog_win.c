/* common/messages.mc and log_win.c: the message table built with windmc and
 * windres (linked into this test as into both daemons) resolves each event
 * id the log reports to the log line itself, the way Event Viewer formats
 * an event from the source's EventMessageFile; and the source name is the
 * program's file name without ".exe". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <windows.h>

#include <string.h>
#include <wchar.h>

#include "log_win.h"
#include "messages.h"

/* The text Event Viewer would show for id with one insertion string. */
static void
check_id(DWORD id, const wchar_t *line)
{
	wchar_t out[512];
	DWORD_PTR args[1] = { (DWORD_PTR)line };
	DWORD n;

	n = FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE |
	    FORMAT_MESSAGE_ARGUMENT_ARRAY, GetModuleHandleW(NULL), id,
	    MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), out, 512,
	    (va_list *)args);
	assert_int_not_equal(n, 0);
	while (n > 0 && (out[n - 1] == L'\r' || out[n - 1] == L'\n'))
		out[--n] = L'\0';
	assert_int_equal(wcscmp(out, line), 0);
}

static void
test_each_severity_shows_the_line(void **state)
{
	(void)state;
	check_id(MSG_PROCNET_ERROR,
	    L"procnet-webd: error: bad rules file: C:\\r\\x.yaml:3:7: oops");
	check_id(MSG_PROCNET_WARNING, L"procnet-collector: warn: pipe \u00e9t\u00e9");
	check_id(MSG_PROCNET_INFO, L"procnet-webd: info: serving");
}

static void
test_ids_carry_the_event_type(void **state)
{
	(void)state;
	/* Severity in the top two bits: Event Viewer's level follows the
	 * event type, but tools reading the id see the same. */
	assert_int_equal(MSG_PROCNET_ERROR >> 30, 3);
	assert_int_equal(MSG_PROCNET_WARNING >> 30, 2);
	assert_int_equal(MSG_PROCNET_INFO >> 30, 1);
	assert_int_equal(MSG_PROCNET_ERROR & 0xffff, 1);
}

static void
test_an_unknown_id_is_not_in_the_table(void **state)
{
	wchar_t out[64];

	(void)state;
	assert_int_equal(FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE |
	    FORMAT_MESSAGE_IGNORE_INSERTS, GetModuleHandleW(NULL), 0xC0000099,
	    0, out, 64, NULL), 0);
}

static void
test_source_is_the_program_name(void **state)
{
	wchar_t src[64], tiny[4];

	(void)state;
	assert_int_equal(log_win_source(src, 64), 0);
	assert_int_equal(_wcsicmp(src, L"test_eventlog_win"), 0);
	wcscpy(tiny, L"ab");
	assert_int_not_equal(log_win_source(tiny, 4), 0);
	assert_int_equal(wcscmp(tiny, L"ab"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_severity_shows_the_line),
		cmocka_unit_test(test_ids_carry_the_event_type),
		cmocka_unit_test(test_an_unknown_id_is_not_in_the_table),
		cmocka_unit_test(test_source_is_the_program_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
