/*
 * The collector subscriber (subscriber.h).  One thread runs sessions:
 * connect, HELLO, SUBSCRIBE, then read SNAPSHOT frames until something
 * fails; between sessions it sleeps an exponential backoff that any stop
 * cuts short.  Library code: it never logs, it records the last error.
 */
#include "subscriber.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "codec.h"
#include "condvar.h"
#include "frame.h"
#include "transport.h"

#define CONNECT_TIMEOUT_MS	2000
#define HANDSHAKE_TIMEOUT_MS	5000
/* A snapshot may be many megabytes; once its header is in, the rest must
 * follow within this. */
#define PAYLOAD_TIMEOUT_MS	30000
/* Silence allowed between snapshots on top of the interval: a collector
 * that says nothing for this long is presumed hung and reconnected. */
#define QUIET_SLACK_MS		30000
#define FETCH_INTERVAL_MS	1000

struct subscriber {
	struct subscriber_opts o;
	char endpoint[IPC_ENDPOINT_MAX];
	pthread_t thread;
	atomic_bool stop;

	pthread_mutex_t mu;
	struct condvar cv;		/* stop wakes the backoff sleep */
	struct ipc_conn *conn;		/* live session, for stop to interrupt */
	struct snapshot *latest;
	struct subscriber_status st;
	int64_t down_since;		/* monotonic ms since not connected */
	enum subscriber_state reported;	/* last given to on_state */
};

static const char *const state_names[SUBSCRIBER_STATE_MAX] = {
	"connecting", "connected", "down",
};

const char *
subscriber_state_name(unsigned state)
{
	return state < SUBSCRIBER_STATE_MAX ? state_names[state] : NULL;
}

/* The timeout for one step: dflt, or less when the whole call's deadline
 * (monotonic ms, < 0 for none) comes sooner. */
static int
step_ms(int64_t deadline, int dflt)
{
	int64_t left;

	if (deadline < 0)
		return dflt;
	left = deadline - clock_mono_ms();
	if (left <= 0)
		return 0;
	return left < dflt ? (int)left : dflt;
}

static void seterr(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Reads the header of the next frame, with the reason on failure. */
static int
read_header(struct ipc_conn *c, uint16_t version, int timeout_ms,
    struct frame_header *h, char *err, size_t errlen)
{
	uint8_t hb[FRAME_HEADER_SIZE];
	struct frame_error fe;
	int r;

	r = ipc_read_full(c, hb, sizeof(hb), timeout_ms);
	if (r == -EPIPE) {
		seterr(err, errlen, "collector closed the connection");
		return r;
	}
	if (r == -ETIMEDOUT) {
		seterr(err, errlen, "collector silent for %d ms", timeout_ms);
		return r;
	}
	if (r < 0) {
		seterr(err, errlen, "read: %s", strerror(-r));
		return r;
	}
	r = frame_header_read(hb, sizeof(hb), version, FRAME_MAX_PAYLOAD, h,
	    &fe);
	if (r < 0)
		seterr(err, errlen, "protocol error: %s", fe.text);
	return r;
}

/* The payload of h into a new buffer (NUL-padded by one byte). */
static int
read_payload(struct ipc_conn *c, const struct frame_header *h,
    int timeout_ms, uint8_t **out, char *err, size_t errlen)
{
	uint8_t *p = malloc((size_t)h->length + 1);
	int r;

	if (p == NULL) {
		seterr(err, errlen, "out of memory for a %u-byte %s", h->length,
		    frame_type_name(h->type));
		return -ENOMEM;
	}
	r = ipc_read_full(c, p, h->length, timeout_ms);
	if (r < 0) {
		seterr(err, errlen, "%s payload: %s", frame_type_name(h->type),
		    r == -EPIPE ? "collector closed the connection" :
		    strerror(-r));
		free(p);
		return r;
	}
	p[h->length] = 0;
	*out = p;
	return 0;
}

/* An ERROR frame's text, as the reason the session ends. */
static int
collector_said(struct ipc_conn *c, const struct frame_header *h,
    int64_t deadline, char *err, size_t errlen)
{
	char text[FRAME_MAX_ERROR_TEXT + 1];
	struct frame_error fe;
	uint8_t *p;
	int r;

	if ((r = read_payload(c, h, step_ms(deadline, HANDSHAKE_TIMEOUT_MS),
	    &p, err, errlen)) < 0)
		return r;
	r = frame_decode_error(p, h->length, text, sizeof(text), &fe);
	free(p);
	if (r < 0)
		seterr(err, errlen, "protocol error: %s", fe.text);
	else
		seterr(err, errlen, "collector refused: %s", text);
	return -ECONNREFUSED;
}

/*
 * Connect, HELLO both ways, SUBSCRIBE, each step within its own bound and
 * all by deadline (monotonic ms, < 0 for none).  On success *out and
 * *version.  With an owner, the connection is registered at once so that
 * subscriber_stop() can interrupt the handshake too.
 */
static int
session_open(struct subscriber *owner, const char *endpoint,
    const char *account, uint32_t interval_ms, bool udp, int connect_ms,
    int64_t deadline,
    struct ipc_conn **out, uint16_t *version, char *err, size_t errlen)
{
	uint8_t buf[FRAME_SMALL_MAX], *p;
	struct frame_hello hello, reply;
	struct frame_subscribe sub = { .interval_ms = interval_ms, .udp = udp };
	struct frame_header h;
	struct frame_error fe;
	struct ipc_conn *c;
	size_t len;
	uint16_t v;
	int r;

	r = ipc_connect(endpoint, connect_ms, &c);
	if (r < 0) {
		seterr(err, errlen, "connect %s: %s%s", endpoint, strerror(-r),
		    r == -ENOENT || r == -ECONNREFUSED ?
		    " (is procnet-collector running?)" : "");
		return r;
	}
	/* Before a byte is read: whoever holds the name while the collector
	 * is down must not feed us. */
	{
		char why[512];

		if ((r = ipc_conn_check_server(c, account, why,
		    sizeof(why))) < 0) {
			seterr(err, errlen, "%s: refused: %s", endpoint, why);
			ipc_conn_close(c);
			return r;
		}
	}
	if (owner != NULL) {
		pthread_mutex_lock(&owner->mu);
		owner->conn = c;
		if (atomic_load(&owner->stop))
			ipc_conn_shutdown(c);
		pthread_mutex_unlock(&owner->mu);
	}
	memset(&hello, 0, sizeof(hello));
	hello.min_version = FRAME_VERSION_MIN;
	hello.max_version = FRAME_VERSION_MAX;
	snprintf(hello.agent, sizeof(hello.agent), "procnet-webd/%s",
	    PROCNET_VERSION);
	frame_encode_hello(&hello, FRAME_VERSION_MAX, buf, sizeof(buf), &len);
	if ((r = ipc_write_full(c, buf, len, step_ms(deadline,
	    HANDSHAKE_TIMEOUT_MS))) < 0) {
		seterr(err, errlen, "sending HELLO: %s", strerror(-r));
		goto fail;
	}
	if ((r = read_header(c, FRAME_VERSION_MAX, step_ms(deadline,
	    HANDSHAKE_TIMEOUT_MS), &h, err, errlen)) < 0)
		goto fail;
	if (h.type == FRAME_ERROR) {
		r = collector_said(c, &h, deadline, err, errlen);
		goto fail;
	}
	if (h.type != FRAME_HELLO) {
		seterr(err, errlen, "protocol error: collector sent %s instead "
		    "of HELLO", frame_type_name(h.type));
		r = -EPROTO;
		goto fail;
	}
	if ((r = read_payload(c, &h, step_ms(deadline, HANDSHAKE_TIMEOUT_MS),
	    &p, err, errlen)) < 0)
		goto fail;
	r = frame_decode_hello(p, h.length, &reply, &fe);
	free(p);
	if (r < 0) {
		seterr(err, errlen, "protocol error: %s", fe.text);
		goto fail;
	}
	/* The collector must pick one version, and one we speak. */
	if (reply.min_version != reply.max_version ||
	    frame_negotiate(FRAME_VERSION_MIN, FRAME_VERSION_MAX,
	    reply.min_version, reply.max_version, &v) < 0) {
		seterr(err, errlen, "collector chose protocol %u..%u, we speak "
		    "%u..%u", reply.min_version, reply.max_version,
		    FRAME_VERSION_MIN, FRAME_VERSION_MAX);
		r = -EPROTONOSUPPORT;
		goto fail;
	}
	frame_encode_subscribe(&sub, v, buf, sizeof(buf), &len);
	if ((r = ipc_write_full(c, buf, len, step_ms(deadline,
	    HANDSHAKE_TIMEOUT_MS))) < 0) {
		seterr(err, errlen, "sending SUBSCRIBE: %s", strerror(-r));
		goto fail;
	}
	*out = c;
	*version = v;
	return 0;
fail:
	if (owner != NULL) {
		pthread_mutex_lock(&owner->mu);
		owner->conn = NULL;
		pthread_mutex_unlock(&owner->mu);
	}
	ipc_conn_close(c);
	return r;
}

/* The next SNAPSHOT, its header within timeout_ms and all of it by
 * deadline (< 0: none); an ERROR or any other type ends the session. */
static int
session_next(struct ipc_conn *c, uint16_t version, int timeout_ms,
    int64_t deadline, struct snapshot **out, char *err, size_t errlen)
{
	struct frame_header h;
	struct frame_error fe;
	uint8_t *p;
	int r;

	if ((r = read_header(c, version, timeout_ms, &h, err, errlen)) < 0)
		return r;
	if (h.type == FRAME_ERROR)
		return collector_said(c, &h, deadline, err, errlen);
	if (h.type != FRAME_SNAPSHOT) {
		seterr(err, errlen, "protocol error: collector sent %s",
		    frame_type_name(h.type));
		return -EPROTO;
	}
	if ((r = read_payload(c, &h, step_ms(deadline, PAYLOAD_TIMEOUT_MS), &p,
	    err, errlen)) < 0)
		return r;
	r = codec_decode_snapshot(p, h.length, version, out, &fe);
	free(p);
	if (r < 0)
		seterr(err, errlen, "bad snapshot at byte %zu: %s", fe.offset,
		    fe.text);
	return r;
}

static enum subscriber_state
state_now(const struct subscriber *s)
{
	if (s->st.state == SUBSCRIBER_CONNECTED)
		return SUBSCRIBER_CONNECTED;
	if (clock_mono_ms() - s->down_since >= SUBSCRIBER_DOWN_AFTER_MS)
		return SUBSCRIBER_DOWN;
	return SUBSCRIBER_CONNECTING;
}

/* Records a state and error; tells on_state when the state changed. */
static void
set_state(struct subscriber *s, enum subscriber_state st, const char *error)
{
	enum subscriber_state now;
	char text[sizeof(s->st.error)];
	bool tell;

	pthread_mutex_lock(&s->mu);
	if (st != SUBSCRIBER_CONNECTED && s->st.state == SUBSCRIBER_CONNECTED)
		s->down_since = clock_mono_ms();
	s->st.state = st;
	if (error != NULL)
		snprintf(s->st.error, sizeof(s->st.error), "%s", error);
	now = state_now(s);
	tell = now != s->reported;
	s->reported = now;
	snprintf(text, sizeof(text), "%s", s->st.error);
	pthread_mutex_unlock(&s->mu);
	/* no callbacks once the owner is tearing us down */
	if (tell && s->o.on_state != NULL && !atomic_load(&s->stop))
		s->o.on_state(now, text, s->o.user);
}

static void
publish(struct subscriber *s, struct snapshot *snap)
{
	struct snapshot *old;

	pthread_mutex_lock(&s->mu);
	old = s->latest;
	s->latest = snap;
	s->st.last_sample_ms = snap->time_ms;
	s->st.last_receive_ms = clock_real_ms();
	s->st.n_snapshots++;
	pthread_mutex_unlock(&s->mu);
	snapshot_unref(old);
	if (s->o.on_snapshot != NULL)
		s->o.on_snapshot(snap, s->o.user);
}

/* One session; returns whether the handshake succeeded. */
static bool
session(struct subscriber *s)
{
	char err[sizeof(s->st.error)] = "";
	unsigned interval = s->o.interval_ms;
	struct snapshot *snap;
	struct ipc_conn *c;
	uint16_t v;
	int quiet;

	if (session_open(s, s->endpoint, s->o.account, s->o.interval_ms,
	    s->o.udp,
	    CONNECT_TIMEOUT_MS, -1, &c, &v, err, sizeof(err)) < 0) {
		set_state(s, SUBSCRIBER_CONNECTING, err);
		pthread_mutex_lock(&s->mu);
		s->st.n_attempts++;
		condvar_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return false;
	}
	pthread_mutex_lock(&s->mu);
	s->st.n_attempts++;
	condvar_broadcast(&s->cv);
	s->st.version = v;
	s->st.n_connects++;
	pthread_mutex_unlock(&s->mu);
	set_state(s, SUBSCRIBER_CONNECTED, "");

	if (interval > 60000)
		interval = 60000;
	quiet = (int)interval * 3 + QUIET_SLACK_MS;
	while (!atomic_load(&s->stop)) {
		if (session_next(c, v, quiet, -1, &snap, err, sizeof(err)) < 0)
			break;
		publish(s, snap);
	}
	pthread_mutex_lock(&s->mu);
	s->conn = NULL;
	s->st.version = 0;
	pthread_mutex_unlock(&s->mu);
	ipc_conn_close(c);
	set_state(s, SUBSCRIBER_CONNECTING, atomic_load(&s->stop) ?
	    "stopped" : err);
	return true;
}

static void *
subscriber_main(void *arg)
{
	struct subscriber *s = arg;
	int backoff = SUBSCRIBER_BACKOFF_MIN_MS;

	while (!atomic_load(&s->stop)) {
		if (session(s))
			backoff = SUBSCRIBER_BACKOFF_MIN_MS;
		pthread_mutex_lock(&s->mu);
		if (!atomic_load(&s->stop))
			condvar_wait_ms(&s->cv, &s->mu, backoff);
		pthread_mutex_unlock(&s->mu);
		/* CONNECTING turns into DOWN as time passes */
		set_state(s, SUBSCRIBER_CONNECTING, NULL);
		backoff = backoff * 2 > SUBSCRIBER_BACKOFF_MAX_MS ?
		    SUBSCRIBER_BACKOFF_MAX_MS : backoff * 2;
	}
	return NULL;
}

int
subscriber_start(const struct subscriber_opts *o, struct subscriber **out)
{
	struct subscriber *s;
	int r;

	if (o == NULL || out == NULL)
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->o = *o;
	if (o->endpoint != NULL) {
		if (strlen(o->endpoint) >= sizeof(s->endpoint)) {
			free(s);
			return -ENAMETOOLONG;
		}
		snprintf(s->endpoint, sizeof(s->endpoint), "%s", o->endpoint);
	} else if ((r = ipc_default_endpoint(s->endpoint,
	    sizeof(s->endpoint))) < 0) {
		free(s);
		return r;
	}
	s->o.endpoint = s->endpoint;
	snprintf(s->st.endpoint, sizeof(s->st.endpoint), "%s", s->endpoint);
	s->st.state = SUBSCRIBER_CONNECTING;
	s->reported = SUBSCRIBER_CONNECTING;
	s->down_since = clock_mono_ms();
	atomic_init(&s->stop, false);
	pthread_mutex_init(&s->mu, NULL);
	/* Backoff on the monotonic clock where the platform has it, so a
	 * wall clock step can neither stretch nor cut a wait. */
	if ((r = condvar_init(&s->cv)) != 0) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return -r;
	}
	if ((r = pthread_create(&s->thread, NULL, subscriber_main, s)) != 0) {
		pthread_mutex_destroy(&s->mu);
		condvar_destroy(&s->cv);
		free(s);
		return -r;
	}
	*out = s;
	return 0;
}

int
subscriber_wait_attempt(struct subscriber *s, int timeout_ms)
{
	int64_t end = clock_mono_ms() + timeout_ms, left;
	int r;

	pthread_mutex_lock(&s->mu);
	while (s->st.n_attempts == 0 && !atomic_load(&s->stop) &&
	    (left = end - clock_mono_ms()) > 0)
		condvar_wait_ms(&s->cv, &s->mu, left);
	r = s->st.n_attempts > 0 ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&s->mu);
	return r;
}

void
subscriber_stop(struct subscriber *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->stop, true);
	if (s->conn != NULL)
		ipc_conn_shutdown(s->conn);
	condvar_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	snapshot_unref(s->latest);
	pthread_mutex_destroy(&s->mu);
	condvar_destroy(&s->cv);
	free(s);
}

struct snapshot *
subscriber_latest(struct subscriber *s)
{
	struct snapshot *snap;

	pthread_mutex_lock(&s->mu);
	snap = snapshot_ref(s->latest);
	pthread_mutex_unlock(&s->mu);
	return snap;
}

void
subscriber_state(struct subscriber *s, struct subscriber_status *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	out->state = state_now(s);
	pthread_mutex_unlock(&s->mu);
}

int
subscriber_fetch_once(const char *endpoint, const char *account, bool udp,
    int timeout_ms, struct snapshot **out, char *errbuf, size_t errlen)
{
	char ep[IPC_ENDPOINT_MAX];
	struct ipc_conn *c;
	int64_t deadline;
	uint16_t v;
	int r, left;

	seterr(errbuf, errlen, "%s", "");
	if (endpoint == NULL) {
		if ((r = ipc_default_endpoint(ep, sizeof(ep))) < 0) {
			seterr(errbuf, errlen, "no default collector socket "
			    "(XDG_RUNTIME_DIR unset?); give one explicitly");
			return r;
		}
		endpoint = ep;
	}
	deadline = timeout_ms < 0 ? -1 :
	    clock_mono_ms() + timeout_ms;
	r = session_open(NULL, endpoint, account, FETCH_INTERVAL_MS, udp,
	    timeout_ms < 0 ? -1 : timeout_ms, deadline, &c, &v, errbuf,
	    errlen);
	if (r < 0)
		return r;
	left = timeout_ms < 0 ? -1 : step_ms(deadline, INT_MAX);
	r = session_next(c, v, left, deadline, out, errbuf, errlen);
	ipc_conn_close(c);
	return r;
}
