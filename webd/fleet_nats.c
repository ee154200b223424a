/*
 * fleet.h on the NATS C client: messages arrive on the client's thread and
 * go into the table (fleet_merge.c) under our lock; a thread of ours merges
 * at most every MERGE_MIN_MS while something changed, and at least every
 * second (so silence turns into "stale"), and publishes the result through
 * the state.
 */
#include "fleet.h"

#include <errno.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "condvar.h"
#include "fleet_merge.h"
#include "state.h"

#define MERGE_MIN_MS	250
#define TICK_MS		1000

struct fleet {
	struct fleet_config c;
	natsOptions *opts;
	natsConnection *nc;
	natsSubscription *sub;

	pthread_mutex_t mu;
	/* Held from a merge or fold to its publication, so what the state
	 * has of each version is of one merge (taken before mu). */
	pthread_mutex_t pub_mu;
	struct condvar cv;
	pthread_t thread;
	atomic_bool stop;
	bool closed, sub_done;	/* the client's last callbacks came (mu) */
	bool dirty;
	struct fleet_table *table;	/* under mu */
	struct fleet_stats st;		/* under mu */
};

static void
on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	struct fleet *f = closure;
	int rc;

	(void)nc;
	(void)sub;
	pthread_mutex_lock(&f->mu);
	rc = fleet_apply(f->table, natsMsg_GetSubject(msg), natsMsg_GetData(msg),
	    (size_t)natsMsg_GetDataLength(msg), clock_mono_ms());
	f->st.messages++;
	if (rc == -EAGAIN)
		f->st.resyncs++;
	else if (rc != 0) {
		f->st.bad_messages++;
		snprintf(f->st.error, sizeof(f->st.error), "a message on %.120s "
		    "was refused: %s", natsMsg_GetSubject(msg), rc == -EPERM ?
		    "its host name is not its subject's" : strerror(-rc));
	} else
		f->dirty = true;
	condvar_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	natsMsg_Destroy(msg);
}

static void
on_connection(natsConnection *nc, void *closure, bool up)
{
	struct fleet *f = closure;

	(void)nc;
	pthread_mutex_lock(&f->mu);
	f->st.connected = up;
	if (up)
		f->st.error[0] = '\0';
	pthread_mutex_unlock(&f->mu);
}

static void
on_connected(natsConnection *nc, void *closure)
{
	on_connection(nc, closure, true);
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
	on_connection(nc, closure, false);
}

/* The client's last callbacks, for the connection and the subscription:
 * after them none comes. */
static void
on_closed(natsConnection *nc, void *closure)
{
	struct fleet *f = closure;

	(void)nc;
	pthread_mutex_lock(&f->mu);
	f->closed = true;
	condvar_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static void
on_sub_done(void *closure)
{
	struct fleet *f = closure;

	pthread_mutex_lock(&f->mu);
	f->sub_done = true;
	condvar_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* One merge, and a fold for each group mode someone looks at, published
 * as the state's next version.  mu held on entry and exit; taken apart
 * around the publication. */
static void
merge_publish(struct fleet *f, int64_t now)
{
	struct fleet_merged m[GRAPH_GROUP_MAX];
	struct state_external ext[GRAPH_GROUP_MAX];
	struct state_counts sc;
	bool want[GRAPH_GROUP_MAX];
	int64_t t0 = clock_mono_us();
	unsigned mo;

	/* asked outside mu: the state's locks are never taken under it */
	pthread_mutex_unlock(&f->mu);
	for (mo = 0; mo < GRAPH_GROUP_MAX; mo++)
		want[mo] = mo != GRAPH_GROUP_PROCESS &&
		    state_mode_wanted(f->c.state, mo);
	pthread_mutex_lock(&f->pub_mu);
	pthread_mutex_lock(&f->mu);
	memset(m, 0, sizeof(m));
	memset(ext, 0, sizeof(ext));
	f->dirty = false;
	if (fleet_merge(f->table, now, f->c.stale_s, f->c.drop_s,
	    &m[GRAPH_GROUP_PROCESS]) != 0) {
		pthread_mutex_unlock(&f->pub_mu);
		return;
	}
	for (mo = 0; mo < GRAPH_GROUP_MAX; mo++)
		if (want[mo])
			(void)fleet_fold(f->table, mo, &m[mo]);
	f->st.merges++;
	f->st.hosts = (unsigned)m[GRAPH_GROUP_PROCESS].hosts;
	f->st.stale = (unsigned)m[GRAPH_GROUP_PROCESS].stale;
	pthread_mutex_unlock(&f->mu);

	for (mo = 0; mo < GRAPH_GROUP_MAX; mo++) {
		ext[mo].graph = m[mo].graph;
		ext[mo].glen = m[mo].glen;
		ext[mo].delta = m[mo].delta;
		ext[mo].dlen = m[mo].dlen;
	}
	memset(&sc, 0, sizeof(sc));
	sc.nodes = m[GRAPH_GROUP_PROCESS].nodes;
	sc.edges = m[GRAPH_GROUP_PROCESS].edges;
	sc.processes = m[GRAPH_GROUP_PROCESS].processes;
	sc.sockets = m[GRAPH_GROUP_PROCESS].sockets;
	sc.time_ms = clock_real_ms();
	sc.build_us = (uint32_t)(clock_mono_us() - t0);
	(void)state_publish_external(f->c.state, ext, &sc);
	pthread_mutex_unlock(&f->pub_mu);
	for (mo = 0; mo < GRAPH_GROUP_MAX; mo++)
		fleet_merged_clear(&m[mo]);
	pthread_mutex_lock(&f->mu);
	f->st.merge_ms = sc.build_us / 1000.0;
}

static void *
fleet_main(void *arg)
{
	struct fleet *f = arg;
	int64_t last = 0;

	pthread_mutex_lock(&f->mu);
	while (!atomic_load(&f->stop)) {
		int64_t now = clock_mono_ms();

		if (!(f->dirty && now - last >= MERGE_MIN_MS) &&
		    now - last < TICK_MS) {
			condvar_wait_ms(&f->cv, &f->mu, f->dirty ?
			    MERGE_MIN_MS - (now - last) : TICK_MS - (now - last));
			continue;
		}
		last = now;
		merge_publish(f, now);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
fleet_want(struct fleet *f, unsigned mode)
{
	struct fleet_merged m;
	int rc;

	pthread_mutex_lock(&f->pub_mu);
	pthread_mutex_lock(&f->mu);
	rc = fleet_fold(f->table, mode, &m);
	pthread_mutex_unlock(&f->mu);
	if (rc == 0)
		rc = state_publish_external_mode(f->c.state, mode, m.graph,
		    m.glen);
	pthread_mutex_unlock(&f->pub_mu);
	fleet_merged_clear(&m);
	/* nothing merged yet, or folded already: nothing to do */
	return rc == -EAGAIN || rc == -EALREADY ? 0 : rc;
}

static int
fail(struct fleet *f, char *err, size_t errlen, const char *what,
    natsStatus s)
{
	const char *last = nats_GetLastError(NULL);

	snprintf(err, errlen, "%s: %s", what, last != NULL && last[0] != '\0' ?
	    last : natsStatus_GetText(s));
	natsSubscription_Destroy(f->sub);
	natsConnection_Destroy(f->nc);
	natsOptions_Destroy(f->opts);
	fleet_table_free(f->table);
	free(f);
	return -EINVAL;
}

int
fleet_start(const struct fleet_config *c, struct fleet **out, char *err,
    size_t errlen)
{
	struct fleet *f;
	natsStatus s;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->table = fleet_table_new()) == NULL) {
		free(f);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->c = *c;
	if (f->c.stale_s == 0)
		f->c.stale_s = 15;
	if (f->c.drop_s == 0)
		f->c.drop_s = 300;
	atomic_init(&f->stop, false);
	if ((s = natsOptions_Create(&f->opts)) != NATS_OK)
		return fail(f, err, errlen, "nats options", s);
	if ((s = natsOptions_SetServers(f->opts, (const char **)c->servers,
	    (int)c->n_servers)) != NATS_OK)
		return fail(f, err, errlen, "--fleet", s);
	natsOptions_SetName(f->opts, "procnet-webd fleet");
	natsOptions_SetMaxReconnect(f->opts, -1);
	natsOptions_SetReconnectWait(f->opts, 1000);
	/* With a connected callback Connect returns at once when no server
	 * answers yet (without one it retries inside, forever). */
	natsOptions_SetReconnectedCB(f->opts, on_connected, f);
	natsOptions_SetDisconnectedCB(f->opts, on_disconnected, f);
	natsOptions_SetClosedCB(f->opts, on_closed, f);
	natsOptions_SetRetryOnFailedConnect(f->opts, true, on_connected, f);
	if (c->creds_file != NULL && (s = natsOptions_SetUserCredentialsFromFiles(
	    f->opts, c->creds_file, NULL)) != NATS_OK)
		return fail(f, err, errlen, "--nats-creds", s);
	if (c->tls_ca != NULL && ((s = natsOptions_SetSecure(f->opts,
	    true)) != NATS_OK || (s = natsOptions_LoadCATrustedCertificates(
	    f->opts, c->tls_ca)) != NATS_OK))
		return fail(f, err, errlen, "--nats-tls-ca", s);
	pthread_mutex_init(&f->mu, NULL);
	pthread_mutex_init(&f->pub_mu, NULL);
	if (condvar_init(&f->cv) != 0) {
		pthread_mutex_destroy(&f->pub_mu);
		pthread_mutex_destroy(&f->mu);
		return fail(f, err, errlen, "fleet", NATS_NO_MEMORY);
	}
	s = natsConnection_Connect(&f->nc, f->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED)
		goto fail_sync;
	if (s == NATS_OK)
		on_connection(f->nc, f, true);
	else
		snprintf(f->st.error, sizeof(f->st.error), "no NATS server "
		    "answers yet; retrying every second");
	/* The subscription is kept and replayed on every reconnect. */
	if ((s = natsConnection_Subscribe(&f->sub, f->nc, FLEET_SUBJECT, on_msg,
	    f)) != NATS_OK)
		goto fail_sync;
	natsSubscription_SetPendingLimits(f->sub, 4096, 256 * 1024 * 1024);
	natsSubscription_SetOnCompleteCB(f->sub, on_sub_done, f);
	if (pthread_create(&f->thread, NULL, fleet_main, f) != 0) {
		s = NATS_SYS_ERROR;
		goto fail_sync;
	}
	*out = f;
	return 0;
fail_sync:
	condvar_destroy(&f->cv);
	pthread_mutex_destroy(&f->pub_mu);
	pthread_mutex_destroy(&f->mu);
	return fail(f, err, errlen, "--fleet", s);
}

void
fleet_stop(struct fleet *f)
{
	if (f == NULL)
		return;
	/* No more messages first, then our thread. */
	natsSubscription_Unsubscribe(f->sub);
	natsConnection_Close(f->nc);
	pthread_mutex_lock(&f->mu);
	atomic_store(&f->stop, true);
	condvar_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	/* The client calls back from its own threads, the closed and
	 * subscription-done callbacks last: f lives until then (bounded;
	 * past that it is left, never freed under a callback). */
	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < 50 && !(f->closed && f->sub_done); i++)
		condvar_wait_ms(&f->cv, &f->mu, 100);
	pthread_mutex_unlock(&f->mu);
	if (!(f->closed && f->sub_done))
		return;
	natsSubscription_Destroy(f->sub);
	natsConnection_Destroy(f->nc);
	natsOptions_Destroy(f->opts);
	condvar_destroy(&f->cv);
	pthread_mutex_destroy(&f->pub_mu);
	pthread_mutex_destroy(&f->mu);
	fleet_table_free(f->table);
	free(f);
	nats_Close();
}

void
fleet_get_stats(struct fleet *f, struct fleet_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	*s = f->st;
	pthread_mutex_unlock(&f->mu);
}
