/* UTF-16 <-> UTF-8 with the Win32 converters. */
#include "wstr_win.h"

#include <windows.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
wstr_to_utf8(const wchar_t *w, int wlen, char *buf, size_t len)
{
	int n, cap;

	if (buf == NULL || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (w == NULL)
		return 0;
	if (wlen < 0)
		wlen = (int)wcsnlen(w, 1u << 20);
	if (wlen == 0)
		return 0;
	cap = len - 1 > (size_t)INT_MAX ? INT_MAX : (int)(len - 1);
	n = WideCharToMultiByte(CP_UTF8, 0, w, wlen, buf, cap, NULL, NULL);
	if (n == 0 && GetLastError() == ERROR_INSUFFICIENT_BUFFER) {
		/* Too long: convert into a full-size scratch copy and cut it
		 * at the last whole UTF-8 sequence that fits. */
		char *tmp = wstr_to_utf8_dup(w, wlen);
		size_t cut;

		if (tmp == NULL)
			return 0;
		cut = len - 1;
		while (cut > 0 && ((unsigned char)tmp[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(buf, tmp, cut);
		buf[cut] = '\0';
		free(tmp);
		return 0;
	}
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

char *
wstr_to_utf8_dup(const wchar_t *w, int wlen)
{
	char *s;
	int n;

	if (w == NULL)
		return NULL;
	if (wlen < 0)
		wlen = (int)wcsnlen(w, 1u << 20);
	if (wlen == 0)
		return calloc(1, 1);
	n = WideCharToMultiByte(CP_UTF8, 0, w, wlen, NULL, 0, NULL, NULL);
	if (n <= 0)
		return NULL;
	if ((s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	n = WideCharToMultiByte(CP_UTF8, 0, w, wlen, s, n, NULL, NULL);
	if (n <= 0) {
		free(s);
		return NULL;
	}
	s[n] = '\0';
	return s;
}

wchar_t *
wstr_from_utf8(const char *s)
{
	wchar_t *w;
	int n;

	if (s == NULL)
		return NULL;
	n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
	if (n <= 0)
		return NULL;
	if ((w = malloc((size_t)n * sizeof(*w))) == NULL)
		return NULL;
	if (MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) <= 0) {
		free(w);
		return NULL;
	}
	return w;
}
