/*
 * Connection tracking for ETW (etw_conns.h): an open-addressing table
 * keyed by the TCP 4-tuple (local, remote), linear probing, grown by
 * doubling up to the cap.  A 4-tuple names one connection while it is
 * open, which is all the key has to do: a new connect on the same tuple
 * after a close that was not yet taken starts a new entry only once the
 * old one has been taken, so both are reported.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "etw_conns.h"

struct slot {
	struct etw_conn conn;
	int64_t last_ms;	/* time of the last event on it */
	uint32_t seen;		/* table generation it was last noted in */
	bool used;
	bool taken;	/* reported as opened already */
	bool dead;	/* closed and taken: dropped at the next rebuild */
};

struct etw_conns {
	struct slot *slots;
	size_t cap;		/* slots, a power of two */
	size_t used;
	size_t max;
	uint64_t dropped;
	uint32_t gen;		/* socket-table generation (table_begin) */
};

#define INITIAL_SLOTS	256u

struct etw_conns *etw_conns_new(size_t max)
{
	struct etw_conns *c;

	if (max == 0)
		max = ETW_CONNS_DEFAULT_MAX;
	if (max > ETW_CONNS_MAX_MAX)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cap = INITIAL_SLOTS;
	c->slots = calloc(c->cap, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	c->max = max;
	return c;
}

void etw_conns_free(struct etw_conns *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

size_t etw_conns_count(const struct etw_conns *c)
{
	return c->used;
}

uint64_t etw_conns_dropped(const struct etw_conns *c)
{
	return c->dropped;
}

/* FNV-1a over the tuple's bytes. */
static uint64_t hash_tuple(const struct snap_addr *l, uint16_t lport,
    const struct snap_addr *r, uint16_t rport)
{
	uint64_t h = 1469598103934665603ull;
	const unsigned char ports[4] = {
		(unsigned char)(lport >> 8), (unsigned char)lport,
		(unsigned char)(rport >> 8), (unsigned char)rport,
	};

	for (size_t i = 0; i < 16; i++)
		h = (h ^ l->bytes[i]) * 1099511628211ull;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ r->bytes[i]) * 1099511628211ull;
	for (size_t i = 0; i < 4; i++)
		h = (h ^ ports[i]) * 1099511628211ull;
	return h ^ l->family;
}

static bool same_addr(const struct snap_addr *a, const struct snap_addr *b)
{
	return a->family == b->family &&
	    memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static bool slot_matches(const struct slot *s, const struct snap_addr *l,
    uint16_t lport, const struct snap_addr *r, uint16_t rport)
{
	return s->conn.local_port == lport && s->conn.remote_port == rport &&
	    same_addr(&s->conn.local, l) && same_addr(&s->conn.remote, r);
}

/* The open (not closed) entry for the tuple, or NULL. */
static struct slot *find_open(struct etw_conns *c, const struct snap_addr *l,
    uint16_t lport, const struct snap_addr *r, uint16_t rport)
{
	size_t mask = c->cap - 1;
	size_t i = (size_t)hash_tuple(l, lport, r, rport) & mask;

	for (; c->slots[i].used; i = (i + 1) & mask) {
		struct slot *s = &c->slots[i];

		if (s->conn.close_ms == 0 && slot_matches(s, l, lport, r, rport))
			return s;
	}
	return NULL;
}

static void place(struct slot *slots, size_t cap, const struct slot *s)
{
	size_t mask = cap - 1;
	size_t i = (size_t)hash_tuple(&s->conn.local, s->conn.local_port,
	    &s->conn.remote, s->conn.remote_port) & mask;

	while (slots[i].used)
		i = (i + 1) & mask;
	slots[i] = *s;
}

/* Rebuilds the table at new_cap slots without its dead entries.  -ENOMEM
 * leaves it as it was. */
static int rebuild(struct etw_conns *c, size_t new_cap)
{
	struct slot *n = calloc(new_cap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	c->used = 0;
	for (size_t i = 0; i < c->cap; i++) {
		if (!c->slots[i].used || c->slots[i].dead)
			continue;
		place(n, new_cap, &c->slots[i]);
		c->used++;
	}
	free(c->slots);
	c->slots = n;
	c->cap = new_cap;
	return 0;
}

/* A new entry for the tuple, or NULL when the cap (or memory) says no. */
static struct slot *insert(struct etw_conns *c, const struct etw_conn *conn)
{
	struct slot s = { .conn = *conn, .used = true };
	size_t mask, i;

	if (c->used >= c->max)
		return NULL;
	if ((c->used + 1) * 2 > c->cap && rebuild(c, c->cap * 2) < 0 &&
	    c->used + 1 >= c->cap)
		return NULL;	/* no memory to grow and no free slot left */
	mask = c->cap - 1;
	i = (size_t)hash_tuple(&conn->local, conn->local_port, &conn->remote,
	    conn->remote_port) & mask;
	while (c->slots[i].used)
		i = (i + 1) & mask;
	c->slots[i] = s;
	c->used++;
	return &c->slots[i];
}

static struct slot *open_conn(struct etw_conns *c,
    const struct etw_net_event *ev, uint8_t role, int64_t open_ms)
{
	struct etw_conn conn;
	struct slot *s;

	memset(&conn, 0, sizeof(conn));
	conn.family = ev->family;
	conn.role = role;
	conn.pid = ev->pid;
	conn.local = ev->local;
	conn.remote = ev->remote;
	conn.local_port = ev->local_port;
	conn.remote_port = ev->remote_port;
	conn.open_ms = open_ms;
	s = insert(c, &conn);
	if (!s)
		c->dropped++;
	return s;
}

/* One event applied; the entry it touched, or NULL. */
static struct slot *apply(struct etw_conns *c, const struct etw_net_event *ev,
    int64_t t_ms)
{
	struct slot *s;
	bool reversed = false;

	s = find_open(c, &ev->local, ev->local_port, &ev->remote,
	    ev->remote_port);
	if (!s && ev->kind == ETW_NET_RECV) {
		/* The receive orientation is the manifest's message text
		 * (etw_net.c); accept the other one too. */
		s = find_open(c, &ev->remote, ev->remote_port, &ev->local,
		    ev->local_port);
		reversed = s != NULL;
	}

	switch (ev->kind) {
	case ETW_NET_CONNECT:
	case ETW_NET_ACCEPT: {
		uint8_t role = ev->kind == ETW_NET_CONNECT ?
		    ETW_CONN_ROLE_CONNECT : ETW_CONN_ROLE_ACCEPT;

		if (s && s->conn.open_ms == 0 && s->conn.role ==
		    ETW_CONN_ROLE_UNKNOWN) {
			/* Bytes came first (events reordered across CPUs):
			 * this is the same connection's start. */
			s->conn.open_ms = t_ms;
			s->conn.role = role;
			s->conn.pid = ev->pid;
			s->taken = false;
			return s;
		}
		if (s) {
			/* The tuple is open again without a close seen: the
			 * close was lost.  End the old one here. */
			s->conn.close_ms = t_ms;
		}
		return open_conn(c, ev, role, t_ms);
	}
	case ETW_NET_DISCONNECT:
		if (!s) {
			s = open_conn(c, ev, ETW_CONN_ROLE_UNKNOWN, 0);
			if (!s)
				return NULL;
			/* Opened before the session: reported once, at
			 * its close. */
			s->taken = true;
		}
		if (s->conn.pid == 0)
			s->conn.pid = ev->pid;
		s->conn.close_ms = t_ms;
		return s;
	case ETW_NET_SEND:
	case ETW_NET_RECV:
		if (!s) {
			s = open_conn(c, ev, ETW_CONN_ROLE_UNKNOWN, 0);
			if (!s)
				return NULL;
			s->taken = true;
			/* A receive's pid is the context the packet was
			 * processed in, not the owner. */
			if (ev->kind == ETW_NET_RECV)
				s->conn.pid = 0;
		}
		if (ev->kind == ETW_NET_SEND && !reversed)
			s->conn.bytes_sent += ev->size;
		else
			s->conn.bytes_received += ev->size;
		return s;
	default:
		return NULL;
	}
}

void etw_conns_event(struct etw_conns *c, const struct etw_net_event *ev,
    int64_t t_ms)
{
	struct slot *s;

	if (ev->proto != SNAP_PROTO_TCP)
		return;
	if (t_ms <= 0)
		t_ms = 1;	/* 0 means "unknown" in open_ms/close_ms */
	if ((s = apply(c, ev, t_ms)) != NULL && s->last_ms < t_ms)
		s->last_ms = t_ms;
}

void etw_conns_table_begin(struct etw_conns *c)
{
	c->gen++;
}

void etw_conns_table_note(struct etw_conns *c, const struct snap_addr *local,
    uint16_t local_port, const struct snap_addr *remote,
    uint16_t remote_port)
{
	struct slot *s = find_open(c, local, local_port, remote, remote_port);

	if (s)
		s->seen = c->gen;
	/* Also the other way round, as a receive may have been tracked
	 * (etw_net.c); on loopback that is the other end, in the table too. */
	if ((s = find_open(c, remote, remote_port, local, local_port)) != NULL)
		s->seen = c->gen;
}

size_t etw_conns_table_end(struct etw_conns *c, int64_t now_ms,
    int64_t quiet_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < c->cap; i++) {
		struct slot *s = &c->slots[i];

		if (!s->used || s->dead || s->conn.close_ms != 0 ||
		    s->seen == c->gen || s->last_ms > now_ms - quiet_ms)
			continue;
		/* Gone from the table and quiet: it ended, at the latest
		 * when its last event was. */
		s->conn.close_ms = s->last_ms;
		n++;
	}
	return n;
}

size_t etw_conns_take(struct etw_conns *c,
    void (*emit)(void *ctx, const struct etw_conn *conn), void *ctx)
{
	size_t n = 0, closed = 0;

	for (size_t i = 0; i < c->cap; i++) {
		struct slot *s = &c->slots[i];

		if (!s->used || s->dead)
			continue;
		s->conn.new_open = !s->taken && s->conn.open_ms != 0;
		if (s->conn.close_ms != 0) {
			emit(ctx, &s->conn);
			n++;
			s->dead = true;
			closed++;
		} else if (!s->taken) {
			emit(ctx, &s->conn);
			n++;
			s->taken = true;
		}
	}
	/* Emptying slots would break linear-probe chains: the taken ones
	 * stay as dead entries (skipped by lookups, which only match open
	 * ones) until this rehash; on ENOMEM they wait for the next take. */
	if (closed)
		(void)rebuild(c, c->cap);
	return n;
}
