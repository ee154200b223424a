/*
 * http_fs on POSIX systems.
 */
#include "http_fs.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int
http_fs_canonical(const char *path, char *out, size_t outlen)
{
	char *r = realpath(path, NULL);
	size_t len;

	if (r == NULL)
		return -errno;
	len = strlen(r);
	if (len >= outlen) {
		free(r);
		return -ENAMETOOLONG;
	}
	memcpy(out, r, len + 1);
	free(r);
	return 0;
}

bool
http_fs_within(const char *root, const char *p)
{
	size_t n = strlen(root);

	if (strncmp(root, p, n) != 0)
		return false;
	/* "/" as root, or an exact match, or root followed by a separator. */
	return (n > 0 && root[n - 1] == '/') || p[n] == '\0' || p[n] == '/';
}
