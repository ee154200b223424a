/*
 * The names parsers on hostile bytes: a DNS reply as c-ares would hand it
 * over (webd/dnsmsg.c) and a hosts file (webd/hostsfile.c).  The first
 * byte picks the parser.  A name that comes out must be a host name.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"
#include "hostsfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_' || *s == '.'))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[DNSMSG_NAME_MAX + 1];
	uint32_t ttl;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		if (dnsmsg_ptr_answer(data + 1, size - 1, name, &ttl) ==
		    DNSMSG_ANSWER) {
			if (strlen(name) > DNSMSG_NAME_MAX)
				abort();
			check_name(name);
		}
	} else {
		struct hostsfile *h = NULL;
		struct snap_addr a = { .family = 4, .bytes = { 127, 0, 0, 1 } };
		const char *n;

		if (hostsfile_parse((const char *)data + 1, size - 1, &h) == 0) {
			if ((n = hostsfile_lookup(h, &a)) != NULL)
				check_name(n);
			hostsfile_free(h);
		}
	}
	return 0;
}
