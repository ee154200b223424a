/* Linux collector: per-process details (user, exe, cmdline), read for
 * socket owners only and cached (collect_linux_priv.h). */
#include "collect_linux_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "clock.h"
#include "sockdiag.h"

/* --- process details ---------------------------------------------- */

static const char *
user_name(struct collector *c, uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096], num[16];
	const char *name;
	char *dup;
	size_t i;

	for (i = 0; i < c->n_users; i++)
		if (c->users[i].uid == uid)
			return c->users[i].name;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		name = res->pw_name;
	else {
		/* No passwd entry (containers): the number, like ps. */
		snprintf(num, sizeof(num), "%u", (unsigned)uid);
		name = num;
	}
	if (c->n_users == USER_CACHE_MAX || (dup = strdup(name)) == NULL)
		return "";
	c->users[c->n_users].uid = uid;
	c->users[c->n_users].name = dup;
	c->n_users++;
	return dup;
}

/* Reads uid, exe and cmdline of r into r->details.  0 or -ESRCH. */
static int
read_details(struct collector *c, struct proc_rec *r)
{
	char path[32], sbuf[STATUS_BUF_SIZE], exe[4096];
	const char *user = "";
	size_t ulen, elen, clen;
	uint32_t argc;
	ssize_t n;
	uid_t uid;
	char *d;

	n = read_file_at(c->procfd, pid_path(path, sizeof(path), r->pid,
	    "/status"), sbuf, sizeof(sbuf));
	if (n == -ENOENT || n == -ESRCH)
		return -ESRCH;
	if (n > 0 && procfs_parse_status_uid(sbuf, (size_t)n, &uid) == 0)
		user = user_name(c, uid);

	/* Kernel threads and other users' processes have no readable exe. */
	n = readlinkat(c->procfd, pid_path(path, sizeof(path), r->pid,
	    "/exe"), exe, sizeof(exe) - 1);
	elen = n > 0 ? (size_t)n : 0;
	exe[elen] = '\0';

	n = read_file_at(c->procfd, pid_path(path, sizeof(path), r->pid,
	    "/cmdline"), c->iobuf, SNAP_MAX_STRING);
	if (n < 0)
		n = 0;
	argc = procfs_cmdline_args(c->iobuf, (size_t)n, &clen);

	ulen = strlen(user);
	if ((d = malloc(ulen + elen + clen + 3)) == NULL)
		return -ENOMEM;
	memcpy(d, user, ulen + 1);
	memcpy(d + ulen + 1, exe, elen + 1);
	memcpy(d + ulen + 1 + elen + 1, c->iobuf, clen + 1);
	rec_forget_details(r);
	r->details = d;
	r->details_argc = argc;
	r->details_start = r->starttime;
	memcpy(r->details_comm, r->comm, sizeof(r->comm));
	return 0;
}

/* Makes stat and details of an owner current; 0 or -ESRCH (gone). */
int
owner_refresh(struct collector *c, struct proc_rec *r, bool full)
{
	int rc;

	if (r->gone)
		return -ESRCH;
	/* Reused since the walk: the sockets we have for it were the old
	 * process's, so it is no holder of them. */
	if (r->stat_gen != c->gen && read_stat(c, r) != 0) {
		r->gone = true;
		return -ESRCH;
	}
	/* Details stay while pid, start time and comm stay (an exec
	 * changes comm); a full pass rereads them (setproctitle). */
	if (r->details == NULL || r->details_start != r->starttime ||
	    strcmp(r->details_comm, r->comm) != 0 || full) {
		if ((rc = read_details(c, r)) != 0) {
			if (rc == -ESRCH)
				r->gone = true;
			return rc;
		}
		/* unit and container change with the process, not alone */
		if ((rc = read_belongs(c, r)) != 0)
			return rc;
	}
	return 0;
}
