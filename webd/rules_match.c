/* Rules: compiling the loaded record, and matching processes against it
 * (rules_priv.h). */
#include "rules_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known_types[] = {
	"app", "service", "database", "message_broker", "cache",
	"load_balancer", "external", "qt_desktop",
};

/* ---- step 3: compile ---- */

void
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

int
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
		ru->group = raw->sval[F_GROUP];
		raw->sval[F_GROUP] = NULL;
	}
	rs->mctx = pcre2_match_context_create(NULL);
	if (rs->mctx == NULL)
		return -ENOMEM;
	pcre2_set_match_limit(rs->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, RULES_DEPTH_LIMIT);
	return 0;
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
	res->group = "";
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
		if (ru->group != NULL)
			res->group = ru->group;
		res->rule = (int)i;
		break;
	}
	pcre2_match_data_free(md);
}
