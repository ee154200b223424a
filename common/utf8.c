/* UTF-8 checks, the sanitiser and printable() (utf8.h). */
#include "utf8.h"

#include <string.h>

size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;	/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;	/* past U+10FFFF */
		return 4;
	}
	return 0;
}

bool
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, n - i)) == 0)
			return false;
		i += k;
	}
	return true;
}

size_t
utf8_cut(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len <= max)
		return len;
	len = max;
	/* step back over continuation bytes so a character is not split */
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

size_t
utf8_copy_char(char *dst, const unsigned char *s, size_t n, size_t *used)
{
	size_t k = utf8_seq(s, n);

	if (k == 0) {
		memcpy(dst, "\xEF\xBF\xBD", 3);	/* U+FFFD */
		*used = 1;
		return 3;
	}
	memcpy(dst, s, k);
	*used = k;
	return k;
}

size_t
utf8_sanitize(char *dst, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, j = 0, k;

	while (i < n) {
		j += utf8_copy_char(dst + j, p + i, n - i, &k);
		i += k;
	}
	dst[j] = '\0';
	return j;
}

void
utf8_printable(char *dst, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, j = 0, k;

	if (len == 0)
		return;
	while (i < n) {
		k = utf8_seq(p + i, n - i);
		if (j + (k ? k : 1) + 4 > len)
			break;		/* room for "..." and the NUL */
		if (k == 0 || p[i] < 0x20 || p[i] == 0x7f ||
		    (k == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0)) {
			dst[j++] = '?';
			i += k ? k : 1;
			continue;
		}
		memcpy(dst + j, p + i, k);
		j += k;
		i += k;
	}
	if (i < n && len >= 4) {
		while (j + 4 > len)
			j--;
		memcpy(dst + j, "...", 3);
		j += 3;
	}
	dst[j] = '\0';
}
