/* The executable's path from GetModuleFileNameW, as UTF-8 (see
 * progpath.h). */
#include "progpath.h"

#include <windows.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wstr_win.h"

/* Windows' own limit for a path with the \\?\ prefix, in UTF-16 units. */
#define PROGPATH_WMAX	32768

int
progpath_exe(char *buf, size_t len)
{
	wchar_t *w;
	char *u;
	DWORD n;
	size_t ulen;

	if ((w = malloc(PROGPATH_WMAX * sizeof(*w))) == NULL)
		return -ENOMEM;
	n = GetModuleFileNameW(NULL, w, PROGPATH_WMAX);
	/* 0 is failure; a full buffer means the name was cut. */
	if (n == 0 || n >= PROGPATH_WMAX) {
		free(w);
		return n == 0 ? -EIO : -ENAMETOOLONG;
	}
	u = wstr_to_utf8_dup(w, (int)n);
	free(w);
	if (u == NULL)
		return -ENOMEM;
	ulen = strlen(u);
	if (ulen >= len) {
		free(u);
		return -ENAMETOOLONG;
	}
	memcpy(buf, u, ulen + 1);
	free(u);
	return 0;
}

int
progpath_dir(char *buf, size_t len)
{
	char *tmp, *sep, *fsep;
	size_t n;
	int rc;

	if ((tmp = malloc(PROGPATH_WMAX * 3)) == NULL)
		return -ENOMEM;
	if ((rc = progpath_exe(tmp, PROGPATH_WMAX * 3)) != 0) {
		free(tmp);
		return rc;
	}
	/* Either separator, the last one. */
	sep = strrchr(tmp, '\\');
	fsep = strrchr(tmp, '/');
	if (fsep != NULL && (sep == NULL || fsep > sep))
		sep = fsep;
	if (sep == NULL) {
		free(tmp);
		return -ENOENT;
	}
	/* "C:\prog.exe" lives in "C:\", not in the drive-relative "C:". */
	n = (size_t)(sep - tmp);
	if (n == 0 || tmp[n - 1] == ':')
		n++;
	if (n >= len) {
		free(tmp);
		return -ENAMETOOLONG;
	}
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	free(tmp);
	return 0;
}
