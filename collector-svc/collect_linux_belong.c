/*
 * Linux collector: what a process belongs to (collect_linux_priv.h) -- its
 * network namespace (and so the set of namespaces whose sockets are
 * dumped), its systemd unit and its container.
 */
#include "collect_linux_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "clock.h"
#include "container_linux.h"
#include "netns_linux.h"

#define CGROUP_BUF_SIZE	4096u

/*
 * The namespaces of this sample.  A record's namespace is read once (a
 * new pid, a reused one) and again on every full pass (a process may
 * setns() or unshare() without anything else of it changing); every live
 * record is noted, then the set is brought up to date: new namespaces get
 * a socket, gone ones give theirs back.  Runs before the dump, which goes
 * through the set.
 */
int
netns_sample(struct collector *c, const struct collect_opts *o, bool full)
{
	size_t i;
	int rc;

	if (c->netns == NULL)
		return 0;
	netns_set_begin(c->netns);
	for (i = 0; i < c->n_recs; i++) {
		struct proc_rec *r = &c->recs[i];

		if (r->gen != c->gen)
			continue;
		if (!r->netns_read || full) {
			/* not ours to look at, or gone: no namespace */
			if (netns_of_pid(c->procfd, r->pid, &r->netns) != 0)
				r->netns = 0;
			r->netns_read = true;
		}
		if ((rc = netns_set_note(c->netns, r->netns, r->pid)) != 0)
			return rc;
	}
	if ((rc = netns_set_update(c->netns, o->max_netns)) != 0)
		return rc;
	c->stats.n_netns = netns_set_count(c->netns);
	c->stats.n_netns_skipped = netns_set_skipped(c->netns);
	return 0;
}

/* Why a socket of namespace netns has no visible holder: a namespace that
 * no process we can see lives in (only a bind mount holds it, or its
 * processes are in another pid namespace) says other-netns. */
bool
netns_unseen(struct collector *c, uint64_t netns)
{
	struct netns_ent *e;

	if (c->netns == NULL || netns == 0)
		return false;
	e = netns_set_find(c->netns, netns);
	return e != NULL && !e->own && e->members == 0;
}

/*
 * Unit, container runtime, id and name of r from /proc/<pid>/cgroup, into
 * r->belongs ("unit\0runtime\0id\0name\0"), read with the details and
 * kept as long as they are.  An unreadable file leaves all four "".
 */
int
read_belongs(struct collector *c, struct proc_rec *r)
{
	char path[40], buf[CGROUP_BUF_SIZE];
	struct cgroup_info ci;
	const char *name = "";
	size_t lu, lr, li, ln;
	ssize_t n;
	char *b;

	memset(&ci, 0, sizeof(ci));
	ci.runtime = "";
	n = read_file_at(c->procfd, pid_path(path, sizeof(path), r->pid,
	    "/cgroup"), buf, sizeof(buf));
	if (n > 0 && cgroup_parse(buf, (size_t)n, &ci) != 0) {
		memset(&ci, 0, sizeof(ci));
		ci.runtime = "";
	}
	if (ci.id[0] != '\0' && c->containers != NULL)
		name = container_name(c->containers, ci.runtime, ci.id,
		    clock_mono_ms());
	lu = strlen(ci.unit);
	lr = strlen(ci.runtime);
	li = strlen(ci.id);
	ln = strlen(name);
	if ((b = malloc(lu + lr + li + ln + 4)) == NULL)
		return -ENOMEM;
	memcpy(b, ci.unit, lu + 1);
	memcpy(b + lu + 1, ci.runtime, lr + 1);
	memcpy(b + lu + lr + 2, ci.id, li + 1);
	memcpy(b + lu + lr + li + 3, name, ln + 1);
	free(r->belongs);
	r->belongs = b;
	return 0;
}

/* Fills p's netns, service and container fields from r. */
void
belongs_fill(const struct proc_rec *r, struct snap_process *p)
{
	const char *b = r->belongs;

	p->netns = r->netns;
	if (b == NULL) {
		p->service = p->container_runtime = p->container_id =
		    p->container_name = "";
		return;
	}
	p->service = b;
	p->container_runtime = b + strlen(b) + 1;
	p->container_id = p->container_runtime +
	    strlen(p->container_runtime) + 1;
	p->container_name = p->container_id + strlen(p->container_id) + 1;
}
