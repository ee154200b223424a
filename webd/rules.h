/*
 * Rules that type processes: a YAML or JSON list of
 *   { match_pid, match_name, match_cmd, type (required), label, group }.
 * match_name is an exact name, match_cmd a substring; either may be a PCRE2
 * regex written /pattern/ or /pattern/i.  Every match field given must
 * match; the first matching rule wins; no match gives type "app" and the
 * process name as label.
 *
 * A loaded rules object is immutable: rules_match() may be called from any
 * thread.  Loading either returns a complete new object or an error and
 * leaves nothing behind, so a reload can keep the old rules on failure.
 */
#ifndef PROCNET_RULES_H
#define PROCNET_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define RULES_MAX_FILE		(1024u * 1024u)	/* bytes */
#define RULES_MAX_RULES		10000u
#define RULES_MAX_STRING	4096u		/* bytes, any one value */
/* PCRE2 limits per match, so a hostile pattern cannot stall a sample. */
#define RULES_MATCH_LIMIT	100000u
#define RULES_DEPTH_LIMIT	1000u

#define RULES_DEFAULT_TYPE	"app"

enum rules_format {
	RULES_FORMAT_AUTO,	/* by extension (.yaml .yml .json), else content */
	RULES_FORMAT_YAML,
	RULES_FORMAT_JSON,
	RULES_FORMAT_MAX
};

/* What went wrong and where.  line/column are 1-based; 0 when the fault
 * has no position (file missing, too large). */
struct rules_error {
	char file[1024];
	int line;
	int column;
	char text[1024];
};

struct rules;

/* Loads the file at path as given (no search; see rules_resolve).
 * Returns 0 and a new object in *out, or a negative errno-style code with
 * err filled: -ENOENT/-EACCES/... (cannot read), -EFBIG (too large),
 * -EINVAL (syntax or schema fault), -ENOMEM. */
int rules_load(const char *path, struct rules **out, struct rules_error *err);

/* Same from memory; name is used in error messages only. */
int rules_load_buffer(const char *buf, size_t len, const char *name,
    enum rules_format format, struct rules **out, struct rules_error *err);

/* Turns a --rules argument into a readable file path.  An absolute path is
 * taken as is; a relative one is tried against the working directory, then
 * config_dir (/etc/procnet, %ProgramData%\Procnet), then program_dir (the
 * directory of the executable); either dir may be NULL to skip it.  On
 * failure err lists every path tried.  Returns 0 or -ENOENT/-ENAMETOOLONG. */
int rules_resolve(const char *path, const char *config_dir,
    const char *program_dir, char *out, size_t outlen,
    struct rules_error *err);

void rules_free(struct rules *r);	/* NULL is fine */

size_t rules_count(const struct rules *r);	/* 0 for NULL */
const char *rules_source(const struct rules *r);	/* file name given to load */

struct rules_result {
	const char *type;	/* never NULL */
	const char *label;	/* never NULL */
	const char *group;	/* the rule's group: name, "" none; never NULL */
	int rule;		/* index of the matching rule, -1 for the default */
};

/* Types p.  r may be NULL (no rules: everything is the default).  The
 * result points into r or p and lives as long as both do. */
void rules_match(const struct rules *r, const struct snap_process *p,
    struct rules_result *res);

/* "file:line:column: text" (or "file: text" without a position) into buf;
 * returns buf. */
char *rules_error_format(const struct rules_error *err, char *buf, size_t len);

/* True for the types the UI has icons for: app, service, database,
 * message_broker, cache, load_balancer, external, qt_desktop. */
int rules_type_is_known(const char *type);

#endif
