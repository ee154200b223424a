/* Rules in JSON: jansson's tree, and positions for messages from a
 * scanner over the text jansson already accepted (rules_priv.h). */
#include "rules_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
struct loc
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

int
rules_json_walk(struct loader *ld)
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
