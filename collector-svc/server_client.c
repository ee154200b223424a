/*
 * The collector daemon's per-client thread (server_priv.h): HELLO and
 * SUBSCRIBE within the hello timeout, then the stream of shared SNAPSHOT
 * frames at the client's interval, and a courtesy ERROR before any drop.
 */
#include "server_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "codec.h"
#include "frame.h"
#include "log.h"
#include "transport.h"
#include "utf8.h"

/* Why a client is dropped. */
static void
log_drop(struct client *cl, const char *why)
{
	log_limited(&cl->srv->lim_drop, LOG_LEVEL_WARN,
	    "client %u (%s) dropped: %s", cl->id, cl->peer, why);
}

/* A courtesy ERROR before a drop, bounded so it never blocks for long. */
static void
send_error(struct client *cl, const char *text)
{
	uint8_t buf[FRAME_SMALL_MAX];
	size_t len;

	if (cl->midframe)
		return;
	if (frame_encode_error(text, cl->version ? cl->version :
	    FRAME_VERSION_MAX, buf, sizeof(buf), &len) == 0)
		ipc_write_full(cl->conn, buf, len, ERROR_WRITE_MS);
}

static int
left_ms(int64_t deadline)
{
	int64_t left = deadline - clock_mono_ms();

	return left < 0 ? 0 : (int)left;
}

/*
 * Reads one client frame into payload (FRAME_MAX_CONTROL bytes) by the
 * deadline.  On failure, why says what was wrong, and *eof tells a plain
 * hang-up from a violation.
 */
static int
read_control(struct client *cl, int64_t deadline, struct frame_header *h,
    uint8_t *payload, char *why, size_t whylen, bool *eof)
{
	uint8_t hb[FRAME_HEADER_SIZE];
	struct frame_error err;
	int r;

	*eof = false;
	r = ipc_read_full(cl->conn, hb, sizeof(hb), left_ms(deadline));
	if (r == -EPIPE) {
		*eof = true;
		snprintf(why, whylen, "disconnected");
		return r;
	}
	if (r == -ETIMEDOUT) {
		snprintf(why, whylen, "silent too long");
		return r;
	}
	if (r < 0) {
		snprintf(why, whylen, "read failed: %s", strerror(-r));
		return r;
	}
	r = frame_header_read(hb, sizeof(hb), cl->version ? cl->version :
	    FRAME_VERSION_MAX, FRAME_MAX_CONTROL, h, &err);
	if (r < 0) {
		snprintf(why, whylen, "bad frame header: %s", err.text);
		return r;
	}
	r = ipc_read_full(cl->conn, payload, h->length, left_ms(deadline));
	if (r < 0) {
		snprintf(why, whylen, "%s payload of %" PRIu32 " bytes not "
		    "received: %s", frame_type_name(h->type), h->length,
		    r == -EPIPE ? "disconnected" : strerror(-r));
		return r;
	}
	return 0;
}

static void
subscription_set(struct client *cl, const struct frame_subscribe *sub)
{
	struct server *s = cl->srv;

	pthread_mutex_lock(&s->mu);
	cl->subscribed = true;
	cl->interval_ms = server_clamp_interval(sub->interval_ms);
	cl->udp = sub->udp;
	condvar_signal(&s->cfg_cv);
	pthread_mutex_unlock(&s->mu);
}

/* The frame read after HELLO must be a well-formed SUBSCRIBE, which then
 * becomes cl's subscription.  0, or -1 with why. */
static int
take_subscribe(struct client *cl, const struct frame_header *h,
    const uint8_t *payload, bool first, struct frame_subscribe *sub,
    char *why, size_t whylen)
{
	struct frame_error err;

	if (h->type != FRAME_SUBSCRIBE) {
		snprintf(why, whylen, first ? "sent %s where SUBSCRIBE was "
		    "expected" : "sent %s, only SUBSCRIBE is allowed",
		    frame_type_name(h->type));
		return -1;
	}
	if (frame_decode_subscribe(payload, h->length, sub, &err) < 0) {
		snprintf(why, whylen, "bad SUBSCRIBE: %s", err.text);
		return -1;
	}
	subscription_set(cl, sub);
	return 0;
}

/* HELLO, then SUBSCRIBE, within the hello timeout.  0 or -1 with why. */
static int
handshake(struct client *cl, char *why, size_t whylen, bool *eof)
{
	int64_t deadline = clock_mono_ms() + cl->srv->hello_timeout_ms;
	uint8_t payload[FRAME_MAX_CONTROL], out[FRAME_SMALL_MAX];
	struct frame_header h;
	struct frame_hello hello, reply;
	struct frame_subscribe sub;
	struct frame_error err;
	char agent[sizeof(hello.agent)];
	uint16_t v;
	size_t len;
	int r;

	if (read_control(cl, deadline, &h, payload, why, whylen, eof) < 0)
		return -1;
	if (h.type != FRAME_HELLO) {
		snprintf(why, whylen, "sent %s before HELLO",
		    frame_type_name(h.type));
		return -1;
	}
	if (frame_decode_hello(payload, h.length, &hello, &err) < 0) {
		snprintf(why, whylen, "bad HELLO: %s", err.text);
		return -1;
	}
	if (frame_negotiate(FRAME_VERSION_MIN, FRAME_VERSION_MAX,
	    hello.min_version, hello.max_version, &v) < 0) {
		snprintf(why, whylen, "no common protocol version: "
		    "collector speaks %u..%u, client %u..%u",
		    FRAME_VERSION_MIN, FRAME_VERSION_MAX,
		    hello.min_version, hello.max_version);
		return -1;
	}
	cl->version = v;
	memset(&reply, 0, sizeof(reply));
	reply.min_version = reply.max_version = v;
	snprintf(reply.agent, sizeof(reply.agent), "procnet-collector/%s",
	    PROCNET_VERSION);
	if (frame_encode_hello(&reply, v, out, sizeof(out), &len) < 0 ||
	    (r = ipc_write_full(cl->conn, out, len, left_ms(deadline))) < 0) {
		snprintf(why, whylen, "could not answer HELLO");
		return -1;
	}
	if (read_control(cl, deadline, &h, payload, why, whylen, eof) < 0 ||
	    take_subscribe(cl, &h, payload, true, &sub, why, whylen) < 0)
		return -1;
	/* the client's own text: one harmless log token */
	utf8_printable(agent, sizeof(agent), hello.agent);
	log_client(cl, "%s subscribed: interval %u ms%s", agent,
	    server_clamp_interval(sub.interval_ms), sub.udp ? ", udp" : "");
	return 0;
}

/* After SUBSCRIBE the only thing a client may say is SUBSCRIBE again. */
static int
client_input(struct client *cl, char *why, size_t whylen, bool *eof)
{
	uint8_t payload[FRAME_MAX_CONTROL];
	struct frame_header h;
	struct frame_subscribe sub;

	if (read_control(cl, clock_mono_ms() + CONTROL_READ_MS, &h, payload, why,
	    whylen, eof) < 0 ||
	    take_subscribe(cl, &h, payload, false, &sub, why, whylen) < 0)
		return -1;
	return 0;
}

/* Is latest one this client has not had, and of the kind it asked for?
 * (A sample without UDP does not answer a UDP subscription, nor one not
 * encoded in the client's protocol version.) */
static bool
fresh(struct server *s, struct client *cl, uint64_t sent)
{
	return s->latest != NULL && s->seq != sent &&
	    (s->latest->udp || !cl->udp) &&
	    s->latest->data[cl->version] != NULL;
}

/* Sends each new latest snapshot until the client goes or we stop. */
static int
stream(struct client *cl, char *why, size_t whylen, bool *quiet)
{
	struct server *s = cl->srv;
	uint64_t sent = 0;
	struct shared_frame *f;
	int r;

	for (;;) {
		if (stopping()) {
			*quiet = true;
			return -1;
		}
		r = ipc_conn_wait_readable(cl->conn, 0);
		if (r < 0) {
			snprintf(why, whylen, "connection failed: %s",
			    strerror(-r));
			return -1;
		}
		if (r > 0 && client_input(cl, why, whylen, quiet) < 0)
			return -1;

		f = NULL;
		pthread_mutex_lock(&s->mu);
		if (!fresh(s, cl, sent))
			condvar_wait_ms(&s->snap_cv, &s->mu, WAIT_SLICE_MS);
		if (fresh(s, cl, sent)) {
			f = frame_ref(s->latest);
			sent = s->seq;
		}
		pthread_mutex_unlock(&s->mu);
		if (f == NULL)
			continue;
		/* While this write blocks, newer samples replace latest;
		 * this client simply gets the newest one next. */
		r = ipc_write_full(cl->conn, f->data[cl->version],
		    f->len[cl->version], s->write_timeout_ms);
		frame_unref(f);
		cl->midframe = r < 0;
		if (r == -EPIPE) {
			*quiet = true;
			snprintf(why, whylen, "disconnected");
			return -1;
		}
		if (r == -ETIMEDOUT) {
			snprintf(why, whylen, "did not take a snapshot within "
			    "%d ms", s->write_timeout_ms);
			return -1;
		}
		if (r < 0) {
			snprintf(why, whylen, "write failed: %s", strerror(-r));
			return -1;
		}
	}
}

void *
client_main(void *arg)
{
	struct client *cl = arg;
	struct server *s = cl->srv;
	char why[256] = "";
	bool quiet = false;

	if (handshake(cl, why, sizeof(why), &quiet) < 0) {
		if (quiet)
			log_client(cl, "%s", "left before subscribing");
		else {
			log_drop(cl, why);
			send_error(cl, why);
		}
	} else if (stream(cl, why, sizeof(why), &quiet) < 0) {
		if (quiet)
			log_client(cl, "%s", stopping() ?
			    "closed at shutdown" : why);
		else {
			log_drop(cl, why);
			send_error(cl, why);
		}
	}
	/* The peer sees EOF now; the reaper closes and frees. */
	ipc_conn_shutdown(cl->conn);
	pthread_mutex_lock(&s->mu);
	cl->subscribed = false;
	cl->done = true;
	condvar_signal(&s->cfg_cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}
