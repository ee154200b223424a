/*
 * JSON text writer (jsonw.h).  Each writer reserves room before it writes,
 * so the hot loops only format numbers and copy bytes.
 */
#include "jsonw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "utf8.h"

void
jsonw_init(struct jsonw *w, jsonw_sink sink, void *arg)
{
	memset(w, 0, sizeof(*w));
	w->sink = sink;
	w->sink_arg = arg;
}

int
jsonw_flush(struct jsonw *w)
{
	int rc;

	if (w->error != 0)
		return w->error;
	if (w->sink != NULL && w->len > 0) {
		if ((rc = w->sink(w->sink_arg, w->p, w->len)) != 0)
			return w->error = rc < 0 ? rc : -EIO;
		w->len = 0;
	}
	return 0;
}

bool
jsonw_reserve(struct jsonw *w, size_t need)
{
	size_t ncap;
	char *np;

	if (w->error != 0)
		return false;
	if (w->cap - w->len > need)
		return true;
	if (w->sink != NULL && jsonw_flush(w) != 0)
		return false;
	if (w->cap - w->len > need)
		return true;
	ncap = w->cap ? w->cap : 4096;
	while (ncap - w->len <= need) {
		if (ncap > SIZE_MAX / 2) {
			w->error = -ENOMEM;
			return false;
		}
		ncap *= 2;
	}
	if ((np = realloc(w->p, ncap)) == NULL) {
		w->error = -ENOMEM;
		return false;
	}
	w->p = np;
	w->cap = ncap;
	return true;
}

void
jsonw_put(struct jsonw *w, const char *s, size_t n)
{
	if (!jsonw_reserve(w, n))
		return;
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

void
jsonw_char(struct jsonw *w, char c)
{
	if (!jsonw_reserve(w, 1))
		return;
	w->p[w->len++] = c;
}

void
jsonw_u64(struct jsonw *w, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	jsonw_put(w, tmp + i, sizeof(tmp) - i);
}

void
jsonw_i64(struct jsonw *w, int64_t v)
{
	if (v < 0) {
		jsonw_char(w, '-');
		jsonw_u64(w, (uint64_t)0 - (uint64_t)v);
	} else
		jsonw_u64(w, (uint64_t)v);
}

void
jsonw_bool(struct jsonw *w, bool v)
{
	if (v)
		JSONW_LIT(w, "true");
	else
		JSONW_LIT(w, "false");
}

void
jsonw_str(struct jsonw *w, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0, run, k;

	/* Worst case every byte becomes 6 ("\u00XX") or 3 (U+FFFD). */
	if (n > (SIZE_MAX - 2) / 6) {
		w->error = w->error ? w->error : -ENOMEM;
		return;
	}
	if (!jsonw_reserve(w, n * 6 + 2))
		return;
	w->p[w->len++] = '"';
	while (i < n) {
		/* Copy a run of plain ASCII in one go. */
		for (run = i; run < n && s[run] >= 0x20 && s[run] < 0x80 &&
		    s[run] != '"' && s[run] != '\\'; run++)
			;
		memcpy(w->p + w->len, s + i, run - i);
		w->len += run - i;
		if ((i = run) >= n)
			break;
		unsigned char c = s[i];
		char *o = w->p + w->len;

		if (c == '"' || c == '\\') {
			o[0] = '\\';
			o[1] = (char)c;
			w->len += 2;
			i++;
		} else if (c < 0x20) {
			o[0] = '\\';
			switch (c) {
			case '\n': o[1] = 'n'; w->len += 2; break;
			case '\r': o[1] = 'r'; w->len += 2; break;
			case '\t': o[1] = 't'; w->len += 2; break;
			case '\b': o[1] = 'b'; w->len += 2; break;
			case '\f': o[1] = 'f'; w->len += 2; break;
			default:
				memcpy(o + 1, "u00", 3);
				o[4] = hex_digit(c >> 4);
				o[5] = hex_digit(c);
				w->len += 6;
			}
			i++;
		} else {
			w->len += utf8_copy_char(o, s + i, n - i, &k);
			i += k;
		}
	}
	w->p[w->len++] = '"';
}

void
jsonw_discard(struct jsonw *w)
{
	free(w->p);
	w->p = NULL;
	w->len = w->cap = 0;
}

int
jsonw_finish(struct jsonw *w, char **out, size_t *len)
{
	int rc;

	if (w->sink != NULL) {
		rc = jsonw_flush(w);
		jsonw_discard(w);
		return rc;
	}
	if (!jsonw_reserve(w, 0)) {
		rc = w->error;
		jsonw_discard(w);
		return rc;
	}
	w->p[w->len] = '\0';
	*out = w->p;
	if (len != NULL)
		*len = w->len;
	w->p = NULL;
	w->len = w->cap = 0;
	return 0;
}
