/*
 * The collector's daemon mode (server.h).  Threads: the caller's runs the
 * accept loop and reaps finished clients; one sampler; one per client.
 * Everything shared sits under one mutex, held only for bookkeeping,
 * never across sampling or I/O.
 */
#include "server_priv.h"
#include "service.h"

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
#include "events.h"
#include "frame.h"
#include "log.h"
#include "transport.h"

static atomic_int stop_requested;

void
server_request_stop(void)
{
	atomic_store(&stop_requested, 1);
}

bool
stopping(void)
{
	return atomic_load(&stop_requested) != 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	server_request_stop();
}

unsigned
server_clamp_interval(unsigned ms)
{
	if (ms < SERVER_INTERVAL_MIN_MS)
		return SERVER_INTERVAL_MIN_MS;
	if (ms > SERVER_INTERVAL_MAX_MS)
		return SERVER_INTERVAL_MAX_MS;
	return ms;
}

void
frame_unref(struct shared_frame *f)
{
	if (f != NULL && atomic_fetch_sub(&f->refs, 1) == 1) {
		for (unsigned v = 0; v <= FRAME_VERSION_MAX; v++)
			free(f->data[v]);
		free(f);
	}
}

struct shared_frame *
frame_ref(struct shared_frame *f)
{
	atomic_fetch_add(&f->refs, 1);
	return f;
}

/* What subscribers want right now (srv->mu held): interval (0: nobody),
 * UDP or not, and the protocol versions (bit v) to encode. */
static unsigned
wanted(struct server *s, bool *udp, unsigned *versions)
{
	unsigned n = 0, interval = SERVER_INTERVAL_MAX_MS;

	*udp = false;
	*versions = 0;
	for (unsigned i = 0; i < s->n_clients; i++) {
		struct client *cl = s->clients[i];

		if (!cl->subscribed)
			continue;
		n++;
		if (cl->interval_ms < interval)
			interval = cl->interval_ms;
		*udp |= cl->udp;
		*versions |= 1u << cl->version;
	}
	return n ? interval : 0;
}

/* Encoded once per protocol version in use, not once per client. */
static struct shared_frame *
encode(struct server *s, struct snapshot *snap, unsigned versions)
{
	struct shared_frame *f;
	int r;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	atomic_init(&f->refs, 1);
	for (unsigned v = FRAME_VERSION_MIN; v <= FRAME_VERSION_MAX; v++) {
		if (!(versions & (1u << v)))
			continue;
		r = codec_encode_snapshot_frame(snap, (uint16_t)v, &f->data[v],
		    &f->len[v]);
		if (r < 0) {
			log_limited(&s->lim_sample, LOG_LEVEL_WARN, "cannot "
			    "encode snapshot (%zu processes, %zu sockets) for "
			    "protocol %u: %s", snap->n_processes,
			    snap->n_sockets, v, strerror(-r));
			frame_unref(f);
			return NULL;
		}
	}
	return f;
}

/* The backend's notes (Windows: ESTATS off or capped, services not
 * readable), logged when they change rather than every sample; as
 * warnings, so that a service's reach the Event Log. */
static void
log_notes(struct collector *col, char notes[2][192])
{
	struct collect_stats st;
	const char *now[2], *what[2] = { "per-connection TCP counters",
	    "services per process" };

	collector_stats(col, &st);
	now[0] = st.tcp_info_note;
	now[1] = st.services_note;
	for (int i = 0; i < 2; i++) {
		if (strcmp(now[i], notes[i]) == 0)
			continue;
		if (now[i][0] != '\0')
			log_warnx("%s: %s", what[i], now[i]);
		else
			log_info("%s: available again", what[i]);
		snprintf(notes[i], 192, "%s", now[i]);
	}
}

/*
 * Takes what the kernel queued of connection events, so its queue never
 * fills between samples (the sampler waits in slices of at most
 * ACCEPT_SLICE_MS).  While nobody subscribes they are let go: a
 * subscriber's first snapshot starts afresh.  Called with s->mu held;
 * drops it meanwhile.
 */
static void
drain_events(struct server *s, bool discard)
{
	struct events_batch eb;

	if (s->base.events == NULL)
		return;
	pthread_mutex_unlock(&s->mu);
	if (discard)
		(void)events_take(s->base.events, &eb);
	else
		(void)events_poll(s->base.events);
	pthread_mutex_lock(&s->mu);
}

static void *
sampler_main(void *arg)
{
	struct server *s = arg;
	int64_t last = 0, cost = 0;	/* start and duration of the last sample */
	bool sampled = false;
	char notes[2][192] = { "", "" };	/* last logged collect_stats notes */

	pthread_mutex_lock(&s->mu);
	while (!stopping()) {
		struct collect_opts o = s->base;
		struct shared_frame *f = NULL, *old;
		struct snapshot *snap = NULL;
		unsigned interval;
		int64_t wait;
		unsigned versions;
		bool udp;
		int r;

		interval = wanted(s, &udp, &versions);
		if (interval == 0) {
			/* Nobody listens: no sampling, and nothing stale kept
			 * for the next subscriber. */
			old = s->latest;
			s->latest = NULL;
			if (old != NULL) {
				frame_unref(old);
				log_info("no subscribers, sampling paused");
			}
			sampled = false;
			drain_events(s, true);
			condvar_wait_ms(&s->cfg_cv, &s->mu, ACCEPT_SLICE_MS);
			continue;
		}
		/* Next sample one interval after the last one started, but
		 * never sooner than the last one took after its end: on a
		 * host where sampling is slower than the interval, the
		 * collector uses at most about half a core, not all of it. */
		wait = 0;
		if (sampled) {
			int64_t next = last + interval;

			if (last + 2 * cost > next)
				next = last + 2 * cost;
			wait = next - clock_mono_ms();
		}
		/* a new UDP subscriber should not wait a whole interval */
		if (udp && s->latest != NULL && !s->latest->udp)
			wait = 0;
		/* nor one whose protocol version the last sample lacks */
		for (unsigned v = 0; v <= FRAME_VERSION_MAX; v++)
			if ((versions & (1u << v)) && s->latest != NULL &&
			    s->latest->data[v] == NULL)
				wait = 0;
		if (wait > 0) {
			drain_events(s, false);
			/* woken early when subscriptions change */
			condvar_wait_ms(&s->cfg_cv, &s->mu,
			    wait < ACCEPT_SLICE_MS ? wait : ACCEPT_SLICE_MS);
			continue;
		}
		pthread_mutex_unlock(&s->mu);

		last = clock_mono_ms();
		sampled = true;
		o.tcp = true;
		o.udp = udp;
		r = collector_sample(s->col, &o, &snap);
		cost = clock_mono_ms() - last;
		if (r < 0)
			log_limited(&s->lim_sample, LOG_LEVEL_WARN,
			    "sample failed: %s", collector_error(s->col));
		else {
			if ((f = encode(s, snap, versions)) != NULL)
				f->udp = udp;
			snapshot_unref(snap);
			log_notes(s->col, notes);
		}

		pthread_mutex_lock(&s->mu);
		if (f != NULL) {
			old = s->latest;
			s->latest = f;
			s->seq++;
			frame_unref(old);
			condvar_broadcast(&s->snap_cv);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Joins and frees clients whose threads have finished. */
static void
reap(struct server *s, bool all)
{
	unsigned i = 0;

	for (;;) {
		struct client *cl = NULL;

		pthread_mutex_lock(&s->mu);
		for (; i < s->n_clients; i++)
			if (all || s->clients[i]->done) {
				cl = s->clients[i];
				s->clients[i] = s->clients[--s->n_clients];
				break;
			}
		pthread_mutex_unlock(&s->mu);
		if (cl == NULL)
			return;
		pthread_join(cl->thread, NULL);
		ipc_conn_close(cl->conn);
		free(cl);
	}
}

static void
admit(struct server *s, struct ipc_conn *conn)
{
	struct client *cl;
	char peer[IPC_PEER_MAX];
	unsigned id;
	int r;

	ipc_conn_peer(conn, peer, sizeof(peer));
	pthread_mutex_lock(&s->mu);
	id = ++s->next_id;
	if (s->n_clients >= s->max_clients) {
		pthread_mutex_unlock(&s->mu);
		log_limited(&s->lim_full, LOG_LEVEL_WARN,
		    "client %u (%s) refused: %u clients already", id, peer,
		    s->max_clients);
		uint8_t buf[FRAME_SMALL_MAX];
		size_t len;
		if (frame_encode_error("too many clients", FRAME_VERSION_MAX,
		    buf, sizeof(buf), &len) == 0)
			ipc_write_full(conn, buf, len, ERROR_WRITE_MS);
		ipc_conn_close(conn);
		return;
	}
	pthread_mutex_unlock(&s->mu);

	log_limited(&s->lim_client, LOG_LEVEL_INFO,
	    "client %u connected (%s)", id, peer);
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		log_warnx("client %u: out of memory", id);
		ipc_conn_close(conn);
		return;
	}
	cl->srv = s;
	cl->conn = conn;
	cl->id = id;
	snprintf(cl->peer, sizeof(cl->peer), "%s", peer);
	/* Listed before it runs, so its exit is always seen by reap(). */
	pthread_mutex_lock(&s->mu);
	s->clients[s->n_clients++] = cl;
	r = pthread_create(&cl->thread, NULL, client_main, cl);
	if (r != 0)
		s->clients[--s->n_clients] = NULL;
	pthread_mutex_unlock(&s->mu);
	if (r != 0) {
		log_warnx("client %u: cannot start a thread: %s", id,
		    strerror(r));
		ipc_conn_close(conn);
		free(cl);
	}
}

static int
server_init(struct server *s, const struct server_opts *o)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->lim_client = (struct log_limit)LOG_LIMIT(CLIENT_LOG_PER_SEC, 1);
	s->lim_drop = (struct log_limit)LOG_LIMIT(CLIENT_LOG_PER_SEC, 1);
	s->lim_full = (struct log_limit)LOG_LIMIT(1, 5);
	s->lim_accept = (struct log_limit)LOG_LIMIT(1, 10);
	s->lim_sample = (struct log_limit)LOG_LIMIT(1, 10);
	s->max_clients = o->max_clients ? o->max_clients :
	    SERVER_MAX_CLIENTS_DEFAULT;
	s->hello_timeout_ms = o->hello_timeout_ms > 0 ? o->hello_timeout_ms :
	    SERVER_HELLO_TIMEOUT_DEFAULT;
	s->write_timeout_ms = o->write_timeout_ms > 0 ? o->write_timeout_ms :
	    SERVER_WRITE_TIMEOUT_DEFAULT;
	if (o->collect != NULL)
		s->base = *o->collect;
	else
		s->base.incremental = true;
	s->clients = calloc(s->max_clients, sizeof(*s->clients));
	if (s->clients == NULL)
		return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	/* Monotonic waits (condvar.h), so a clock step never stalls
	 * sampling. */
	r = condvar_init(&s->snap_cv);
	if (r == 0)
		r = condvar_init(&s->cfg_cv);
	return -r;
}

int
server_run(const struct server_opts *o)
{
	struct ipc_server_opts io = { .group = o->group };
	char endpoint[IPC_ENDPOINT_MAX];
	struct ipc_server *srv = NULL;
	struct ipc_conn *conn;
	pthread_t sampler;
	struct server s;
	int r;

	if (o->endpoint != NULL) {
		if ((size_t)snprintf(endpoint, sizeof(endpoint), "%s",
		    o->endpoint) >= sizeof(endpoint)) {
			log_warnx("%.60s...: path too long (%zu bytes)",
			    o->endpoint, strlen(o->endpoint));
			return -ENAMETOOLONG;
		}
	} else if ((r = ipc_default_endpoint(endpoint, sizeof(endpoint))) < 0) {
		log_warnx("no default socket path (%s); XDG_RUNTIME_DIR is "
		    "unset, give --socket PATH", strerror(-r));
		return r;
	}
	if ((r = server_init(&s, o)) < 0) {
		log_warnx("cannot set up the server: %s", strerror(-r));
		free(s.clients);
		return r;
	}
	if ((r = collector_new(&s.col)) < 0) {
		log_warnx("cannot create the collector: %s", strerror(-r));
		free(s.clients);
		return r;
	}
	r = ipc_server_open(endpoint, &io, &srv);
	if (r == -EADDRINUSE) {
		char who[IPC_PEER_MAX];

		/* A second collector, or someone squatting the name to feed
		 * webd made-up data: either way, say who. */
		ipc_endpoint_owner(endpoint, who, sizeof(who));
		log_errx("%s: already served by %s: another collector, or "
		    "a squatter; not starting", endpoint, who);
	}
	else if (r == -EEXIST)
		log_warnx("%s: exists and is not a socket; not touching it",
		    endpoint);
	else if (r == -ENAMETOOLONG)
		log_warnx("%s: path too long for a socket (%zu bytes)",
		    endpoint, strlen(endpoint));
	else if (r == -ENOENT)
		log_warnx("%s: cannot listen: the directory above it does "
		    "not exist (only the last level is created)", endpoint);
	else if (r < 0)
		log_warnx("%s: cannot listen: %s", endpoint, strerror(-r));
	if (r < 0) {
		collector_free(s.col);
		free(s.clients);
		return r;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((r = pthread_create(&sampler, NULL, sampler_main, &s)) != 0) {
		log_warnx("cannot start the sampler: %s", strerror(r));
		ipc_server_close(srv);
		collector_free(s.col);
		free(s.clients);
		return -r;
	}
	log_info("listening on %s (max %u clients)", endpoint, s.max_clients);
	service_ready();	/* Windows service: RUNNING from here */

	while (!stopping()) {
		reap(&s, false);
		r = ipc_server_accept(srv, ACCEPT_SLICE_MS, &conn);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0) {
			/* out of descriptors and the like: back off a little */
			log_limited(&s.lim_accept, LOG_LEVEL_WARN, "accept: %s",
			    strerror(-r));
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		admit(&s, conn);
	}

	log_info("stopping");
	pthread_mutex_lock(&s.mu);
	for (unsigned i = 0; i < s.n_clients; i++)
		ipc_conn_shutdown(s.clients[i]->conn);
	condvar_broadcast(&s.snap_cv);
	condvar_broadcast(&s.cfg_cv);
	pthread_mutex_unlock(&s.mu);
	reap(&s, true);
	pthread_join(sampler, NULL);
	ipc_server_close(srv);
	frame_unref(s.latest);
	collector_free(s.col);
	pthread_mutex_destroy(&s.mu);
	condvar_destroy(&s.snap_cv);
	condvar_destroy(&s.cfg_cv);
	free(s.clients);
	atomic_store(&stop_requested, 0);
	return 0;
}
