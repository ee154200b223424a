/*
 * The Linux collector's insides (collect.h is the interface), shared by
 * collect_linux.c (the sample, lifetime, file reads), collect_linux_proc.c
 * (process records, /proc listing, the fd walk), collect_linux_net.c (the
 * socket table: sock_diag, /proc/net fallback) and collect_linux_details.c
 * (per-process user, exe, cmdline).  Not for other modules.
 */
#ifndef PROCNET_COLLECT_LINUX_PRIV_H
#define PROCNET_COLLECT_LINUX_PRIV_H

#include "collect.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "inode_map.h"
#include "procfs.h"

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

	/* Network namespace (inode of /proc/<pid>/ns/net; 0 unknown),
	 * read once and again on full passes. */
	uint64_t netns;
	bool netns_read;

	/* Details cached for (pid, starttime, comm); NULL = not read. */
	char *details;		/* "user\0exe\0" then each argument NUL-ended */
	uint32_t details_argc;
	char *belongs;		/* "unit\0runtime\0id\0name\0", with details */
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
	uint64_t netns;		/* namespace of the sockets being pushed */
};

static inline struct snap_socket *
sv_at(const struct sock_vec *sv, size_t i)
{
	return &sv->chunks[i / SOCK_CHUNK][i % SOCK_CHUNK];
}

struct netns_set;
struct container_names;

struct collector {
	int procfd;		/* /proc, O_DIRECTORY */
	int nlfd;		/* sock_diag socket of the namespace being
				 * dumped (one of netns's), -1 none */
	struct netns_set *netns;	/* every namespace in use, a socket each */
	struct container_names *containers;
	bool netlink_refused;
	bool no_compat_dump;	/* kernel refused the v4+v6 TCP request */
	bool fd_count_ok;	/* /proc/<pid>/fd st_size is the fd count */
	uint32_t nl_seq;
	unsigned char *nlbuf;
	char *iobuf;		/* cmdline and /proc/net reads */
	size_t iobuf_size;
	const char **argv;	/* SNAP_MAX_ARGC slots for add_process() */

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

/* One fd walk (collect_linux_proc.c: scan_prepare, scan_with). */
struct scan_job {
	struct collector *c;
	size_t n;		/* records in c->scan_idx */
	size_t n_shared;	/* the first n_shared are for both threads */
	size_t next;		/* next index into c->scan_idx; atomic */
};

/* collect_linux.c */
char *pid_path(char *buf, size_t len, int32_t pid, const char *suffix);
ssize_t read_big_file_at(struct collector *c, int dirfd, const char *path);
ssize_t read_file_at(int dirfd, const char *path, char *buf, size_t size);
void set_err(struct collector *c, int rc, const char *what);

/* collect_linux_proc.c */
int fd_count_of(struct collector *c, int32_t pid, uint32_t *out);
int list_pids(struct collector *c);
bool probe_fd_count(struct collector *c);
int read_stat(struct collector *c, struct proc_rec *r);
void rec_drop_inodes(struct collector *c, struct proc_rec *r);
struct proc_rec *rec_find(struct collector *c, int32_t pid);
void rec_forget_details(struct proc_rec *r);
void recs_clear(struct collector *c);
int scan_prepare(struct collector *c, struct scan_job *j);
int scan_with(struct collector *c, struct scan_job *j,
    int (*also)(struct collector *, const struct collect_opts *),
    const struct collect_opts *o, int *scan_rc);

/* collect_linux_net.c */
int dump_sockets(struct collector *c, const struct collect_opts *o);

/* collect_linux_details.c */
int owner_refresh(struct collector *c, struct proc_rec *r, bool full);

/* collect_linux_belong.c */
int netns_sample(struct collector *c, const struct collect_opts *o, bool full);
bool netns_unseen(struct collector *c, uint64_t netns);
int read_belongs(struct collector *c, struct proc_rec *r);
void belongs_fill(const struct proc_rec *r, struct snap_process *p);

/* collect_linux_net.c: a sock_diag socket in the calling thread's
 * namespace (the fd, or a negative errno) */
int nl_socket_new(void);

#endif
