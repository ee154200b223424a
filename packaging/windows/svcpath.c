/* Quoting the executable part of a service command line; pure. */
#include "svcpath.h"

#include <errno.h>
#include <string.h>

/* ASCII-only: ".exe" in any case, whatever the locale. */
static int
is_dot_exe(const char *s)
{
	return s[0] == '.' && (s[1] | 0x20) == 'e' && (s[2] | 0x20) == 'x' &&
	    (s[3] | 0x20) == 'e';
}

/* Length of the executable part: up to and including the first ".exe"
 * that ends the word, or 0 when there is none. */
static size_t
exe_length(const char *s, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++) {
		if (!is_dot_exe(s + i))
			continue;
		if (i + 4 == len || s[i + 4] == ' ')
			return i + 4;
	}
	return 0;
}

int
svcpath_quote(const char *cmdline, char *out, size_t outlen)
{
	size_t len, exe;
	const char *close;

	if (cmdline == NULL || out == NULL || outlen == 0)
		return -EINVAL;
	len = strnlen(cmdline, SVCPATH_MAX);
	if (len == SVCPATH_MAX)
		return -ENAMETOOLONG;
	if (len == 0)
		return -EINVAL;

	if (cmdline[0] == '"') {
		/* Already quoted: accept it only when the quote closes on a
		 * non-empty path; anything else is not ours to guess at. */
		close = strchr(cmdline + 1, '"');
		if (close == NULL || close == cmdline + 1)
			return -EINVAL;
		if (len + 1 > outlen)
			return -ENAMETOOLONG;
		memcpy(out, cmdline, len + 1);
		return 0;
	}

	if ((exe = exe_length(cmdline, len)) == 0)
		return -EINVAL;
	/* A quote inside the path would end our quoting early. */
	if (memchr(cmdline, '"', exe) != NULL)
		return -EINVAL;
	if (len + 3 > outlen || len + 3 > SVCPATH_MAX)
		return -ENAMETOOLONG;
	out[0] = '"';
	memcpy(out + 1, cmdline, exe);
	out[exe + 1] = '"';
	memcpy(out + exe + 2, cmdline + exe, len - exe + 1);
	return 0;
}
