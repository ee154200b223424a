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
#include "collect.h"

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
#include "inode_map.h"
#include "procfs.h"
#include "sockdiag.h"

#define NL_BUF_SIZE	(64u * 1024u)	/* the kernel sends at most ~32 KiB a recv */
#define NL_RCVBUF	(4u * 1024u * 1024u)
#define DENTS_BUF_SIZE	(32u * 1024u)
#define STAT_BUF_SIZE	1024u
#define STATUS_BUF_SIZE	4096u
#define USER_CACHE_MAX	1024u
#define ERR_MAX		256u
#define NET_FILE_MAX	(512u * 1024u * 1024u)	/* /proc/net/tcp at 4M sockets */
/* Below this many processes to walk, a second thread costs more than it
 * saves. */
#define SCAN_PARALLEL_MIN	16u

/* A process seen in /proc. */
struct proc_rec {
	int32_t pid;
	uint32_t gen;		/* sample in which /proc last listed it */
	uint32_t stat_gen;	/* sample in which stat was last read */
	uint32_t snap_gen;	/* sample that put it in the snapshot */
	uint32_t fd_count;	/* fds at the last scan of its fd dir */
	bool scanned;		/* its fds were read at least once */
	bool need_scan;
	bool denied;		/* fd dir not readable by us */
	bool gone;		/* vanished during this sample */
	int scan_rc;		/* scan_fds() result, read after the join */

	uint32_t *inodes;	/* socket inodes it held at the last scan */
	uint32_t n_inodes, cap_inodes;

	/* From stat, refreshed each sample the process owns sockets. */
	char comm[PROCFS_COMM_MAX];
	int32_t ppid;
	uint64_t starttime;	/* ticks after boot; 0 = not read */

	/* Details cached for (pid, starttime, comm); NULL = not read. */
	char *details;		/* "user\0exe\0cmdline\0" in one block */
	char details_comm[PROCFS_COMM_MAX];
	uint64_t details_start;
};

struct user_entry {
	uid_t uid;
	char *name;
};

/*
 * The parsed dump, in chunks: building the snapshot copies it chunk by
 * chunk and frees each as it goes, so dump and snapshot are never both
 * whole in memory.  A chunk (4096 sockets, 224 KiB) is above the mmap
 * threshold, so a freed one goes straight back to the kernel.
 */
#define SOCK_CHUNK	4096u

struct sock_vec {
	struct snap_socket **chunks;
	size_t n;		/* sockets */
	size_t n_chunks;	/* allocated entries of chunks[] */
};

static inline struct snap_socket *
sv_at(const struct sock_vec *sv, size_t i)
{
	return &sv->chunks[i / SOCK_CHUNK][i % SOCK_CHUNK];
}

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

struct collector {
	int procfd;		/* /proc, O_DIRECTORY */
	int nlfd;		/* sock_diag, -1 until first use */
	bool netlink_refused;
	bool no_compat_dump;	/* kernel refused the v4+v6 TCP request */
	bool fd_count_ok;	/* /proc/<pid>/fd st_size is the fd count */
	uint32_t nl_seq;
	unsigned char *nlbuf;
	char *iobuf;		/* cmdline and /proc/net reads */
	size_t iobuf_size;

	int64_t btime;		/* boot time, Unix s */
	long ticks;		/* clock ticks per second */
	char host[256];

	/* Steady state. */
	uint32_t gen;
	uint32_t samples_since_full;
	bool have_map;		/* owners/recs describe a completed scan */
	bool privileged;	/* no fd dir was denied in the last full pass */
	struct proc_rec *recs;
	size_t n_recs, cap_recs;
	struct inode_map *rec_index;	/* pid -> index in recs */
	struct inode_map *owners;	/* socket inode -> holder pids */
	struct inode_map *unowned;	/* inodes a full pass found no holder for */

	struct sock_vec socks;
	uint32_t *scan_idx;	/* records to walk this sample */
	size_t cap_scan_idx;
	struct user_entry users[USER_CACHE_MAX];
	size_t n_users;

	struct collect_stats stats;	/* of the sample under way */
	struct collect_stats last;	/* of the last successful one */
	char err[ERR_MAX];
};

static void
set_err(struct collector *c, int rc, const char *what)
{
	snprintf(c->err, sizeof(c->err), "%s: %s", what, strerror(-rc));
}

/* Decimal pid into buf, followed by suffix; returns buf. */
static char *
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
static ssize_t
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
static ssize_t
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

/* --- process records ---------------------------------------------- */

static struct proc_rec *
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
static void
rec_drop_inodes(struct collector *c, struct proc_rec *r)
{
	uint32_t i;

	for (i = 0; i < r->n_inodes; i++)
		inode_map_remove(c->owners, r->inodes[i], (uint32_t)r->pid);
	r->n_inodes = 0;
}

static void
rec_forget_details(struct proc_rec *r)
{
	free(r->details);
	r->details = NULL;
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

static void
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
static int
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

static int fd_count_of(struct collector *c, int32_t pid, uint32_t *out);

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
static int
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
static bool
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
static int
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
struct scan_job {
	struct collector *c;
	size_t n;		/* records in c->scan_idx */
	size_t n_shared;	/* the first n_shared are for both threads */
	size_t next;		/* next index into c->scan_idx; atomic */
};

static int
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
static int
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

/* --- socket table ------------------------------------------------- */

static int
sock_push(void *arg, const struct snap_socket *s)
{
	struct sock_vec *sv = arg;
	size_t k = sv->n / SOCK_CHUNK;

	if (sv->n >= SNAP_MAX_SOCKETS)
		return -E2BIG;
	if (k == sv->n_chunks) {
		size_t nc = sv->n_chunks ? sv->n_chunks * 2 : 16;
		struct snap_socket **np;

		if ((np = realloc(sv->chunks, nc * sizeof(*np))) == NULL)
			return -ENOMEM;
		memset(np + sv->n_chunks, 0, (nc - sv->n_chunks) *
		    sizeof(*np));
		sv->chunks = np;
		sv->n_chunks = nc;
	}
	if (sv->chunks[k] == NULL &&
	    (sv->chunks[k] = malloc(SOCK_CHUNK * sizeof(*s))) == NULL)
		return -ENOMEM;
	sv->chunks[k][sv->n % SOCK_CHUNK] = *s;
	sv->n++;
	return 0;
}

static int
nl_open(struct collector *c)
{
	int fd, sz = (int)NL_RCVBUF;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	/* A large buffer so a fast dump is not throttled by our reads;
	 * FORCE works as root, the plain one up to rmem_max otherwise. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	c->nlfd = fd;
	return 0;
}

/* One dump of proto/family (0 = v4+v6) into c->socks. */
static int
nl_dump(struct collector *c, int proto, int family)
{
	unsigned char req[SOCKDIAG_REQ_MAX];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct sockdiag_parser p;
	size_t before = c->socks.n;
	int len, rc;
	ssize_t n;

	if (c->nlfd < 0 && (rc = nl_open(c)) != 0)
		return rc;
	c->nl_seq++;
	if ((len = sockdiag_build_request(req, sizeof(req), proto, family,
	    c->nl_seq)) < 0)
		return len;
	while (sendto(c->nlfd, req, (size_t)len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	sockdiag_parser_init(&p, proto, c->nl_seq);
	for (;;) {
		struct iovec iov = { c->nlbuf, NL_BUF_SIZE };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		n = recvmsg(c->nlfd, &mh, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0 || (mh.msg_flags & MSG_TRUNC)) {
			rc = -EMSGSIZE;
			break;
		}
		rc = sockdiag_parse(&p, c->nlbuf, (size_t)n, sock_push,
		    &c->socks);
		if (rc != 0)
			break;
	}
	if (rc == 1)
		return 0;
	/* The rest of a failed dump would confuse the next one: start over
	 * on a fresh socket, and drop what this dump added. */
	close(c->nlfd);
	c->nlfd = -1;
	c->socks.n = before;
	return rc;
}

struct net_file {
	const char *path;
	int proto, family;
};

static int
procnet_dump(struct collector *c, const struct collect_opts *o)
{
	static const struct net_file files[] = {
		{ "net/tcp", SNAP_PROTO_TCP, 4 },
		{ "net/tcp6", SNAP_PROTO_TCP, 6 },
		{ "net/udp", SNAP_PROTO_UDP, 4 },
		{ "net/udp6", SNAP_PROTO_UDP, 6 },
	};
	size_t i;
	ssize_t n;
	int rc;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((files[i].proto == SNAP_PROTO_TCP && !o->tcp) ||
		    (files[i].proto == SNAP_PROTO_UDP && !o->udp))
			continue;
		n = read_big_file_at(c, c->procfd, files[i].path);
		if (n == -ENOENT)
			continue;	/* no IPv6 in this kernel */
		if (n < 0) {
			set_err(c, (int)n, files[i].path);
			return (int)n;
		}
		rc = procfs_parse_net(c->iobuf, (size_t)n, files[i].proto,
		    files[i].family, sock_push, &c->socks);
		if (rc != 0) {
			set_err(c, rc, files[i].path);
			return rc;
		}
	}
	return 0;
}

static bool
netlink_refusal(int rc)
{
	return rc == -EPERM || rc == -EACCES || rc == -EAFNOSUPPORT ||
	    rc == -EPROTONOSUPPORT || rc == -ENOENT || rc == -EOPNOTSUPP;
}

static int dump_tables(struct collector *c, const struct collect_opts *o);

/* The socket table into c->socks, timed. */
static int
dump_sockets(struct collector *c, const struct collect_opts *o)
{
	int rc;

	uint64_t t0 = (uint64_t)clock_mono_us();

	rc = dump_tables(c, o);
	c->stats.dump_us = (uint32_t)((uint64_t)clock_mono_us() - t0);
	return rc;
}

static int
dump_tables(struct collector *c, const struct collect_opts *o)
{
	int rc = 0;

	c->socks.n = 0;
	c->stats.fallback = false;
	if (!o->text_tables && !c->netlink_refused) {
		if (o->tcp && !c->no_compat_dump) {
			rc = nl_dump(c, SNAP_PROTO_TCP, 0);
			if (rc != 0 && rc != -ENOMEM && rc != -E2BIG &&
			    !netlink_refusal(rc)) {
				/* An old or new kernel without the compat
				 * request: two dumps then. */
				c->no_compat_dump = true;
				rc = 0;
			}
			if (rc == 0 && c->no_compat_dump) {
				rc = nl_dump(c, SNAP_PROTO_TCP, 4);
				if (rc == 0)
					rc = nl_dump(c, SNAP_PROTO_TCP, 6);
			}
		}
		if (rc == 0 && o->udp) {
			rc = nl_dump(c, SNAP_PROTO_UDP, 4);
			if (rc == 0)
				rc = nl_dump(c, SNAP_PROTO_UDP, 6);
		}
		if (rc == 0)
			return 0;
		if (!netlink_refusal(rc)) {
			set_err(c, rc, "sock_diag dump");
			return rc;
		}
		c->netlink_refused = true;
		c->socks.n = 0;
	}
	c->stats.fallback = true;
	return procnet_dump(c, o);
}

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
	procfs_cmdline_join(c->iobuf, (size_t)n, &clen);

	ulen = strlen(user);
	if ((d = malloc(ulen + elen + clen + 3)) == NULL)
		return -ENOMEM;
	memcpy(d, user, ulen + 1);
	memcpy(d + ulen + 1, exe, elen + 1);
	memcpy(d + ulen + 1 + elen + 1, c->iobuf, clen + 1);
	rec_forget_details(r);
	r->details = d;
	r->details_start = r->starttime;
	memcpy(r->details_comm, r->comm, sizeof(r->comm));
	return 0;
}

/* Makes stat and details of an owner current; 0 or -ESRCH (gone). */
static int
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
	}
	return 0;
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

static int
add_process(struct snapshot_builder *b, struct collector *c,
    struct proc_rec *r)
{
	struct snap_process p;
	const char *d = r->details;

	memset(&p, 0, sizeof(p));
	p.pid = r->pid;
	p.ppid = r->ppid;
	p.start_time = (uint64_t)c->btime * 1000u +
	    r->starttime * 1000u / (uint64_t)c->ticks;
	p.name = r->comm;
	p.user = d;
	p.exe = d + strlen(d) + 1;
	p.cmdline = p.exe + strlen(p.exe) + 1;
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

static int
build_snapshot(struct collector *c, int64_t time_ms,
    struct snapshot_builder *b)
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
			s->owner = exited || c->privileged ?
			    SNAP_OWNER_EXITED : SNAP_OWNER_NO_PRIVILEGE;
		} else if (rc != 0) {
			return rc;
		}
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

	if ((rc = sample_tables(c, o)) != 0) {
		sv_release(&c->socks);
		return rc;
	}
	t2 = (uint64_t)clock_mono_us();

	if ((b = snapshot_builder_new()) == NULL) {
		set_err(c, -ENOMEM, "snapshot");
		return -ENOMEM;
	}
	rc = build_snapshot(c, time_ms, b);
	sv_release(&c->socks);
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
	c->nlbuf = malloc(NL_BUF_SIZE);
	c->rec_index = inode_map_new(1024);
	c->owners = inode_map_new(4096);
	c->unowned = inode_map_new(64);
	if (c->procfd < 0 || c->iobuf == NULL || c->nlbuf == NULL ||
	    c->rec_index == NULL || c->owners == NULL || c->unowned == NULL) {
		collector_free(c);
		return rc;
	}
	n = read_file_at(c->procfd, "stat", buf, sizeof(buf));
	if (n <= 0 || procfs_parse_btime(buf, (size_t)n, &c->btime) != 0)
		c->btime = 0;
	if ((c->ticks = sysconf(_SC_CLK_TCK)) <= 0)
		c->ticks = 100;
	if (gethostname(c->host, sizeof(c->host) - 1) != 0)
		strcpy(c->host, "localhost");
	/* PROCNET_FD_COUNT=getdents takes the pre-6.2 way on any kernel, so
	 * tests cover it (tests/test_collect_steady.c). */
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
	free(c->nlbuf);
	if (c->nlfd >= 0)
		close(c->nlfd);
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
