/*
 * A sample's connections (connbatch.h).  Three arrays (connections,
 * aggregates, owners) each with an open-addressing index of (hash, index+1)
 * slots, so merging a close into its open and finding an aggregate or an
 * owner is one probe; clearing keeps every allocation for the next sample.
 */
#include "connbatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint32_t hash;
	uint32_t idx1;		/* index + 1; 0 = empty */
};

struct index {
	struct slot *slots;
	size_t mask;		/* capacity - 1; capacity 0 when unused */
	size_t n;
};

struct flags {
	bool opened, closed;
};

struct connbatch {
	uint32_t max_conns;
	struct snap_conn *conns;
	struct flags *cflags;
	size_t n_conns, cap_conns, cap_cflags;
	struct index conn_ix;

	struct snap_conn_agg *aggs;
	size_t n_aggs, cap_aggs;
	struct index agg_ix;

	struct events_owner *owners;
	size_t n_owners, cap_owners;
	struct index owner_ix;

	uint64_t aggregated;
	uint64_t lost;
};

/* --- hashing --------------------------------------------------------- */

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

static uint64_t
mix_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t v;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, 8);
		h = mix(h, v);
	}
	for (; i < n; i++)
		h = mix(h, p[i]);
	return h;
}

static uint32_t
conn_hash(const struct snap_conn *c)
{
	uint64_t h = mix(0, c->cookie);

	h = mix(h, c->netns);
	h = mix(h, ((uint64_t)c->proto << 48) | ((uint64_t)c->family << 32) |
	    ((uint64_t)c->local_port << 16) | c->remote_port);
	h = mix_bytes(h, c->local.bytes, sizeof(c->local.bytes));
	h = mix_bytes(h, c->remote.bytes, sizeof(c->remote.bytes));
	return (uint32_t)(h ^ (h >> 32));
}

/* Same connection?  The local port is compared only when both know it. */
static bool
conn_same(const struct snap_conn *a, const struct snap_conn *b)
{
	return a->cookie == b->cookie && a->netns == b->netns &&
	    a->proto == b->proto && a->family == b->family &&
	    a->local_port == b->local_port && a->remote_port == b->remote_port &&
	    memcmp(a->local.bytes, b->local.bytes, sizeof(a->local.bytes)) == 0 &&
	    memcmp(a->remote.bytes, b->remote.bytes, sizeof(a->remote.bytes)) == 0;
}

static uint32_t
agg_hash(const struct snap_conn_agg *a)
{
	uint64_t h = mix(1, a->proto);

	h = mix(h, (uint32_t)a->client_pid);
	h = mix(h, (uint32_t)a->server_pid);
	h = mix(h, a->server_port);
	return (uint32_t)(h ^ (h >> 32));
}

static bool
agg_same(const struct snap_conn_agg *a, const struct snap_conn_agg *b)
{
	return a->proto == b->proto && a->client_pid == b->client_pid &&
	    a->server_pid == b->server_pid && a->server_port == b->server_port;
}

static uint32_t
owner_hash(int32_t pid, uint64_t start)
{
	uint64_t h = mix(mix(2, (uint32_t)pid), start);

	return (uint32_t)(h ^ (h >> 32));
}

/* --- the index ------------------------------------------------------- */

/* Room for one more entry at a load of at most 1/2. */
static int
index_reserve(struct index *ix)
{
	struct slot *old = ix->slots, *ns;
	size_t oldcap = ix->slots ? ix->mask + 1 : 0, cap, i, j;

	if (oldcap != 0 && (ix->n + 1) * 2 <= oldcap)
		return 0;
	cap = oldcap ? oldcap * 2 : 256;
	if ((ns = calloc(cap, sizeof(*ns))) == NULL)
		return -ENOMEM;
	for (i = 0; i < oldcap; i++) {
		if (old[i].idx1 == 0)
			continue;
		for (j = old[i].hash & (cap - 1); ns[j].idx1 != 0;
		    j = (j + 1) & (cap - 1))
			;
		ns[j] = old[i];
	}
	free(old);
	ix->slots = ns;
	ix->mask = cap - 1;
	return 0;
}

static void
index_clear(struct index *ix)
{
	if (ix->slots != NULL)
		memset(ix->slots, 0, (ix->mask + 1) * sizeof(*ix->slots));
	ix->n = 0;
}

/* The first slot of hash h: walk from here until idx1 is 0. */
static size_t
index_start(const struct index *ix, uint32_t h)
{
	return h & ix->mask;
}

static void
index_put(struct index *ix, size_t at, uint32_t h, size_t idx)
{
	ix->slots[at].hash = h;
	ix->slots[at].idx1 = (uint32_t)idx + 1;
	ix->n++;
}

/* --- growing arrays -------------------------------------------------- */

static int
grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(*arr, ncap * elem)) == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* --- owners ---------------------------------------------------------- */

static int
note_owner(struct connbatch *b, const struct snap_conn *c, const char *name)
{
	uint32_t h;
	size_t at;
	struct events_owner *o;

	if (c->owner != SNAP_OWNER_KNOWN || c->pid < 0)
		return 0;
	h = owner_hash(c->pid, c->start_time);
	if (index_reserve(&b->owner_ix) != 0)
		return -ENOMEM;
	for (at = index_start(&b->owner_ix, h); b->owner_ix.slots[at].idx1;
	    at = (at + 1) & b->owner_ix.mask) {
		o = &b->owners[b->owner_ix.slots[at].idx1 - 1];
		if (b->owner_ix.slots[at].hash == h && o->pid == c->pid &&
		    o->start_time == c->start_time) {
			if (o->name[0] == '\0' && name[0] != '\0')
				memcpy(o->name, name, sizeof(o->name));
			return 0;
		}
	}
	if (grow((void **)&b->owners, &b->cap_owners, b->n_owners + 1,
	    sizeof(*b->owners)) != 0)
		return -ENOMEM;
	o = &b->owners[b->n_owners];
	memset(o, 0, sizeof(*o));
	o->pid = c->pid;
	o->start_time = c->start_time;
	memcpy(o->name, name, sizeof(o->name));
	o->name[sizeof(o->name) - 1] = '\0';
	index_put(&b->owner_ix, at, h, b->n_owners++);
	return 0;
}

/* --- aggregates ------------------------------------------------------ */

/* Which end is the server: the role says; without one, the lower port. */
static void
agg_key(const struct snap_conn *c, struct snap_conn_agg *k)
{
	int32_t pid = c->owner == SNAP_OWNER_KNOWN ? c->pid : -1;
	bool server;

	memset(k, 0, sizeof(*k));
	k->proto = c->proto;
	k->client_pid = k->server_pid = -1;
	if (c->role == SNAP_ROLE_ACCEPT)
		server = true;
	else if (c->role == SNAP_ROLE_CONNECT)
		server = false;
	else
		server = c->local_port != 0 && c->local_port < c->remote_port;
	if (server) {
		k->server_pid = pid;
		k->server_port = c->local_port;
	} else {
		k->client_pid = pid;
		k->server_port = c->remote_port;
	}
}

static int
aggregate(struct connbatch *b, const struct conn_rec *r)
{
	struct snap_conn_agg k, *a = NULL;
	uint32_t h;
	size_t at;

	agg_key(&r->c, &k);
	if (b->n_aggs >= CONNBATCH_MAX_AGGS - 1) {
		/* the last slot is the catch-all */
		k.client_pid = k.server_pid = -1;
		k.server_port = 0;
	}
	h = agg_hash(&k);
	if (index_reserve(&b->agg_ix) != 0)
		return -ENOMEM;
	for (at = index_start(&b->agg_ix, h); b->agg_ix.slots[at].idx1;
	    at = (at + 1) & b->agg_ix.mask) {
		struct snap_conn_agg *x = &b->aggs[b->agg_ix.slots[at].idx1 - 1];

		if (b->agg_ix.slots[at].hash == h && agg_same(x, &k)) {
			a = x;
			break;
		}
	}
	if (a == NULL) {
		if (grow((void **)&b->aggs, &b->cap_aggs, b->n_aggs + 1,
		    sizeof(*b->aggs)) != 0)
			return -ENOMEM;
		a = &b->aggs[b->n_aggs];
		*a = k;
		index_put(&b->agg_ix, at, h, b->n_aggs++);
	}
	if (r->opened && a->opened < UINT32_MAX)
		a->opened++;
	if (r->closed && a->closed < UINT32_MAX)
		a->closed++;
	if (r->closed) {
		a->bytes_sent += r->c.bytes_sent;
		a->bytes_received += r->c.bytes_received;
	}
	b->aggregated++;
	return 0;
}

/* --- connections ----------------------------------------------------- */

/* Folds r into the record e of the same connection. */
static void
merge(struct snap_conn *e, struct flags *f, const struct conn_rec *r)
{
	const struct snap_conn *c = &r->c;

	if (e->owner != SNAP_OWNER_KNOWN && c->owner == SNAP_OWNER_KNOWN) {
		e->owner = c->owner;
		e->pid = c->pid;
		e->start_time = c->start_time;
	}
	if (e->role == SNAP_ROLE_UNKNOWN)
		e->role = c->role;
	if (e->open_ms == 0)
		e->open_ms = c->open_ms;
	if (c->close_ms != 0)
		e->close_ms = c->close_ms;
	if (c->bytes_sent > e->bytes_sent)
		e->bytes_sent = c->bytes_sent;
	if (c->bytes_received > e->bytes_received)
		e->bytes_received = c->bytes_received;
	f->opened |= r->opened;
	f->closed |= r->closed;
}

int
connbatch_add(struct connbatch *b, const struct conn_rec *r)
{
	uint32_t h = conn_hash(&r->c);
	struct snap_conn *e;
	size_t at = 0;
	int rc;

	if ((rc = note_owner(b, &r->c, r->name)) != 0)
		goto fail;
	if (b->n_conns < b->max_conns &&
	    (rc = index_reserve(&b->conn_ix)) != 0)
		goto fail;
	if (b->conn_ix.slots != NULL)
		for (at = index_start(&b->conn_ix, h);
		    b->conn_ix.slots[at].idx1; at = (at + 1) &
		    b->conn_ix.mask) {
			size_t i = b->conn_ix.slots[at].idx1 - 1;

			if (b->conn_ix.slots[at].hash == h &&
			    conn_same(&b->conns[i], &r->c)) {
				merge(&b->conns[i], &b->cflags[i], r);
				return 0;
			}
		}
	if (b->n_conns >= b->max_conns)
		return aggregate(b, r) == 0 ? 0 : (b->lost++, -ENOMEM);
	if ((rc = grow((void **)&b->conns, &b->cap_conns, b->n_conns + 1,
	    sizeof(*b->conns))) != 0)
		goto fail;
	if ((rc = grow((void **)&b->cflags, &b->cap_cflags, b->n_conns + 1,
	    sizeof(*b->cflags))) != 0)
		goto fail;
	e = &b->conns[b->n_conns];
	*e = r->c;
	if (e->owner != SNAP_OWNER_KNOWN)
		e->pid = -1;
	b->cflags[b->n_conns].opened = r->opened;
	b->cflags[b->n_conns].closed = r->closed;
	index_put(&b->conn_ix, at, h, b->n_conns++);
	return 0;
fail:
	/* Out of memory: an aggregate keeps the count if it can. */
	if (aggregate(b, r) != 0)
		b->lost++;
	return rc;
}

void
connbatch_view(const struct connbatch *b, struct events_batch *out)
{
	memset(out, 0, sizeof(*out));
	out->n_conns = b->n_conns;
	out->conns = b->conns;
	out->n_aggs = b->n_aggs;
	out->aggs = b->aggs;
	out->n_owners = b->n_owners;
	out->owners = b->owners;
	out->aggregated = b->aggregated;
}

uint64_t
connbatch_lost(const struct connbatch *b)
{
	return b->lost;
}

void
connbatch_clear(struct connbatch *b)
{
	b->n_conns = b->n_aggs = b->n_owners = 0;
	b->aggregated = 0;
	index_clear(&b->conn_ix);
	index_clear(&b->agg_ix);
	index_clear(&b->owner_ix);
}

struct connbatch *
connbatch_new(uint32_t max_conns)
{
	struct connbatch *b;

	if (max_conns == 0 || max_conns > EVENTS_MAX_CONNS_LIMIT)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max_conns = max_conns;
	return b;
}

void
connbatch_free(struct connbatch *b)
{
	if (b == NULL)
		return;
	free(b->conns);
	free(b->cflags);
	free(b->conn_ix.slots);
	free(b->aggs);
	free(b->agg_ix.slots);
	free(b->owners);
	free(b->owner_ix.slots);
	free(b);
}
