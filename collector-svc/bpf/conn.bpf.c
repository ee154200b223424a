// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * Every TCP connection on the machine, with the process on its local end:
 * procnet-collector loads this (through the skeleton bpftool generates at
 * build time) and drains the ring buffer in its sampling thread.
 *
 *  - sock:inet_sock_set_state (tp_btf): CLOSE -> SYN_SENT runs in the
 *    connecting task, so that is where a client socket gets its owner;
 *    -> ESTABLISHED stamps the open time (an active open is then reported);
 *    -> CLOSE reports the connection with its final byte counters.
 *  - the server side's owner: the task that closes it (-> FIN_WAIT1 or
 *    LAST_ACK happen only in close() and shutdown(), in the task that holds
 *    the socket; the accepting one in all but the rarest servers).
 *    Hooking accept() itself needs a kprobe or fexit, which kernels built
 *    without kprobes or that refuse BPF trampolines do not allow; a
 *    tracepoint works everywhere BTF does.  A server socket that lives long
 *    is in the collector's socket table meanwhile, with its owner.
 *
 * What we know about a socket sits in a hash keyed by its address, from
 * its first state change to TCP_CLOSE, which every full TCP socket passes
 * through before it is freed.  Nothing here reads payload; see
 * docs/security.md.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "conn_event.h"

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6

/* include/net/tcp_states.h */
#define TCP_ESTABLISHED	1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_FIN_WAIT1	4
#define TCP_FIN_WAIT2	5
#define TCP_CLOSE	7
#define TCP_CLOSE_WAIT	8
#define TCP_LAST_ACK	9
#define TCP_CLOSING	11

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct sock_track {
	__u64 cookie;
	__u64 open_ns;
	__u64 start_ns;
	__u32 tgid;
	__u8 role;
	__u8 has_owner;
	__u8 reported;		/* an OPEN went out */
	__u8 pad;
	__u16 lport;		/* kept for the close */
	__u16 pad2;
	char comm[PN_COMM_LEN];
};

/* Sockets in the handshake or open; past max_entries new ones go
 * untracked (counted) and are reported at close without an owner. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 18);
	__type(key, __u64);
	__type(value, struct sock_track);
} socks SEC(".maps");

/* Size set by the loader (conn_bpf.c) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PN_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void
count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &slot);

	if (v)
		*v += 1;
}

/* The current process (thread group) as the owner. */
static __always_inline void
take_owner(struct sock_track *t)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	t->tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	t->start_ns = BPF_CORE_READ(leader, start_boottime);
	/* The process's name (its leader's), not the thread's: that is the
	 * name /proc/<pid>/stat and the snapshot give. */
	BPF_CORE_READ_STR_INTO(&t->comm, leader, comm);
	t->has_owner = 1;
}

/*
 * One record into the ring buffer.  Fields are read with CO-RE probe reads
 * so this serves the tracepoint and the kprobe alike; the cookie is the
 * one taken when tracking began (kprobes cannot ask for it), bytes only at
 * close, from the tracepoint.
 */
static __always_inline void
emit(struct sock *sk, struct sock_track *t, __u8 kind, __u64 cookie)
{
	struct pn_conn_event *e;
	__u16 family;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(PN_CNT_LOST);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->kind = kind;
	e->family = (__u8)family;
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	/* At TCP_CLOSE the port has been given back (skc_num is 0); the
	 * source port of the connection stays in inet_sport. */
	if (e->lport == 0)
		e->lport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk,
		    inet_sport));
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	e->cookie = cookie;
	if (family == AF_INET) {
		__u32 a;

		a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(e->laddr, &a, 4);
		a = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(e->raddr, &a, 4);
	} else {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr);
	}
	if (t) {
		if (e->lport == 0)
			e->lport = t->lport;
		e->role = t->role;
		e->flags = (t->has_owner ? PN_F_OWNER : 0) |
		    (t->reported ? PN_F_OPEN_SENT : 0);
		e->tgid = t->tgid;
		e->start_ns = t->start_ns;
		e->open_ns = t->open_ns;
		__builtin_memcpy(e->comm, t->comm, sizeof(e->comm));
	}
	if (kind == PN_EV_CLOSE) {
		struct tcp_sock *tp = (struct tcp_sock *)sk;

		e->close_ns = bpf_ktime_get_ns();
		e->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
		e->bytes_received = BPF_CORE_READ(tp, bytes_received);
	}
	bpf_ringbuf_submit(e, 0);
}

/* A fresh record for sk (reset when the socket is used again). */
static __always_inline struct sock_track *
track_new(struct sock *sk, __u8 role)
{
	struct sock_track zero = {};
	__u64 key = (__u64)sk;

	zero.role = role;
	zero.cookie = bpf_get_socket_cookie(sk);
	if (bpf_map_update_elem(&socks, &key, &zero, BPF_ANY) != 0) {
		count(PN_CNT_NO_STORAGE);
		return NULL;
	}
	return bpf_map_lookup_elem(&socks, &key);
}

static __always_inline struct sock_track *
track_get(struct sock *sk)
{
	__u64 key = (__u64)sk;

	return bpf_map_lookup_elem(&socks, &key);
}

static __always_inline void
track_drop(struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&socks, &key);
}

/* Was the socket a live connection when it left oldstate for CLOSE? */
static __always_inline bool
was_connected(int oldstate)
{
	return oldstate == TCP_ESTABLISHED || oldstate == TCP_FIN_WAIT1 ||
	    oldstate == TCP_FIN_WAIT2 || oldstate == TCP_CLOSE_WAIT ||
	    oldstate == TCP_LAST_ACK || oldstate == TCP_CLOSING;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state, struct sock *sk, int oldstate, int newstate)
{
	struct sock_track *t;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (sk->__sk_common.skc_family != AF_INET &&
	    sk->__sk_common.skc_family != AF_INET6)
		return 0;

	switch (newstate) {
	case TCP_SYN_SENT:
		/* connect(), in the connecting task. */
		if ((t = track_new(sk, PN_ROLE_CONNECT)))
			take_owner(t);
		return 0;
	case TCP_SYN_RECV:
		/* A passive child, in softirq: no owner yet.  (A
		 * simultaneous open keeps its connect record.) */
		if (oldstate != TCP_SYN_SENT)
			track_new(sk, PN_ROLE_ACCEPT);
		return 0;
	case TCP_ESTABLISHED:
		if (!(t = track_get(sk)) &&
		    !(t = track_new(sk, PN_ROLE_UNKNOWN)))
			return 0;
		t->open_ns = bpf_ktime_get_ns();
		t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		/* An active open is reported now; a passive one at close,
		 * when its owner is known. */
		if (t->has_owner && !t->reported) {
			t->reported = 1;
			emit(sk, t, PN_EV_OPEN, t->cookie);
		}
		return 0;
	case TCP_FIN_WAIT1:
	case TCP_LAST_ACK:
		/* close() or shutdown(), in the task holding the socket: the
		 * owner of an accepted socket, or of one opened before we
		 * were loaded. */
		if (!(t = track_get(sk)) &&
		    !(t = track_new(sk, PN_ROLE_UNKNOWN)))
			return 0;
		if (!t->has_owner)
			take_owner(t);
		if (t->lport == 0)
			t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
		return 0;
	case TCP_CLOSE:
		t = track_get(sk);
		if (t && (t->open_ns != 0 || was_connected(oldstate)))
			emit(sk, t, PN_EV_CLOSE, t->cookie);
		else if (!t && was_connected(oldstate))
			/* Opened before we were loaded and never closed by a
			 * task: the collector looks its owner up by cookie. */
			emit(sk, NULL, PN_EV_CLOSE, bpf_get_socket_cookie(sk));
		/* else a connect that failed or a child that never made it:
		 * not a connection */
		if (t)
			track_drop(sk);
		return 0;
	}
	return 0;
}
