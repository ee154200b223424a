/*
 * Network namespaces in use on this Linux machine, each with a sock_diag
 * netlink socket opened inside it and kept between samples.
 *
 * A sample tells the set which namespaces it saw (netns_set_note(), one
 * call per process, with the inode of /proc/<pid>/ns/net), then
 * netns_set_update() adds the bind-mounted ones under /run/netns, drops the
 * namespaces nobody uses any more (closing their sockets: a socket holds
 * its namespace alive) and opens sockets for new ones.  A netlink socket
 * belongs to the namespace of the thread that created it, so new sockets
 * are created on a short-lived helper thread that setns()es into each new
 * namespace in turn; the collector's own threads never change namespace.
 *
 * At most `max` namespaces are kept (the own one always, then the ones
 * already open, then new ones in order of discovery); the rest are counted
 * as skipped.
 */
#ifndef PROCNET_NETNS_LINUX_H
#define PROCNET_NETNS_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETNS_MAX_DEFAULT	256u
#define NETNS_MAX_LIMIT		4096u
#define NETNS_RUN_DIR		"/run/netns"

struct netns_ent {
	uint64_t ino;		/* nsfs inode: the namespace's identity */
	int fd;			/* sock_diag socket inside it; -1 not open */
	int32_t pid;		/* a process inside it this sample; 0 none */
	uint32_t members;	/* processes noted in it this sample */
	bool own;		/* the collector's own namespace */
	bool bound;		/* bind-mounted under the run dir */
	bool no_compat_dump;	/* its kernel refused the v4+v6 TCP request */
	int open_err;		/* why fd is -1 (negative errno), 0 none */
	/* private */
	uint32_t gen;
	char name[64];		/* file name under the run dir when bound */
};

/* Creates a sock_diag socket in the calling thread's namespace; returns
 * the fd or a negative errno. */
typedef int (*netns_open_fn)(void);

struct netns_set;

/*
 * procfd: an open /proc directory (borrowed); run_dir: where `ip netns`
 * bind-mounts namespaces (NETNS_RUN_DIR, NULL for none); open_fn makes
 * each socket.  Returns 0, -ENOMEM, or why /proc/self/ns/net cannot be
 * read (then the set still works with the own namespace only, ino 0).
 */
int netns_set_new(int procfd, const char *run_dir, netns_open_fn open_fn,
    struct netns_set **out);
void netns_set_free(struct netns_set *s);	/* NULL is fine; closes fds */

/* The inode of /proc/<pid>/ns/net (pid 0: self) below procfd; 0 or a
 * negative errno (-ESRCH gone, -EACCES not ours to look at). */
int netns_of_pid(int procfd, int32_t pid, uint64_t *ino);

uint64_t netns_set_self(const struct netns_set *s);

/* Starts a sample's round of notes. */
void netns_set_begin(struct netns_set *s);

/* Process pid lives in namespace ino (0 is ignored).  0 or -ENOMEM. */
int netns_set_note(struct netns_set *s, uint64_t ino, int32_t pid);

/*
 * Ends the round: reads the run dir, drops namespaces neither noted nor
 * bound, opens sockets in new ones (up to max in all; 0 = the default).
 * The own namespace's socket is opened here too.  Returns 0 or -ENOMEM;
 * a namespace that cannot be entered is kept with fd -1 and open_err set,
 * and is tried again next round.
 */
int netns_set_update(struct netns_set *s, size_t max);

/* The namespaces kept, the own one first.  Valid until the next update. */
size_t netns_set_count(const struct netns_set *s);
struct netns_ent *netns_set_at(struct netns_set *s, size_t i);
struct netns_ent *netns_set_find(struct netns_set *s, uint64_t ino);

/* Namespaces seen but not kept because of the cap, at the last update. */
size_t netns_set_skipped(const struct netns_set *s);

/* The socket of e failed mid-dump: close it; the next update reopens. */
void netns_ent_reset(struct netns_ent *e);

#endif
