/* Linux collector: process records, the /proc listing and the fd walk
 * that maps socket inodes to their holders (collect_linux_priv.h). */
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

/* --- process records ---------------------------------------------- */

struct proc_rec *
rec_find(struct collector *c, int32_t pid)
{
	uint32_t idx;

	if (inode_map_get_min(c->rec_index, (uint64_t)pid, &idx) != 0)
		return NULL;
	return &c->recs[idx];
}

static struct proc_rec *
rec_add(struct collector *c, int32_t pid)
{
	struct proc_rec *r;

	if (c->n_recs == c->cap_recs) {
		size_t ncap = c->cap_recs ? c->cap_recs * 2 : 256;
		struct proc_rec *nr;

		if (ncap > SNAP_MAX_PROCESSES ||
		    (nr = realloc(c->recs, ncap * sizeof(*nr))) == NULL)
			return NULL;
		c->recs = nr;
		c->cap_recs = ncap;
	}
	if (inode_map_set(c->rec_index, (uint64_t)pid,
	    (uint32_t)c->n_recs) != 0)
		return NULL;
	r = &c->recs[c->n_recs++];
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->need_scan = true;
	return r;
}

/* Forgets the sockets a record held, in the owner map. */
void
rec_drop_inodes(struct collector *c, struct proc_rec *r)
{
	uint32_t i;

	for (i = 0; i < r->n_inodes; i++)
		inode_map_remove(c->owners, r->inodes[i], (uint32_t)r->pid);
	r->n_inodes = 0;
}

void
rec_forget_details(struct proc_rec *r)
{
	free(r->details);
	r->details = NULL;
	free(r->belongs);
	r->belongs = NULL;
}

/* Removes recs[i]; the last record moves into its place. */
static void
rec_remove(struct collector *c, size_t i)
{
	struct proc_rec *r = &c->recs[i];

	rec_drop_inodes(c, r);
	rec_forget_details(r);
	free(r->inodes);
	inode_map_remove_key(c->rec_index, (uint64_t)r->pid);
	c->n_recs--;
	if (i != c->n_recs) {
		c->recs[i] = c->recs[c->n_recs];
		inode_map_set(c->rec_index, (uint64_t)c->recs[i].pid,
		    (uint32_t)i);
	}
}

void
recs_clear(struct collector *c)
{
	size_t i;

	for (i = 0; i < c->n_recs; i++) {
		rec_forget_details(&c->recs[i]);
		free(c->recs[i].inodes);
	}
	c->n_recs = 0;
	inode_map_clear(c->rec_index);
	inode_map_clear(c->owners);
	inode_map_clear(c->unowned);
}

static int
rec_push_inode(struct proc_rec *r, uint32_t inode)
{
	if (r->n_inodes == r->cap_inodes) {
		uint32_t ncap = r->cap_inodes ? r->cap_inodes * 2 : 8;
		uint32_t *ni;

		if (ncap > INODE_MAP_MAX_ENTRIES ||
		    (ni = realloc(r->inodes, ncap * sizeof(*ni))) == NULL)
			return -ENOMEM;
		r->inodes = ni;
		r->cap_inodes = ncap;
	}
	r->inodes[r->n_inodes++] = inode;
	return 0;
}

/* --- /proc listing and fd scan ------------------------------------ */

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int32_t
parse_pid_name(const char *s)
{
	int64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > INT32_MAX / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > 0 && v <= INT32_MAX ? (int32_t)v : -1;
}

/* Lists /proc: marks every live pid's record with this generation, adding
 * records for new pids, and drops records of pids that are gone. */
int
list_pids(struct collector *c)
{
	char buf[DENTS_BUF_SIZE];
	long n;
	size_t i;

	if (lseek(c->procfd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = syscall(SYS_getdents64, c->procfd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			struct linux_dirent64 *d = (void *)(buf + off);
			int32_t pid;
			struct proc_rec *r;

			off += d->d_reclen;
			if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
			    (pid = parse_pid_name(d->d_name)) < 0)
				continue;
			if ((r = rec_find(c, pid)) == NULL &&
			    (r = rec_add(c, pid)) == NULL)
				return -ENOMEM;
			r->gen = c->gen;
			r->gone = false;
		}
	}
	if (n < 0)
		return -errno;
	for (i = 0; i < c->n_recs;) {
		if (c->recs[i].gen != c->gen) {
			rec_remove(c, i);
			continue;
		}
		i++;
	}
	return 0;
}

/*
 * Reads /proc/<pid>/fd: every "socket:[N]" link into r->inodes (replacing
 * what was there; the owner map is updated by the caller).  Returns 0,
 * -ESRCH when the process is gone, -EACCES when we may not look.
 */
static int
scan_fds(struct collector *c, struct proc_rec *r, char *dbuf, size_t dsz)
{
	char path[32], link[64];
	uint32_t before = 0;
	long n;
	int fd, rc = 0;

	r->n_inodes = 0;
	/* The count to compare with later samples is taken before the walk:
	 * an fd opened mid-walk must still look like a change next time. */
	if ((rc = fd_count_of(c, r->pid, &before)) != 0)
		return rc;
	fd = openat(c->procfd, pid_path(path, sizeof(path), r->pid, "/fd"),
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? -EACCES : -ESRCH;
	while ((n = syscall(SYS_getdents64, fd, dbuf, dsz)) > 0) {
		long off = 0;

		while (off < n) {
			struct linux_dirent64 *d = (void *)(dbuf + off);
			ssize_t ln;
			uint64_t inode;

			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			ln = readlinkat(fd, d->d_name, link, sizeof(link));
			/* "socket:[" is 8 bytes; shorter links are not sockets. */
			if (ln < 10 || link[0] != 's' || link[1] != 'o')
				continue;
			/* sock_diag inodes are 32-bit; anything else is
			 * not a socket we can meet in the dump. */
			if (procfs_parse_socket_link(link, (size_t)ln,
			    &inode) != 0 || inode == 0 || inode > UINT32_MAX)
				continue;
			if ((rc = rec_push_inode(r, (uint32_t)inode)) != 0)
				break;
		}
		if (rc != 0)
			break;
	}
	if (n < 0 && rc == 0)
		rc = errno == EACCES || errno == EPERM ? -EACCES : -ESRCH;
	close(fd);
	if (rc == 0) {
		r->fd_count = before;
		r->scanned = true;
	}
	return rc;
}

/* Counts the numeric entries (the fds) of the open directory fd with
 * getdents64; 0, or -1 when reading it failed. */
static int
count_fd_entries(int fd, uint32_t *out)
{
	char dbuf[DENTS_BUF_SIZE];
	uint32_t count = 0;
	long n;

	while ((n = syscall(SYS_getdents64, fd, dbuf, sizeof(dbuf))) > 0) {
		long off = 0;

		while (off < n) {
			struct linux_dirent64 *d = (void *)(dbuf + off);

			off += d->d_reclen;
			if (d->d_name[0] >= '0' && d->d_name[0] <= '9')
				count++;
		}
	}
	*out = count;
	return n < 0 ? -1 : 0;
}

/*
 * The fd count of a process: st_size of /proc/<pid>/fd on Linux 6.2+ (one
 * syscall).  Older kernels report 0 there; then the entries are counted
 * with getdents64, still far cheaper than a readlink per fd.  Both ways
 * give the same number for the same fd table, which is all that matters:
 * the count is only compared with itself from an earlier sample.
 */
int
fd_count_of(struct collector *c, int32_t pid, uint32_t *out)
{
	char path[32];
	struct stat st;
	uint32_t count = 0;
	int fd, rc;

	pid_path(path, sizeof(path), pid, "/fd");
	if (c->fd_count_ok) {
		if (fstatat(c->procfd, path, &st, 0) != 0)
			return errno == EACCES || errno == EPERM ? -EACCES :
			    -ESRCH;
		*out = (uint32_t)st.st_size;
		return 0;
	}
	if ((fd = openat(c->procfd, path, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return errno == EACCES || errno == EPERM ? -EACCES : -ESRCH;
	rc = count_fd_entries(fd, &count);
	close(fd);
	if (rc != 0)
		return -ESRCH;
	*out = count;
	return 0;
}

/* Does st_size of /proc/self/fd count fds here?  Older kernels give 0. */
bool
probe_fd_count(struct collector *c)
{
	struct stat st;
	uint32_t count = 0;
	int fd, rc;

	if ((fd = openat(c->procfd, "self/fd", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return false;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return false;
	}
	rc = count_fd_entries(fd, &count);
	close(fd);
	/* The fd we used to read the directory is itself counted in both. */
	return rc == 0 && st.st_size > 0 && (uint64_t)st.st_size == count;
}

/* Reads stat of r; 0, 1 when the pid now belongs to another process than
 * the one walked (start time differs), or -ESRCH when it is gone. */
int
read_stat(struct collector *c, struct proc_rec *r)
{
	char path[32], buf[STAT_BUF_SIZE];
	struct procfs_stat st;
	ssize_t n;

	n = read_file_at(c->procfd, pid_path(path, sizeof(path), r->pid,
	    "/stat"), buf, sizeof(buf));
	if (n <= 0 || procfs_parse_stat(buf, (size_t)n, &st) != 0)
		return -ESRCH;
	bool reused = r->starttime != 0 && r->starttime != st.starttime;

	if (reused) {
		/* The pid was reused: a different process. */
		rec_forget_details(r);
		r->need_scan = true;
		r->netns_read = false;
	}
	memcpy(r->comm, st.comm, sizeof(r->comm));
	r->ppid = st.ppid;
	r->starttime = st.starttime;
	r->stat_gen = c->gen;
	return reused ? 1 : 0;
}

/*
 * The fd walk.  Records marked need_scan are listed in a job; their old
 * pairs leave the owner map first (scan_prepare), then up to two threads
 * walk them, each record touched by one thread only and nothing shared but
 * the job's counter (scan_run), and after the join the new pairs go into
 * the map (scan_finish).  The second thread lets a cold sample walk fds
 * while the netlink dump runs, on the other core.
 */

int
scan_prepare(struct collector *c, struct scan_job *j)
{
	int32_t self = (int32_t)getpid();
	size_t i;
	bool have_self = false;
	uint32_t self_i = 0;

	j->c = c;
	j->n = 0;
	j->next = 0;
	if (c->cap_scan_idx < c->n_recs) {
		uint32_t *ni = realloc(c->scan_idx, c->n_recs * sizeof(*ni));

		if (ni == NULL)
			return -ENOMEM;
		c->scan_idx = ni;
		c->cap_scan_idx = c->n_recs;
	}
	for (i = 0; i < c->n_recs; i++) {
		struct proc_rec *r = &c->recs[i];

		if (!r->need_scan)
			continue;
		r->need_scan = false;
		rec_drop_inodes(c, r);
		/* Stat before the walk, for every record whose start time we
		 * know and have not read this sample (a full pass skips
		 * mark_changed): a pid reused since the last sample is then
		 * seen as the new process whose fds we walk, not found
		 * "reused since the walk" afterwards and its sockets dropped
		 * as exited. */
		if (r->starttime != 0 && r->stat_gen != c->gen &&
		    read_stat(c, r) < 0) {
			r->gone = true;
			continue;
		}
		if (r->pid == self) {
			have_self = true;
			self_i = (uint32_t)i;
		} else
			c->scan_idx[j->n++] = (uint32_t)i;
	}
	/* Our own fd table holds the other thread's directory fds while it
	 * walks, which would skew our fd count: we come last, walked by
	 * this thread alone after the join. */
	j->n_shared = j->n;
	if (have_self)
		c->scan_idx[j->n++] = self_i;
	return 0;
}

static void
scan_run(struct scan_job *j)
{
	char dbuf[DENTS_BUF_SIZE];
	size_t k;

	while ((k = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) <
	    j->n_shared) {
		struct proc_rec *r = &j->c->recs[j->c->scan_idx[k]];

		r->scan_rc = scan_fds(j->c, r, dbuf, sizeof(dbuf));
	}
}

static void *
scan_thread(void *arg)
{
	scan_run(arg);
	return NULL;
}

static int
scan_finish(struct collector *c, struct scan_job *j)
{
	size_t k;
	uint32_t m;
	int rc;

	for (k = 0; k < j->n; k++) {
		struct proc_rec *r = &c->recs[c->scan_idx[k]];

		c->stats.n_pids_scanned++;
		if (r->scan_rc == -EACCES) {
			r->denied = true;
			continue;
		}
		r->denied = false;
		if (r->scan_rc == -ESRCH) {
			r->gone = true;
			continue;
		}
		if (r->scan_rc != 0)
			return r->scan_rc;
		c->stats.n_fds_scanned += r->fd_count;
		for (m = 0; m < r->n_inodes; m++)
			if ((rc = inode_map_add(c->owners, r->inodes[m],
			    (uint32_t)r->pid)) != 0)
				return rc;
	}
	return 0;
}

/*
 * Walks the job, with a helper thread when it is big enough.  When also is
 * given this thread runs it first (the dump) and then joins the walk.
 * Returns also's result; *scan_rc gets the walk's.
 */
int
scan_with(struct collector *c, struct scan_job *j,
    int (*also)(struct collector *, const struct collect_opts *),
    const struct collect_opts *o, int *scan_rc)
{
	pthread_t th;
	bool helper = false;
	int rc = 0;

	if (j->n_shared >= SCAN_PARALLEL_MIN ||
	    (also != NULL && j->n_shared > 0))
		helper = pthread_create(&th, NULL, scan_thread, j) == 0;
	if (also != NULL)
		rc = also(c, o);
	scan_run(j);
	if (helper)
		pthread_join(th, NULL);
	if (j->n > j->n_shared) {
		struct proc_rec *r = &c->recs[c->scan_idx[j->n_shared]];
		char dbuf[DENTS_BUF_SIZE];

		r->scan_rc = scan_fds(c, r, dbuf, sizeof(dbuf));
	}
	*scan_rc = scan_finish(c, j);
	return rc;
}
