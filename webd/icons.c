/*
 * Icon lookup.  The type comes from the URL, so it is held to a strict
 * alphabet before it touches a path: no separators, no dots.
 */
#include "icons.h"
#include "fs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
	const char *type;
	const char *file;
} renames[] = {
	{ "message_broker",	"mq" },
	{ "load_balancer",	"lb" },
};

int
icons_file_name(const char *type, char *out, size_t outlen)
{
	size_t len, i;
	const char *base = type;

	if (type == NULL)
		return -EINVAL;
	len = strlen(type);
	if (len == 0 || len > ICONS_MAX_TYPE)
		return -EINVAL;
	if (strspn(type, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
		return -EINVAL;
	for (i = 0; i < sizeof(renames) / sizeof(renames[0]); i++)
		if (strcmp(type, renames[i].type) == 0)
			base = renames[i].file;
	if ((size_t)snprintf(out, outlen, "%s.png", base) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

static int
regular_file(const char *dir, const char *name, char *out, size_t outlen)
{
	struct fs_stamp st;

	if ((size_t)snprintf(out, outlen, "%s/%s", dir, name) >= outlen)
		return -ENAMETOOLONG;
	if (fs_stamp(out, &st) != 0 || st.type != FS_TYPE_FILE)
		return -ENOENT;
	return 0;
}

int
icons_resolve(const char *dir, const char *type, char *out, size_t outlen)
{
	char name[ICONS_MAX_TYPE + 8];
	int rc;

	if ((rc = icons_file_name(type, name, sizeof(name))) != 0)
		return rc;
	if (dir == NULL)
		return -ENOENT;
	if (regular_file(dir, name, out, outlen) == 0)
		return 0;
	return regular_file(dir, "service.png", out, outlen);
}
