/*
 * http_fs on Windows: the final path of an opened handle resolves links
 * and junctions; comparisons ignore case as the file system does.
 */
#include "http_fs.h"

#include <errno.h>
#include <string.h>
#include <windows.h>

int
http_fs_canonical(const char *path, char *out, size_t outlen)
{
	HANDLE h;
	DWORD n;

	h = CreateFileA(path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE |
	    FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
	    FILE_FLAG_BACKUP_SEMANTICS, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return -ENOENT;
	n = GetFinalPathNameByHandleA(h, out, (DWORD)outlen,
	    FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
	CloseHandle(h);
	if (n == 0)
		return -ENOENT;
	if (n >= outlen)
		return -ENAMETOOLONG;
	/* The answer is in \\?\ form, which the C library's stat() and
	 * fopen() do not take: back to a plain drive or UNC path. */
	if (strncmp(out, "\\\\?\\UNC\\", 8) == 0)
		memmove(out + 2, out + 8, strlen(out + 8) + 1);
	else if (strncmp(out, "\\\\?\\", 4) == 0)
		memmove(out, out + 4, strlen(out + 4) + 1);
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
