/*
 * Publishing this host's graph to NATS (docs/fleet.md): the same JSON the
 * stream sends, wrapped with the host's identity ({"host":{"name",
 * "boot_id","os","addrs"},...}), on the subject procnet.v1.<host>.graph — a full graph on (re)connect and every
 * full_every_s seconds, deltas in between.  A thread of its own takes the
 * state's latest buffers, as a stream client does, so a slow or absent
 * NATS never holds up a sample or the local map.  What is published is
 * what the local API serves: redaction applies before anything leaves.
 *
 * publish_nats.c implements it on the NATS C client; publish_none.c, for
 * builds without it (Windows: Debian has no source of the client to cross-
 * build), says so.
 */
#ifndef PROCNET_WEBD_PUBLISH_H
#define PROCNET_WEBD_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state;

#define PUBLISH_MAX_SERVERS	8
#define PUBLISH_SUBJECT_PREFIX	"procnet.v1."
#define PUBLISH_SUBJECT_SUFFIX	".graph"

struct publish_config {
	const char *const *servers;	/* nats://[user:pass@]host:port */
	size_t n_servers;
	const char *creds_file;		/* NATS .creds (JWT + seed), or NULL */
	const char *tls_ca;		/* CA bundle: TLS required, or NULL */
	/* This host's name (--host-name; NULL: the machine's), 1-64 of
	 * A-Z a-z 0-9 . - _; in the subject, '.' becomes '_'. */
	const char *host_name;
	unsigned full_every_s;		/* a full graph at least this often */
	struct state *state;
};

struct publish_stats {
	bool connected;
	uint64_t sent_full, sent_delta, bytes;
	uint64_t skipped;	/* samples not sent: disconnected */
	uint64_t too_big;	/* messages over the server's max_payload */
	uint64_t reconnects;
	char error[256];	/* the last error, "" when none */
};

struct publish;

/* Starts publishing; a server that is down is retried in the background,
 * so this fails only for bad settings (a creds or CA file that cannot be
 * read).  Returns 0 or a negative code with a message in err. */
int publish_start(const struct publish_config *c, struct publish **out,
    char *err, size_t errlen);
/* A new sample is in the state (call from state's on_publish). */
void publish_notify(struct publish *p);
void publish_stop(struct publish *p);	/* NULL is fine */
void publish_get_stats(struct publish *p, struct publish_stats *s);

#endif
