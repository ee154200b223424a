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
#include "rules.h"

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

/* open() flags under their Windows names where POSIX's are missing:
 * not inherited by children, no text-mode translation, and no flag for
 * what Windows does not have (a FIFO that would block on open). */
#ifndef O_CLOEXEC
#define O_CLOEXEC	O_NOINHERIT
#endif
#ifndef O_BINARY
#define O_BINARY	0
#endif
#ifndef O_NONBLOCK
#define O_NONBLOCK	0
#endif
#define RULES_OPEN_FLAGS	(O_RDONLY | O_BINARY | O_CLOEXEC | O_NONBLOCK)

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cyaml/cyaml.h>
#include <jansson.h>
#include <pcre2.h>
#include <yaml.h>

enum field {
	F_MATCH_PID,
	F_MATCH_NAME,
	F_MATCH_CMD,
	F_TYPE,
	F_LABEL,
	F_MAX
};

static const char *const field_names[F_MAX] = {
	"match_pid", "match_name", "match_cmd", "type", "label",
};

/* What a value is, in words shared by the YAML and JSON messages. */
enum val_kind {
	VAL_STRING,
	VAL_INT,
	VAL_NUMBER,
	VAL_BOOL,
	VAL_NULL,
	VAL_LIST,
	VAL_MAP,
	VAL_MAX
};

static const char *const kind_words[VAL_MAX] = {
	"a string", "an integer", "a number", "true/false", "null (no value)",
	"a list", "a mapping",
};

static const char *const known_types[] = {
	"app", "service", "database", "message_broker", "cache",
	"load_balancer", "external", "qt_desktop",
};

struct loc {
	int line, col;		/* 1-based; 0 = unknown */
};

struct matcher {
	char *text;		/* exact name / substring, or the pattern */
	pcre2_code *re;		/* NULL unless a regex */
};

struct rule {
	bool has_pid;
	int32_t pid;
	struct matcher name, cmd;
	char *type;
	char *label;		/* NULL: the process name */
};

struct rules {
	char *source;
	size_t n;
	struct rule *v;
	pcre2_match_context *mctx;
};

/* Step 1's record of one rule. */
struct raw_rule {
	struct loc pos;			/* the rule's mapping */
	struct loc val_pos[F_MAX];	/* YAML only */
	bool has[F_MAX];
	char *sval[F_MAX];		/* strings as written */
	int64_t pid;
};

struct loader {
	const char *name;
	const char *buf;
	size_t len;
	bool json;
	struct rules_error *err;
	struct raw_rule *raw;
	size_t n_raw, cap_raw;
};

/* ---- errors ---- */

static void
err_set(struct rules_error *err, const char *file, struct loc at,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
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
static struct loc
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

/* ---- JSON positions: a scanner over text jansson already accepted ---- */

static size_t
js_ws(const char *b, size_t n, size_t i)
{
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' ||
	    b[i] == '\r'))
		i++;
	return i;
}

static size_t
js_skip_string(const char *b, size_t n, size_t i)
{
	for (i++; i < n && b[i] != '"'; i++)
		if (b[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

static size_t
js_skip_value(const char *b, size_t n, size_t i)
{
	int depth = 0;

	do {
		if (i >= n)
			return n;
		if (b[i] == '"') {
			i = js_skip_string(b, n, i);
			continue;
		}
		if (b[i] == '[' || b[i] == '{')
			depth++;
		else if (b[i] == ']' || b[i] == '}')
			depth--;
		else if (depth == 0) {
			/* a bare scalar: up to the next delimiter */
			while (i < n && strchr(",]} \t\r\n", b[i]) == NULL)
				i++;
			return i;
		}
		i++;
	} while (depth > 0);
	return i;
}

/* Does the JSON string at b[i] (the opening quote) equal key?  Keys of
 * interest are plain ASCII; a key with escapes simply never matches. */
static bool
js_key_is(const char *b, size_t n, size_t i, const char *key)
{
	size_t k = strlen(key);

	return i + k + 1 < n && memcmp(b + i + 1, key, k) == 0 &&
	    b[i + 1 + k] == '"';
}

/* Position of rule `rule` (key NULL), of its key, or of that key's value. */
static struct loc
js_locate(const char *b, size_t n, size_t rule, const char *key,
    bool want_value)
{
	size_t i = js_ws(b, n, 0), idx = 0;

	if (i >= n || b[i] != '[')
		return loc_of_offset(b, n, i);
	i = js_ws(b, n, i + 1);
	while (i < n && b[i] != ']') {
		if (idx == rule) {
			size_t start = i;

			if (key == NULL || b[i] != '{')
				return loc_of_offset(b, n, start);
			i = js_ws(b, n, i + 1);
			while (i < n && b[i] == '"') {
				size_t kpos = i, vpos;

				i = js_ws(b, n, js_skip_string(b, n, i));
				if (i < n && b[i] == ':')
					i++;
				vpos = js_ws(b, n, i);
				if (js_key_is(b, n, kpos, key))
					return loc_of_offset(b, n,
					    want_value ? vpos : kpos);
				i = js_ws(b, n, js_skip_value(b, n, vpos));
				if (i < n && b[i] == ',')
					i = js_ws(b, n, i + 1);
			}
			return loc_of_offset(b, n, start);
		}
		i = js_ws(b, n, js_skip_value(b, n, i));
		if (i < n && b[i] == ',')
			i = js_ws(b, n, i + 1);
		idx++;
	}
	return loc_of_offset(b, n, i);
}

/* Where rule idx / its field f (value or key) is, in either format. */
static struct loc
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

/* Prints key for a message: bounded, control characters shown as '?'. */
static void
printable(char *dst, size_t len, const char *s)
{
	size_t i = 0;

	for (; *s != '\0' && i + 4 < len; s++)
		dst[i++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	if (*s != '\0') {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = '\0';
}

static int
ld_begin_rule(struct loader *ld, struct loc pos, enum val_kind kind)
{
	struct raw_rule *r;
	size_t idx = ld->n_raw;

	if (kind != VAL_MAP) {
		if (ld->json)
			pos = js_locate(ld->buf, ld->len, idx, NULL, false);
		err_set(ld->err, ld->name, pos,
		    "rule %zu: expected a mapping of match_pid/match_name/"
		    "match_cmd, type and label, found %s", idx + 1,
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
static int
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
			    "match_pid, match_name, match_cmd, type, label");
		printable(shown, sizeof(shown), key);
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
			printable(shown, sizeof(shown), text);
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

static int
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

static void
ld_release(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_raw; i++)
		for (int f = 0; f < F_MAX; f++)
			free(ld->raw[i].sval[f]);
	free(ld->raw);
	ld->raw = NULL;
	ld->n_raw = ld->cap_raw = 0;
}

/* ---- step 1 for YAML: libyaml events ---- */

static struct loc
ymark(const yaml_mark_t *m)
{
	return (struct loc){ (int)m->line + 1, (int)m->column + 1 };
}

/* YAML 1.1 core resolution of a plain scalar, as libcyaml reads it. */
static enum val_kind
yaml_scalar_kind(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const bools[] = {
		"true", "True", "TRUE", "false", "False", "FALSE",
		"yes", "Yes", "YES", "no", "No", "NO",
		"on", "On", "ON", "off", "Off", "OFF",
	};
	const char *p;

	if (tag != NULL && strcmp(tag, YAML_STR_TAG) == 0)
		return VAL_STRING;
	if (tag != NULL && strcmp(tag, YAML_INT_TAG) == 0)
		return VAL_INT;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return VAL_STRING;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(s, nulls[i]) == 0)
			return VAL_NULL;
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (strcmp(s, bools[i]) == 0)
			return VAL_BOOL;
	p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (isdigit((unsigned char)*p)) {
		bool dot = false, digits_only = true;

		for (; *p != '\0'; p++) {
			if (*p == '.' || *p == 'e' || *p == 'E')
				dot = true;
			else if (!isdigit((unsigned char)*p) &&
			    !((*p == '+' || *p == '-') && dot))
				return VAL_STRING;
			if (!isdigit((unsigned char)*p))
				digits_only = false;
		}
		return digits_only ? VAL_INT : VAL_NUMBER;
	}
	return VAL_STRING;
}

static const char *
yaml_node_word(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return kind_words[VAL_LIST];
	case YAML_MAPPING_START_EVENT:
		return kind_words[VAL_MAP];
	case YAML_SCALAR_EVENT:
		return kind_words[yaml_scalar_kind(ev)];
	default:
		return "something else";
	}
}

enum ystate {
	Y_STREAM,	/* want STREAM_START */
	Y_DOC,		/* want DOCUMENT_START or STREAM_END */
	Y_ROOT,		/* want the root node */
	Y_ITEM,		/* want a rule or SEQUENCE_END */
	Y_KEY,		/* want a key or MAPPING_END */
	Y_VALUE,	/* want a value */
	Y_DOC_END,	/* want DOCUMENT_END */
	Y_END,		/* want STREAM_END */
	Y_DONE
};

static int
yaml_walk(struct loader *ld)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	enum ystate st = Y_STREAM;
	char *key = NULL;
	struct loc key_pos = { 0, 0 };
	int r = 0;

	if (!yaml_parser_initialize(&parser)) {
		err_set(ld->err, ld->name, (struct loc){ 0, 0 }, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)ld->buf,
	    ld->len);
	while (r == 0 && st != Y_DONE) {
		if (!yaml_parser_parse(&parser, &ev)) {
			struct loc at = ymark(&parser.problem_mark);

			if (parser.error == YAML_MEMORY_ERROR) {
				err_set(ld->err, ld->name, at, "out of memory");
				r = -ENOMEM;
			} else if (parser.context != NULL) {
				err_set(ld->err, ld->name, at,
				    "YAML syntax error: %s %s",
				    parser.problem ? parser.problem : "?",
				    parser.context);
				r = -EINVAL;
			} else {
				err_set(ld->err, ld->name, at,
				    "YAML syntax error: %s",
				    parser.problem ? parser.problem : "?");
				r = -EINVAL;
			}
			break;
		}
		struct loc at = ymark(&ev.start_mark);

		if (ev.type == YAML_ALIAS_EVENT) {
			err_set(ld->err, ld->name, at,
			    "YAML aliases (*%s) are not supported; write the "
			    "rule out", (const char *)ev.data.alias.anchor);
			r = -EINVAL;
			yaml_event_delete(&ev);
			break;
		}
		/* A "\0" escape puts a NUL inside a scalar; as C text the
		 * value would silently end there. */
		if (ev.type == YAML_SCALAR_EVENT &&
		    memchr(ev.data.scalar.value, '\0',
		    ev.data.scalar.length) != NULL) {
			err_set(ld->err, ld->name, at,
			    "a NUL character (\\0) in a string; names and "
			    "command lines cannot hold one");
			r = -EINVAL;
			yaml_event_delete(&ev);
			break;
		}
		switch (st) {
		case Y_STREAM:
			st = Y_DOC;
			break;
		case Y_DOC:
			if (ev.type == YAML_STREAM_END_EVENT) {
				err_set(ld->err, ld->name, (struct loc){ 0, 0 },
				    "empty file; expected a list of rules");
				r = -EINVAL;
			} else {
				st = Y_ROOT;
			}
			break;
		case Y_ROOT:
			if (ev.type == YAML_SEQUENCE_START_EVENT) {
				st = Y_ITEM;
			} else if (ev.type == YAML_SCALAR_EVENT &&
			    yaml_scalar_kind(&ev) == VAL_NULL) {
				err_set(ld->err, ld->name, (struct loc){ 0, 0 },
				    "empty file; expected a list of rules");
				r = -EINVAL;
			} else {
				err_set(ld->err, ld->name, at,
				    "expected a list of rules, found %s",
				    yaml_node_word(&ev));
				r = -EINVAL;
			}
			break;
		case Y_ITEM:
			if (ev.type == YAML_SEQUENCE_END_EVENT) {
				st = Y_DOC_END;
			} else if (ev.type == YAML_MAPPING_START_EVENT) {
				r = ld_begin_rule(ld, at, VAL_MAP);
				st = Y_KEY;
			} else {
				r = ld_begin_rule(ld, at,
				    ev.type == YAML_SCALAR_EVENT ?
				    yaml_scalar_kind(&ev) : VAL_LIST);
			}
			break;
		case Y_KEY:
			if (ev.type == YAML_MAPPING_END_EVENT) {
				r = ld_end_rule(ld);
				st = Y_ITEM;
			} else if (ev.type == YAML_SCALAR_EVENT) {
				free(key);
				key = strdup((const char *)ev.data.scalar.value);
				key_pos = at;
				if (key == NULL)
					r = -ENOMEM;
				st = Y_VALUE;
			} else {
				err_set(ld->err, ld->name, at,
				    "rule %zu: a field name must be a plain "
				    "word, found %s", ld->n_raw,
				    yaml_node_word(&ev));
				r = -EINVAL;
			}
			break;
		case Y_VALUE: {
			enum val_kind kind = ev.type == YAML_SCALAR_EVENT ?
			    yaml_scalar_kind(&ev) :
			    ev.type == YAML_SEQUENCE_START_EVENT ? VAL_LIST :
			    VAL_MAP;
			const char *text = ev.type == YAML_SCALAR_EVENT ?
			    (const char *)ev.data.scalar.value : "";

			r = ld_field(ld, key, key_pos, kind, text, at);
			st = Y_KEY;
			break;
		}
		case Y_DOC_END:
			st = Y_END;
			break;
		case Y_END:
			if (ev.type == YAML_DOCUMENT_START_EVENT) {
				err_set(ld->err, ld->name, at,
				    "a second YAML document; put all rules in "
				    "one list");
				r = -EINVAL;
			} else {
				st = Y_DONE;
			}
			break;
		case Y_DONE:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (r == -ENOMEM && ld->err != NULL && ld->err->text[0] == '\0')
		err_set(ld->err, ld->name, (struct loc){ 0, 0 }, "out of memory");
	free(key);
	yaml_parser_delete(&parser);
	return r;
}

/* ---- step 1 for JSON: jansson ---- */

static enum val_kind
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return VAL_MAP;
	case JSON_ARRAY:
		return VAL_LIST;
	case JSON_STRING:
		return VAL_STRING;
	case JSON_INTEGER:
		return VAL_INT;
	case JSON_REAL:
		return VAL_NUMBER;
	case JSON_TRUE:
	case JSON_FALSE:
		return VAL_BOOL;
	default:
		return VAL_NULL;
	}
}

static int
json_walk(struct loader *ld)
{
	json_error_t jerr;
	json_t *root, *item;
	size_t i;
	int r = 0;

	root = json_loadb(ld->buf, ld->len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		struct loc at = { jerr.line, jerr.column > 0 ? jerr.column : 1 };

		/* jansson reports the column just past the offending token */
		if (strncmp(jerr.text, "duplicate object key", 20) == 0)
			err_set(ld->err, ld->name, at, "a field is given twice "
			    "(%s)", jerr.text);
		else
			err_set(ld->err, ld->name, at, "JSON syntax error: %s",
			    jerr.text);
		return -EINVAL;
	}
	if (!json_is_array(root)) {
		err_set(ld->err, ld->name, js_locate(ld->buf, ld->len, 0, NULL,
		    false), "expected a list of rules, found %s",
		    kind_words[json_kind(root)]);
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(root, i, item) {
		const char *key;
		json_t *val;
		char num[32];

		r = ld_begin_rule(ld, (struct loc){ 0, 0 }, json_kind(item));
		if (r < 0)
			break;
		json_object_foreach(item, key, val) {
			const char *text = "";

			if (json_is_string(val)) {
				text = json_string_value(val);
				if (strlen(text) != json_string_length(val)) {
					/* unreachable: jansson refuses \u0000 */
					text = "";
				}
			} else if (json_is_integer(val)) {
				snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
				    json_integer_value(val));
				text = num;
			}
			r = ld_field(ld, key, (struct loc){ 0, 0 },
			    json_kind(val), text, (struct loc){ 0, 0 });
			if (r < 0)
				break;
		}
		if (r < 0 || (r = ld_end_rule(ld)) < 0)
			break;
	}
	json_decref(root);
	return r;
}

/* ---- step 2 for YAML: libcyaml ---- */

struct yrule {
	int64_t *match_pid;
	char *match_name;
	char *match_cmd;
	char *type;
	char *label;
};

static const cyaml_schema_field_t yrule_fields[] = {
	CYAML_FIELD_INT_PTR("match_pid", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct yrule, match_pid),
	CYAML_FIELD_STRING_PTR("match_name", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct yrule, match_name, 0, RULES_MAX_STRING),
	CYAML_FIELD_STRING_PTR("match_cmd", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct yrule, match_cmd, 0, RULES_MAX_STRING),
	CYAML_FIELD_STRING_PTR("type", CYAML_FLAG_POINTER, struct yrule, type,
	    1, RULES_MAX_STRING),
	CYAML_FIELD_STRING_PTR("label", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct yrule, label, 0, RULES_MAX_STRING),
	CYAML_FIELD_END
};

static const cyaml_schema_value_t yrule_schema = {
	CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct yrule, yrule_fields),
};

static const cyaml_schema_value_t yrules_schema = {
	CYAML_VALUE_SEQUENCE(CYAML_FLAG_POINTER, struct yrule, &yrule_schema,
	    0, RULES_MAX_RULES),
};

struct cyaml_log {
	char last[512];
};

/* Keeps libcyaml's last error line for the message, never prints. */
static void
cyaml_log_keep(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
    __attribute__((format(printf, 3, 0)));

static void
cyaml_log_keep(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
	struct cyaml_log *l = ctx;
	size_t n;

	if (level < CYAML_LOG_ERROR || l == NULL)
		return;
	vsnprintf(l->last, sizeof(l->last), fmt, args);
	n = strlen(l->last);
	while (n > 0 && (l->last[n - 1] == '\n' || l->last[n - 1] == ' '))
		l->last[--n] = '\0';
}

static int
yaml_values(struct loader *ld)
{
	struct cyaml_log log = { "" };
	cyaml_config_t cfg = {
		.log_fn = cyaml_log_keep,
		.log_ctx = &log,
		.mem_fn = cyaml_mem,
		.log_level = CYAML_LOG_ERROR,
		.flags = CYAML_CFG_NO_ALIAS,
	};
	struct yrule *v = NULL;
	unsigned count = 0;
	cyaml_err_t e;

	e = cyaml_load_data((const uint8_t *)ld->buf, ld->len, &cfg,
	    &yrules_schema, (cyaml_data_t **)&v, &count);
	if (e != CYAML_OK) {
		/* Step 1 catches every fault we know of; this is the rest. */
		err_set(ld->err, ld->name, (struct loc){ 0, 0 }, "%s%s%s",
		    cyaml_strerror(e), log.last[0] ? ": " : "", log.last);
		return e == CYAML_ERR_OOM ? -ENOMEM : -EINVAL;
	}
	if (count != ld->n_raw) {
		err_set(ld->err, ld->name, (struct loc){ 0, 0 },
		    "libcyaml read %u rules where the file has %zu", count,
		    ld->n_raw);
		cyaml_free(&cfg, &yrules_schema, v, count);
		return -EINVAL;
	}
	/* The values rules are built from are libcyaml's. */
	for (unsigned i = 0; i < count; i++) {
		struct raw_rule *r = &ld->raw[i];
		char *s[F_MAX] = { NULL, v[i].match_name, v[i].match_cmd,
		    v[i].type, v[i].label };

		r->has[F_MATCH_PID] = v[i].match_pid != NULL;
		if (v[i].match_pid != NULL)
			r->pid = *v[i].match_pid;
		for (int f = F_MATCH_NAME; f < F_MAX; f++) {
			free(r->sval[f]);
			r->sval[f] = NULL;
			r->has[f] = s[f] != NULL;
			if (s[f] != NULL && (r->sval[f] = strdup(s[f])) == NULL) {
				cyaml_free(&cfg, &yrules_schema, v, count);
				err_set(ld->err, ld->name, (struct loc){ 0, 0 },
				    "out of memory");
				return -ENOMEM;
			}
		}
	}
	cyaml_free(&cfg, &yrules_schema, v, count);
	return 0;
}

/* ---- step 3: compile ---- */

static void
matcher_free(struct matcher *m)
{
	free(m->text);
	pcre2_code_free(m->re);
}

static int
matcher_compile(struct loader *ld, size_t idx, int f, const char *text,
    struct matcher *m)
{
	size_t len = strlen(text);
	uint32_t flags = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	size_t plen;
	int ecode;
	PCRE2_SIZE eoff;

	memset(m, 0, sizeof(*m));
	if (len >= 2 && text[0] == '/' && text[len - 1] == '/') {
		plen = len - 2;
	} else if (len >= 3 && text[0] == '/' && text[len - 2] == '/' &&
	    text[len - 1] == 'i') {
		plen = len - 3;
		flags |= PCRE2_CASELESS;
	} else {
		m->text = strdup(text);
		return m->text ? 0 : -ENOMEM;
	}
	if (plen == 0) {
		err_set(ld->err, ld->name, ld_where(ld, idx, f, true),
		    "rule %zu: %s: empty regex %s", idx + 1, field_names[f],
		    text);
		return -EINVAL;
	}
	m->text = malloc(plen + 1);
	if (m->text == NULL)
		return -ENOMEM;
	memcpy(m->text, text + 1, plen);
	m->text[plen] = '\0';
	m->re = pcre2_compile((PCRE2_SPTR)m->text, plen, flags, &ecode, &eoff,
	    NULL);
	if (m->re == NULL) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(ecode, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", ecode);
		err_set(ld->err, ld->name, ld_where(ld, idx, f, true),
		    "rule %zu: bad regex in %s at offset %zu: %s", idx + 1,
		    field_names[f], (size_t)eoff, (const char *)msg);
		free(m->text);
		m->text = NULL;
		return -EINVAL;
	}
	/* JIT is an optimisation; without it the interpreter still obeys
	 * the limits. */
	(void)pcre2_jit_compile(m->re, PCRE2_JIT_COMPLETE);
	return 0;
}

static int
compile_rules(struct loader *ld, struct rules *rs)
{
	int r;

	rs->v = calloc(ld->n_raw ? ld->n_raw : 1, sizeof(*rs->v));
	if (rs->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ld->n_raw; i++) {
		struct raw_rule *raw = &ld->raw[i];
		struct rule *ru = &rs->v[i];

		rs->n = i + 1;
		ru->has_pid = raw->has[F_MATCH_PID];
		ru->pid = (int32_t)raw->pid;
		if (raw->has[F_MATCH_NAME] && (r = matcher_compile(ld, i,
		    F_MATCH_NAME, raw->sval[F_MATCH_NAME], &ru->name)) < 0)
			return r;
		if (raw->has[F_MATCH_CMD] && (r = matcher_compile(ld, i,
		    F_MATCH_CMD, raw->sval[F_MATCH_CMD], &ru->cmd)) < 0)
			return r;
		ru->type = raw->sval[F_TYPE];
		raw->sval[F_TYPE] = NULL;
		/* an empty label means the process name, like none */
		if (raw->sval[F_LABEL] != NULL && raw->sval[F_LABEL][0] != '\0') {
			ru->label = raw->sval[F_LABEL];
			raw->sval[F_LABEL] = NULL;
		}
	}
	rs->mctx = pcre2_match_context_create(NULL);
	if (rs->mctx == NULL)
		return -ENOMEM;
	pcre2_set_match_limit(rs->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, RULES_DEPTH_LIMIT);
	return 0;
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
	r = ld.json ? json_walk(&ld) : yaml_walk(&ld);
	if (r == 0 && !ld.json)
		r = yaml_values(&ld);
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
	struct stat st;
	int fd, r;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	/* before opening: opening a FIFO would block (and O_NONBLOCK covers
	 * one swapped in after this look) */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		err_set(err, path, (struct loc){ 0, 0 }, "not a regular file");
		return -EINVAL;
	}
	if ((fd = open(path, RULES_OPEN_FLAGS)) < 0) {
		r = -errno;
		err_set(err, path, (struct loc){ 0, 0 }, "cannot open: %s",
		    strerror(errno));
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
	struct stat st;
	int fd;

	note[0] = '\0';
	if (stat(p, &st) != 0)
		return false;
	if (!S_ISREG(st.st_mode)) {
		snprintf(note, notelen, " (%s)", S_ISDIR(st.st_mode) ?
		    "a directory" : "not a regular file");
		return false;
	}
	if ((fd = open(p, RULES_OPEN_FLAGS)) < 0) {
		snprintf(note, notelen, " (%s)", strerror(errno));
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

/* ---- matching ---- */

size_t
rules_count(const struct rules *r)
{
	return r ? r->n : 0;
}

const char *
rules_source(const struct rules *r)
{
	return r ? r->source : "";
}

int
rules_type_is_known(const char *type)
{
	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++)
		if (strcmp(type, known_types[i]) == 0)
			return 1;
	return 0;
}

static bool
matcher_match(const struct rules *rs, const struct matcher *m,
    const char *subject, bool exact, pcre2_match_data **md)
{
	int rc;

	if (m->re == NULL)
		return exact ? strcmp(subject, m->text) == 0 :
		    strstr(subject, m->text) != NULL;
	if (*md == NULL && (*md = pcre2_match_data_create(1, NULL)) == NULL)
		return false;
	/* A limit hit or any other failure is no match. */
	rc = pcre2_match(m->re, (PCRE2_SPTR)subject, PCRE2_ZERO_TERMINATED, 0,
	    0, *md, rs->mctx);
	return rc >= 0;
}

void
rules_match(const struct rules *r, const struct snap_process *p,
    struct rules_result *res)
{
	pcre2_match_data *md = NULL;

	res->type = RULES_DEFAULT_TYPE;
	res->label = p->name ? p->name : "";
	res->rule = -1;
	for (size_t i = 0; r != NULL && i < r->n; i++) {
		const struct rule *ru = &r->v[i];

		if (ru->has_pid && p->pid != ru->pid)
			continue;
		if (ru->name.text != NULL && !matcher_match(r, &ru->name,
		    p->name ? p->name : "", true, &md))
			continue;
		if (ru->cmd.text != NULL && !matcher_match(r, &ru->cmd,
		    p->cmdline ? p->cmdline : "", false, &md))
			continue;
		res->type = ru->type;
		if (ru->label != NULL)
			res->label = ru->label;
		res->rule = (int)i;
		break;
	}
	pcre2_match_data_free(md);
}
