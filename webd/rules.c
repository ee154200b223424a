/*
 * Rules: load, validate with positions, compile, match.
 *
 * Loading goes in three steps so that every fault a person can make is
 * reported with its file, line and column:
 *  1. a structural walk that records each rule's fields, values and
 *     positions (YAML: libyaml's event parser, which knows every mark;
 *     JSON: jansson's tree, with positions recovered by a small scanner
 *     over the already-valid text only when an error needs one);
 *  2. the values themselves (YAML: libcyaml against a schema; JSON: the
 *     jansson tree);
 *  3. compiling regexes, whose faults are reported at the value's place.
 * Nothing is kept unless all three succeed.
 */
#include "rules_priv.h"
#include "fs.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "utf8.h"

const char *const field_names[F_MAX] = {
	"match_pid", "match_name", "match_cmd", "type", "label", "group",
};

const char *const kind_words[VAL_MAX] = {
	"a string", "an integer", "a number", "true/false", "null (no value)",
	"a list", "a mapping",
};

/* ---- errors ---- */

void
err_set(struct rules_error *err, const char *file, struct loc at,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = at.line;
	err->column = at.col;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
}

char *
rules_error_format(const struct rules_error *err, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (err->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line,
		    err->column, err->text);
	else
		snprintf(buf, len, "%s: %s", err->file, err->text);
	return buf;
}

/* Line and column (characters, not bytes, like libyaml) of buf[off]. */
struct loc
loc_of_offset(const char *buf, size_t len, size_t off)
{
	struct loc l = { 1, 1 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			l.line++;
			l.col = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			l.col++;
		}
	}
	return l;
}

/* Where rule idx / its field f (value or key) is, in either format. */
struct loc
ld_where(struct loader *ld, size_t idx, int f, bool want_value)
{
	if (ld->json)
		return js_locate(ld->buf, ld->len, idx,
		    f >= 0 ? field_names[f] : NULL, want_value);
	if (f >= 0 && idx < ld->n_raw && ld->raw[idx].has[f])
		return ld->raw[idx].val_pos[f];
	if (idx < ld->n_raw)
		return ld->raw[idx].pos;
	return (struct loc){ 0, 0 };
}

/* ---- step 1: structure, shared by both walkers ---- */

static int
field_lookup(const char *key)
{
	for (int f = 0; f < F_MAX; f++)
		if (strcmp(key, field_names[f]) == 0)
			return f;
	return -1;
}

/* Edit distance, for "did you mean"; keys are short and capped. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[32], cur[32];

	if (la > 30 || lb > 30)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] +
			    (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? sub : del;
			if (ins < cur[j])
				cur[j] = ins;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

int
ld_begin_rule(struct loader *ld, struct loc pos, enum val_kind kind)
{
	struct raw_rule *r;
	size_t idx = ld->n_raw;

	if (kind != VAL_MAP) {
		if (ld->json)
			pos = js_locate(ld->buf, ld->len, idx, NULL, false);
		err_set(ld->err, ld->name, pos,
		    "rule %zu: expected a mapping of match_pid/match_name/"
		    "match_cmd, type, label and group, found %s", idx + 1,
		    kind_words[kind]);
		return -EINVAL;
	}
	if (ld->n_raw >= RULES_MAX_RULES) {
		if (ld->json)
			pos = js_locate(ld->buf, ld->len, idx, NULL, false);
		err_set(ld->err, ld->name, pos,
		    "too many rules: the limit is %u", RULES_MAX_RULES);
		return -EINVAL;
	}
	if (ld->n_raw == ld->cap_raw) {
		size_t ncap = ld->cap_raw ? ld->cap_raw * 2 : 16;
		struct raw_rule *n = realloc(ld->raw, ncap * sizeof(*n));

		if (n == NULL) {
			err_set(ld->err, ld->name, (struct loc){ 0, 0 },
			    "out of memory");
			return -ENOMEM;
		}
		ld->raw = n;
		ld->cap_raw = ncap;
	}
	r = &ld->raw[ld->n_raw++];
	memset(r, 0, sizeof(*r));
	r->pos = pos;
	return 0;
}

/* Is text (already known to be an integer's digits) a valid pid? */
static bool
parse_pid(const char *text, int64_t *out)
{
	const char *p = text;
	int64_t v = 0;
	bool neg = false;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		if (v > (INT64_MAX - 9) / 10)
			v = INT64_MAX / 2;	/* saturate: reported as out of range */
		else
			v = v * 10 + (*p - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* One field of the current rule.  key_pos / val_pos are YAML's marks; for
 * JSON they are found by the scanner when a message needs them. */
int
ld_field(struct loader *ld, const char *key, struct loc key_pos,
    enum val_kind kind, const char *text, struct loc val_pos)
{
	size_t idx = ld->n_raw - 1;
	struct raw_rule *r = &ld->raw[idx];
	char shown[80], hint[128] = "";
	int f = field_lookup(key);

	if (f < 0) {
		const char *best = NULL;
		size_t bestd = 3;

		for (int g = 0; g < F_MAX; g++) {
			size_t d = edit_distance(key, field_names[g]);

			/* "name:" for "match_name:" is a common slip */
			if (strncmp(field_names[g], "match_", 6) == 0 &&
			    edit_distance(key, field_names[g] + 6) < 2)
				d = 0;
			if (d < bestd) {
				bestd = d;
				best = field_names[g];
			}
		}
		if (best != NULL)
			snprintf(hint, sizeof(hint), "; did you mean '%s'?",
			    best);
		else
			snprintf(hint, sizeof(hint), "; known fields are "
			    "match_pid, match_name, match_cmd, type, label, "
			    "group");
		utf8_printable(shown, sizeof(shown), key);
		if (ld->json)
			key_pos = js_locate(ld->buf, ld->len, idx, key, false);
		err_set(ld->err, ld->name, key_pos,
		    "rule %zu: unknown field '%s'%s", idx + 1, shown, hint);
		return -EINVAL;
	}
	if (ld->json)
		val_pos = js_locate(ld->buf, ld->len, idx, key, true);
	if (r->has[f]) {
		/* jansson rejects duplicate keys itself; this is YAML's case */
		err_set(ld->err, ld->name, key_pos,
		    "rule %zu: field '%s' is given twice", idx + 1, key);
		return -EINVAL;
	}
	r->has[f] = true;
	r->val_pos[f] = val_pos;
	if (f == F_MATCH_PID) {
		if (kind != VAL_INT || !parse_pid(text, &r->pid)) {
			err_set(ld->err, ld->name, val_pos,
			    "rule %zu: match_pid must be an integer, found %s",
			    idx + 1, kind_words[kind]);
			return -EINVAL;
		}
		if (r->pid < 0 || r->pid > INT32_MAX) {
			utf8_printable(shown, sizeof(shown), text);
			err_set(ld->err, ld->name, val_pos,
			    "rule %zu: match_pid must be between 0 and %d, "
			    "found %s", idx + 1, INT32_MAX, shown);
			return -EINVAL;
		}
		return 0;
	}
	/* YAML scalars that read as numbers or booleans are fine as
	 * strings (a process may be called 1234); JSON says what it means. */
	if (kind == VAL_LIST || kind == VAL_MAP || kind == VAL_NULL ||
	    (ld->json && kind != VAL_STRING)) {
		err_set(ld->err, ld->name, val_pos,
		    "rule %zu: %s must be a string, found %s", idx + 1,
		    key, kind_words[kind]);
		return -EINVAL;
	}
	if (strlen(text) > RULES_MAX_STRING) {
		err_set(ld->err, ld->name, val_pos,
		    "rule %zu: %s is longer than %u bytes", idx + 1, key,
		    RULES_MAX_STRING);
		return -EINVAL;
	}
	if (text[0] == '\0' && f != F_LABEL) {
		err_set(ld->err, ld->name, val_pos,
		    "rule %zu: %s must not be empty", idx + 1, key);
		return -EINVAL;
	}
	r->sval[f] = strdup(text);
	if (r->sval[f] == NULL) {
		err_set(ld->err, ld->name, val_pos, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int
ld_end_rule(struct loader *ld)
{
	size_t idx = ld->n_raw - 1;
	struct raw_rule *r = &ld->raw[idx];
	struct loc pos = ld->json ?
	    js_locate(ld->buf, ld->len, idx, NULL, false) : r->pos;

	if (!r->has[F_TYPE]) {
		err_set(ld->err, ld->name, pos,
		    "rule %zu: missing required field 'type'", idx + 1);
		return -EINVAL;
	}
	if (!r->has[F_MATCH_PID] && !r->has[F_MATCH_NAME] &&
	    !r->has[F_MATCH_CMD]) {
		err_set(ld->err, ld->name, pos,
		    "rule %zu: no match field; give at least one of "
		    "match_pid, match_name, match_cmd", idx + 1);
		return -EINVAL;
	}
	return 0;
}

void
ld_release(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_raw; i++)
		for (int f = 0; f < F_MAX; f++)
			free(ld->raw[i].sval[f]);
	free(ld->raw);
	ld->raw = NULL;
	ld->n_raw = ld->cap_raw = 0;
}

void
rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		matcher_free(&r->v[i].name);
		matcher_free(&r->v[i].cmd);
		free(r->v[i].type);
		free(r->v[i].label);
		free(r->v[i].group);
	}
	free(r->v);
	pcre2_match_context_free(r->mctx);
	free(r->source);
	free(r);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static enum rules_format
detect_format(const char *name, const char *buf, size_t len)
{
	size_t i = 0;

	if (ends_with(name, ".json"))
		return RULES_FORMAT_JSON;
	if (ends_with(name, ".yaml") || ends_with(name, ".yml"))
		return RULES_FORMAT_YAML;
	/* skip a UTF-8 byte order mark and white space */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && isspace((unsigned char)buf[i]))
		i++;
	if (i < len && (buf[i] == '[' || buf[i] == '{'))
		return RULES_FORMAT_JSON;
	return RULES_FORMAT_YAML;
}

static bool
is_blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)buf[i]))
			return false;
	return true;
}

int
rules_load_buffer(const char *buf, size_t len, const char *name,
    enum rules_format format, struct rules **out, struct rules_error *err)
{
	struct loader ld = { 0 };
	struct rules *rs;
	int r;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (name == NULL)
		name = "(rules)";
	if (format >= RULES_FORMAT_MAX) {
		err_set(err, name, (struct loc){ 0, 0 }, "unknown format");
		return -EINVAL;
	}
	if (len > RULES_MAX_FILE) {
		err_set(err, name, (struct loc){ 0, 0 },
		    "file too large: %zu bytes (the limit is %u)", len,
		    RULES_MAX_FILE);
		return -EFBIG;
	}
	if (is_blank(buf, len)) {
		err_set(err, name, (struct loc){ 0, 0 },
		    "empty file; expected a list of rules");
		return -EINVAL;
	}
	if (memchr(buf, '\0', len) != NULL) {
		const char *z = memchr(buf, '\0', len);

		err_set(err, name, loc_of_offset(buf, len, (size_t)(z - buf)),
		    "NUL byte in the file; is it a text file?");
		return -EINVAL;
	}
	if (format == RULES_FORMAT_AUTO)
		format = detect_format(name, buf, len);
	ld.json = format == RULES_FORMAT_JSON;
	/* Editors on Windows like to start files with a UTF-8 byte order
	 * mark; libyaml skips it, jansson does not.  It is invisible, so
	 * columns without it are what the user sees. */
	if (ld.json && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	ld.name = name;
	ld.buf = buf;
	ld.len = len;
	ld.err = err;
	r = ld.json ? rules_json_walk(&ld) : rules_yaml_walk(&ld);
	if (r == 0 && !ld.json)
		r = rules_yaml_values(&ld);
	if (r < 0) {
		ld_release(&ld);
		return r;
	}
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL || (rs->source = strdup(name)) == NULL ||
	    (r = compile_rules(&ld, rs)) < 0) {
		if (r == 0)
			r = -ENOMEM;
		if (r == -ENOMEM)
			err_set(err, name, (struct loc){ 0, 0 }, "out of memory");
		rules_free(rs);
		ld_release(&ld);
		return r;
	}
	ld_release(&ld);
	*out = rs;
	return 0;
}

int
rules_load(const char *path, struct rules **out, struct rules_error *err)
{
	char *buf;
	size_t n = 0;
	ssize_t got;
	struct fs_stamp fst;
	struct stat st;
	int fd, r;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	/* before opening: opening a FIFO would block (and fs_open_read's
	 * O_NONBLOCK covers one swapped in after this look).  UTF-8 paths
	 * through fs.h: any characters, on Windows too. */
	if (fs_stamp(path, &fst) == 0 && fst.type != FS_TYPE_FILE) {
		err_set(err, path, (struct loc){ 0, 0 }, "not a regular file");
		return -EINVAL;
	}
	if ((fd = fs_open_read(path)) < 0) {
		r = fd;
		err_set(err, path, (struct loc){ 0, 0 }, "cannot open: %s",
		    strerror(-r));
		return r;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		err_set(err, path, (struct loc){ 0, 0 }, "not a regular file");
		return -EINVAL;
	}
	/* Read one byte past the cap so an oversized file is told apart
	 * from one exactly at it, whatever fstat said. */
	buf = malloc(RULES_MAX_FILE + 1);
	if (buf == NULL) {
		close(fd);
		err_set(err, path, (struct loc){ 0, 0 }, "out of memory");
		return -ENOMEM;
	}
	while (n < RULES_MAX_FILE + 1) {
		got = read(fd, buf + n, RULES_MAX_FILE + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = errno ? -errno : -EIO;
			err_set(err, path, (struct loc){ 0, 0 },
			    "cannot read: %s", strerror(-r));
			close(fd);
			free(buf);
			return r;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (n > RULES_MAX_FILE) {
		off_t size = st.st_size > (off_t)n ? st.st_size : (off_t)n;

		err_set(err, path, (struct loc){ 0, 0 },
		    "file too large: %lld bytes (the limit is %u)",
		    (long long)size, RULES_MAX_FILE);
		free(buf);
		return -EFBIG;
	}
	r = rules_load_buffer(buf, n, path, RULES_FORMAT_AUTO, out, err);
	free(buf);
	return r;
}

/* ---- path resolution ---- */

static bool
path_is_absolute(const char *p)
{
	/* '/'-rooted, '\'-rooted or a drive letter: the Windows forms are
	 * harmless to test for on Unix. */
	return p[0] == '/' || p[0] == '\\' ||
	    (isalpha((unsigned char)p[0]) && p[1] == ':' &&
	    (p[2] == '\\' || p[2] == '/'));
}

/* Whether p is a regular file we can open; when something is there but
 * will not do, why not goes into note (" (a directory)"), else "". */
static bool
is_readable_file(const char *p, char *note, size_t notelen)
{
	struct fs_stamp st;
	int fd;

	note[0] = '\0';
	if (fs_stamp(p, &st) != 0)
		return false;
	if (st.type != FS_TYPE_FILE) {
		snprintf(note, notelen, " (%s)", st.type == FS_TYPE_DIR ?
		    "a directory" : "not a regular file");
		return false;
	}
	if ((fd = fs_open_read(p)) < 0) {
		snprintf(note, notelen, " (%s)", strerror(-fd));
		return false;
	}
	close(fd);
	return true;
}

int
rules_resolve(const char *path, const char *config_dir,
    const char *program_dir, char *out, size_t outlen,
    struct rules_error *err)
{
	const char *dirs[3] = { NULL, config_dir, program_dir };
	char cand[3][1024], note[3][64], tried[1024] = "";
	size_t n = 0;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (path_is_absolute(path)) {
		if (strlen(path) >= outlen) {
			err_set(err, path, (struct loc){ 0, 0 },
			    "path too long");
			return -ENAMETOOLONG;
		}
		snprintf(out, outlen, "%s", path);
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		int w;

		if (i > 0 && (dirs[i] == NULL || dirs[i][0] == '\0'))
			continue;
		if (i == 0) {
			char cwd[1024];

			if (getcwd(cwd, sizeof(cwd)) != NULL)
				w = snprintf(cand[n], sizeof(cand[n]), "%s/%s",
				    cwd, path);
			else
				w = snprintf(cand[n], sizeof(cand[n]), "%s",
				    path);
		} else {
			size_t dl = strlen(dirs[i]);
			bool sep = dl > 0 && (dirs[i][dl - 1] == '/' ||
			    dirs[i][dl - 1] == '\\');

			w = snprintf(cand[n], sizeof(cand[n]), "%s%s%s",
			    dirs[i], sep ? "" : "/", path);
		}
		if (w < 0 || (size_t)w >= sizeof(cand[n]))
			continue;
		if (is_readable_file(cand[n], note[n], sizeof(note[n]))) {
			if (strlen(cand[n]) >= outlen) {
				err_set(err, path, (struct loc){ 0, 0 },
				    "path too long");
				return -ENAMETOOLONG;
			}
			snprintf(out, outlen, "%s", cand[n]);
			return 0;
		}
		n++;
	}
	if (n == 0) {
		/* every candidate was longer than a path we handle */
		err_set(err, path, (struct loc){ 0, 0 }, "path too long");
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(tried);

		snprintf(tried + used, sizeof(tried) - used, "%s%s%s",
		    i ? ", " : "", cand[i], note[i]);
	}
	err_set(err, path, (struct loc){ 0, 0 },
	    "rules file not found; tried %s", tried);
	return -ENOENT;
}
