/*
 * The rules loader's insides, shared by rules.c (errors, the structural
 * record both walkers fill, loading, path resolution), rules_yaml.c,
 * rules_json.c and rules_match.c (compile and match).  Not for other
 * modules.
 */
#ifndef PROCNET_RULES_PRIV_H
#define PROCNET_RULES_PRIV_H

#include "rules.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

enum field {
	F_MATCH_PID,
	F_MATCH_NAME,
	F_MATCH_CMD,
	F_TYPE,
	F_LABEL,
	F_GROUP,
	F_MAX
};

extern const char *const field_names[F_MAX];

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

extern const char *const kind_words[VAL_MAX];

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
	char *group;		/* a named group (group.h); NULL none */
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

/* rules.c */
struct loc ld_where(struct loader *ld, size_t idx, int f, bool want_value);
int ld_begin_rule(struct loader *ld, struct loc pos, enum val_kind kind);
int ld_field(struct loader *ld, const char *key, struct loc key_pos,
    enum val_kind kind, const char *text, struct loc val_pos);
int ld_end_rule(struct loader *ld);
void ld_release(struct loader *ld);
void err_set(struct rules_error *err, const char *file, struct loc at,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
struct loc loc_of_offset(const char *buf, size_t len, size_t off);

/* rules_json.c */
struct loc js_locate(const char *b, size_t n, size_t rule,
    const char *key, bool want_value);
int rules_json_walk(struct loader *ld);

/* rules_yaml.c */
int rules_yaml_walk(struct loader *ld);
int rules_yaml_values(struct loader *ld);

/* rules_match.c */
void matcher_free(struct matcher *m);
int compile_rules(struct loader *ld, struct rules *rs);

#endif
