/*
 * CommandLineToArgvW's splitting on UTF-8 bytes: every byte it treats
 * specially (blank, '"', '\\') is ASCII, so no character is ever split.
 */
#include "winargv.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

uint32_t
winargv_split(const char *cmd, size_t len, char *out)
{
	const char *s = cmd, *end = cmd + len;
	char *d = out;
	uint32_t argc = 0;

	if (len == 0)
		return 0;
	/* The program: up to the closing quote, or the first blank (so a
	 * line starting with a blank has an empty one). */
	if (*s == '"') {
		for (s++; s < end && *s != '"'; s++)
			*d++ = *s;
		if (s < end)
			s++;
	} else {
		while (s < end && !blank(*s))
			*d++ = *s++;
	}
	*d++ = '\0';
	argc = 1;

	for (;;) {
		unsigned bs = 0;	/* backslashes just seen */
		int quoted = 0;

		while (s < end && blank(*s))
			s++;
		if (s == end)
			break;
		while (s < end && (quoted || !blank(*s))) {
			if (*s == '\\') {
				*d++ = *s++;
				bs++;
				continue;
			}
			if (*s != '"') {
				*d++ = *s++;
				bs = 0;
				continue;
			}
			/* n backslashes before a quote: half of them stay */
			d -= bs - bs / 2;
			s++;
			if (bs % 2 == 1) {
				*d++ = '"';
				bs = 0;
				continue;
			}
			bs = 0;
			if (quoted && s < end && *s == '"') {
				/* "" inside quotes: a quote, and quoting ends */
				*d++ = '"';
				s++;
				quoted = 0;
				continue;
			}
			quoted = !quoted;
		}
		*d++ = '\0';
		argc++;
	}
	return argc;
}
