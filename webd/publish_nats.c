/*
 * publish.h on the NATS C client.  The client keeps its own connection
 * thread (reconnects forever, a second apart); ours only takes the newest
 * buffers from the state and hands them to natsConnection_Publish while
 * the connection is up.  Samples while it is down are skipped, not queued:
 * the first message after a reconnect is a full graph.
 */
#include "publish.h"

#include <errno.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "condvar.h"
#include "jsonw.h"
#include "netif.h"
#include "state.h"

#define RECONNECT_WAIT_MS	1000
#define CONNECT_TIMEOUT_MS	2000
/* What the client may buffer while reconnecting: nothing of ours (we do
 * not publish then), only its own protocol lines. */
#define RECONNECT_BUF		(64 * 1024)
#define IDLE_WAIT_MS		1000

struct publish {
	struct publish_config c;
	char subject[256];
	char host_name[128];
	char *host_json;
	size_t host_len;

	natsOptions *opts;
	natsConnection *nc;

	pthread_mutex_t mu;
	struct condvar cv;
	pthread_t thread;
	bool started, notified;
	bool closed;		/* the client's last callback came (under mu) */
	atomic_bool stop;
	atomic_bool need_full;

	/* under mu */
	struct publish_stats st;
	/* the publishing thread's */
	uint64_t last_seq;
	int64_t last_full_ms;
	char *msg;
	size_t msg_cap;
};

/* procnet.v1.<name with '.' as '_'>.graph: a name is one subject token. */
static void
make_subject(const char *name, char *out, size_t outlen)
{
	size_t n = (size_t)snprintf(out, outlen, "%s%s%s",
	    PUBLISH_SUBJECT_PREFIX, name, PUBLISH_SUBJECT_SUFFIX);

	for (size_t i = strlen(PUBLISH_SUBJECT_PREFIX); i < n && i < outlen &&
	    i < strlen(PUBLISH_SUBJECT_PREFIX) + strlen(name); i++)
		if (out[i] == '.')
			out[i] = '_';
}

/* {"name":..,"boot_id":..,"os":"linux","addrs":[..]}: who we are, so the
 * fleet view can tell a restarted host and match its addresses. */
static char *
host_json(const char *name)
{
	struct snap_addr *addrs = NULL;
	size_t n = 0;
	char boot[64] = "", buf[SNAP_ADDRSTRLEN];
	struct jsonw b;
	char *out = NULL;
	FILE *f;

	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		if (fgets(boot, sizeof(boot), f) == NULL)
			boot[0] = '\0';
		boot[strcspn(boot, "\n")] = '\0';
		fclose(f);
	}
	if (netif_local_addrs(&addrs, &n) != 0) {
		addrs = NULL;
		n = 0;
	}
	jsonw_init(&b, NULL, NULL);
	JSONW_LIT(&b, "{\"name\":");
	jsonw_str(&b, name);
	JSONW_LIT(&b, ",\"boot_id\":");
	jsonw_str(&b, boot);
	JSONW_LIT(&b, ",\"os\":\"linux\",\"addrs\":[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			jsonw_char(&b, ',');
		snap_addr_format(&addrs[i], buf);
		jsonw_str(&b, buf);
	}
	JSONW_LIT(&b, "]}");
	free(addrs);
	return jsonw_finish(&b, &out, NULL) == 0 ? out : NULL;
}

static void
set_error(struct publish *p, const char *what, natsStatus s)
{
	const char *last = nats_GetLastError(NULL);

	pthread_mutex_lock(&p->mu);
	snprintf(p->st.error, sizeof(p->st.error), "%s: %s", what,
	    last != NULL && last[0] != '\0' ? last : natsStatus_GetText(s));
	pthread_mutex_unlock(&p->mu);
}

static void
on_reconnected(natsConnection *nc, void *closure)
{
	struct publish *p = closure;

	(void)nc;
	atomic_store(&p->need_full, true);
	pthread_mutex_lock(&p->mu);
	p->st.reconnects++;
	p->st.error[0] = '\0';
	pthread_mutex_unlock(&p->mu);
	publish_notify(p);
}

static void
on_connected(natsConnection *nc, void *closure)
{
	struct publish *p = closure;

	(void)nc;
	atomic_store(&p->need_full, true);
	pthread_mutex_lock(&p->mu);
	p->st.error[0] = '\0';
	pthread_mutex_unlock(&p->mu);
	publish_notify(p);
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
	struct publish *p = closure;

	(void)nc;
	atomic_store(&p->need_full, true);
}

/* The client's last callback for the connection: after it none comes. */
static void
on_closed(natsConnection *nc, void *closure)
{
	struct publish *p = closure;

	(void)nc;
	pthread_mutex_lock(&p->mu);
	p->closed = true;
	condvar_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static void
on_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
    void *closure)
{
	(void)nc;
	(void)sub;
	set_error(closure, "nats", err);
}

/* {"host":H, + the buffer without its opening brace. */
static int
wrap(struct publish *p, const struct state_buf *b)
{
	size_t need = 9 + p->host_len + 1 + b->len;

	if (need > p->msg_cap) {
		char *m = realloc(p->msg, need);

		if (m == NULL)
			return -ENOMEM;
		p->msg = m;
		p->msg_cap = need;
	}
	memcpy(p->msg, "{\"host\":", 8);
	memcpy(p->msg + 8, p->host_json, p->host_len);
	p->msg[8 + p->host_len] = ',';
	memcpy(p->msg + 9 + p->host_len, b->data + 1, b->len - 1);
	return (int)(8 + p->host_len + b->len);
}

static void
send_latest(struct publish *p)
{
	struct state_view v;
	const struct state_buf *b;
	bool full;
	int64_t now = clock_mono_ms();
	natsStatus s;
	int len;

	state_get(p->c.state, &v);
	if (v.seq == 0 || v.full == NULL)
		goto out;
	if (natsConnection_Status(p->nc) != NATS_CONN_STATUS_CONNECTED) {
		const char *why = NULL;
		natsStatus ls = natsConnection_GetLastError(p->nc, &why);

		atomic_store(&p->need_full, true);
		pthread_mutex_lock(&p->mu);
		p->st.connected = false;
		p->st.skipped++;
		/* Why the connection is down (refused credentials, no
		 * server): the client keeps it, and keeps retrying. */
		if (ls != NATS_OK)
			snprintf(p->st.error, sizeof(p->st.error), "%s",
			    why != NULL && why[0] != '\0' ? why :
			    natsStatus_GetText(ls));
		else if (p->st.error[0] == '\0')
			snprintf(p->st.error, sizeof(p->st.error),
			    "not connected");
		pthread_mutex_unlock(&p->mu);
		goto out;
	}
	if (v.seq == p->last_seq)
		goto out;
	/* A delta only takes seq - 1 to seq: anything else starts over. */
	full = atomic_exchange(&p->need_full, false) || v.delta == NULL ||
	    v.seq != p->last_seq + 1 ||
	    now - p->last_full_ms >= (int64_t)p->c.full_every_s * 1000;
	b = full ? v.full : v.delta;
	if ((len = wrap(p, b)) < 0)
		goto out;
	if ((int64_t)len > natsConnection_GetMaxPayload(p->nc)) {
		atomic_store(&p->need_full, true);
		pthread_mutex_lock(&p->mu);
		p->st.too_big++;
		snprintf(p->st.error, sizeof(p->st.error), "a %s message of "
		    "%d bytes is over the server's max_payload (%lld)",
		    full ? "full" : "delta", len,
		    (long long)natsConnection_GetMaxPayload(p->nc));
		pthread_mutex_unlock(&p->mu);
		goto out;
	}
	s = natsConnection_Publish(p->nc, p->subject, p->msg, len);
	if (s != NATS_OK) {
		atomic_store(&p->need_full, true);
		set_error(p, "publish", s);
		goto out;
	}
	p->last_seq = v.seq;
	if (full)
		p->last_full_ms = now;
	pthread_mutex_lock(&p->mu);
	p->st.connected = true;
	if (full)
		p->st.sent_full++;
	else
		p->st.sent_delta++;
	p->st.bytes += (uint64_t)len;
	pthread_mutex_unlock(&p->mu);
out:
	state_view_release(&v);
}

static void *
publish_main(void *arg)
{
	struct publish *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!atomic_load(&p->stop)) {
		if (!p->notified)
			condvar_wait_ms(&p->cv, &p->mu, IDLE_WAIT_MS);
		if (atomic_load(&p->stop))
			break;
		p->notified = false;
		pthread_mutex_unlock(&p->mu);
		send_latest(p);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int
fail(struct publish *p, char *err, size_t errlen, const char *what,
    natsStatus s)
{
	const char *last = nats_GetLastError(NULL);

	snprintf(err, errlen, "%s: %s", what, last != NULL && last[0] != '\0' ?
	    last : natsStatus_GetText(s));
	if (p->nc != NULL)
		natsConnection_Destroy(p->nc);
	natsOptions_Destroy(p->opts);
	free(p->host_json);
	free(p);
	return -EINVAL;
}

int
publish_start(const struct publish_config *c, struct publish **out,
    char *err, size_t errlen)
{
	struct publish *p;
	natsStatus s;

	if (c->n_servers == 0 || c->n_servers > PUBLISH_MAX_SERVERS ||
	    c->state == NULL) {
		snprintf(err, errlen, "publish: bad configuration");
		return -EINVAL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->c = *c;
	if (c->host_name != NULL)
		snprintf(p->host_name, sizeof(p->host_name), "%s",
		    c->host_name);
	else if (gethostname(p->host_name, sizeof(p->host_name) - 1) != 0 ||
	    p->host_name[0] == '\0')
		snprintf(p->host_name, sizeof(p->host_name), "localhost");
	p->c.host_name = p->host_name;
	if ((p->host_json = host_json(p->host_name)) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->host_len = strlen(p->host_json);
	if (p->c.full_every_s == 0)
		p->c.full_every_s = 30;
	make_subject(p->host_name, p->subject, sizeof(p->subject));
	atomic_init(&p->stop, false);
	atomic_init(&p->need_full, true);

	if ((s = natsOptions_Create(&p->opts)) != NATS_OK)
		return fail(p, err, errlen, "nats options", s);
	if ((s = natsOptions_SetServers(p->opts, (const char **)c->servers,
	    (int)c->n_servers)) != NATS_OK)
		return fail(p, err, errlen, "--publish", s);
	natsOptions_SetName(p->opts, "procnet-webd");
	natsOptions_SetTimeout(p->opts, CONNECT_TIMEOUT_MS);
	natsOptions_SetMaxReconnect(p->opts, -1);
	natsOptions_SetReconnectWait(p->opts, RECONNECT_WAIT_MS);
	natsOptions_SetReconnectBufSize(p->opts, RECONNECT_BUF);
	natsOptions_SetReconnectedCB(p->opts, on_reconnected, p);
	natsOptions_SetDisconnectedCB(p->opts, on_disconnected, p);
	natsOptions_SetClosedCB(p->opts, on_closed, p);
	natsOptions_SetErrorHandler(p->opts, on_error, p);
	if ((s = natsOptions_SetRetryOnFailedConnect(p->opts, true,
	    on_connected, p)) != NATS_OK)
		return fail(p, err, errlen, "nats options", s);
	if (c->creds_file != NULL && (s = natsOptions_SetUserCredentialsFromFiles(
	    p->opts, c->creds_file, NULL)) != NATS_OK)
		return fail(p, err, errlen, "--nats-creds", s);
	if (c->tls_ca != NULL && ((s = natsOptions_SetSecure(p->opts,
	    true)) != NATS_OK || (s = natsOptions_LoadCATrustedCertificates(
	    p->opts, c->tls_ca)) != NATS_OK))
		return fail(p, err, errlen, "--nats-tls-ca", s);

	pthread_mutex_init(&p->mu, NULL);
	if (condvar_init(&p->cv) != 0) {
		pthread_mutex_destroy(&p->mu);
		return fail(p, err, errlen, "publish", NATS_NO_MEMORY);
	}
	/* Not yet connected is fine: the client keeps trying. */
	s = natsConnection_Connect(&p->nc, p->opts);
	if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
		condvar_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		return fail(p, err, errlen, "--publish", s);
	}
	if (pthread_create(&p->thread, NULL, publish_main, p) != 0) {
		natsConnection_Destroy(p->nc);
		p->nc = NULL;
		condvar_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		return fail(p, err, errlen, "publish thread", NATS_SYS_ERROR);
	}
	p->started = true;
	*out = p;
	return 0;
}

void
publish_notify(struct publish *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->notified = true;
	condvar_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
publish_stop(struct publish *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, true);
	condvar_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	/* Flushes what was published, then closes.  The client calls back
	 * from its own thread, the closed callback last: p lives until then
	 * (bounded; past that it is left, never freed under a callback). */
	natsConnection_Close(p->nc);
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < 50 && !p->closed; i++)
		condvar_wait_ms(&p->cv, &p->mu, 100);
	pthread_mutex_unlock(&p->mu);
	if (!p->closed)
		return;
	natsConnection_Destroy(p->nc);
	natsOptions_Destroy(p->opts);
	condvar_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->msg);
	free(p->host_json);
	free(p);
	/* The client library's own threads and memory. */
	nats_Close();
}

void
publish_get_stats(struct publish *p, struct publish_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	*s = p->st;
	pthread_mutex_unlock(&p->mu);
	s->connected = natsConnection_Status(p->nc) ==
	    NATS_CONN_STATUS_CONNECTED;
}
