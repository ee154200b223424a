/* Rules in YAML: the structural walk over libyaml's events, then the
 * values through libcyaml (rules_priv.h). */
#include "rules_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cyaml/cyaml.h>
#include <yaml.h>

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

int
rules_yaml_walk(struct loader *ld)
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

/* ---- step 2 for YAML: libcyaml ---- */

struct yrule {
	int64_t *match_pid;
	char *match_name;
	char *match_cmd;
	char *type;
	char *label;
	char *group;
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
	CYAML_FIELD_STRING_PTR("group", CYAML_FLAG_POINTER |
	    CYAML_FLAG_OPTIONAL, struct yrule, group, 1, RULES_MAX_STRING),
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

int
rules_yaml_values(struct loader *ld)
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
		    v[i].type, v[i].label, v[i].group };

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
