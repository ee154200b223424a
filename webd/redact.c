/*
 * Masking secrets in command lines, per argument.
 *
 * Every rule marks bytes of an argument; each run of marked bytes is then
 * served as one REDACT_MASK.  Arguments are taken in order, as a program's
 * option parser would: a flag like --password marks the argument after it,
 * whole, whatever it holds ("two words" included).  An argument that holds
 * spaces (sh -c "mysql -pX", -H "Authorization: Bearer x") is also read as
 * words, with the same rules.  This errs towards masking: hiding a harmless
 * value costs a little context, showing a password costs the user's secret.
 * The tables of programs and names are in redact_names.c.
 */
#include "redact.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redact_names.h"

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

/* One argument (or one word of an argument) and its marks. */
struct word {
	const char *p;
	size_t n;
	bool *m;		/* n marks: true = masked */
};

enum want {
	WANT_NONE,
	WANT_VALUE,		/* the argument after --password: all of it */
	WANT_PORT_OR_VALUE,	/* after -p: masked unless a port */
	WANT_USERPASS,		/* after -u: past its first ':' (or '%') */
	WANT_HEADER,		/* after "Authorization:": a scheme, or the value */
};

/* Reading one list of words: what the previous ones asked for. */
struct ctx {
	enum redact_prog prog;	/* the program whose options these are */
	enum want want;
	size_t mask_at;		/* a positional secret's index; SIZE_MAX none */
};

static bool
has_url(const struct word *w)
{
	for (size_t i = 0; i + 3 <= w->n; i++)
		if (w->p[i] == ':' && w->p[i + 1] == '/' && w->p[i + 2] == '/')
			return true;
	return false;
}

static bool
is_value(const struct word *w)
{
	return w->n > 0 && w->p[0] != '-';
}

static void
mark_from(const struct word *w, size_t from)
{
	if (from < w->n)
		memset(w->m + from, 1, w->n - from);
}

/* user:password, smbclient's user%password, lftp's user,password: what
 * follows the first ':' (or, with none, '%', then ','). */
static void
mark_userpass(const struct word *w, size_t from)
{
	const char *v = w->p + from, *sep;
	size_t n = w->n - from;

	if ((sep = memchr(v, ':', n)) == NULL &&
	    (sep = memchr(v, '%', n)) == NULL)
		sep = memchr(v, ',', n);
	if (sep != NULL)
		mark_from(w, (size_t)(sep - w->p) + 1);
}

/* Oracle's user/password@db: what lies between the '/' and the '@'. */
static void
mark_slash_login(const struct word *w)
{
	const char *slash = memchr(w->p, '/', w->n);
	size_t k;

	if (slash == NULL || slash == w->p)
		return;
	for (k = (size_t)(slash - w->p) + 1; k < w->n && w->p[k] != '@'; k++)
		w->m[k] = true;
}

/* openssl's pass:SECRET keeps its "pass:"; any other value is masked. */
static void
mark_value(const struct word *w)
{
	mark_from(w, w->n > 5 && memcmp(w->p, "pass:", 5) == 0 ? 5 : 0);
}

/* The word after a flag that asked for one.  Returns true when it was that
 * value (and so is done), false when it is an argument of its own. */
static bool
take_wanted(struct ctx *x, const struct word *w)
{
	enum want want = x->want;

	x->want = WANT_NONE;
	if (!is_value(w))
		return false;
	switch (want) {
	case WANT_HEADER:
		if (redact_is_auth_scheme(w->p, w->n)) {
			x->want = WANT_VALUE;	/* its credential is next */
			return true;
		}
		mark_from(w, 0);
		return true;
	case WANT_USERPASS:
		if (has_url(w))
			return false;	/* a URL: its own rules */
		mark_userpass(w, 0);
		return true;
	case WANT_PORT_OR_VALUE:
		if (!redact_looks_like_port(w->p, w->n))
			mark_from(w, 0);
		return true;
	case WANT_VALUE:
		mark_value(w);
		return true;
	case WANT_NONE:
		break;
	}
	return false;
}

/* scheme://user:password@host masks the password; for the schemes where a
 * token is sent as the user name (https://ghp_x@github.com) a userinfo
 * without ':' is masked whole. */
static size_t
mark_url(const struct word *w, size_t i)
{
	size_t s = i, a = i + 3, end, at = 0;
	const char *colon;

	while (s > 0 && redact_is_scheme_char(w->p[s - 1]))
		s--;
	for (end = a; end < w->n && strchr("/?# \"'", w->p[end]) == NULL;
	    end++)
		if (w->p[end] == '@')
			at = end;
	if (at == 0)
		return end;
	colon = memchr(w->p + a, ':', at - a);
	if (colon != NULL) {
		for (size_t k = (size_t)(colon - w->p) + 1; k < at; k++)
			w->m[k] = true;
	} else if (at > a && redact_token_scheme(w->p + s, i - s)) {
		for (size_t k = a; k < at; k++)
			w->m[k] = true;
	}
	return end;
}

/* Results of mark_inline() for the next word. */
enum open {
	OPEN_NONE,
	OPEN_HEADER,		/* "Authorization:" ends the word */
	OPEN_SCHEME,		/* "Authorization: Bearer" ends it */
};

/* The JSON member at w->p[e] == ':' (after a '"'): its value when the name
 * is secret ({"token": "x"}; with the value in the next word, *open says
 * so).  Returns where to go on from. */
static size_t
mark_json(const struct word *w, size_t e, enum open *open)
{
	size_t s, v;

	for (s = e - 1; s > 0 && w->p[s - 1] != '"'; s--)
		;
	if (s == 0 || !redact_name_is_secret(w->p + s, e - 1 - s))
		return e;
	for (v = e + 1; v < w->n && w->p[v] == ' '; v++)
		;
	if (v == w->n)
		*open = OPEN_HEADER;
	if (v < w->n && w->p[v] == '"') {
		for (v++; v < w->n && w->p[v] != '"'; v++) {
			if (w->p[v] == '\\' && v + 1 < w->n)
				w->m[v++] = true;
			w->m[v] = true;
		}
		return v;
	}
	for (; v < w->n && strchr(",}] ", w->p[v]) == NULL; v++)
		w->m[v] = true;
	return v;
}

/* user:password@host without a scheme (mysqlsh --uri, scp-like), the
 * user w->p[s..e) before the ':' at e: the password is masked.  Not a
 * path's (docker.io/x:tag@sha256) nor a version (nginx:1.25@sha256). */
static void
mark_bare_userinfo(const struct word *w, size_t s, size_t e)
{
	size_t k;
	bool version = true;

	if (memchr(w->p + s, '/', e - s) != NULL)
		return;
	for (k = e + 1; k < w->n && strchr("/:@ \"'", w->p[k]) == NULL; k++)
		if (!strchr("0123456789.", w->p[k]))
			version = false;
	if (k == w->n || w->p[k] != '@' || k == e + 1 || version)
		return;
	for (size_t i = e + 1; i < k; i++)
		w->m[i] = true;
}

/* "Name: value" / "Name:value" at w->p[e] == ':' with a secret header
 * name: the value is masked (an auth scheme before it kept).  Returns where
 * to go on from; *open says the value is in the next word. */
static size_t
mark_header(const struct word *w, size_t e, enum open *open)
{
	size_t s = e, v, k;
	char quote = 0;

	while (s > 0 && strchr(" =\"';,{([:", w->p[s - 1]) == NULL)
		s--;
	if (s == e)
		return e;
	if (!redact_name_is_secret(w->p + s, e - s)) {
		mark_bare_userinfo(w, s, e);
		return e;
	}
	if (s > 0 && (w->p[s - 1] == '"' || w->p[s - 1] == '\''))
		quote = w->p[s - 1];
	for (v = e + 1; v < w->n && w->p[v] == ' '; v++)
		;
	if (v == w->n) {
		*open = OPEN_HEADER;
		return v;
	}
	for (k = v; k < w->n && w->p[k] != ' ' && w->p[k] != quote; k++)
		;
	if (redact_is_auth_scheme(w->p + v, k - v)) {
		for (v = k; v < w->n && w->p[v] == ' '; v++)
			;
		if (v == w->n) {
			*open = OPEN_SCHEME;
			return v;
		}
	}
	for (; v < w->n && w->p[v] != quote; v++)
		w->m[v] = true;
	return v;
}

/*
 * Marks what one word says itself: URL credentials, JSON members, header
 * values, secret name=value pairs (also in query strings and libpq
 * strings), openssl's pass:X.  One pass over the word, each step bounded
 * by the separators around it, so it stays linear (a word of 32 KiB of
 * '=' or ':' must not cost 32 KiB squared).
 */
static enum open
mark_inline(const struct word *w)
{
	enum open open = OPEN_NONE;
	size_t s = 0;		/* where the current name starts */

	if (w->n > 5 && memcmp(w->p, "pass:", 5) == 0)
		mark_from(w, 5);
	for (size_t e = 0; e < w->n; e++) {
		char c = w->p[e];

		if (c == ':' && e + 2 < w->n && w->p[e + 1] == '/' &&
		    w->p[e + 2] == '/') {
			e = mark_url(w, e);
			s = e + 1;
			continue;
		}
		if (c == ':' && e > 0 && w->p[e - 1] == '"') {
			e = mark_json(w, e, &open);
			s = e + 1;
			continue;
		}
		if (c == ':') {
			e = mark_header(w, e, &open);
			s = e + 1;
			continue;
		}
		if (strchr("?&;,{\"' ", c) != NULL) {
			s = e + 1;
			continue;
		}
		if (c != '=' || !redact_name_is_secret(w->p + s, e - s))
			continue;
		/* --secret=a,b and TOKEN=x take the rest of the word; inside
		 * one (a query, a libpq string) the value ends at the next
		 * separator */
		if (s == 0) {
			mark_from(w, e + 1);
			break;
		}
		for (e++; e < w->n && strchr("&;, \"'", w->p[e]) == NULL; e++)
			w->m[e] = true;
		s = e + 1;
	}
	return open;
}

static bool
has_char(const struct word *w, char c)
{
	return memchr(w->p, c, w->n) != NULL;
}

/* Words are slices of a longer string: compare within the slice. */
static bool
starts_with(const struct word *w, const char *prefix)
{
	size_t n = strlen(prefix);

	return w->n >= n && memcmp(w->p, prefix, n) == 0;
}

/*
 * Option words, which may also set what the next word is: -pSECRET,
 * -uuser:pass, --user=user:pass, --password, program-specific flags.
 * Returns true when the word is fully dealt with.
 */
static bool
mark_flag(struct ctx *x, const struct word *w)
{
	const char *p = w->p;
	size_t n = w->n;
	enum redact_flag kind;

	if ((kind = redact_prog_flag(x->prog, p, n)) != REDACT_FLAG_NONE) {
		x->want = kind == REDACT_FLAG_USERPASS ? WANT_USERPASS :
		    WANT_VALUE;
		return true;
	}
	if (redact_is_user_flag(x->prog, p, n)) {
		x->want = WANT_USERPASS;
		return true;
	}
	if (starts_with(w, "--user=") || starts_with(w, "--proxy-user=")) {
		mark_userpass(w, (size_t)((const char *)memchr(p, '=', n) - p) + 1);
		return true;
	}
	if (n > 2 && p[1] != '-' && (p[1] == 'u' || p[1] == 'U')) {
		mark_userpass(w, 2);	/* curl -ualice:pw, -Ualice%pw */
		return false;
	}
	if (n == 2 && p[1] == 'p') {
		if (redact_p_takes_password(x->prog))
			x->want = WANT_PORT_OR_VALUE;
		return true;
	}
	if (n > 2 && p[1] == 'p' && !has_char(w, '=')) {
		switch (redact_attached_p(x->prog, p, n)) {
		case REDACT_P_SECRET:
			mark_from(w, 2);
			break;
		case REDACT_P_FLAG:
			x->want = WANT_VALUE;
			break;
		case REDACT_P_HARMLESS:
			break;
		}
		return true;
	}
	if (n > 2 && p[1] == 'w' && x->prog == REDACT_PROG_LDAP) {
		mark_from(w, 2);	/* ldapsearch -wSECRET */
		return true;
	}
	if (x->prog == REDACT_PROG_HTPASSWD && p[1] != '-' && has_char(w, 'b'))
		x->mask_at = SIZE_MAX - 1;	/* htpasswd -b: the last one */
	return false;
}

static void mark_words(struct word *words, size_t count, bool nested);

/* An argument with spaces, read again as words (one level deep). */
static void
mark_nested(const struct word *w)
{
	size_t count = 1, k = 0, start = 0;
	struct word *sub;

	for (size_t i = 0; i < w->n; i++)
		count += w->p[i] == ' ';
	if ((sub = malloc(count * sizeof(*sub))) == NULL) {
		mark_from(w, 0);	/* cannot look closer: hide it */
		return;
	}
	for (size_t i = 0; i <= w->n; i++) {
		if (i < w->n && w->p[i] != ' ')
			continue;
		sub[k].p = w->p + start;
		sub[k].n = i - start;
		sub[k].m = w->m + start;
		k++;
		start = i + 1;
	}
	mark_words(sub, count, true);
	free(sub);
}

static void
mark_words(struct word *words, size_t count, bool nested)
{
	struct ctx x = { .mask_at = SIZE_MAX };

	for (size_t i = 0; i < count; i++) {
		struct word *w = &words[i];
		enum redact_prog prog;
		enum open open;
		size_t skip;

		if (x.mask_at == SIZE_MAX - 1)
			x.mask_at = count - 1;
		if (i == x.mask_at && is_value(w)) {
			mark_from(w, 0);
			x.want = WANT_NONE;
			continue;
		}
		if (x.want != WANT_NONE && take_wanted(&x, w))
			continue;
		/* a program named in the line (sudo mysql, docker exec db
		 * mysql) brings its own options */
		if ((prog = redact_prog_of(w->p, w->n)) != REDACT_PROG_NONE)
			x.prog = prog;
		if ((skip = redact_positional(x.prog, w->p, w->n)) > 0)
			x.mask_at = i + skip;
		if (x.prog == REDACT_PROG_SQLPLUS && is_value(w) &&
		    prog == REDACT_PROG_NONE)
			mark_slash_login(w);
		if (w->n > 1 && w->p[0] == '-' && mark_flag(&x, w))
			continue;
		open = mark_inline(w);
		if (w->n > 1 && w->p[0] == '-' && !has_char(w, '=') &&
		    redact_flag_wants_secret(w->p, w->n))
			x.want = WANT_VALUE;
		else if (open != OPEN_NONE)
			x.want = open == OPEN_HEADER ? WANT_HEADER : WANT_VALUE;
		else if (skip == 0 && redact_key_wants_secret(w->p, w->n))
			x.want = WANT_VALUE;	/* aws configure set aws_secret_access_key X */
		if (!nested && has_char(w, ' '))
			mark_nested(w);
	}
}

struct out {
	char *p;
	size_t n, cap;
	int error;
};

static void
put(struct out *o, const char *s, size_t len)
{
	if (o->error)
		return;
	if (o->cap - o->n < len) {
		size_t ncap = o->cap ? o->cap : 256;
		char *np;

		while (ncap - o->n < len)
			ncap *= 2;
		if ((np = realloc(o->p, ncap)) == NULL) {
			o->error = -ENOMEM;
			return;
		}
		o->p = np;
		o->cap = ncap;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
}

/* The word with each marked run replaced by one REDACT_MASK. */
static void
put_marked(struct out *o, const struct word *w)
{
	for (size_t i = 0; i < w->n;) {
		size_t j = i;

		if (!w->m[i]) {
			while (j < w->n && !w->m[j])
				j++;
			put(o, w->p + i, j - i);
		} else {
			while (j < w->n && w->m[j])
				j++;
			put(o, REDACT_MASK, sizeof(REDACT_MASK) - 1);
		}
		i = j;
	}
}

/* argc words from argv, or the space-separated words of cmdline. */
static struct word *
words_of(uint32_t argc, const char *const *argv, const char *cmdline,
    size_t *count, bool **marks)
{
	size_t total = 0, n = argc, k = 0, start = 0, len = 0;
	struct word *w;

	if (argc == 0) {
		len = strlen(cmdline);
		n = len > 0;
		for (size_t i = 0; i < len; i++)
			n += cmdline[i] == ' ';
		total = len;
	} else {
		for (uint32_t i = 0; i < argc; i++)
			total += strlen(argv[i] != NULL ? argv[i] : "");
	}
	w = malloc((n ? n : 1) * sizeof(*w));
	*marks = calloc(total + 1, sizeof(**marks));
	if (w == NULL || *marks == NULL) {
		free(w);
		free(*marks);
		return NULL;
	}
	if (argc > 0) {
		for (uint32_t i = 0; i < argc; i++) {
			w[i].p = argv[i] != NULL ? argv[i] : "";
			w[i].n = strlen(w[i].p);
			w[i].m = *marks + start;
			start += w[i].n;
		}
	} else {
		for (size_t i = 0; n > 0 && i <= len; i++) {
			if (i < len && cmdline[i] != ' ')
				continue;
			w[k].p = cmdline + start;
			w[k].n = i - start;
			w[k].m = *marks + start;
			k++;
			start = i + 1;
		}
	}
	*count = n;
	return w;
}

void
redact_args_free(struct redact_args *r)
{
	if (r == NULL)
		return;
	free(r->argv);		/* the strings share its block */
	free(r->cmdline);
	memset(r, 0, sizeof(*r));
}

int
redact_argv(uint32_t argc, const char *const *argv, const char *cmdline,
    enum redact_mode mode, struct redact_args *out)
{
	struct out o = { 0 }, line = { 0 };
	struct word *w;
	size_t count, *ends;
	bool *marks;
	char **arr;

	if (mode >= REDACT_MAX)
		return -EINVAL;
	if (cmdline == NULL || mode == REDACT_NONE)
		cmdline = "";
	if (mode == REDACT_NONE)
		argc = 0;
	if ((w = words_of(argc, argv, cmdline, &count, &marks)) == NULL)
		return -ENOMEM;
	if (mode == REDACT_REDACTED)
		mark_words(w, count, false);
	if ((ends = malloc((count ? count : 1) * sizeof(*ends))) == NULL) {
		free(w);
		free(marks);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		put_marked(&o, &w[i]);
		put(&o, "", 1);
		ends[i] = o.n;
		if (i > 0)
			put(&line, " ", 1);
		put_marked(&line, &w[i]);
	}
	put(&line, "", 1);
	free(w);
	free(marks);
	/* the pointers go in front of the strings, in one block */
	arr = o.error ? NULL : malloc(count * sizeof(*arr) + o.n + 1);
	if (arr == NULL || line.error) {
		free(arr);
		free(o.p);
		free(line.p);
		free(ends);
		return -ENOMEM;
	}
	if (o.n > 0)
		memcpy((char *)(arr + count), o.p, o.n);
	for (size_t i = 0; i < count; i++)
		arr[i] = (char *)(arr + count) + (i > 0 ? ends[i - 1] : 0);
	free(o.p);
	free(ends);
	out->argc = (uint32_t)count;
	out->argv = arr;
	out->cmdline = line.p;
	return 0;
}

int
redact_cmdline(const char *cmdline, enum redact_mode mode, char **out)
{
	struct redact_args r;
	int rc;

	if ((rc = redact_argv(0, NULL, cmdline, mode, &r)) < 0)
		return rc;
	*out = r.cmdline;
	r.cmdline = NULL;
	redact_args_free(&r);
	return 0;
}
