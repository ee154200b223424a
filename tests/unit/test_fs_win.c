/*
 * common/fs_win.c and the rules loader under a non-ASCII path: Windows'
 * narrow C calls would take the ANSI code page and miss such a folder
 * (an install under "C:\Users\Jérôme", a rules file named in Greek).  And
 * the full-resolution identity the rules reload compares: one 100 ns tick
 * of last-write time, or the same size and time in a new file (an editor's
 * save by rename), is a change; stat()'s whole seconds would miss both.
 * Times are set explicitly, so nothing here depends on the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <windows.h>

#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "fs.h"
#include "rules.h"
#include "wstr_win.h"

#define RULES_A	"- match_name: \"/^notepad/\"\n  type: app\n  label: A\n"
#define RULES_B	"- match_name: \"/^notepad/\"\n  type: app\n  label: B\n"

static wchar_t dir_w[MAX_PATH], file_w[MAX_PATH];
static char dir8[MAX_PATH * 3], file8[MAX_PATH * 3];

static void
write_w(const wchar_t *path, const char *text)
{
	FILE *f = _wfopen(path, L"wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static void
set_mtime(const wchar_t *path, ULONGLONG ticks)
{
	FILETIME ft = { (DWORD)ticks, (DWORD)(ticks >> 32) };
	HANDLE h = CreateFileW(path, FILE_WRITE_ATTRIBUTES, FILE_SHARE_READ |
	    FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0,
	    NULL);

	assert_true(h != INVALID_HANDLE_VALUE);
	assert_true(SetFileTime(h, NULL, NULL, &ft));
	CloseHandle(h);
}

static int
setup(void **state)
{
	wchar_t tmp[MAX_PATH];

	(void)state;
	GetTempPathW(MAX_PATH, tmp);
	/* Latin, Greek, CJK and an astral character (a surrogate pair). */
	_snwprintf(dir_w, MAX_PATH,
	    L"%lsprocnet-r\u00e8gles-\u03a9\u65e5\U0001F600-%lu", tmp,
	    (unsigned long)GetCurrentProcessId());
	_snwprintf(file_w, MAX_PATH, L"%ls\\n\u00f6de_types.yaml", dir_w);
	if (!CreateDirectoryW(dir_w, NULL) &&
	    GetLastError() != ERROR_ALREADY_EXISTS)
		return -1;
	write_w(file_w, RULES_A);
	wstr_to_utf8(dir_w, -1, dir8, sizeof(dir8));
	wstr_to_utf8(file_w, -1, file8, sizeof(file8));
	return 0;
}

static int
teardown(void **state)
{
	wchar_t other[MAX_PATH];

	(void)state;
	_snwprintf(other, MAX_PATH, L"%ls\\new.yaml", dir_w);
	DeleteFileW(other);
	DeleteFileW(file_w);
	RemoveDirectoryW(dir_w);
	return 0;
}

static void
test_rules_load_under_non_ascii_path(void **state)
{
	struct rules_error err;
	struct rules *r = NULL;
	char out[MAX_PATH * 3];

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(rules_load(file8, &r, &err), 0);
	assert_non_null(r);
	rules_free(r);
	/* Resolution by a relative name in a non-ASCII program folder. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(rules_resolve("n\xc3\xb6" "de_types.yaml", NULL, dir8,
	    out, sizeof(out), &err), 0);
	assert_string_equal(out + strlen(dir8) + 1, "n\xc3\xb6" "de_types.yaml");
}

static void
test_fs_calls_take_utf8(void **state)
{
	struct fs_stamp st;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(fs_stamp(dir8, &st), 0);
	assert_int_equal(st.type, FS_TYPE_DIR);
	assert_int_equal(fs_stamp(file8, &st), 0);
	assert_int_equal(st.type, FS_TYPE_FILE);
	assert_int_equal(st.size, (int64_t)strlen(RULES_A));
	assert_non_null(f = fs_fopen(file8, "rb"));
	fclose(f);
	assert_true((fd = fs_open_read(file8)) >= 0);
	_close(fd);
	assert_int_equal(fs_stamp("C:\\procnet-no-such-\xc3\xa9", &st),
	    -ENOENT);
}

/* One tick of write time, same size: a change. */
static void
test_same_size_edit_one_tick_later_is_a_change(void **state)
{
	struct fs_stamp a, b;
	ULONGLONG t = 133000000000000000ULL;	/* a day in 2022 */

	(void)state;
	set_mtime(file_w, t);
	assert_int_equal(fs_stamp(file8, &a), 0);
	write_w(file_w, RULES_B);		/* same length as RULES_A */
	set_mtime(file_w, t + 1);
	assert_int_equal(fs_stamp(file8, &b), 0);
	assert_int_equal(a.size, b.size);
	assert_int_equal(b.mtime_ns - a.mtime_ns, 100);
	assert_false(fs_stamp_same(&a, &b));
	assert_int_equal(fs_stamp(file8, &a), 0);
	assert_true(fs_stamp_same(&a, &b));
}

/* Same size, same write time, but another file put in its place (how
 * editors save): the file index tells them apart. */
static void
test_replaced_file_is_a_change(void **state)
{
	struct fs_stamp a, b;
	wchar_t other[MAX_PATH];
	ULONGLONG t = 133000000000000000ULL;

	(void)state;
	set_mtime(file_w, t);
	assert_int_equal(fs_stamp(file8, &a), 0);
	_snwprintf(other, MAX_PATH, L"%ls\\new.yaml", dir_w);
	write_w(other, RULES_A);
	set_mtime(other, t);
	assert_true(MoveFileExW(other, file_w, MOVEFILE_REPLACE_EXISTING));
	assert_int_equal(fs_stamp(file8, &b), 0);
	assert_int_equal(a.size, b.size);
	assert_int_equal(a.mtime_ns, b.mtime_ns);
	assert_true(a.index != b.index);
	assert_false(fs_stamp_same(&a, &b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_load_under_non_ascii_path),
		cmocka_unit_test(test_fs_calls_take_utf8),
		cmocka_unit_test(test_same_size_edit_one_tick_later_is_a_change),
		cmocka_unit_test(test_replaced_file_is_a_change),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
