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
	/* protocol v2 */
	uint64_t netns;		/* Linux network namespace inode; 0 when unknown / not Linux */
	uint64_t cookie;	/* kernel socket cookie (sock_diag idiag_cookie); 0 when none */
	uint8_t has_info;	/* 1 when the four fields below are valid (TCP info was read) */
	uint64_t bytes_sent;	/* Linux tcp_info bytes_acked; Windows ESTATS DataBytesOut */
	uint64_t bytes_received; /* Linux tcp_info bytes_received; Windows ESTATS DataBytesIn */
	uint32_t rtt_us;	/* smoothed RTT in microseconds */
	uint32_t retrans;	/* total retransmitted segments */
};

/* snap_process.flags */
#define SNAP_PROC_EXITED	0x1u	/* known only from connection events, gone now */
#define SNAP_PROC_FLAGS		SNAP_PROC_EXITED

struct snap_process {
	int32_t pid;
	int32_t ppid;
	/* Start time in milliseconds since the Unix epoch; with pid it is the
	 * process's identity, so a reused pid is a different process. */
	uint64_t start_time;
	const char *user;		/* never NULL; "" when unknown */
	const char *name;		/* kernel's process name (comm / image name) */
	const char *exe;		/* full image path, "" when not readable */
	/* Arguments joined by single spaces.  Derived by the builder when
	 * argv is given (and then not sent in protocol v2); a producer
	 * without argument boundaries (protocol v1) gives it alone. */
	const char *cmdline;
	/* protocol v2 */
	uint32_t argc;
	const char *const *argv; /* arguments as the OS gave them; argc 0 when unreadable */
	uint64_t netns;		/* network namespace inode (Linux); 0 unknown */
	const char *service;	/* systemd unit ("postgresql@15-main.service"), or Windows
				 * services hosted, comma-separated
				 * ("Dnscache,LanmanWorkstation"); "" none */
	const char *container_runtime;	/* "docker" "containerd" "podman" "cri-o" "" */
	const char *container_id;	/* "" */
	const char *container_name;	/* "" when the runtime's on-disk state does not say */
	uint32_t flags;		/* SNAP_PROC_* */
};

/* Connection events since the previous sample (issue 14).  A connection is
 * reported in the sample after it opens (close_ms 0 if still open) and
 * again in the sample after it closes (with open_ms when known). */
enum snap_conn_role {
	SNAP_ROLE_UNKNOWN,
	SNAP_ROLE_CONNECT,
	SNAP_ROLE_ACCEPT,
	SNAP_ROLE_MAX
};

struct snap_conn {
	uint8_t proto;		/* enum snap_proto */
	uint8_t family;		/* 4 or 6, of both addresses */
	uint8_t role;		/* enum snap_conn_role */
	uint8_t owner;		/* enum snap_owner */
	uint16_t local_port, remote_port;
	struct snap_addr local, remote;
	int32_t pid;		/* -1 when owner != KNOWN */
	uint64_t start_time;	/* owner's start time (ms, same as snap_process) */
	uint64_t netns, cookie;
	int64_t open_ms;	/* Unix ms; 0 when it opened before events were collected */
	int64_t close_ms;	/* Unix ms; 0 when still open at this sample */
	uint64_t bytes_sent, bytes_received;	/* at close (or so far) */
};

/* Past the collector's per-sample cap connections are aggregated, never
 * silently dropped. */
struct snap_conn_agg {
	uint8_t proto;		/* enum snap_proto */
	int32_t client_pid, server_pid;	/* -1 unknown */
	uint16_t server_port;
	uint32_t opened, closed;
	uint64_t bytes_sent, bytes_received;
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

	/* protocol v2: connection events */
	const char *events_source;	/* "ebpf", "sock_diag-destroy", "etw", "none" */
	const char *events_reason;	/* why not a better source; "" */
	uint64_t events_lost;		/* lost since the collector started (cumulative) */
	size_t n_conns;
	const struct snap_conn *conns;
	size_t n_conn_aggs;
	const struct snap_conn_agg *conn_aggs;

	/* private */
	unsigned refs;
	struct snapshot_priv *priv;
};

/* Limits that every producer and decoder enforces. */
#define SNAP_MAX_PROCESSES	(1u << 20)
#define SNAP_MAX_SOCKETS	(1u << 22)
#define SNAP_MAX_STRING		32768u	/* bytes, any one string */
/* One process's arguments: at most SNAP_MAX_ARGC of them, and their bytes
 * plus one separator between each at most SNAP_MAX_ARGV_BYTES, so the
 * joined cmdline is one string within SNAP_MAX_STRING. */
#define SNAP_MAX_ARGC		4096u
#define SNAP_MAX_ARGV_BYTES	SNAP_MAX_STRING
/* Connection events and aggregates per snapshot; the collector's own
 * per-sample cap (default 100000) must stay below. */
#define SNAP_MAX_CONNS		(1u << 20)
#define SNAP_MAX_CONN_AGGS	(1u << 20)

struct snapshot_builder;

struct snapshot_builder *snapshot_builder_new(void);
void snapshot_builder_free(struct snapshot_builder *b);

/* Header fields; strings are copied. */
int snapshot_builder_set_meta(struct snapshot_builder *b, const char *host,
    const char *os, int64_t time_ms, bool privileged);
void snapshot_builder_set_sample_us(struct snapshot_builder *b, uint32_t us);

/* Adds a process; strings are copied (NULL is stored as "", anything longer
 * than SNAP_MAX_STRING is truncated at a UTF-8 boundary).  With argc > 0
 * argv is copied too (NULL elements stored as ""), kept within
 * SNAP_MAX_ARGC and SNAP_MAX_ARGV_BYTES (later arguments dropped, the last
 * one kept cut at a UTF-8 boundary), and cmdline is derived from it (the
 * given one is ignored).  Returns 0, -ENOMEM, -E2BIG past
 * SNAP_MAX_PROCESSES, or -EINVAL (unknown flags, argc > 0 with argv NULL). */
int snapshot_builder_add_process(struct snapshot_builder *b,
    const struct snap_process *p);

/* Adds a socket, copied.  Returns 0, -ENOMEM, -E2BIG or -EINVAL (bad enum). */
int snapshot_builder_add_socket(struct snapshot_builder *b,
    const struct snap_socket *s);

/* Adds a connection event / aggregate, copied.  Returns 0, -ENOMEM, -E2BIG
 * past SNAP_MAX_CONNS / SNAP_MAX_CONN_AGGS, or -EINVAL (bad enum or family,
 * a pid below -1).  As for sockets, pid is stored as -1 when owner is not
 * KNOWN. */
int snapshot_builder_add_conn(struct snapshot_builder *b,
    const struct snap_conn *c);
int snapshot_builder_add_conn_agg(struct snapshot_builder *b,
    const struct snap_conn_agg *a);

/* Where connection events come from; strings are copied.  Until called a
 * snapshot says "none", "", 0. */
int snapshot_builder_set_events(struct snapshot_builder *b,
    const char *source, const char *reason, uint64_t lost);

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
const char *snap_role_name(unsigned role);	/* "unknown", "connect", "accept" */
int snap_state_from_name(const char *name);	/* -1 when unknown */

/* inet_ntop form of a; buf must hold SNAP_ADDRSTRLEN.  Returns buf. */
#define SNAP_ADDRSTRLEN 46
char *snap_addr_format(const struct snap_addr *a, char *buf);
int snap_addr_parse(const char *s, struct snap_addr *out);	/* 0 / -EINVAL */

#endif
