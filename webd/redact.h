/*
 * Command-line privacy: what of a process's arguments webd serves.
 * Rules always match the full command line; only what leaves webd is
 * redacted.  Redaction works per argument (protocol v2 keeps argument
 * boundaries), so "--password 'two words'" or "-H 'Authorization: Bearer
 * x'" are masked whole; docs/security.md lists what is masked.
 */
#ifndef PROCNET_REDACT_H
#define PROCNET_REDACT_H

#include <stddef.h>
#include <stdint.h>

enum redact_mode {
	REDACT_REDACTED,	/* default: secrets masked */
	REDACT_ALL,		/* the command line as is */
	REDACT_NONE,		/* no command line at all */
	REDACT_MAX
};

#define REDACT_MASK	"***"

/* "all", "redacted", "none" -> mode, or -1. */
int redact_mode_from_name(const char *name);
const char *redact_mode_name(unsigned mode);

/* Arguments as served: argc strings and their join, in one allocation. */
struct redact_args {
	uint32_t argc;
	char **argv;		/* argc strings */
	char *cmdline;		/* argv joined by single spaces */
};

/*
 * Writes argv (argc of them) as served under mode into *out; free it with
 * redact_args_free().  With argc 0 and a non-empty cmdline (a collector
 * without argument boundaries, protocol v1), the cmdline's space-separated
 * words stand in for the arguments.  REDACT_REDACTED masks, each run
 * replaced by REDACT_MASK: values of password/token/secret/key style flags
 * (--password x, --token=x, -pSECRET), program-specific ones (redis-cli -a,
 * ldapsearch -w, openssl -passin pass:x, zip -P, ...), the password of
 * user:password and user%password credentials (curl -u, smbclient -U), URL
 * userinfo, secret header values (Authorization: Bearer x), secret
 * name=value pairs and JSON members; an argument holding spaces (sh -c
 * "...") is also redacted word by word.  REDACT_NONE serves nothing (argc
 * 0, cmdline "").  Linear in the input.  Returns 0, or -ENOMEM / -EINVAL
 * (bad mode).
 */
int redact_argv(uint32_t argc, const char *const *argv, const char *cmdline,
    enum redact_mode mode, struct redact_args *out);
void redact_args_free(struct redact_args *r);	/* the fields; NULL ok */

/* The same for a joined command line alone (its words are the arguments):
 * a malloc'd string in *out.  Returns 0, -ENOMEM or -EINVAL. */
int redact_cmdline(const char *cmdline, enum redact_mode mode, char **out);

#endif
