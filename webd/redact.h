/*
 * Command-line privacy: what of a process's arguments webd serves.
 * Rules always match the full command line; only what leaves webd is
 * redacted.
 */
#ifndef PROCNET_REDACT_H
#define PROCNET_REDACT_H

#include <stddef.h>

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

/* Writes cmdline as served under mode into a malloc'd string: for
 * REDACT_REDACTED, values of password/token/secret/key style flags
 * (--password x, --token=x, -p x), name=value pairs whose name looks
 * secret, and the password of user:password@ in URLs become REDACT_MASK.
 * Returns 0, or -ENOMEM / -EINVAL (bad mode). */
int redact_cmdline(const char *cmdline, enum redact_mode mode, char **out);

#endif
