/*
 * SNAPSHOT payload, versions 1 and 2 (docs/protocol.md has the byte
 * layout).  Version 2 keeps version 1's order and adds, in place: the
 * events header, each process's argv (instead of the joined cmdline) and
 * details, each socket's identity and TCP counters, and the connection
 * events and aggregates at the end.  The byte-level pieces are in
 * codec_wire.c.
 */
#include "codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_wire.h"

/* v1: every process refers to 4 strings, the header to 2 more.  v2: a
 * process refers to 7 plus its arguments, so the table is capped on its
 * own (each entry costs the decoder 4 bytes of index besides its text). */
#define V1_MAX_STRINGS		(4u * SNAP_MAX_PROCESSES + 2u)
#define V2_MAX_STRINGS		(8u * SNAP_MAX_PROCESSES + 4u)
/* Smallest encodings, used to reject counts the payload cannot hold
 * before allocating for them. */
#define V1_PROC_MIN		(4 + 4 + 8 + 4 * 1)
#define V2_PROC_MIN		(4 + 4 + 8 + 3 * 1 + 1 + 1 + 4 * 1 + 8 + 4)
#define V1_SOCK_MIN		(6 + 2 + 2 + 4 + 0 + 4 + 8)
#define V2_SOCK_MIN		(V1_SOCK_MIN + 8 + 8)
#define CONN_MIN		(4 + 2 + 2 + 4 + 4 + 4 + 8 * 7)
#define AGG_SIZE		(1 + 1 + 2 + 4 + 4 + 4 + 4 + 8 + 8)

#define SOCK_HAS_INFO		0x1u	/* v2 socket flags byte */

/* A first allocation, never past the cap (the guess may be generous). */
static size_t
estimate(size_t n)
{
	return n < FRAME_MAX_PAYLOAD ? n : FRAME_MAX_PAYLOAD;
}

struct enc {
	struct wire_buf strs, body;
	struct wire_intern in;
	uint16_t version;
};

/* A string reference; the string joins the table on first use, so the
 * table lists strings in the order the body refers to them. */
static void
put_str(struct enc *e, const char *s)
{
	wire_put_varint(&e->body, wire_intern(&e->in, &e->strs, s));
}

static void
put_process(struct enc *e, const struct snap_process *p)
{
	struct wire_buf *b = &e->body;

	wire_put_u32(b, (uint32_t)p->pid);
	wire_put_u32(b, (uint32_t)p->ppid);
	wire_put_u64(b, p->start_time);
	put_str(e, p->user);
	put_str(e, p->name);
	put_str(e, p->exe);
	if (e->version == 1) {
		put_str(e, p->cmdline);
		return;
	}
	wire_put_varint(b, p->argc);
	for (uint32_t i = 0; i < p->argc; i++)
		put_str(e, p->argv[i]);
	/* a producer without argument boundaries has only the line */
	if (p->argc == 0)
		put_str(e, p->cmdline);
	put_str(e, p->service);
	put_str(e, p->container_runtime);
	put_str(e, p->container_id);
	put_str(e, p->container_name);
	wire_put_u64(b, p->netns);
	wire_put_u32(b, p->flags);
}

static void
put_socket(struct wire_buf *b, const struct snap_socket *k, uint16_t version)
{
	wire_put_u8(b, k->proto);
	wire_put_u8(b, k->state);
	wire_put_u8(b, k->owner);
	wire_put_u8(b, k->family);
	wire_put_u8(b, k->remote.family);
	/* v1: reserved, keeps the ports aligned; v2: flags */
	wire_put_u8(b, version >= 2 && k->has_info ? SOCK_HAS_INFO : 0);
	wire_put_u16(b, k->local_port);
	wire_put_u16(b, k->remote_port);
	wire_put_addr(b, &k->local, k->family);
	wire_put_addr(b, &k->remote, k->remote.family);
	wire_put_u32(b, (uint32_t)k->pid);
	wire_put_u64(b, k->inode);
	if (version == 1)
		return;
	wire_put_u64(b, k->netns);
	wire_put_u64(b, k->cookie);
	if (k->has_info) {
		wire_put_u64(b, k->bytes_sent);
		wire_put_u64(b, k->bytes_received);
		wire_put_u32(b, k->rtt_us);
		wire_put_u32(b, k->retrans);
	}
}

static void
put_conn(struct wire_buf *b, const struct snap_conn *c)
{
	wire_put_u8(b, c->proto);
	wire_put_u8(b, c->family);
	wire_put_u8(b, c->role);
	wire_put_u8(b, c->owner);
	wire_put_u16(b, c->local_port);
	wire_put_u16(b, c->remote_port);
	wire_put_addr(b, &c->local, c->family);
	wire_put_addr(b, &c->remote, c->family);
	wire_put_u32(b, (uint32_t)c->pid);
	wire_put_u64(b, c->start_time);
	wire_put_u64(b, c->netns);
	wire_put_u64(b, c->cookie);
	wire_put_u64(b, (uint64_t)c->open_ms);
	wire_put_u64(b, (uint64_t)c->close_ms);
	wire_put_u64(b, c->bytes_sent);
	wire_put_u64(b, c->bytes_received);
}

static void
put_conn_agg(struct wire_buf *b, const struct snap_conn_agg *a)
{
	wire_put_u8(b, a->proto);
	wire_put_u8(b, 0);	/* reserved, keeps the port aligned */
	wire_put_u16(b, a->server_port);
	wire_put_u32(b, (uint32_t)a->client_pid);
	wire_put_u32(b, (uint32_t)a->server_pid);
	wire_put_u32(b, a->opened);
	wire_put_u32(b, a->closed);
	wire_put_u64(b, a->bytes_sent);
	wire_put_u64(b, a->bytes_received);
}

static int
encode(const struct snapshot *s, uint16_t version, size_t reserve,
    uint8_t **out, size_t *len)
{
	struct enc e = {
		.strs = { .max = FRAME_MAX_PAYLOAD },
		.body = { .max = FRAME_MAX_PAYLOAD },
		.version = version,
	};
	struct wire_buf all = { .max = (size_t)FRAME_MAX_PAYLOAD + reserve };
	struct wire_buf *b = &e.body;
	size_t i, nrefs = 4 + 7 * s->n_processes;
	int r;

	if (version < CODEC_VERSION_MIN || version > CODEC_VERSION_MAX)
		return -EINVAL;
	if (s->n_processes > SNAP_MAX_PROCESSES ||
	    s->n_sockets > SNAP_MAX_SOCKETS || s->n_conns > SNAP_MAX_CONNS ||
	    s->n_conn_aggs > SNAP_MAX_CONN_AGGS)
		return -E2BIG;
	if (version >= 2)
		for (i = 0; i < s->n_processes; i++)
			nrefs += s->processes[i].argc;
	if (wire_intern_init(&e.in, nrefs) < 0) {
		wire_intern_free(&e.in);
		return -ENOMEM;
	}

	/* Room for the usual case up front: growing by doubling would copy
	 * a large snapshot several times over. */
	wire_reserve(b, estimate(48 + s->n_processes * 64 +
	    s->n_sockets * 64 + s->n_conns * 96 + s->n_conn_aggs * 36));
	wire_reserve(&e.strs, estimate(64 + s->n_processes * 16));

	put_str(&e, s->host);
	put_str(&e, s->os);
	wire_put_u64(b, (uint64_t)s->time_ms);
	wire_put_u32(b, s->sample_us);
	wire_put_u8(b, s->privileged ? 1 : 0);
	if (version >= 2) {
		put_str(&e, s->events_source);
		put_str(&e, s->events_reason);
		wire_put_u64(b, s->events_lost);
	}
	wire_put_u32(b, (uint32_t)s->n_processes);
	for (i = 0; i < s->n_processes && !b->error; i++)
		put_process(&e, &s->processes[i]);
	wire_put_u32(b, (uint32_t)s->n_sockets);
	for (i = 0; i < s->n_sockets && !b->error; i++)
		put_socket(b, &s->sockets[i], version);
	if (version >= 2) {
		wire_put_u32(b, (uint32_t)s->n_conns);
		for (i = 0; i < s->n_conns && !b->error; i++)
			put_conn(b, &s->conns[i]);
		wire_put_u32(b, (uint32_t)s->n_conn_aggs);
		for (i = 0; i < s->n_conn_aggs && !b->error; i++)
			put_conn_agg(b, &s->conn_aggs[i]);
	}

	r = e.strs.error ? e.strs.error : b->error;
	if (r == 0 && e.in.n > (version == 1 ? V1_MAX_STRINGS : V2_MAX_STRINGS))
		r = -E2BIG;
	if (r == 0 && e.strs.len + b->len + 4 > FRAME_MAX_PAYLOAD)
		r = -E2BIG;
	if (r == 0 && wire_reserve(&all, reserve + 4 + e.strs.len + b->len) < 0)
		r = all.error;
	if (r == 0) {
		/* String table first, so the decoder resolves indices as it
		 * goes. */
		all.len = reserve;
		wire_put_u32(&all, e.in.n);
		wire_put(&all, e.strs.data, e.strs.len);
		wire_put(&all, b->data, b->len);
		*out = all.data;
		*len = all.len;
		all.data = NULL;
	}
	free(all.data);
	free(e.strs.data);
	free(b->data);
	wire_intern_free(&e.in);
	return r;
}

int
codec_encode_snapshot(const struct snapshot *s, uint16_t version,
    uint8_t **buf, size_t *len)
{
	return encode(s, version, 0, buf, len);
}

int
codec_encode_snapshot_frame(const struct snapshot *s, uint16_t version,
    uint8_t **buf, size_t *len)
{
	uint8_t *b;
	size_t n;
	int r;

	r = encode(s, version, FRAME_HEADER_SIZE, &b, &n);
	if (r < 0)
		return r;
	frame_header_write(b, version, FRAME_SNAPSHOT,
	    (uint32_t)(n - FRAME_HEADER_SIZE));
	*buf = b;
	*len = n;
	return 0;
}

/* Decoding. */
struct dec {
	struct wire_cur c;
	struct wire_strtab t;
	struct snapshot_builder *b;
	uint16_t version;
	const char **argv;	/* SNAP_MAX_ARGC slots, reused per process */
};

/* A u32 count at most max whose items (each at least min bytes) fit in
 * what remains; refused before anything is allocated for them. */
static int
get_count(struct wire_cur *c, const char *what, uint32_t max, size_t min,
    uint32_t *n)
{
	if (wire_get_u32(c, what, n) < 0)
		return -EBADMSG;
	if (*n > max) {
		c->pos -= 4;
		return wire_bad(c, "%s %u exceeds the limit of %u", what, *n,
		    max);
	}
	if ((uint64_t)*n * min > c->len - c->pos) {
		c->pos -= 4;
		return wire_bad(c, "%s %u cannot fit in %zu bytes", what, *n,
		    c->len - c->pos - 4);
	}
	return 0;
}

static int
get_argv(struct dec *d, uint32_t i, struct snap_process *p)
{
	struct wire_cur *c = &d->c;
	size_t at = c->pos, bytes = 0;
	uint32_t argc;

	if (wire_get_varint(c, "process argc", &argc) < 0)
		return -EBADMSG;
	if (argc > SNAP_MAX_ARGC) {
		c->pos = at;
		return wire_bad(c, "process %u: %u arguments, limit %u", i, argc,
		    SNAP_MAX_ARGC);
	}
	for (uint32_t k = 0; k < argc; k++) {
		if (wire_get_strref(c, &d->t, "process argument", &d->argv[k]) < 0)
			return -EBADMSG;
		bytes += (k > 0 ? 1 : 0) + strlen(d->argv[k]);
		if (bytes > SNAP_MAX_ARGV_BYTES) {
			c->pos = at;
			return wire_bad(c, "process %u: arguments exceed %u bytes",
			    i, SNAP_MAX_ARGV_BYTES);
		}
	}
	p->argc = argc;
	p->argv = d->argv;
	if (argc == 0 &&
	    wire_get_strref(c, &d->t, "process cmdline", &p->cmdline) < 0)
		return -EBADMSG;
	return 0;
}

static int
get_processes(struct dec *d)
{
	struct wire_cur *c = &d->c;
	uint32_t n, i;
	int64_t last = INT64_MIN;
	int r;

	if (get_count(c, "process count", SNAP_MAX_PROCESSES,
	    d->version == 1 ? V1_PROC_MIN : V2_PROC_MIN, &n) < 0)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		struct snap_process p;
		uint32_t pid, ppid;
		size_t at = c->pos;

		memset(&p, 0, sizeof(p));
		if (wire_get_u32(c, "process pid", &pid) < 0 ||
		    wire_get_u32(c, "process ppid", &ppid) < 0 ||
		    wire_get_u64(c, "process start time", &p.start_time) < 0 ||
		    wire_get_strref(c, &d->t, "process user", &p.user) < 0 ||
		    wire_get_strref(c, &d->t, "process name", &p.name) < 0 ||
		    wire_get_strref(c, &d->t, "process exe", &p.exe) < 0)
			return -EBADMSG;
		if (d->version == 1) {
			if (wire_get_strref(c, &d->t, "process cmdline",
			    &p.cmdline) < 0)
				return -EBADMSG;
		} else {
			size_t fat;

			if (get_argv(d, i, &p) < 0 ||
			    wire_get_strref(c, &d->t, "process service",
			    &p.service) < 0 ||
			    wire_get_strref(c, &d->t, "process container runtime",
			    &p.container_runtime) < 0 ||
			    wire_get_strref(c, &d->t, "process container id",
			    &p.container_id) < 0 ||
			    wire_get_strref(c, &d->t, "process container name",
			    &p.container_name) < 0 ||
			    wire_get_u64(c, "process netns", &p.netns) < 0)
				return -EBADMSG;
			fat = c->pos;
			if (wire_get_u32(c, "process flags", &p.flags) < 0)
				return -EBADMSG;
			if (p.flags & ~SNAP_PROC_FLAGS) {
				c->pos = fat;
				return wire_bad(c, "process %u: unknown flags "
				    "0x%x", i, p.flags);
			}
		}
		p.pid = (int32_t)pid;
		p.ppid = (int32_t)ppid;
		if (p.pid <= last) {
			c->pos = at;
			return wire_bad(c, "process %u: pid %d not above %lld "
			    "(must be sorted, unique)", i, p.pid,
			    (long long)last);
		}
		last = p.pid;
		if ((r = snapshot_builder_add_process(d->b, &p)) < 0)
			return r;
	}
	return 0;
}

/* The enum bytes at c->pos, checked one by one so that an error points
 * at its byte: proto, owner and family at the offsets given. */
static int
check_kind(struct wire_cur *c, const char *what, uint32_t i, uint8_t proto,
    uint8_t owner, size_t owner_at, uint8_t family, size_t family_at)
{
	size_t at = c->pos;

	if (proto >= SNAP_PROTO_MAX)
		return wire_bad(c, "%s %u: unknown proto %u", what, i, proto);
	c->pos = at + owner_at;
	if (owner >= SNAP_OWNER_MAX)
		return wire_bad(c, "%s %u: unknown owner kind %u", what, i,
		    owner);
	c->pos = at + family_at;
	if (family != 4 && family != 6)
		return wire_bad(c, "%s %u: bad family %u", what, i, family);
	c->pos = at;
	return 0;
}

static int
get_sockets(struct dec *d)
{
	struct wire_cur *c = &d->c;
	uint32_t n, i;
	int r;

	if (get_count(c, "socket count", SNAP_MAX_SOCKETS,
	    d->version == 1 ? V1_SOCK_MIN : V2_SOCK_MIN, &n) < 0)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		struct snap_socket k;
		uint8_t rfam, flags;
		uint32_t pid;
		size_t at = c->pos;

		memset(&k, 0, sizeof(k));
		if (wire_get_u8(c, "socket proto", &k.proto) < 0 ||
		    wire_get_u8(c, "socket state", &k.state) < 0 ||
		    wire_get_u8(c, "socket owner", &k.owner) < 0 ||
		    wire_get_u8(c, "socket family", &k.family) < 0 ||
		    wire_get_u8(c, "socket remote family", &rfam) < 0 ||
		    wire_get_u8(c, "socket flags", &flags) < 0)
			return -EBADMSG;
		c->pos = at;
		if (check_kind(c, "socket", i, k.proto, k.owner, 2, k.family,
		    3) < 0)
			return -EBADMSG;
		c->pos = at + 1;
		if (k.state >= SNAP_STATE_MAX)
			return wire_bad(c, "socket %u: unknown state %u", i,
			    k.state);
		c->pos = at + 4;
		if (rfam != 0 && rfam != 4 && rfam != 6)
			return wire_bad(c, "socket %u: bad remote family %u", i,
			    rfam);
		c->pos = at + 5;
		if (d->version == 1 ? flags != 0 : (flags & ~SOCK_HAS_INFO) != 0)
			return wire_bad(c, "socket %u: %s byte is 0x%x", i,
			    d->version == 1 ? "reserved" : "flags", flags);
		c->pos = at + 6;
		if (wire_get_u16(c, "socket local port", &k.local_port) < 0 ||
		    wire_get_u16(c, "socket remote port", &k.remote_port) < 0 ||
		    wire_get_addr(c, k.family, &k.local) < 0 ||
		    wire_get_addr(c, rfam, &k.remote) < 0)
			return -EBADMSG;
		at = c->pos;
		if (wire_get_u32(c, "socket pid", &pid) < 0 ||
		    wire_get_u64(c, "socket inode", &k.inode) < 0)
			return -EBADMSG;
		k.pid = (int32_t)pid;
		c->pos = at;
		if (k.owner == SNAP_OWNER_KNOWN ? k.pid < 0 : k.pid != -1)
			return wire_bad(c, "socket %u: pid %d does not fit owner "
			    "kind %s", i, k.pid, snap_owner_name(k.owner));
		c->pos += 12;
		if (d->version >= 2) {
			k.has_info = flags & SOCK_HAS_INFO;
			if (wire_get_u64(c, "socket netns", &k.netns) < 0 ||
			    wire_get_u64(c, "socket cookie", &k.cookie) < 0)
				return -EBADMSG;
			if (k.has_info && (
			    wire_get_u64(c, "socket bytes sent", &k.bytes_sent) < 0 ||
			    wire_get_u64(c, "socket bytes received",
			    &k.bytes_received) < 0 ||
			    wire_get_u32(c, "socket rtt", &k.rtt_us) < 0 ||
			    wire_get_u32(c, "socket retransmits", &k.retrans) < 0))
				return -EBADMSG;
		}
		if ((r = snapshot_builder_add_socket(d->b, &k)) < 0)
			return r == -EINVAL ?
			    wire_bad(c, "socket %u rejected", i) : r;
	}
	return 0;
}

static int
get_conns(struct dec *d)
{
	struct wire_cur *c = &d->c;
	uint32_t n, i;
	int r;

	if (get_count(c, "connection count", SNAP_MAX_CONNS, CONN_MIN, &n) < 0)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		struct snap_conn k;
		uint64_t open_ms, close_ms;
		uint32_t pid;
		size_t at = c->pos;

		memset(&k, 0, sizeof(k));
		if (wire_get_u8(c, "connection proto", &k.proto) < 0 ||
		    wire_get_u8(c, "connection family", &k.family) < 0 ||
		    wire_get_u8(c, "connection role", &k.role) < 0 ||
		    wire_get_u8(c, "connection owner", &k.owner) < 0)
			return -EBADMSG;
		c->pos = at;
		if (check_kind(c, "connection", i, k.proto, k.owner, 3,
		    k.family, 1) < 0)
			return -EBADMSG;
		c->pos = at + 2;
		if (k.role >= SNAP_ROLE_MAX)
			return wire_bad(c, "connection %u: unknown role %u", i,
			    k.role);
		c->pos = at + 4;
		if (wire_get_u16(c, "connection local port", &k.local_port) < 0 ||
		    wire_get_u16(c, "connection remote port",
		    &k.remote_port) < 0 ||
		    wire_get_addr(c, k.family, &k.local) < 0 ||
		    wire_get_addr(c, k.family, &k.remote) < 0)
			return -EBADMSG;
		at = c->pos;
		if (wire_get_u32(c, "connection pid", &pid) < 0)
			return -EBADMSG;
		k.pid = (int32_t)pid;
		if (k.owner == SNAP_OWNER_KNOWN ? k.pid < 0 : k.pid != -1) {
			c->pos = at;
			return wire_bad(c, "connection %u: pid %d does not fit "
			    "owner kind %s", i, k.pid, snap_owner_name(k.owner));
		}
		if (wire_get_u64(c, "connection start time", &k.start_time) < 0 ||
		    wire_get_u64(c, "connection netns", &k.netns) < 0 ||
		    wire_get_u64(c, "connection cookie", &k.cookie) < 0 ||
		    wire_get_u64(c, "connection open time", &open_ms) < 0 ||
		    wire_get_u64(c, "connection close time", &close_ms) < 0 ||
		    wire_get_u64(c, "connection bytes sent", &k.bytes_sent) < 0 ||
		    wire_get_u64(c, "connection bytes received",
		    &k.bytes_received) < 0)
			return -EBADMSG;
		k.open_ms = (int64_t)open_ms;
		k.close_ms = (int64_t)close_ms;
		if ((r = snapshot_builder_add_conn(d->b, &k)) < 0)
			return r == -EINVAL ?
			    wire_bad(c, "connection %u rejected", i) : r;
	}
	return 0;
}

static int
get_conn_aggs(struct dec *d)
{
	struct wire_cur *c = &d->c;
	uint32_t n, i, cpid, spid;
	int r;

	if (get_count(c, "aggregate count", SNAP_MAX_CONN_AGGS, AGG_SIZE,
	    &n) < 0)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		struct snap_conn_agg a;
		uint8_t reserved;
		size_t at = c->pos;

		memset(&a, 0, sizeof(a));
		if (wire_get_u8(c, "aggregate proto", &a.proto) < 0 ||
		    wire_get_u8(c, "aggregate reserved", &reserved) < 0)
			return -EBADMSG;
		c->pos = at;
		if (a.proto >= SNAP_PROTO_MAX)
			return wire_bad(c, "aggregate %u: unknown proto %u", i,
			    a.proto);
		c->pos = at + 1;
		if (reserved != 0)
			return wire_bad(c, "aggregate %u: reserved byte is %u", i,
			    reserved);
		c->pos = at + 2;
		if (wire_get_u16(c, "aggregate server port", &a.server_port) < 0 ||
		    wire_get_u32(c, "aggregate client pid", &cpid) < 0 ||
		    wire_get_u32(c, "aggregate server pid", &spid) < 0)
			return -EBADMSG;
		a.client_pid = (int32_t)cpid;
		a.server_pid = (int32_t)spid;
		if (a.client_pid < -1 || a.server_pid < -1) {
			c->pos -= 8;
			return wire_bad(c, "aggregate %u: pids %d, %d (-1 is the "
			    "only negative one)", i, a.client_pid, a.server_pid);
		}
		if (wire_get_u32(c, "aggregate opened", &a.opened) < 0 ||
		    wire_get_u32(c, "aggregate closed", &a.closed) < 0 ||
		    wire_get_u64(c, "aggregate bytes sent", &a.bytes_sent) < 0 ||
		    wire_get_u64(c, "aggregate bytes received",
		    &a.bytes_received) < 0)
			return -EBADMSG;
		if ((r = snapshot_builder_add_conn_agg(d->b, &a)) < 0)
			return r == -EINVAL ?
			    wire_bad(c, "aggregate %u rejected", i) : r;
	}
	return 0;
}

static int
get_header(struct dec *d)
{
	struct wire_cur *c = &d->c;
	const char *host, *os, *source = "none", *reason = "";
	uint64_t time_ms, lost = 0;
	uint32_t sample_us;
	uint8_t flags;
	int r;

	if (wire_get_strref(c, &d->t, "host", &host) < 0 ||
	    wire_get_strref(c, &d->t, "os", &os) < 0 ||
	    wire_get_u64(c, "time", &time_ms) < 0 ||
	    wire_get_u32(c, "sample time", &sample_us) < 0 ||
	    wire_get_u8(c, "flags", &flags) < 0)
		return -EBADMSG;
	if (flags & ~1u) {
		c->pos--;
		return wire_bad(c, "unknown snapshot flags 0x%x", flags);
	}
	if (d->version >= 2 &&
	    (wire_get_strref(c, &d->t, "events source", &source) < 0 ||
	    wire_get_strref(c, &d->t, "events reason", &reason) < 0 ||
	    wire_get_u64(c, "events lost", &lost) < 0))
		return -EBADMSG;
	if ((r = snapshot_builder_set_meta(d->b, host, os, (int64_t)time_ms,
	    flags & 1)) < 0 ||
	    (r = snapshot_builder_set_events(d->b, source, reason, lost)) < 0)
		return r;
	snapshot_builder_set_sample_us(d->b, sample_us);
	return 0;
}

static int
decode(struct dec *d)
{
	struct wire_cur *c = &d->c;
	int r;

	if ((r = wire_get_strings(c, &d->t, d->version == 1 ? V1_MAX_STRINGS :
	    V2_MAX_STRINGS)) < 0 ||
	    (r = get_header(d)) < 0 ||
	    (r = get_processes(d)) < 0)
		return r;
	if (d->t.next != d->t.n)
		return wire_bad(c, "string %u is never used", d->t.next);
	if ((r = get_sockets(d)) < 0)
		return r;
	if (d->version >= 2 &&
	    ((r = get_conns(d)) < 0 || (r = get_conn_aggs(d)) < 0))
		return r;
	if (c->pos != c->len)
		return wire_bad(c, "%zu trailing bytes after the snapshot",
		    c->len - c->pos);
	return 0;
}

int
codec_decode_snapshot(const uint8_t *buf, size_t len, uint16_t version,
    struct snapshot **out, struct frame_error *err)
{
	struct dec d = {
		.c = { .p = buf, .len = len, .err = err },
		.version = version,
	};
	int r;

	if (version < CODEC_VERSION_MIN || version > CODEC_VERSION_MAX)
		return wire_bad(&d.c, "no snapshot encoding for protocol "
		    "version %u", version);
	if (len > FRAME_MAX_PAYLOAD)
		return wire_bad(&d.c, "snapshot of %zu bytes exceeds the limit "
		    "of %u", len, FRAME_MAX_PAYLOAD);
	d.b = snapshot_builder_new();
	if (version >= 2)
		d.argv = malloc(SNAP_MAX_ARGC * sizeof(*d.argv));
	if (d.b == NULL || (version >= 2 && d.argv == NULL)) {
		r = -ENOMEM;
		goto out;
	}
	r = decode(&d);
out:
	if (r == -ENOMEM && err != NULL) {
		err->offset = d.c.pos;
		snprintf(err->text, sizeof(err->text), "out of memory");
	}
	free(d.t.data);
	free(d.t.off);
	free(d.argv);
	if (r < 0) {
		snapshot_builder_free(d.b);
		return r;
	}
	return snapshot_builder_finish(d.b, out);
}
