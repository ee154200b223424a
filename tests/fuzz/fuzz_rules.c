/*
 * libFuzzer target for the rules loader: every input is loaded as YAML, as
 * JSON and by content, then (when it loads) matched against a few
 * processes.  A load either succeeds or fails with a message; never both,
 * never neither.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct snap_process probes[] = {
	{ .pid = 1, .name = "postgres", .cmdline = "postgres -D /db",
	  .user = "", .exe = "" },
	{ .pid = 4242, .name = "redis-server", .cmdline = "redis-server *:6379",
	  .user = "", .exe = "" },
	{ .pid = 7, .name = "\xff\xfe", .cmdline = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
	  .user = "", .exe = "" },
	{ .pid = 0, .name = "", .cmdline = "", .user = "", .exe = "" },
};

static void
try_load(const uint8_t *data, size_t size, enum rules_format fmt)
{
	struct rules *r = NULL;
	struct rules_error err;
	char msg[2200];
	int rc;

	rc = rules_load_buffer((const char *)data, size, "fuzz", fmt, &r,
	    &err);
	if (rc != 0) {
		if (r != NULL || err.text[0] == '\0' || err.line < 0 ||
		    err.column < 0)
			__builtin_trap();
		rules_error_format(&err, msg, sizeof(msg));
		return;
	}
	if (r == NULL)
		__builtin_trap();
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct rules_result res;

		rules_match(r, &probes[i], &res);
		if (res.type == NULL || res.label == NULL ||
		    res.rule >= (int)rules_count(r))
			__builtin_trap();
		/* touch the strings so the sanitizer checks them */
		if (strlen(res.type) + strlen(res.label) == (size_t)-1)
			__builtin_trap();
	}
	rules_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	try_load(data, size, RULES_FORMAT_YAML);
	try_load(data, size, RULES_FORMAT_JSON);
	try_load(data, size, RULES_FORMAT_AUTO);
	return 0;
}
