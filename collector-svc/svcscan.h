/*
 * Windows: fills a svcmap (svcmap.h) for one sample, from the SCM's list
 * of running services with their pids and, for processes that host more
 * than one service, from the owner module of each of their sockets
 * (TCP_TABLE_OWNER_MODULE_ALL / UDP_TABLE_OWNER_MODULE rows, IPv4 and
 * IPv6, through GetOwnerModuleFrom*Entry).  Processes running a single
 * service need no socket query: the SCM's answer is exact.
 *
 * GetOwnerModuleFrom*Entry are looked up at run time: Wine does not have
 * them, and a static import would keep the collector from starting there.
 */
#ifndef PROCNET_SVCSCAN_H
#define PROCNET_SVCSCAN_H

#include <stddef.h>

#include "svcmap.h"

/* Owner-module queries per sample at most: each one asks the SCM to
 * resolve a service tag.  Past it, processes keep the SCM's list. */
#define SVCSCAN_MAX_QUERIES	512u

struct svcscan_stats {
	unsigned services;		/* running services the SCM listed */
	unsigned shared_hosts;		/* processes with more than one */
	unsigned queries;		/* owner-module calls this sample */
	unsigned owner_services;	/* sockets that named a service */
	int owner_module_api;		/* 1 when GetOwnerModuleFrom* exist */
};

struct svcscan;

struct svcscan *svcscan_new(void);		/* NULL on ENOMEM */
void svcscan_free(struct svcscan *s);		/* NULL is fine */

/* Clears m and fills it for now.  0, or a negative errno code with err
 * saying what failed (the SCM could not be asked: m stays empty). */
int svcscan_run(struct svcscan *s, struct svcmap *m, char *err,
    size_t errlen);

void svcscan_stats(const struct svcscan *s, struct svcscan_stats *out);

#endif
