/*
 * webd's side of the collector protocol: one background thread connects,
 * says HELLO, SUBSCRIBEs, and keeps the latest snapshot; when the collector
 * goes away it reconnects with exponential backoff (capped at
 * SUBSCRIBER_BACKOFF_MAX_MS, so a restarted collector is picked up within
 * seconds).  Readers never wait on I/O: the latest snapshot is a reference
 * swapped under a short lock.
 */
#ifndef PROCNET_WEBD_SUBSCRIBER_H
#define PROCNET_WEBD_SUBSCRIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define SUBSCRIBER_BACKOFF_MIN_MS	100
#define SUBSCRIBER_BACKOFF_MAX_MS	2000
/* Not connected for this long (or never): DOWN rather than CONNECTING. */
#define SUBSCRIBER_DOWN_AFTER_MS	5000

enum subscriber_state {
	SUBSCRIBER_CONNECTING,	/* trying; not yet or only briefly disconnected */
	SUBSCRIBER_CONNECTED,	/* handshake done, snapshots flowing */
	SUBSCRIBER_DOWN,	/* no collector for SUBSCRIBER_DOWN_AFTER_MS */
	SUBSCRIBER_STATE_MAX
};

struct subscriber_opts {
	const char *endpoint;	/* NULL: ipc_default_endpoint() */
	/* Who must serve it (ipc_conn_check_server); NULL: the platform's
	 * collector account.  A server that is not is dropped. */
	const char *account;
	uint32_t interval_ms;	/* wanted; the collector clamps to 100..60000 */
	bool udp;		/* ask for UDP sockets too */
	/*
	 * Called on the subscriber's thread for each new snapshot, after it
	 * became subscriber_latest().  snap is borrowed: snapshot_ref() it to
	 * keep it.  Must not call subscriber_stop().  May be NULL.
	 */
	void (*on_snapshot)(struct snapshot *snap, void *user);
	/* Called on the subscriber's thread when the state changes (error is
	 * the last error text, "" when none).  May be NULL. */
	void (*on_state)(enum subscriber_state state, const char *error,
	    void *user);
	void *user;
};

struct subscriber_status {
	enum subscriber_state state;
	char endpoint[256];
	char error[256];		/* last error, "" when none */
	int64_t last_sample_ms;		/* time_ms of the latest snapshot, 0: none */
	int64_t last_receive_ms;	/* wall clock it arrived, Unix ms, 0: none */
	uint64_t n_snapshots;		/* received since start */
	uint64_t n_connects;		/* successful handshakes since start */
	uint64_t n_attempts;		/* sessions tried since start */
	uint16_t version;		/* negotiated protocol version, 0: none */
};

struct subscriber;

/* Starts the background thread; the first attempt happens at once.
 * Returns 0, -ENOMEM, -EINVAL, -ENOENT (no default endpoint),
 * -ENAMETOOLONG (endpoint past IPC_ENDPOINT_MAX) or a pthread error
 * (negative). */
int subscriber_start(const struct subscriber_opts *o, struct subscriber **out);

/* Waits up to timeout_ms until the first attempt to reach the collector
 * has ended (connected or failed), so a service says it is started only
 * once it knows.  0, or -ETIMEDOUT. */
int subscriber_wait_attempt(struct subscriber *s, int timeout_ms);
/* Stops the thread (promptly: blocked I/O is interrupted), drops the
 * latest snapshot, frees.  NULL is fine. */
void subscriber_stop(struct subscriber *s);

/* The latest snapshot with a new reference (snapshot_unref() it), or NULL
 * when none has arrived yet.  It stays the latest across a reconnect. */
struct snapshot *subscriber_latest(struct subscriber *s);

/* Connection state, last error, last sample time; a consistent copy. */
void subscriber_state(struct subscriber *s, struct subscriber_status *out);

/* "connecting", "connected", "down"; NULL when out of range. */
const char *subscriber_state_name(unsigned state);

/*
 * One shot, blocking (procnet-webd --dump): connect, handshake, subscribe,
 * wait for the first snapshot, disconnect.  timeout_ms bounds the whole
 * call.  On failure returns a negative code and a human-readable reason
 * in errbuf (always NUL-ended).  endpoint NULL: the default one.
 */
int subscriber_fetch_once(const char *endpoint, const char *account,
    bool udp, int timeout_ms,
    struct snapshot **out, char *errbuf, size_t errlen);

#endif
