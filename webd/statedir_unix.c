/* The state directory on Linux and other Unix systems. */
#include "statedir.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_NAME	"history.sqlite"

static int
put(char *buf, size_t len, const char *a, const char *b)
{
	if ((size_t)snprintf(buf, len, "%s%s", a, b) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int
statedir_history_path(char *buf, size_t len)
{
	const char *s = getenv("STATE_DIRECTORY");
	const char *home;
	char first[4096];

	if (s != NULL && *s == '/') {
		/* systemd may list several, colon-separated: the first */
		size_t n = strcspn(s, ":");

		if (n >= sizeof(first))
			return -ENAMETOOLONG;
		memcpy(first, s, n);
		first[n] = '\0';
		return put(buf, len, first, "/" FILE_NAME);
	}
	if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/')
		return put(buf, len, s, "/procnet/" FILE_NAME);
	if (geteuid() == 0)
		return put(buf, len, "/var/lib/procnet/", FILE_NAME);
	home = getenv("HOME");
	if (home == NULL || *home != '/') {
		struct passwd *pw = getpwuid(geteuid());

		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || *home != '/')
		return -ENOENT;
	return put(buf, len, home, "/.local/state/procnet/" FILE_NAME);
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
	while (n > 0 && dir[n - 1] != '/')
		n--;
	if (n <= 1)
		return 0;	/* the working directory, or / */
	dir[n - 1] = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}
