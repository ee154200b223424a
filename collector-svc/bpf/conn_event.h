/*
 * The record the BPF program (conn.bpf.c) puts in its ring buffer, one per
 * TCP connection opened or closed; connrec.c parses it.  Shared by both
 * sides, so only fixed-width kernel types and no padding the compilers could
 * disagree on (every field on its natural alignment, size a multiple of 8).
 */
#ifndef PROCNET_CONN_EVENT_H
#define PROCNET_CONN_EVENT_H

#define PN_EV_OPEN	1	/* established, owner known */
#define PN_EV_CLOSE	2	/* reached TCP_CLOSE */

/* role: the values of enum snap_conn_role */
#define PN_ROLE_UNKNOWN	0
#define PN_ROLE_CONNECT	1
#define PN_ROLE_ACCEPT	2

/* flags */
#define PN_F_OWNER	0x1	/* tgid, start_ns and comm are valid */
#define PN_F_OPEN_SENT	0x2	/* an OPEN record went out before this CLOSE */

#define PN_COMM_LEN	16

struct pn_conn_event {
	__u8 kind;		/* PN_EV_* */
	__u8 role;		/* PN_ROLE_* */
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 flags;		/* PN_F_* */
	__u16 lport;		/* host order */
	__u16 rport;		/* host order */
	__u32 tgid;
	__u32 netns;		/* network namespace inode */
	__u64 start_ns;		/* owner's start, ns since boot (start_boottime) */
	__u64 open_ns;		/* CLOCK_MONOTONIC ns when established; 0 unknown */
	__u64 close_ns;		/* CLOCK_MONOTONIC ns when closed; 0 open */
	__u64 cookie;		/* bpf_get_socket_cookie() = sock_diag's */
	__u64 bytes_acked;	/* tcp_sock counters at close; 0 at open */
	__u64 bytes_received;
	__u8 laddr[16];		/* network order; IPv4 in the first 4 */
	__u8 raddr[16];
	char comm[PN_COMM_LEN];	/* owner's comm (the thread's), NUL-padded */
};

/* Slots of the per-CPU counter array. */
#define PN_CNT_LOST		0	/* ring buffer full: event not recorded */
#define PN_CNT_NO_STORAGE	1	/* socket storage not available */
#define PN_CNT_MAX		2

#endif
