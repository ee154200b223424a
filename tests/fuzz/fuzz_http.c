/*
 * libFuzzer target for webd's request policy: the input is split at '\n'
 * into a path, a Host, an Origin, a method, a bind address and an icon
 * type, and every policy function is asked about them.  Whatever they say,
 * an accepted path must be one no file system can take out of its root:
 * relative, no "." or ".." segment, no separator but '/', no NUL, no '%'.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_policy.h"
#include "icons.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS 6

static void
check_path(const char *in)
{
	char out[HTTP_POLICY_MAX_PATH + 1];
	const char *seg;
	int rc;

	rc = http_policy_path(in, out, sizeof(out));
	if (rc != 0)
		return;
	if (out[0] == '/' || strchr(out, '\\') != NULL ||
	    strchr(out, ':') != NULL || strchr(out, '%') != NULL)
		__builtin_trap();
	for (const char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			__builtin_trap();
	for (seg = out; *seg != '\0';) {
		size_t len = strcspn(seg, "/");

		if (len == 0 || seg[0] == '.')
			__builtin_trap();	/* "//", ".", "..", hidden */
		seg += len;
		if (*seg == '/')
			seg++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *f[FIELDS];
	char name[ICONS_MAX_TYPE + 8];
	size_t i, n = 0;
	bool host_ok;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* Embedded NULs end a field early, as in a C string from civetweb. */
	f[n++] = buf;
	for (i = 0; i < size && n < FIELDS; i++)
		if (buf[i] == '\n') {
			buf[i] = '\0';
			f[n++] = buf + i + 1;
		}
	for (; n < FIELDS; n++)
		f[n] = NULL;

	check_path(f[0]);
	host_ok = http_policy_host_ok(f[1], f[4] != NULL ? f[4] : "127.0.0.1",
	    8765);
	/* A Host we accept names this machine: never something longer that
	 * merely starts like one. */
	if (host_ok && f[1] != NULL && strlen(f[1]) > 80)
		__builtin_trap();
	if (http_policy_origin_ok(f[2], f[1]) &&
	    (f[2] == NULL || strncasecmp(f[2], "http://", 7) != 0))
		__builtin_trap();
	(void)http_policy_method_ok(f[3]);
	(void)http_policy_addr_numeric(f[4]);
	if (icons_file_name(f[5], name, sizeof(name)) == 0 &&
	    (strchr(name, '/') != NULL || strchr(name, '\\') != NULL ||
	    strstr(name, "..") != NULL))
		__builtin_trap();
	(void)http_policy_mime(f[0]);
	free(buf);
	return 0;
}
