/* The state directory on Windows: %ProgramData%\Procnet. */
#include "statedir.h"

#include <direct.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
statedir_history_path(char *buf, size_t len)
{
	const char *pd = getenv("ProgramData");

	if (pd == NULL || *pd == '\0')
		pd = "C:\\ProgramData";
	if ((size_t)snprintf(buf, len, "%s\\Procnet\\history.sqlite", pd) >=
	    len)
		return -ENAMETOOLONG;
	return 0;
}

int
statedir_make_parent(const char *path)
{
	char dir[4096];
	size_t n;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	n = strlen(dir);
	while (n > 0 && dir[n - 1] != '/' && dir[n - 1] != '\\')
		n--;
	if (n == 0)
		return 0;
	dir[n - 1] = '\0';
	/* parents one by one, past a drive ("C:") or a UNC prefix */
	for (char *p = dir; ; p++) {
		if ((*p == '\\' || *p == '/' || *p == '\0') && p > dir &&
		    p[-1] != ':' && p[-1] != '\\' && p[-1] != '/') {
			char c = *p;

			*p = '\0';
			if (_mkdir(dir) != 0 && errno != EEXIST &&
			    errno != EACCES)
				return -errno;
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	return 0;
}
