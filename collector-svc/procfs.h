/*
 * Pure parsers of /proc files: they take the bytes that were read and fill a
 * struct; no I/O here, so they are tested on fixture files.  Every parser
 * copes with a truncated or garbled buffer by returning -EINVAL (never reads
 * past len, never needs a NUL terminator).
 */
#ifndef PROCNET_PROCFS_H
#define PROCNET_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "snapshot.h"

#define PROCFS_COMM_MAX	64	/* kernel's TASK_COMM_LEN is 16; room to spare */

/* /proc/<pid>/stat: the fields we use. */
struct procfs_stat {
	char comm[PROCFS_COMM_MAX];	/* between the first '(' and last ')' */
	char state;
	int32_t ppid;
	uint64_t starttime;		/* clock ticks after boot (field 22) */
};

int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out);

/* /proc/<pid>/status: the real uid from the "Uid:" line. */
int procfs_parse_status_uid(const char *buf, size_t len, uid_t *out);

/* /proc/stat: "btime" (boot time, Unix seconds). */
int procfs_parse_btime(const char *buf, size_t len, int64_t *out);

/*
 * /proc/<pid>/cmdline: the NUL-separated arguments in buf[0..len).
 * Trailing NULs (the terminator, setproctitle padding) are dropped and the
 * last argument is NUL-terminated at buf[*outlen] (so buf must have room
 * for len + 1 bytes): buf then holds the arguments one after another, each
 * NUL-ended, bytes kept as they are.  Returns how many there are (0 for an
 * empty file: kernel threads, zombies).
 */
uint32_t procfs_cmdline_args(char *buf, size_t len, size_t *outlen);

/* readlink of /proc/<pid>/fd/N: "socket:[12345]" gives 0 and the inode,
 * anything else -EINVAL. */
int procfs_parse_socket_link(const char *link, size_t len, uint64_t *inode);

/*
 * /proc/net/{tcp,tcp6,udp,udp6}: calls fn for each socket line.  proto is
 * SNAP_PROTO_TCP or _UDP, family 4 or 6.  The header line is skipped; a line
 * that does not parse stops the walk with -EINVAL (the file is the kernel's,
 * so garbage means we read it wrong).  fn returning non-zero stops the walk
 * with that value.  The sockets passed have owner/pid unset (pid -1).
 */
typedef int (*procfs_net_fn)(void *arg, const struct snap_socket *s);
int procfs_parse_net(const char *buf, size_t len, int proto, int family,
    procfs_net_fn fn, void *arg);

#endif
