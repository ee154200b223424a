/*
 * The resolver thread and its cache.  One mutex guards the cache, the
 * queue and the counters; c-ares is touched only by the resolver thread,
 * and its callbacks run there (inside ares_process / ares_gethostbyaddr).
 *
 * The cache is an open-addressing table keyed by address (linear probing,
 * backward-shift deletion).  An entry is PENDING from the miss that queued
 * it until its answer, then holds a name or a negative until it expires; an
 * expired entry is looked up again by the next miss.  When the cache is
 * full a clock hand evicts the next entry that is not pending.
 */
#include "resolver.h"

#include <ares.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "condvar.h"
#include "hostsfile.h"

#define QUEUE_MAX	1024u
#define LOCAL_MAX	4096u
#define IDLE_WAIT_MS	1000
#define IO_WAIT_MS	100
#define HOSTS_CHECK_MS	5000

enum entry_state { ENTRY_FREE, ENTRY_PENDING, ENTRY_NAME, ENTRY_NONE };

struct entry {
	struct snap_addr addr;
	uint8_t state;		/* enum entry_state */
	uint8_t source;		/* enum names_source, ENTRY_NAME only */
	int64_t expires_ms;	/* monotonic; ENTRY_NAME and ENTRY_NONE */
	char *name;		/* ENTRY_NAME */
};

struct resolver {
	struct resolver_config c;
	char server[64];

	pthread_mutex_t mu;
	struct condvar wake;
	pthread_t thread;
	bool started;
	atomic_bool stop;

	struct entry *slots;	/* cap: a power of two over cache_max */
	size_t cap, n, hand;

	struct snap_addr queue[QUEUE_MAX];	/* ring of PENDING misses */
	size_t q_head, q_len;

	struct snap_addr *local;
	size_t n_local;
	char hostname[RESOLVER_NAME_MAX];

	double tokens;
	int64_t tokens_ms;
	unsigned in_flight;
	struct resolver_stats st;

	struct hostsfile *hosts;	/* swapped under mu */

	/* The resolver thread's alone. */
	ares_channel dns;	/* NULL unless mode ON */
	char *hosts_path;
	int64_t hosts_checked_ms;
	time_t hosts_mtime;
	off_t hosts_size;
};

struct query {
	struct resolver *r;
	struct snap_addr addr;
};

static const char *const mode_names[RESOLVE_MODE_MAX] = { "off", "local",
    "on" };
static const char *const source_names[NAMES_SOURCE_MAX] = { "", "hosts",
    "local", "ptr" };

const char *
resolve_mode_name(unsigned mode)
{
	return mode < RESOLVE_MODE_MAX ? mode_names[mode] : NULL;
}

const char *
names_source_name(unsigned source)
{
	return source < NAMES_SOURCE_MAX ? source_names[source] : NULL;
}

static size_t
addr_len(const struct snap_addr *a)
{
	return a->family == 4 ? 4 : 16;
}

static bool
addr_eq(const struct snap_addr *a, const struct snap_addr *b)
{
	return a->family == b->family &&
	    memcmp(a->bytes, b->bytes, addr_len(a)) == 0;
}

static size_t
addr_hash(const struct snap_addr *a)
{
	uint64_t h = 1469598103934665603ull ^ a->family;

	for (size_t i = 0; i < addr_len(a); i++)
		h = (h ^ a->bytes[i]) * 1099511628211ull;
	return (size_t)(h ^ h >> 29);
}

/* The slot holding a, or the free slot where it would go. */
static size_t
slot_of(const struct resolver *r, const struct snap_addr *a)
{
	size_t i = addr_hash(a) & (r->cap - 1);

	while (r->slots[i].state != ENTRY_FREE && !addr_eq(&r->slots[i].addr, a))
		i = (i + 1) & (r->cap - 1);
	return i;
}

static void
slot_remove(struct resolver *r, size_t i)
{
	size_t j = i;

	free(r->slots[i].name);
	r->slots[i].name = NULL;
	r->slots[i].state = ENTRY_FREE;
	r->n--;
	/* Backward shift: move later entries of the run into the hole
	 * when their home is at or before it. */
	for (;;) {
		size_t home;

		j = (j + 1) & (r->cap - 1);
		if (r->slots[j].state == ENTRY_FREE)
			return;
		home = addr_hash(&r->slots[j].addr) & (r->cap - 1);
		if (((j - home) & (r->cap - 1)) >= ((j - i) & (r->cap - 1))) {
			r->slots[i] = r->slots[j];
			r->slots[j].state = ENTRY_FREE;
			r->slots[j].name = NULL;
			i = j;
		}
	}
}

/* Frees room for one more entry; false when every entry is pending. */
static bool
evict_one(struct resolver *r)
{
	for (size_t k = 0; k < r->cap; k++) {
		size_t i = (r->hand + k) & (r->cap - 1);

		if (r->slots[i].state == ENTRY_NAME || r->slots[i].state == ENTRY_NONE) {
			r->hand = (i + 1) & (r->cap - 1);
			slot_remove(r, i);
			return true;
		}
	}
	return false;
}

static bool
addr_nameless(const struct snap_addr *a)
{
	static const uint8_t zero[16];

	if (a->family == 4)
		return memcmp(a->bytes, zero, 4) == 0 ||
		    (a->bytes[0] & 0xf0) == 0xe0 || a->bytes[0] == 255;
	if (a->family == 6)
		return memcmp(a->bytes, zero, 16) == 0 || a->bytes[0] == 0xff;
	return true;
}

static bool
is_local(const struct resolver *r, const struct snap_addr *a)
{
	for (size_t i = 0; i < r->n_local; i++)
		if (addr_eq(&r->local[i], a))
			return true;
	return false;
}

/* The loopback interface's own addresses.  The rest of 127/8 is asked
 * of DNS like any address no interface holds (resolvers answer
 * 127.in-addr.arpa themselves, RFC 6761). */
static bool
is_loopback(const struct snap_addr *a)
{
	static const uint8_t v4lo[4] = { 127, 0, 0, 1 };
	static const uint8_t v6lo[16] = { [15] = 1 };

	return a->family == 4 ? memcmp(a->bytes, v4lo, 4) == 0 :
	    memcmp(a->bytes, v6lo, 16) == 0;
}

static void
refill_tokens(struct resolver *r, int64_t now)
{
	double burst = r->c.rate_per_s;

	r->tokens += (double)(now - r->tokens_ms) * r->c.rate_per_s / 1000.0;
	if (r->tokens > burst)
		r->tokens = burst;
	r->tokens_ms = now;
}

enum names_source
resolver_name(struct resolver *r, const struct snap_addr *a, char *out)
{
	enum names_source src = NAMES_SOURCE_NONE;
	const char *known;
	int64_t now;
	struct entry *e;
	size_t i;

	out[0] = '\0';
	if (r == NULL || r->c.mode == RESOLVE_OFF || addr_nameless(a))
		return NAMES_SOURCE_NONE;
	now = clock_mono_ms();
	pthread_mutex_lock(&r->mu);
	/* Local knowledge first, answered in the call. */
	if ((known = hostsfile_lookup(r->hosts, a)) != NULL) {
		snprintf(out, RESOLVER_NAME_MAX, "%s", known);
		src = NAMES_SOURCE_HOSTS;
		goto out;
	}
	if (is_loopback(a) || is_local(r, a)) {
		/* This machine's addresses never leave it. */
		known = is_loopback(a) ? "localhost" : r->hostname;
		if (known[0] != '\0') {
			snprintf(out, RESOLVER_NAME_MAX, "%s", known);
			src = NAMES_SOURCE_LOCAL;
		}
		goto out;
	}
	if (r->c.mode != RESOLVE_ON)
		goto out;

	i = slot_of(r, a);
	e = &r->slots[i];
	if (e->state == ENTRY_NAME && now < e->expires_ms) {
		snprintf(out, RESOLVER_NAME_MAX, "%s", e->name);
		src = (enum names_source)e->source;
		goto out;
	}
	if (e->state == ENTRY_PENDING || (e->state == ENTRY_NONE &&
	    now < e->expires_ms))
		goto out;
	/* A miss, or an expired answer: queue a lookup.  An expired name is
	 * still served until its new answer comes, so a name does not
	 * flicker off the map every TTL. */
	if (e->state == ENTRY_NAME) {
		snprintf(out, RESOLVER_NAME_MAX, "%s", e->name);
		src = (enum names_source)e->source;
	}
	if (r->q_len == QUEUE_MAX) {
		r->st.rate_limited++;
		goto out;
	}
	if (e->state == ENTRY_FREE) {
		if (r->n >= r->c.cache_max && !evict_one(r)) {
			r->st.rate_limited++;
			goto out;
		}
		i = slot_of(r, a);	/* the eviction may have moved things */
		e = &r->slots[i];
		e->addr = *a;
		e->name = NULL;
		r->n++;
	}
	e->state = ENTRY_PENDING;
	r->queue[(r->q_head + r->q_len++) % QUEUE_MAX] = *a;
	condvar_signal(&r->wake);
out:
	pthread_mutex_unlock(&r->mu);
	return src;
}

const char *
resolver_name_of(void *ctx, const struct snap_addr *a, char *name)
{
	enum names_source s = resolver_name(ctx, a, name);

	return s == NAMES_SOURCE_NONE ? NULL : names_source_name(s);
}

/* Stores an answer (name NULL: none) for a pending entry; mu held. */
static void
settle(struct resolver *r, const struct snap_addr *a, const char *name,
    enum names_source src, uint32_t ttl_s)
{
	size_t i = slot_of(r, a);
	struct entry *e = &r->slots[i];
	char *copy = NULL;

	if (e->state != ENTRY_PENDING)	/* evicted meanwhile: nothing to do */
		return;
	if (name != NULL && (copy = strdup(name)) == NULL)
		name = NULL;	/* out of memory: a negative, asked again later */
	free(e->name);
	e->name = copy;
	if (name != NULL) {
		e->state = ENTRY_NAME;
		e->source = (uint8_t)src;
		if (ttl_s < RESOLVER_TTL_MIN_S)
			ttl_s = RESOLVER_TTL_MIN_S;
		if (ttl_s > RESOLVER_TTL_MAX_S)
			ttl_s = RESOLVER_TTL_MAX_S;
	} else {
		e->state = ENTRY_NONE;
		ttl_s = RESOLVER_NEGATIVE_S;
	}
	e->expires_ms = clock_mono_ms() + (int64_t)ttl_s * 1000;
}

static void
on_ptr(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct resolver *r = q->r;
	char name[DNSMSG_NAME_MAX + 1];
	uint32_t ttl = 0;
	int rc = -EIO;

	(void)timeouts;
	/* c-ares hands over the reply for NXDOMAIN and NODATA too. */
	if (abuf != NULL && alen > 0 && (status == ARES_SUCCESS ||
	    status == ARES_ENOTFOUND || status == ARES_ENODATA))
		rc = dnsmsg_ptr_answer(abuf, (size_t)alen, name, &ttl);
	pthread_mutex_lock(&r->mu);
	r->in_flight--;
	if (rc == DNSMSG_ANSWER) {
		r->st.answers++;
		settle(r, &q->addr, name, NAMES_SOURCE_PTR, ttl);
	} else {
		if (rc == DNSMSG_NXDOMAIN || rc == DNSMSG_NODATA)
			r->st.no_name++;
		else if (status != ARES_EDESTRUCTION)
			r->st.failures++;
		settle(r, &q->addr, NULL, NAMES_SOURCE_NONE, 0);
	}
	pthread_mutex_unlock(&r->mu);
	free(q);
}

/* The resolver thread: a reverse query for a dequeued address. */
static void
lookup(struct resolver *r, const struct snap_addr *a)
{
	char rev[DNSMSG_REVERSE_MAX];
	struct query *q;

	if ((q = malloc(sizeof(*q))) == NULL) {
		pthread_mutex_lock(&r->mu);
		settle(r, a, NULL, NAMES_SOURCE_NONE, 0);
		pthread_mutex_unlock(&r->mu);
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->in_flight++;
	r->st.queries++;
	pthread_mutex_unlock(&r->mu);
	q->r = r;
	q->addr = *a;
	dnsmsg_reverse_name(a, rev);
	ares_query(r->dns, rev, DNSMSG_CLASS_IN, DNSMSG_TYPE_PTR, on_ptr, q);
}

/* The resolver thread: rereads the hosts file when it changed (checked
 * every HOSTS_CHECK_MS); a file that cannot be read keeps the last table,
 * one that is gone empties it. */
static void
hosts_refresh(struct resolver *r)
{
	struct hostsfile *h = NULL, *old;
	struct stat sb;
	int64_t now = clock_mono_ms();
	char *text;
	size_t len;
	FILE *f;

	if (r->hosts_checked_ms != 0 && now - r->hosts_checked_ms <
	    HOSTS_CHECK_MS)
		return;
	r->hosts_checked_ms = now;
	if (stat(r->hosts_path, &sb) != 0) {
		if (errno != ENOENT)
			return;
		memset(&sb, 0, sizeof(sb));
	} else if (sb.st_mtime == r->hosts_mtime && sb.st_size ==
	    r->hosts_size && r->hosts != NULL) {
		return;
	}
	if (sb.st_size > 0 && (f = fopen(r->hosts_path, "rb")) != NULL) {
		if ((text = malloc(HOSTSFILE_MAX_SIZE)) != NULL) {
			len = fread(text, 1, HOSTSFILE_MAX_SIZE, f);
			if (!ferror(f))
				hostsfile_parse(text, len, &h);
			free(text);
		}
		fclose(f);
		if (h == NULL)
			return;		/* try again at the next check */
	} else if (sb.st_size > 0 || hostsfile_parse("", 0, &h) != 0) {
		return;
	}
	r->hosts_mtime = sb.st_mtime;
	r->hosts_size = sb.st_size;
	pthread_mutex_lock(&r->mu);
	old = r->hosts;
	r->hosts = h;
	pthread_mutex_unlock(&r->mu);
	hostsfile_free(old);
}

static void *
resolver_main(void *arg)
{
	struct resolver *r = arg;

	pthread_mutex_lock(&r->mu);
	while (!atomic_load(&r->stop)) {
		fd_set rfds, wfds;
		struct timeval tv, maxtv = { 0, IO_WAIT_MS * 1000 }, *tvp;
		int nfds;

		pthread_mutex_unlock(&r->mu);
		hosts_refresh(r);
		pthread_mutex_lock(&r->mu);
		refill_tokens(r, clock_mono_ms());
		while (r->q_len > 0 && r->in_flight < r->c.inflight_max &&
		    r->tokens >= 1.0) {
			struct snap_addr a = r->queue[r->q_head];

			r->q_head = (r->q_head + 1) % QUEUE_MAX;
			r->q_len--;
			r->tokens -= 1.0;
			pthread_mutex_unlock(&r->mu);
			lookup(r, &a);
			pthread_mutex_lock(&r->mu);
		}
		nfds = 0;
		if (r->dns != NULL) {
			FD_ZERO(&rfds);
			FD_ZERO(&wfds);
			nfds = ares_fds(r->dns, &rfds, &wfds);
		}
		if (nfds == 0) {
			/* Nothing on the wire: sleep until a miss is queued,
			 * or a token is due for one already waiting. */
			condvar_wait_ms(&r->wake, &r->mu, r->q_len > 0 ?
			    1000 / (int64_t)r->c.rate_per_s + 1 : IDLE_WAIT_MS);
			continue;
		}
		pthread_mutex_unlock(&r->mu);
		tvp = ares_timeout(r->dns, &maxtv, &tv);
		if (select(nfds, &rfds, &wfds, NULL, tvp) < 0) {
			FD_ZERO(&rfds);
			FD_ZERO(&wfds);
		}
		ares_process(r->dns, &rfds, &wfds);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int
resolver_new(const struct resolver_config *c, struct resolver **out,
    char *err, size_t errlen)
{
	struct resolver *r;
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->c = *c;
	if (r->c.cache_max == 0)
		r->c.cache_max = RESOLVER_CACHE_MAX;
	if (r->c.inflight_max == 0)
		r->c.inflight_max = RESOLVER_INFLIGHT_MAX;
	if (r->c.rate_per_s == 0)
		r->c.rate_per_s = RESOLVER_RATE_PER_S;
	if (r->c.timeout_ms == 0)
		r->c.timeout_ms = RESOLVER_TIMEOUT_MS;
	r->st.mode = c->mode;
	r->c.server = NULL;
	r->c.hosts_path = NULL;
	atomic_init(&r->stop, false);
	if (c->mode == RESOLVE_OFF) {
		*out = r;
		return 0;
	}
	if (c->server != NULL) {
		if (strlen(c->server) >= sizeof(r->server)) {
			snprintf(err, errlen, "resolver address too long");
			free(r);
			return -EINVAL;
		}
		snprintf(r->server, sizeof(r->server), "%s", c->server);
		r->c.server = r->server;
	}
	r->hosts_path = c->hosts_path != NULL ? strdup(c->hosts_path) :
	    hostsfile_default_path();
	if (r->hosts_path == NULL)
		goto nomem;
	for (r->cap = 16; r->cap < r->c.cache_max + r->c.cache_max / 2;)
		r->cap *= 2;
	if ((r->slots = calloc(r->cap, sizeof(*r->slots))) == NULL)
		goto nomem;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot start the resolver: %s",
		    ares_strerror(rc));
		goto fail_lib;
	}
	if (c->mode == RESOLVE_ON) {
		struct ares_options o;

		memset(&o, 0, sizeof(o));
		o.timeout = (int)r->c.timeout_ms;
		o.tries = RESOLVER_TRIES;
		rc = ares_init_options(&r->dns, &o, ARES_OPT_TIMEOUTMS |
		    ARES_OPT_TRIES);
		if (rc != ARES_SUCCESS) {
			r->dns = NULL;
			snprintf(err, errlen, "cannot start the resolver: %s",
			    ares_strerror(rc));
			goto fail;
		}
		if (r->c.server != NULL && (rc = ares_set_servers_ports_csv(
		    r->dns, r->c.server)) != ARES_SUCCESS) {
			snprintf(err, errlen, "--resolver %s: %s", r->c.server,
			    ares_strerror(rc));
			goto fail;
		}
	}
	r->tokens = r->c.rate_per_s;
	r->tokens_ms = clock_mono_ms();
	pthread_mutex_init(&r->mu, NULL);
	if (condvar_init(&r->wake) != 0) {
		pthread_mutex_destroy(&r->mu);
		snprintf(err, errlen, "cannot start the resolver: out of "
		    "resources");
		goto fail;
	}
	/* The hosts file is there for the first sample already. */
	hosts_refresh(r);
	if ((rc = pthread_create(&r->thread, NULL, resolver_main, r)) != 0) {
		hostsfile_free(r->hosts);
		condvar_destroy(&r->wake);
		pthread_mutex_destroy(&r->mu);
		snprintf(err, errlen, "cannot start the resolver thread: %s",
		    strerror(rc));
		goto fail;
	}
	r->started = true;
	*out = r;
	return 0;
fail:
	if (r->dns != NULL)
		ares_destroy(r->dns);
	ares_library_cleanup();
fail_lib:
	free(r->slots);
	free(r->hosts_path);
	free(r);
	return -EIO;
nomem:
	if (r != NULL) {
		free(r->slots);
		free(r->hosts_path);
	}
	free(r);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

void
resolver_free(struct resolver *r)
{
	if (r == NULL)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->mu);
		atomic_store(&r->stop, true);
		condvar_signal(&r->wake);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
		/* Cancels what is in flight: on_ptr runs once more for each,
		 * with ARES_EDESTRUCTION, and frees its query. */
		if (r->dns != NULL)
			ares_destroy(r->dns);
		ares_library_cleanup();
		condvar_destroy(&r->wake);
		pthread_mutex_destroy(&r->mu);
	}
	for (size_t i = 0; i < r->cap; i++)
		free(r->slots[i].name);
	free(r->slots);
	hostsfile_free(r->hosts);
	free(r->hosts_path);
	free(r->local);
	free(r);
}

void
resolver_set_local(struct resolver *r, const struct snap_addr *addrs,
    size_t n, const char *hostname)
{
	struct snap_addr *copy = NULL;
	char host[RESOLVER_NAME_MAX] = "";

	if (r == NULL || !r->started)
		return;
	if (n > LOCAL_MAX)
		n = LOCAL_MAX;
	if (n > 0 && (copy = malloc(n * sizeof(*copy))) == NULL)
		return;		/* keep the last list */
	if (n > 0)
		memcpy(copy, addrs, n * sizeof(*copy));
	/* The host name as a name: lower case, and only when it is one. */
	if (hostname != NULL && strlen(hostname) < sizeof(host)) {
		size_t i;

		for (i = 0; hostname[i] != '\0'; i++) {
			char ch = hostname[i];

			if (ch >= 'A' && ch <= 'Z')
				ch = (char)(ch + 32);
			if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' &&
			    ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
				break;
			host[i] = ch;
		}
		host[hostname[i] == '\0' ? i : 0] = '\0';
	}
	pthread_mutex_lock(&r->mu);
	free(r->local);
	r->local = copy;
	r->n_local = n;
	snprintf(r->hostname, sizeof(r->hostname), "%s", host);
	pthread_mutex_unlock(&r->mu);
}

void
resolver_get_stats(struct resolver *r, struct resolver_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (r == NULL)
		return;
	if (!r->started) {
		s->mode = r->c.mode;
		return;
	}
	pthread_mutex_lock(&r->mu);
	*s = r->st;
	s->cached = (unsigned)r->n;
	s->in_flight = r->in_flight;
	s->queued = (unsigned)r->q_len;
	pthread_mutex_unlock(&r->mu);
}
