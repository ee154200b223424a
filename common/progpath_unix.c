/* The executable's path from /proc/self/exe (see progpath.h). */
#include "progpath.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

int
progpath_exe(char *buf, size_t len)
{
	char tmp[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", tmp, sizeof(tmp));
	if (n < 0)
		return -errno;
	/* readlink does not terminate, and a full buffer may be cut. */
	if ((size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* The kernel always gives an absolute path; anything else is
	 * refused rather than guessed at. */
	if (tmp[0] != '/')
		return -ENOENT;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, tmp, (size_t)n);
	buf[n] = '\0';
	return 0;
}

int
progpath_dir(char *buf, size_t len)
{
	char tmp[PATH_MAX];
	char *slash;
	size_t n;
	int rc;

	if ((rc = progpath_exe(tmp, sizeof(tmp))) != 0)
		return rc;
	slash = strrchr(tmp, '/');	/* there is one: the path is absolute */
	n = slash == tmp ? 1 : (size_t)(slash - tmp);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return 0;
}
