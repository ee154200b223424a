/*
 * WebSocket clients of /api/stream.  civetweb runs each connection's read
 * loop on one of its workers; our sender thread per client writes with
 * mg_websocket_write, which serialises with civetweb's own pings through
 * the connection lock.  The close handler joins the sender, so nothing
 * touches a connection after civetweb is done with it.
 */
#include "stream.h"

#include <civetweb.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group.h"
#include "log.h"

enum stream_send {
	STREAM_SEND_NONE,
	STREAM_SEND_FULL,
	STREAM_SEND_DELTA,
	STREAM_SEND_MAX
};

struct stream_client {
	struct stream *s;
	struct mg_connection *conn;
	pthread_t thread;
	bool started;
	bool closing;		/* under s->lock */
	uint64_t seen_gen;	/* under s->lock */
	uint64_t sent_seq, sent_status_seq;	/* sender thread only */
	unsigned mode;		/* enum graph_group, from ?group= */
	bool wants;		/* counted in state_want */
	struct stream_client *next;
};

struct stream {
	struct state *st;
	unsigned max_clients;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t gen;
	struct stream_client *clients;
	struct stream_stats stats;
};

int
stream_new(struct state *st, unsigned max_clients, struct stream **out)
{
	struct stream *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (s == NULL)
		return -ENOMEM;
	s->st = st;
	s->max_clients = max_clients;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = s;
	return 0;
}

void
stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void
stream_publish(void *arg)
{
	struct stream *s = arg;

	pthread_mutex_lock(&s->lock);
	s->gen++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void
stream_get_stats(struct stream *s, struct stream_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->lock);
}

bool
stream_has_room(struct stream *s)
{
	bool room;

	pthread_mutex_lock(&s->lock);
	room = s->stats.clients < s->max_clients;
	if (!room)
		s->stats.refused++;
	pthread_mutex_unlock(&s->lock);
	return room;
}

/*
 * One message.  civetweb gives up on a write that makes no progress for
 * request_timeout_ms and returns what it wrote: a short count leaves half
 * a frame on the wire, so the connection is finished.  The sender stops;
 * civetweb's unanswered pings (or the client's framing error) close it.
 */
static int
send_text(struct stream_client *c, const struct state_buf *b)
{
	int n;

	if (b->len > INT_MAX)
		return -E2BIG;
	n = mg_websocket_write(c->conn, MG_WEBSOCKET_OPCODE_TEXT, b->data,
	    b->len);
	return n == (int)b->len ? 0 : -EPIPE;
}

/* Sends what changed since the client's last message; -EPIPE when the
 * connection is gone. */
static int
send_current(struct stream_client *c)
{
	struct stream *s = c->s;
	struct state_view v;
	int rc = 0;
	enum stream_send kind = STREAM_SEND_NONE;
	bool resync = false, status = false;

	state_get_mode(s->st, c->mode, &v);
	if (v.seq != 0 && v.seq != c->sent_seq && v.full != NULL) {
		if (c->sent_seq != 0 && v.seq == c->sent_seq + 1 &&
		    v.delta != NULL) {
			rc = send_text(c, v.delta);
			kind = STREAM_SEND_DELTA;
		} else {
			/* First message, or the client missed a delta. */
			resync = c->sent_seq != 0;
			rc = send_text(c, v.full);
			kind = STREAM_SEND_FULL;
		}
		if (rc == 0)
			c->sent_seq = v.seq;
	}
	if (rc == 0 && v.status != NULL && v.status_seq != c->sent_status_seq) {
		rc = send_text(c, v.status);
		if (rc == 0) {
			c->sent_status_seq = v.status_seq;
			status = true;
		}
	}
	state_view_release(&v);

	pthread_mutex_lock(&s->lock);
	if (rc == 0 && kind == STREAM_SEND_FULL)
		s->stats.sent_full++;
	if (rc == 0 && kind == STREAM_SEND_DELTA)
		s->stats.sent_delta++;
	if (resync)
		s->stats.resyncs++;
	if (status)
		s->stats.sent_status++;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void *
sender_main(void *arg)
{
	struct stream_client *c = arg;
	struct stream *s = c->s;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (!c->closing && c->seen_gen == s->gen)
			pthread_cond_wait(&s->cond, &s->lock);
		if (c->closing) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		c->seen_gen = s->gen;
		pthread_mutex_unlock(&s->lock);
		if (send_current(c) != 0) {
			pthread_mutex_lock(&s->lock);
			s->stats.dropped++;
			pthread_mutex_unlock(&s->lock);
			log_debug("stream: a send failed (client gone, or "
			    "stalled mid-message); its sender stops");
			break;
		}
	}
	return NULL;
}

static int
ws_connect(const struct mg_connection *conn, void *cbdata)
{
	struct stream *s = cbdata;
	struct stream_client *c;
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	for (c = s->clients; c != NULL; c = c->next)
		n++;
	if (n >= s->max_clients) {
		s->stats.refused++;
		pthread_mutex_unlock(&s->lock);
		log_warnx_limited("stream-cap", 10, "stream: refusing a client, "
		    "%u already connected", n);
		return 1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		pthread_mutex_unlock(&s->lock);
		return 1;
	}
	c->s = s;
	/* http.c refused a bad group before the handshake. */
	(void)graph_group_from_query(mg_get_request_info(conn)->query_string,
	    &c->mode);
	/* Counted from now, so the cap holds across concurrent handshakes. */
	c->next = s->clients;
	s->clients = c;
	s->stats.clients = n + 1;
	s->stats.accepted++;
	pthread_mutex_unlock(&s->lock);
	mg_set_user_connection_data(conn, c);
	c->wants = state_want(s->st, c->mode, 1) == 0;
	return 0;
}

static void
ws_ready(struct mg_connection *conn, void *cbdata)
{
	struct stream_client *c = mg_get_user_connection_data(conn);
	int rc;

	(void)cbdata;
	if (c == NULL)
		return;
	c->conn = conn;
	/* seen_gen 0 != gen forces a first send even before any sample. */
	pthread_mutex_lock(&c->s->lock);
	c->seen_gen = c->s->gen - 1;
	pthread_mutex_unlock(&c->s->lock);
	if ((rc = pthread_create(&c->thread, NULL, sender_main, c)) != 0) {
		/* Without a sender the client would hold a slot and hear
		 * nothing: ask it to close, so ws_close frees the slot. */
		log_warnx("stream: cannot start a sender: %s", strerror(rc));
		mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE,
		    "\x03\xf3", 2);	/* 1011: internal error */
		return;
	}
	c->started = true;
}

/*
 * The stream is one-way: a client has nothing to send but pongs (and
 * pings) and a close.  Those are control frames, at most 125 bytes
 * (RFC 6455 5.5); any data frame, or a larger control frame, ends the
 * connection with 1003 (unsupported data) rather than being buffered.
 * Returning 0 makes civetweb close.
 */
#define WS_CONTROL_MAX	125u

static int
ws_data(struct mg_connection *conn, int bits, char *data, size_t len,
    void *cbdata)
{
	static const char refuse[] = "\x03\xeb" "the stream is one-way";
	struct stream *s = cbdata;
	unsigned op = (unsigned)bits & 0x0fu;

	(void)data;
	if (op == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE)
		return 0;
	if ((op == MG_WEBSOCKET_OPCODE_PING ||
	    op == MG_WEBSOCKET_OPCODE_PONG) && len <= WS_CONTROL_MAX)
		return 1;
	pthread_mutex_lock(&s->lock);
	s->stats.refused_frames++;
	pthread_mutex_unlock(&s->lock);
	mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, refuse,
	    sizeof(refuse) - 1);
	return 0;
}

static void
ws_close(const struct mg_connection *conn, void *cbdata)
{
	stream_connection_closed(cbdata, conn);
}

void
stream_connection_closed(struct stream *s, const struct mg_connection *conn)
{
	struct stream_client *c = mg_get_user_connection_data(conn);
	struct stream_client **pp;

	/* Normally ws_close has run and cleared the pointer.  From
	 * connection_closed (connection lock held) only a client whose
	 * handshake failed is left, and it has no sender to join. */
	if (c == NULL || s == NULL)
		return;
	mg_set_user_connection_data(conn, NULL);
	pthread_mutex_lock(&s->lock);
	c->closing = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (c->started)
		pthread_join(c->thread, NULL);
	if (c->wants)
		(void)state_want(s->st, c->mode, -1);
	pthread_mutex_lock(&s->lock);
	for (pp = &s->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			if (s->stats.clients > 0)
				s->stats.clients--;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	free(c);
}

void
stream_attach(struct stream *s, struct mg_context *ctx, const char *uri)
{
	mg_set_websocket_handler(ctx, uri, ws_connect, ws_ready, ws_data,
	    ws_close, s);
}
