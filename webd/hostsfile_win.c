#include <windows.h>

#include <stdlib.h>

#include "hostsfile.h"
#include "wstr_win.h"

char *
hostsfile_default_path(void)
{
	wchar_t dir[MAX_PATH], path[MAX_PATH + 40];
	UINT n = GetSystemDirectoryW(dir, MAX_PATH);

	/* The system directory, not %SystemRoot% from the environment: a
	 * service's environment is not the user's to set. */
	if (n == 0 || n >= MAX_PATH)
		return NULL;
	if (_snwprintf(path, sizeof(path) / sizeof(path[0]),
	    L"%ls\\drivers\\etc\\hosts", dir) < 0)
		return NULL;
	return wstr_to_utf8_dup(path, -1);
}
