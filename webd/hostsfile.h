/*
 * The hosts file read for reverse lookups: address -> its first (canonical)
 * name, as the system's own resolver answers.  Parsing is pure; the caller
 * reads the file (hostsfile_default_path() says where it is) and keeps the
 * table until the file changes.  Lines that are not an address and a host
 * name are passed over, as the system does.
 */
#ifndef PROCNET_HOSTSFILE_H
#define PROCNET_HOSTSFILE_H

#include <stddef.h>

#include "snapshot.h"

#define HOSTSFILE_MAX_SIZE	(1u << 20)	/* bytes read at most */
#define HOSTSFILE_MAX_ENTRIES	65536u
#define HOSTSFILE_NAME_MAX	253u

struct hostsfile;

/* Parses len bytes of hosts file text.  Returns 0 and *out (possibly
 * empty), or -ENOMEM. */
int hostsfile_parse(const char *text, size_t len, struct hostsfile **out);
void hostsfile_free(struct hostsfile *h);	/* NULL is fine */
size_t hostsfile_count(const struct hostsfile *h);

/* The name of a, lower case, or NULL; valid as long as h. */
const char *hostsfile_lookup(const struct hostsfile *h,
    const struct snap_addr *a);

/* /etc/hosts; %SystemRoot%\System32\drivers\etc\hosts on Windows.  A
 * malloc'd UTF-8 path, NULL when out of memory. */
char *hostsfile_default_path(void);

#endif
