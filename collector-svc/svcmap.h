/*
 * Which Windows services live in which process (issue 15): svchost.exe and
 * other shared hosts run several services, so the process name says
 * nothing; the service names do.  Two sources feed it, once per sample:
 *
 *  - the SCM's list of running services with their pids
 *    (EnumServicesStatusExW, SC_ENUM_PROCESS_INFO): every service a
 *    process hosts;
 *  - the owner module of each socket (GetOwnerModuleFrom*Entry on the
 *    TCP_TABLE_OWNER_MODULE_ALL / UDP_TABLE_OWNER_MODULE rows): for a
 *    socket opened by a service, Windows resolves the thread's service tag
 *    and names the service itself instead of the host's executable.
 *
 * A process's `service` string is the services owning its sockets when any
 * socket names one (the precise answer for a svchost running ten services
 * of which one talks), else every service the SCM says it hosts; sorted,
 * comma-separated, each name once.  Pure and portable (names in UTF-8), so
 * it is unit-tested from recorded rows on every platform; collect_win.c
 * does the Windows calls.
 */
#ifndef PROCNET_SVCMAP_H
#define PROCNET_SVCMAP_H

#include <stddef.h>
#include <stdint.h>

#define SVCMAP_MAX_ENTRIES	8192u	/* (pid, service) pairs per sample: a
					 * machine runs a few hundred services */
#define SVCMAP_MAX_NAME		256u	/* the SCM's limit on a service name */
#define SVCMAP_MAX_STRING	4096u	/* one process's joined list */

struct svcmap;

struct svcmap *svcmap_new(void);		/* NULL on ENOMEM */
void svcmap_free(struct svcmap *m);		/* NULL is fine */
void svcmap_clear(struct svcmap *m);		/* keeps the storage */

/* The SCM says pid runs service name.  0, -EINVAL (empty or too long
 * name, pid <= 0), -ENOMEM, -E2BIG past SVCMAP_MAX_ENTRIES. */
int svcmap_add_scm(struct svcmap *m, int32_t pid, const char *name);

/* A socket of pid (whose image is `image`, e.g. "svchost.exe") has owner
 * module (module_name, module_path).  The module is taken as a service
 * when the SCM listed it for this pid, or when Windows gave a name that
 * is not a file (no path, not the image): what a service tag resolves to.
 * The module being the program itself says nothing.  Returns 1 when
 * recorded as a service, 0 when not, or an error as above. */
int svcmap_add_owner_module(struct svcmap *m, int32_t pid, const char *image,
    const char *module_name, const char *module_path);

/* pid's service string ("" when none) in buf; returns its length, or
 * -ENOSPC when it did not fit (buf then holds the names that fitted). */
int svcmap_get(const struct svcmap *m, int32_t pid, char *buf, size_t len);

#endif
