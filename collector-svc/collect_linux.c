/*
 * Linux collector: netlink sock_diag dumps for the socket table, one pass
 * over /proc/<pid>/fd into a hash multimap for socket -> owner, and the
 * per-process files of owners only.
 *
 * Steady state (opts->incremental): the owner map, the per-process list of
 * socket inodes and the per-process details live on between samples.  Each
 * sample lists /proc, stats every /proc/<pid>/fd (st_size is the fd count
 * on Linux 6.2+), and rereads the fds only of processes that are new or whose
 * fd count changed, or that reuse a known pid (start time differs).  Sockets
 * whose inode no holder explains escalate to a full pass (at most every
 * full_every / 6 samples); a full pass also runs every full_every samples.
 * Inodes that a full pass found no holder for are remembered so they do
 * not escalate again.
 */
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
#include "container_linux.h"
#include "netns_linux.h"
#include "events.h"
#include "sockdiag.h"

/* Frees every chunk; the vector is empty after. */
static void
sv_release(struct sock_vec *sv)
{
	size_t i;

	for (i = 0; i < sv->n_chunks; i++) {
		free(sv->chunks[i]);
		sv->chunks[i] = NULL;
	}
	sv->n = 0;
}

void
set_err(struct collector *c, int rc, const char *what)
{
	snprintf(c->err, sizeof(c->err), "%s: %s", what, strerror(-rc));
}

/* Decimal pid into buf, followed by suffix; returns buf. */
char *
pid_path(char *buf, size_t len, int32_t pid, const char *suffix)
{
	snprintf(buf, len, "%d%s", (int)pid, suffix);
	return buf;
}

/* Reads from fd into buf until size bytes or end of file; the length,
 * or a negative errno. */
static ssize_t
read_upto(int fd, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		n = read(fd, buf + off, size - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (ssize_t)off;
}

/* Reads a whole (small) file below dirfd into buf; returns the length or
 * a negative errno.  Stops at size bytes. */
ssize_t
read_file_at(int dirfd, const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read_upto(fd, buf, size);
	close(fd);
	return n;
}

/* Reads a file of any size into c->iobuf (grown as needed, capped). */
ssize_t
read_big_file_at(struct collector *c, int dirfd, const char *path)
{
	size_t off = 0, room;
	ssize_t n;
	int fd;

	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	for (;;) {
		if (c->iobuf_size - off < 4096) {
			size_t ns = c->iobuf_size * 2;
			char *nb;

			if (ns > NET_FILE_MAX) {
				close(fd);
				return -EFBIG;
			}
			if ((nb = realloc(c->iobuf, ns)) == NULL) {
				close(fd);
				return -ENOMEM;
			}
			c->iobuf = nb;
			c->iobuf_size = ns;
		}
		/* one byte kept for the caller's terminator */
		room = c->iobuf_size - off - 1;
		if ((n = read_upto(fd, c->iobuf + off, room)) < 0) {
			close(fd);
			return n;
		}
		off += (size_t)n;
		if ((size_t)n < room)
			break;		/* end of file before the buffer filled */
	}
	close(fd);
	return (ssize_t)off;
}

/* --- the sample --------------------------------------------------- */

/* Decides which processes to rescan in steady state.  Returns the number
 * of records marked. */
static size_t
mark_changed(struct collector *c)
{
	size_t i, marked = 0;
	uint32_t count;
	int rc;

	for (i = 0; i < c->n_recs; i++) {
		struct proc_rec *r = &c->recs[i];

		if (!r->scanned) {
			r->need_scan = true;	/* new since the last sample */
		} else if (r->denied) {
			continue;		/* still not ours to read */
		} else {
			rc = fd_count_of(c, r->pid, &count);
			if (rc == -ESRCH) {
				r->gone = true;
				rec_drop_inodes(c, r);
				continue;
			}
			if (rc == 0 && count != r->fd_count)
				r->need_scan = true;
		}
		/* A holder's pid may have been reused since: read_stat
		 * compares the start time and marks it. */
		if (r->n_inodes > 0 && read_stat(c, r) < 0) {
			r->gone = true;
			rec_drop_inodes(c, r);
			continue;
		}
		if (r->need_scan)
			marked++;
	}
	return marked;
}

/* Unknown: an inode that no holder explains and no full pass excused. */
static size_t
count_unknown(struct collector *c)
{
	size_t i, n = 0;
	uint32_t pid;

	for (i = 0; i < c->socks.n; i++) {
		uint64_t ino = sv_at(&c->socks, i)->inode;

		if (ino == 0 || inode_map_get_min(c->owners, ino, &pid) == 0)
			continue;
		if (inode_map_count_key(c->unowned, ino) == 0)
			n++;
	}
	return n;
}

/* A full pass starts from nothing: every record is walked. */
static void
full_begin(struct collector *c)
{
	size_t i;

	inode_map_clear(c->owners);
	inode_map_clear(c->unowned);
	for (i = 0; i < c->n_recs; i++) {
		c->recs[i].n_inodes = 0;
		c->recs[i].need_scan = true;
	}
}

static int
full_end(struct collector *c)
{
	size_t i;
	uint32_t pid;
	int rc;

	c->privileged = true;
	for (i = 0; i < c->n_recs; i++)
		if (c->recs[i].denied)
			c->privileged = false;
	/* What no process holds now is excused until the next full pass. */
	for (i = 0; i < c->socks.n; i++) {
		uint64_t ino = sv_at(&c->socks, i)->inode;

		if (ino != 0 && inode_map_get_min(c->owners, ino, &pid) != 0 &&
		    (rc = inode_map_set(c->unowned, ino, 0)) != 0)
			return rc;
	}
	c->samples_since_full = 0;
	c->stats.full_pass = true;
	return 0;
}

/* Samples between a full pass and the next one that unknown sockets may
 * trigger: a sixth of the backstop period, at least one. */
static unsigned
escalate_gap(unsigned full_every)
{
	return full_every >= 12 ? full_every / 6 : 1;
}

/*
 * The socket table and the owner map of one sample: decide what to walk,
 * walk it while the dump runs, then (steady state) escalate to a full pass
 * when sockets are left that no holder explains.
 */
static int
sample_tables(struct collector *c, const struct collect_opts *o)
{
	unsigned full_every = o->full_every ? o->full_every :
	    COLLECT_FULL_EVERY_DEFAULT;
	struct scan_job job;
	bool full;
	int rc, src;

	c->gen++;
	if ((rc = list_pids(c)) != 0) {
		set_err(c, rc, "listing /proc");
		return rc;
	}
	full = !o->incremental || !c->have_map ||
	    c->samples_since_full + 1 >= full_every;
	if (full) {
		full_begin(c);
	} else {
		c->samples_since_full++;
		mark_changed(c);
	}
	/* The dump goes through every namespace: know them first. */
	if (!o->text_tables && (rc = netns_sample(c, o, full)) != 0) {
		set_err(c, rc, "network namespaces");
		return rc;
	}
	if ((rc = scan_prepare(c, &job)) != 0) {
		c->have_map = false;
		set_err(c, rc, "scanning /proc/*/fd");
		return rc;
	}
	rc = scan_with(c, &job, dump_sockets, o, &src);
	if (src == 0 && full)
		src = full_end(c);
	if (src == 0 && !full &&
	    c->samples_since_full >= escalate_gap(full_every) &&
	    count_unknown(c) > 0) {
		/* A socket appeared in a process whose fd count did not
		 * move (one closed, one opened): look everywhere.  Not every
		 * sample, though: sockets whose holder we can never see
		 * (another pid namespace) would make each one a full pass. */
		full_begin(c);
		if ((src = scan_prepare(c, &job)) == 0)
			(void)scan_with(c, &job, NULL, o, &src);
		if (src == 0)
			src = full_end(c);
	}
	if (src != 0) {
		c->have_map = false;
		set_err(c, src, "scanning /proc/*/fd");
		return src;
	}
	c->have_map = true;
	return rc;	/* the dump's; it set the error text */
}

/* r's start time as the snapshot gives it: ms since the epoch. */
static uint64_t
rec_start_ms(const struct collector *c, const struct proc_rec *r)
{
	return (uint64_t)c->btime * 1000u +
	    r->starttime * 1000u / (uint64_t)c->ticks;
}

static int
add_process(struct snapshot_builder *b, struct collector *c,
    struct proc_rec *r)
{
	struct snap_process p;
	const char *d = r->details;

	memset(&p, 0, sizeof(p));
	p.pid = r->pid;
	p.ppid = r->ppid;
	p.start_time = rec_start_ms(c, r);
	p.name = r->comm;
	p.user = d;
	p.exe = d + strlen(d) + 1;
	d = p.exe + strlen(p.exe) + 1;
	while (p.argc < r->details_argc && p.argc < SNAP_MAX_ARGC) {
		c->argv[p.argc++] = d;
		d += strlen(d) + 1;
	}
	p.argv = c->argv;
	belongs_fill(r, &p);
	return snapshot_builder_add_process(b, &p);
}

/*
 * The owner of a socket inode: the holder with the smallest pid (stable
 * from sample to sample: a prefork server's parent, not a random worker).
 * Holders that turn out to be gone are dropped and the next one is tried.
 * Adds the owner to the snapshot the first time.  Returns 0 with *pid,
 * -ENOENT when no holder is left (*exited says whether one went away), or
 * another negative code on failure.
 */
static int
owner_of(struct collector *c, struct snapshot_builder *b, uint64_t ino,
    int32_t *pid, bool *exited)
{
	struct proc_rec *r;
	uint32_t p;
	int rc;

	while (inode_map_get_min(c->owners, ino, &p) == 0) {
		r = rec_find(c, (int32_t)p);
		if (r != NULL && r->snap_gen == c->gen) {
			*pid = (int32_t)p;
			return 0;
		}
		if (r != NULL) {
			rc = owner_refresh(c, r, c->stats.full_pass);
			if (rc == 0) {
				if ((rc = add_process(b, c, r)) != 0)
					return rc;
				r->snap_gen = c->gen;
				*pid = (int32_t)p;
				return 0;
			}
			if (rc != -ESRCH)
				return rc;
			rec_drop_inodes(c, r);
		} else {
			inode_map_remove(c->owners, ino, p);
		}
		*exited = true;
	}
	return -ENOENT;
}

/* A connected TCP socket's owner, for events whose source cannot name it
 * (events_note_socket). */
static void
note_owner(struct collector *c, struct events *e, const struct snap_socket *s)
{
	struct snap_process p;
	struct proc_rec *r;

	if (s->proto != SNAP_PROTO_TCP || s->remote_port == 0 ||
	    s->cookie == 0 || s->owner != SNAP_OWNER_KNOWN ||
	    (r = rec_find(c, s->pid)) == NULL)
		return;
	memset(&p, 0, sizeof(p));
	p.pid = r->pid;
	p.start_time = rec_start_ms(c, r);
	p.name = r->comm;
	events_note_socket(e, s, &p);
}

static int
build_snapshot(struct collector *c, int64_t time_ms,
    struct snapshot_builder *b, struct events *e)
{
	size_t i;
	int rc;

	if ((rc = snapshot_builder_set_meta(b, c->host, "linux", time_ms,
	    c->privileged)) != 0)
		return rc;
	for (i = 0; i < c->socks.n; i++) {
		struct snap_socket *s = sv_at(&c->socks, i);
		bool exited = false;

		s->pid = -1;
		s->owner = SNAP_OWNER_KNOWN;
		if (s->inode == 0) {
			s->owner = SNAP_OWNER_KERNEL;
		} else if ((rc = owner_of(c, b, s->inode, &s->pid,
		    &exited)) == -ENOENT) {
			/* In a namespace no visible process lives in, its
			 * holder is out of our sight by design. */
			s->owner = netns_unseen(c, s->netns) ?
			    SNAP_OWNER_OTHER_NETNS : exited || c->privileged ?
			    SNAP_OWNER_EXITED : SNAP_OWNER_NO_PRIVILEGE;
		} else if (rc != 0) {
			return rc;
		}
		if (e != NULL)
			note_owner(c, e, s);
		if ((rc = snapshot_builder_add_socket(b, s)) != 0)
			return rc;
		if ((i + 1) % SOCK_CHUNK == 0) {
			/* Copied: give the chunk back now. */
			free(c->socks.chunks[i / SOCK_CHUNK]);
			c->socks.chunks[i / SOCK_CHUNK] = NULL;
		}
	}
	return 0;
}

/*
 * An owner of a connection event into the snapshot: with its details when
 * it still runs (and is the same process: pid and start time), else as an
 * exited process with the name the event gave.  One that owns a socket is
 * in already.
 */
static int
add_event_owner(struct collector *c, struct snapshot_builder *b,
    const struct events_owner *o)
{
	struct proc_rec *r = rec_find(c, o->pid);
	struct snap_process p;
	int rc;

	if (r != NULL && r->snap_gen == c->gen)
		return 0;
	if (r != NULL && (rc = owner_refresh(c, r, false)) != -ESRCH) {
		if (rc != 0)
			return rc;
		if (rec_start_ms(c, r) == o->start_time) {
			r->snap_gen = c->gen;
			return add_process(b, c, r);
		}
	}
	memset(&p, 0, sizeof(p));
	p.pid = o->pid;
	p.start_time = o->start_time;
	p.name = o->name;
	p.flags = SNAP_PROC_EXITED;
	return snapshot_builder_add_process(b, &p);
}

/*
 * Whether a connection of namespace ino belongs in the sample: the BPF
 * tracer sees the whole machine, the sample only the namespaces dumped
 * (--max-netns, or the ones that could be entered).  0 is unknown: kept.
 */
static bool
netns_in_sample(const struct collector *c, uint64_t ino)
{
	struct netns_ent *e;

	if (ino == 0 || c->netns == NULL)
		return true;
	e = netns_set_find(c->netns, ino);
	return e != NULL && (e->own || e->fd >= 0);
}

struct owner_key {
	int32_t pid;
	uint64_t start_time;
};

static int
cmp_owner_key(const void *a, const void *b)
{
	const struct owner_key *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->start_time > y->start_time) - (x->start_time < y->start_time);
}

/* The connections since the last sample of the namespaces sampled, the
 * owners they name, and the source. */
static int
add_events(struct collector *c, struct snapshot_builder *b, struct events *e)
{
	struct events_batch eb;
	struct owner_key *keys;
	size_t i, nk = 0;
	int rc = 0;

	if (e == NULL)
		return snapshot_builder_set_events(b, "none",
		    "not collected in this mode", 0);
	/* A failed drain leaves what was taken before it: still reported. */
	(void)events_take(e, &eb);
	if ((keys = malloc((eb.n_conns + 1) * sizeof(*keys))) == NULL)
		return -ENOMEM;
	for (i = 0; i < eb.n_conns && rc == 0; i++) {
		const struct snap_conn *sc = &eb.conns[i];

		if (!netns_in_sample(c, sc->netns))
			continue;
		if (sc->pid >= 0) {
			keys[nk].pid = sc->pid;
			keys[nk++].start_time = sc->start_time;
		}
		rc = snapshot_builder_add_conn(b, sc);
	}
	qsort(keys, nk, sizeof(*keys), cmp_owner_key);
	for (i = 0; i < eb.n_owners && rc == 0; i++) {
		struct owner_key k = { eb.owners[i].pid,
		    eb.owners[i].start_time };

		if (bsearch(&k, keys, nk, sizeof(*keys), cmp_owner_key) != NULL)
			rc = add_event_owner(c, b, &eb.owners[i]);
	}
	free(keys);
	if (rc != 0)
		return rc;
	for (i = 0; i < eb.n_aggs; i++)
		if ((rc = snapshot_builder_add_conn_agg(b, &eb.aggs[i])) != 0)
			return rc;
	return snapshot_builder_set_events(b, events_source(e),
	    events_reason(e), events_lost(e));
}

/* Our peak RSS (VmHWM of /proc/self/status), 0 when unreadable. */
static uint64_t
peak_rss_kb(struct collector *c)
{
	char buf[STATUS_BUF_SIZE];
	const char *p;
	ssize_t n;

	n = read_file_at(c->procfd, "self/status", buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strstr(buf, "VmHWM:")) == NULL)
		return 0;
	return strtoull(p + 6, NULL, 10);
}

int
collector_sample(struct collector *c, const struct collect_opts *o,
    struct snapshot **out)
{
	struct snapshot_builder *b;
	struct snapshot *snap;
	uint64_t t0, t2, t3;
	int64_t time_ms;
	int rc;

	c->err[0] = '\0';
	memset(&c->stats, 0, sizeof(c->stats));
	time_ms = clock_real_ms();
	t0 = (uint64_t)clock_mono_us();
	if (o->events != NULL) {
		/* What closed since the last poll still finds its owner in
		 * the last table; then this sample's table is noted. */
		(void)events_poll(o->events);
		events_note_begin(o->events);
	}

	if ((rc = sample_tables(c, o)) != 0) {
		sv_release(&c->socks);
		return rc;
	}
	t2 = (uint64_t)clock_mono_us();

	if ((b = snapshot_builder_new()) == NULL) {
		set_err(c, -ENOMEM, "snapshot");
		return -ENOMEM;
	}
	rc = build_snapshot(c, time_ms, b, o->events);
	sv_release(&c->socks);
	if (rc == 0)
		rc = add_events(c, b, o->events);
	if (rc != 0) {
		snapshot_builder_free(b);
		set_err(c, rc, "building snapshot");
		return rc;
	}
	t3 = (uint64_t)clock_mono_us();
	snapshot_builder_set_sample_us(b, (uint32_t)(t3 - t0));
	if ((rc = snapshot_builder_finish(b, &snap)) != 0) {
		set_err(c, rc, "building snapshot");
		return rc;
	}

	c->stats.sample_us = (uint32_t)((uint64_t)clock_mono_us() - t0);
	/* The dump and the fd walk overlap: owner_us is both together. */
	c->stats.owner_us = (uint32_t)(t2 - t0);
	c->stats.procinfo_us = (uint32_t)(t3 - t2);
	c->stats.n_sockets = snap->n_sockets;
	c->stats.n_processes = snap->n_processes;
	c->stats.privileged = c->privileged;
	c->stats.peak_rss_kb = peak_rss_kb(c);
	c->last = c->stats;
	*out = snap;
	return 0;
}

/* --- lifetime ----------------------------------------------------- */

int
collector_new(struct collector **out)
{
	struct collector *c;
	char buf[STATUS_BUF_SIZE * 4];
	ssize_t n;
	int rc;

	/* Big arrays (the dump's chunks, the snapshot's socket array) come
	 * and go every sample.  A fixed mmap threshold keeps glibc from
	 * raising it after the first free and serving them from the heap,
	 * where freed memory stays resident. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->nlfd = -1;
	c->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* taken now: the allocations below may change errno */
	rc = c->procfd < 0 ? -errno : -ENOMEM;
	c->iobuf_size = SNAP_MAX_STRING + 1 > 256u * 1024u ?
	    SNAP_MAX_STRING + 1 : 256u * 1024u;
	c->iobuf = malloc(c->iobuf_size);
	c->argv = malloc(SNAP_MAX_ARGC * sizeof(*c->argv));
	c->nlbuf = malloc(NL_BUF_SIZE);
	c->rec_index = inode_map_new(1024);
	c->owners = inode_map_new(4096);
	c->unowned = inode_map_new(64);
	c->containers = container_names_new(NULL);
	if (c->procfd < 0 || c->iobuf == NULL || c->argv == NULL ||
	    c->nlbuf == NULL ||
	    c->rec_index == NULL || c->owners == NULL || c->unowned == NULL ||
	    c->containers == NULL) {
		collector_free(c);
		return rc;
	}
	/* Without its own namespace's inode the set still dumps that one;
	 * only running out of memory stops us. */
	if (netns_set_new(c->procfd, NETNS_RUN_DIR, nl_socket_new,
	    &c->netns) == -ENOMEM) {
		collector_free(c);
		return -ENOMEM;
	}
	n = read_file_at(c->procfd, "stat", buf, sizeof(buf));
	if (n <= 0 || procfs_parse_btime(buf, (size_t)n, &c->btime) != 0)
		c->btime = 0;
	if ((c->ticks = sysconf(_SC_CLK_TCK)) <= 0)
		c->ticks = 100;
	if (gethostname(c->host, sizeof(c->host) - 1) != 0)
		strcpy(c->host, "localhost");
	/* PROCNET_FD_COUNT=getdents takes the pre-6.2 way on any kernel, so
	 * tests cover it (tests/unit/test_collect_steady.c). */
	c->fd_count_ok = probe_fd_count(c) &&
	    !(getenv("PROCNET_FD_COUNT") != NULL &&
	    strcmp(getenv("PROCNET_FD_COUNT"), "getdents") == 0);
	*out = c;
	return 0;
}

void
collector_free(struct collector *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->rec_index != NULL && c->owners != NULL && c->unowned != NULL)
		recs_clear(c);
	free(c->recs);
	inode_map_free(c->rec_index);
	inode_map_free(c->owners);
	inode_map_free(c->unowned);
	for (i = 0; i < c->n_users; i++)
		free(c->users[i].name);
	sv_release(&c->socks);
	free(c->socks.chunks);
	free(c->scan_idx);
	free(c->iobuf);
	free(c->argv);
	free(c->nlbuf);
	/* c->nlfd is borrowed from the set */
	netns_set_free(c->netns);
	container_names_free(c->containers);
	if (c->procfd >= 0)
		close(c->procfd);
	free(c);
}

void
collector_stats(const struct collector *c, struct collect_stats *out)
{
	*out = c->last;
}

const char *
collector_error(const struct collector *c)
{
	return c->err;
}
