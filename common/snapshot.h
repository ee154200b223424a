/*
 * The snapshot model: which process owns which TCP/UDP socket at one instant.
 *
 * A snapshot is built once by a snapshot_builder, then frozen: after
 * snapshot_builder_finish() nothing in it changes, so any thread may read it
 * while holding a reference.  All strings live in the snapshot's own arena and
 * die with it; the last snapshot_unref() frees everything.
 */
#ifndef PROCNET_SNAPSHOT_H
#define PROCNET_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum snap_proto {
	SNAP_PROTO_TCP,
	SNAP_PROTO_UDP,
	SNAP_PROTO_MAX
};

/* Values match the Linux kernel's TCP states (include/net/tcp_states.h) so
 * the Linux backend stores them as they come; other backends translate. */
enum snap_tcp_state {
	SNAP_STATE_NONE = 0,	/* UDP sockets have no state */
	SNAP_STATE_ESTABLISHED = 1,
	SNAP_STATE_SYN_SENT,
	SNAP_STATE_SYN_RECV,
	SNAP_STATE_FIN_WAIT1,
	SNAP_STATE_FIN_WAIT2,
	SNAP_STATE_TIME_WAIT,
	SNAP_STATE_CLOSE,
	SNAP_STATE_CLOSE_WAIT,
	SNAP_STATE_LAST_ACK,
	SNAP_STATE_LISTEN,
	SNAP_STATE_CLOSING,
	SNAP_STATE_MAX
};

/* Why a socket has no owner pid.  SNAP_OWNER_KNOWN means pid is valid. */
enum snap_owner {
	SNAP_OWNER_KNOWN = 0,
	SNAP_OWNER_NO_PRIVILEGE,	/* owner's fds not readable by us */
	SNAP_OWNER_EXITED,		/* owner went away during the scan */
	SNAP_OWNER_OTHER_NETNS,		/* socket lives in another network namespace */
	SNAP_OWNER_KERNEL,		/* no process holds it (TIME_WAIT, orphaned) */
	SNAP_OWNER_MAX
};

struct snap_addr {
	uint8_t family;			/* 4 or 6 */
	uint8_t bytes[16];		/* network order; IPv4 uses bytes[0..3] */
};

struct snap_socket {
	uint8_t proto;			/* enum snap_proto */
	uint8_t state;			/* enum snap_tcp_state */
	uint8_t owner;			/* enum snap_owner */
	uint8_t family;			/* 4 or 6, same as local.family */
	uint16_t local_port;		/* host order */
	uint16_t remote_port;		/* host order; 0 when unconnected */
	struct snap_addr local;
	struct snap_addr remote;	/* all zero when unconnected */
	int32_t pid;			/* owner pid, or -1 when owner != KNOWN */
	uint64_t inode;			/* kernel identity where the OS has one, else 0 */
};

struct snap_process {
	int32_t pid;
	int32_t ppid;
	/* Start time in milliseconds since the Unix epoch; with pid it is the
	 * process's identity, so a reused pid is a different process. */
	uint64_t start_time;
	const char *user;		/* never NULL; "" when unknown */
	const char *name;		/* kernel's process name (comm / image name) */
	const char *exe;		/* full image path, "" when not readable */
	const char *cmdline;		/* arguments joined by single spaces */
};

struct snapshot {
	const char *host;
	const char *os;			/* "linux", "windows" */
	int64_t time_ms;		/* when the sample was taken, Unix ms */
	uint32_t sample_us;		/* how long the sample took to take */
	bool privileged;		/* collector could see every process */

	size_t n_processes;
	const struct snap_process *processes;	/* sorted by pid */
	size_t n_sockets;
	const struct snap_socket *sockets;

	/* private */
	unsigned refs;
	struct snapshot_priv *priv;
};

/* Limits that every producer and decoder enforces. */
#define SNAP_MAX_PROCESSES	(1u << 20)
#define SNAP_MAX_SOCKETS	(1u << 22)
#define SNAP_MAX_STRING		32768u	/* bytes, any one string */

struct snapshot_builder;

struct snapshot_builder *snapshot_builder_new(void);
void snapshot_builder_free(struct snapshot_builder *b);

/* Header fields; strings are copied. */
int snapshot_builder_set_meta(struct snapshot_builder *b, const char *host,
    const char *os, int64_t time_ms, bool privileged);
void snapshot_builder_set_sample_us(struct snapshot_builder *b, uint32_t us);

/* Adds a process; strings are copied (NULL is stored as "", anything longer
 * than SNAP_MAX_STRING is truncated at a UTF-8 boundary).  Returns 0,
 * -ENOMEM, or -E2BIG past SNAP_MAX_PROCESSES. */
int snapshot_builder_add_process(struct snapshot_builder *b,
    const struct snap_process *p);

/* Adds a socket, copied.  Returns 0, -ENOMEM, -E2BIG or -EINVAL (bad enum). */
int snapshot_builder_add_socket(struct snapshot_builder *b,
    const struct snap_socket *s);

/* Freezes the snapshot: processes are sorted by pid, a pid added twice (a
 * backend race) is kept once.  Consumes the builder whatever the outcome.  On success
 * *out holds one reference. */
int snapshot_builder_finish(struct snapshot_builder *b, struct snapshot **out);

struct snapshot *snapshot_ref(struct snapshot *s);	/* atomic */
void snapshot_unref(struct snapshot *s);		/* NULL is fine */

/* Binary search by pid; NULL when absent. */
const struct snap_process *snapshot_find_process(const struct snapshot *s,
    int32_t pid);

/* Names for JSON and logs: "tcp", "ESTABLISHED", "" for NONE,
 * "no-privilege" ...  NULL for out-of-range values. */
const char *snap_proto_name(unsigned proto);
const char *snap_state_name(unsigned state);
const char *snap_owner_name(unsigned owner);
int snap_state_from_name(const char *name);	/* -1 when unknown */

/* inet_ntop form of a; buf must hold SNAP_ADDRSTRLEN.  Returns buf. */
#define SNAP_ADDRSTRLEN 46
char *snap_addr_format(const struct snap_addr *a, char *buf);
int snap_addr_parse(const char *s, struct snap_addr *out);	/* 0 / -EINVAL */

#endif
