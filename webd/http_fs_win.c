/*
 * http_fs on Windows: the final path of an opened handle resolves links
 * and junctions; comparisons ignore case as the file system does.
 */
#include "http_fs.h"
#include "wstr_win.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#define CANON_WMAX	4096

int
http_fs_canonical(const char *path, char *out, size_t outlen)
{
	wchar_t *w, fin[CANON_WMAX];
	const wchar_t *p = fin;
	HANDLE h;
	DWORD n;

	/* Wide calls: a UI or icons folder under a name outside the ANSI
	 * code page must resolve too. */
	if ((w = wstr_from_utf8(path)) == NULL)
		return -ENOMEM;
	h = CreateFileW(w, 0, FILE_SHARE_READ | FILE_SHARE_WRITE |
	    FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
	    FILE_FLAG_BACKUP_SEMANTICS, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return -ENOENT;
	n = GetFinalPathNameByHandleW(h, fin, CANON_WMAX,
	    FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
	CloseHandle(h);
	if (n == 0)
		return -ENOENT;
	if (n >= CANON_WMAX)
		return -ENAMETOOLONG;
	/* The answer is in \\?\ form, which the C library's stat() and
	 * fopen() do not take: back to a plain drive or UNC path. */
	if (wcsncmp(fin, L"\\\\?\\UNC\\", 8) == 0) {
		fin[6] = L'\\';
		p = fin + 6;
	} else if (wcsncmp(fin, L"\\\\?\\", 4) == 0)
		p = fin + 4;
	if (wstr_to_utf8(p, -1, out, outlen) != 0 ||
	    strlen(out) + 1 >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

bool
http_fs_within(const char *root, const char *p)
{
	size_t n = strlen(root);

	if (_strnicmp(root, p, n) != 0)
		return false;
	return (n > 0 && root[n - 1] == '\\') || p[n] == '\0' || p[n] == '\\';
}
