/*
 * argnum: the bench tools' strict parsing of numeric command-line options.
 */
#include <errno.h>
#include <stdlib.h>

#include "argnum.h"

int
argnum_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' ||
	    v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}
