/*
 * Masking secrets in command lines.
 *
 * A snapshot's command line is its arguments joined by single spaces, so
 * argument boundaries are gone; we work on space-separated words.  This is
 * a best effort that errs towards masking: hiding a harmless value costs a
 * little context, showing a password costs the user's secret.
 */
#include "redact.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[REDACT_MAX] = {
	"redacted", "all", "none",
};

int
redact_mode_from_name(const char *name)
{
	for (int i = 0; i < REDACT_MAX; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return i;
	return -1;
}

const char *
redact_mode_name(unsigned mode)
{
	return mode < REDACT_MAX ? mode_names[mode] : NULL;
}

/* Names (lowercased, without '-', '_' and '.') that hold secrets. */
static const char *const secret_parts[] = {
	"password", "passwd", "passphrase", "secret", "token", "apikey",
	"accesskey", "privatekey", "credential", "authorization", "cookie",
	"sessionid", "bearer",
};
static const char *const secret_suffixes[] = {
	"pass", "pwd", "key", "auth", "pw",
};

/* name_is_secret() looks at no more than this many bytes of a name
 * (leaving out '-', '_' and '.'). */
#define NAME_SEEN_MAX	63u

static bool
name_is_secret(const char *name, size_t len)
{
	char norm[NAME_SEEN_MAX + 1];
	size_t n = 0;

	while (len > 0 && *name == '-') {
		name++;
		len--;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '-' || c == '_' || c == '.')
			continue;
		if (n + 1 >= sizeof(norm))
			break;
		norm[n++] = (char)tolower(c);
	}
	norm[n] = '\0';
	if (n == 0)
		return false;
	for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++)
		if (strstr(norm, secret_parts[i]) != NULL)
			return true;
	for (size_t i = 0; i < sizeof(secret_suffixes) / sizeof(secret_suffixes[0]); i++) {
		size_t sl = strlen(secret_suffixes[i]);

		if (n >= sl && strcmp(norm + n - sl, secret_suffixes[i]) == 0)
			return true;
	}
	return false;
}

/* 5432, 8080:80, 127.0.0.1:8080:80, 53/udp: what -p means for ssh,
 * redis-cli, psql and docker, which is no secret. */
static bool
looks_like_port(const char *s, size_t len)
{
	bool digit = false, slash = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isdigit(c))
			digit = true;
		else if (c == '/')
			slash = true;
		else if (c != ':' && c != '.' && !(slash && isalpha(c)))
			return false;
	}
	return digit;
}

/* -pthread, -pedantic, -pipe: compiler words, not mysql's -pSECRET. */
static bool
all_lower_word(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)s[i]) && s[i] != '-')
			return false;
	return len > 0;
}

struct out {
	char *p;
	size_t n, cap;
};

static void
put(struct out *o, const char *s, size_t len)
{
	/* cap is sized so this never cuts; the check keeps a mistake in
	 * that arithmetic from becoming an overflow */
	if (len > o->cap - 1 - o->n)
		len = o->cap - 1 - o->n;
	memcpy(o->p + o->n, s, len);
	o->n += len;
}

static void
put_mask(struct out *o)
{
	put(o, REDACT_MASK, sizeof(REDACT_MASK) - 1);
}

/* Marks in m[] (same length as the word) the bytes to mask: the password
 * of scheme://user:password@host, and values of secret name=value pairs
 * (also inside query strings: ?user=a&token=b). */
static void
mark_word(const char *w, size_t len, bool *m)
{
	for (size_t i = 0; i + 3 <= len; i++) {
		size_t a, end, at = 0, colon = 0;

		if (memcmp(w + i, "://", 3) != 0)
			continue;
		a = i + 3;
		for (end = a; end < len && strchr("/?#", w[end]) == NULL &&
		    w[end] != ' '; end++) {
			if (w[end] == '@')
				at = end;
		}
		if (at == 0)
			continue;
		for (size_t k = a; k < at; k++)
			if (w[k] == ':') {
				colon = k;
				break;
			}
		if (colon != 0)
			for (size_t k = colon + 1; k < at; k++)
				m[k] = true;
		i = end > i ? end - 1 : i;
	}
	/* "name":"value" inside compact JSON */
	for (size_t e = 1; e + 1 < len; e++) {
		size_t s, v;

		if (w[e] != ':' || w[e - 1] != '"' || w[e + 1] != '"')
			continue;
		for (s = e - 1; s > 0 && w[s - 1] != '"'; s--)
			;
		if (s == 0 || !name_is_secret(w + s, e - 1 - s))
			continue;
		for (v = e + 2; v < len && w[v] != '"'; v++) {
			if (w[v] == '\\' && v + 1 < len)
				m[v++] = true;
			m[v] = true;
		}
	}
	/*
	 * One pass, linear in the word (a word of 32 KiB of '=' must not
	 * cost 32 KiB squared): the name before an '=' starts just past the
	 * last separator, tracked as we go; once that name is longer than
	 * name_is_secret() looks, its answer is the same for every later
	 * '=' and is kept.
	 */
	size_t s = 0, seen = 0;		/* name start; bytes it would look at */
	int fixed = -1;			/* the kept answer, -1 while none */

	for (size_t e = 0; e < len; e++) {
		size_t v;
		bool secret;

		if (strchr("?&;,:{\"'", w[e]) != NULL) {
			s = e + 1;
			seen = 0;
			fixed = -1;
			continue;
		}
		if (w[e] != '=') {
			if (strchr("-_.", w[e]) == NULL)
				seen++;
			continue;
		}
		if (fixed >= 0)
			secret = fixed;
		else
			secret = name_is_secret(w + s, e - s);
		if (seen >= NAME_SEEN_MAX && fixed < 0)
			fixed = secret;
		seen++;
		if (!secret)
			continue;
		/* --secret=a,b and TOKEN=x take the whole rest of the word; in
		 * a query string the value ends at the next separator */
		for (v = e + 1; v < len && (s == 0 ||
		    strchr("&;,", w[v]) == NULL); v++)
			m[v] = true;
		/* An '=' inside the value would mask a part of the same,
		 * already masked, run: go on from its end. */
		e = v - 1;
	}
}

/* The word with its marked runs replaced by one REDACT_MASK each. */
static void
put_marked(struct out *o, const char *w, size_t len, const bool *m)
{
	for (size_t i = 0; i < len;) {
		if (!m[i]) {
			put(o, w + i, 1);
			i++;
			continue;
		}
		put_mask(o);
		while (i < len && m[i])
			i++;
	}
}

static bool
is_auth_scheme(const char *w, size_t wl)
{
	static const char *const schemes[] = { "Bearer", "Basic", "Token",
	    "Digest" };

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (wl == strlen(schemes[i]) && strncasecmp(w, schemes[i], wl) == 0)
			return true;
	return false;
}

/* Short flags whose value is a password for one program only. */
static const struct {
	const char *prog, *flag;
} prog_flags[] = {
	{ "redis-cli", "-a" },
	{ "valkey-cli", "-a" },
	{ "keydb-cli", "-a" },
};

static bool
prog_flag_is_secret(const char *prog, size_t plen, const char *w, size_t wl)
{
	const char *slash;

	/* the first word's basename */
	while ((slash = memchr(prog, '/', plen)) != NULL) {
		plen -= (size_t)(slash + 1 - prog);
		prog = slash + 1;
	}
	for (size_t i = 0; i < sizeof(prog_flags) / sizeof(prog_flags[0]); i++)
		if (plen == strlen(prog_flags[i].prog) &&
		    memcmp(prog, prog_flags[i].prog, plen) == 0 &&
		    wl == strlen(prog_flags[i].flag) &&
		    memcmp(w, prog_flags[i].flag, wl) == 0)
			return true;
	return false;
}

/* curl -u user:password, --user, --proxy-user, -U */
static bool
is_user_flag(const char *w, size_t wl)
{
	static const char *const flags[] = { "-u", "--user", "-U",
	    "--proxy-user" };

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (wl == strlen(flags[i]) && memcmp(w, flags[i], wl) == 0)
			return true;
	return false;
}

enum want {
	WANT_NONE,
	WANT_VALUE,	/* the word after --password */
	WANT_PORT_OR_VALUE,	/* the word after -p */
	WANT_HEADER,	/* the word after "Authorization:" (maybe after Bearer) */
	WANT_USERPASS,	/* the word after -u: mask past its first ':' */
};

int
redact_cmdline(const char *cmdline, enum redact_mode mode, char **out)
{
	size_t len, cap, prog_len;
	struct out o;
	bool *m;
	enum want want = WANT_NONE;

	if (mode >= REDACT_MAX)
		return -EINVAL;
	if (cmdline == NULL)
		cmdline = "";
	if (mode == REDACT_NONE)
		cmdline = "";
	len = strlen(cmdline);
	if (mode == REDACT_ALL || mode == REDACT_NONE) {
		if ((*out = strdup(cmdline)) == NULL)
			return -ENOMEM;
		return 0;
	}
	/* Each mask replaces at least one byte and needs at least one more
	 * ('=', ':' or a space) before it: at most len/2 masks, +2 each. */
	cap = len + len + 16;
	o.p = malloc(cap);
	m = calloc(len + 1, sizeof(*m));
	if (o.p == NULL || m == NULL) {
		free(o.p);
		free(m);
		return -ENOMEM;
	}
	o.n = 0;
	o.cap = cap;
	prog_len = strcspn(cmdline, " ");
	for (size_t i = 0; i <= len;) {
		size_t j = i, wl;
		const char *w = cmdline + i;

		while (j < len && cmdline[j] != ' ')
			j++;
		wl = j - i;
		if (want == WANT_HEADER && is_auth_scheme(w, wl)) {
			put(&o, w, wl);		/* the scheme; its value is next */
		} else if (want == WANT_USERPASS && wl > 0 && w[0] != '-') {
			const char *colon = memchr(w, ':', wl);
			size_t keep = colon ? (size_t)(colon - w) + 1 : wl;

			put(&o, w, keep);
			if (keep < wl)
				put_mask(&o);
			want = WANT_NONE;
		} else if (want != WANT_NONE && wl > 0 && w[0] != '-' &&
		    !(want == WANT_PORT_OR_VALUE && looks_like_port(w, wl))) {
			put_mask(&o);
			want = WANT_NONE;
		} else {
			size_t word_start = o.n;

			want = WANT_NONE;
			memset(m, 0, wl * sizeof(*m));
			mark_word(w, wl, m);
			put_marked(&o, w, wl, m);
			if (wl == 2 && memcmp(w, "-p", 2) == 0) {
				want = WANT_PORT_OR_VALUE;
			} else if (wl > 2 && w[0] == '-' && w[1] == 'p' &&
			    memchr(w, '=', wl) == NULL &&
			    !looks_like_port(w + 2, wl - 2) &&
			    !all_lower_word(w + 2, wl - 2)) {
				/* mysql -pSECRET: undo the word, mask the tail */
				o.n = word_start;
				put(&o, "-p", 2);
				put_mask(&o);
			} else if (wl > 1 && w[0] == '-' &&
			    memchr(w, '=', wl) == NULL && (name_is_secret(w, wl) ||
			    prog_flag_is_secret(cmdline, prog_len, w, wl))) {
				want = WANT_VALUE;
			} else if (is_user_flag(w, wl)) {
				want = WANT_USERPASS;
			} else if (wl > 1 && w[wl - 1] == ':' &&
			    name_is_secret(w, wl - 1)) {
				want = WANT_HEADER;
			}
		}
		if (j < len)
			put(&o, " ", 1);
		i = j + 1;
	}
	o.p[o.n] = '\0';
	free(m);
	*out = o.p;
	return 0;
}
