/*
 * Snapshot builder and the frozen snapshot.  Strings go into one arena
 * (arena.h), so pointers handed out stay valid as it grows.
 */
#include "snapshot.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "hex.h"
#include "utf8.h"

struct snapshot_priv {
	struct arena arena;
	struct snap_process *processes;
	struct snap_socket *sockets;
	struct snap_conn *conns;
	struct snap_conn_agg *conn_aggs;
};

struct snapshot_builder {
	struct snapshot *s;
	struct snapshot_priv *priv;
	size_t cap_processes, cap_sockets, cap_conns, cap_conn_aggs;
	size_t n_processes, n_sockets, n_conns, n_conn_aggs;
	int error;		/* first allocation failure, sticky */
};

/* A copy of the first len bytes of str, NUL-ended; "" for none. */
static const char *
snap_strndup(struct snapshot_priv *p, const char *str, size_t len)
{
	if (len == 0)
		return "";
	return arena_strndup(&p->arena, str, len);
}

/* A copy of str, cut to SNAP_MAX_STRING at a character boundary; "" for
 * NULL or empty. */
static const char *
snap_strdup(struct snapshot_priv *p, const char *str)
{
	if (str == NULL || *str == '\0')
		return "";
	return snap_strndup(p, str, utf8_cut(str, SNAP_MAX_STRING));
}

static void
priv_free(struct snapshot_priv *p)
{
	if (p == NULL)
		return;
	arena_release(&p->arena);
	free(p->processes);
	free(p->sockets);
	free(p->conns);
	free(p->conn_aggs);
	free(p);
}

struct snapshot_builder *
snapshot_builder_new(void)
{
	struct snapshot_builder *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->s = calloc(1, sizeof(*b->s));
	b->priv = calloc(1, sizeof(*b->priv));
	if (b->s == NULL || b->priv == NULL) {
		free(b->s);
		free(b->priv);
		free(b);
		return NULL;
	}
	b->s->host = "";
	b->s->os = "";
	b->s->events_source = "none";
	b->s->events_reason = "";
	return b;
}

void
snapshot_builder_free(struct snapshot_builder *b)
{
	if (b == NULL)
		return;
	priv_free(b->priv);
	free(b->s);
	free(b);
}

int
snapshot_builder_set_meta(struct snapshot_builder *b, const char *host,
    const char *os, int64_t time_ms, bool privileged)
{
	const char *h = snap_strdup(b->priv, host);
	const char *o = snap_strdup(b->priv, os);

	if (h == NULL || o == NULL)
		return -ENOMEM;
	b->s->host = h;
	b->s->os = o;
	b->s->time_ms = time_ms;
	b->s->privileged = privileged;
	return 0;
}

void
snapshot_builder_set_sample_us(struct snapshot_builder *b, uint32_t us)
{
	b->s->sample_us = us;
}

static int
grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	if (need > max)
		return -E2BIG;
	ncap = *cap ? *cap * 2 : 256;
	if (ncap > max)
		ncap = max;
	n = realloc(*arr, ncap * elem);
	if (n == NULL)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

int
snapshot_builder_set_events(struct snapshot_builder *b, const char *source,
    const char *reason, uint64_t lost)
{
	const char *s = snap_strdup(b->priv, source);
	const char *r = snap_strdup(b->priv, reason);

	if (s == NULL || r == NULL)
		return -ENOMEM;
	b->s->events_source = s;
	b->s->events_reason = r;
	b->s->events_lost = lost;
	return 0;
}

/*
 * Copies argv into the arena within the caps and derives cmdline from it:
 * one pass measures what is kept (only the last argument kept can be
 * cut), a second copies the arguments and the joined line.
 */
static int
copy_argv(struct snapshot_priv *priv, struct snap_process *dst,
    uint32_t argc, const char *const *argv)
{
	size_t budget = SNAP_MAX_ARGV_BYTES, total = 0, last = 0;
	const char **arr;
	uint32_t n = 0;
	char *line, *at;

	if (argc > SNAP_MAX_ARGC)
		argc = SNAP_MAX_ARGC;
	while (n < argc) {
		const char *a = argv[n] != NULL ? argv[n] : "";
		size_t sep = n > 0 ? 1 : 0;

		/* an argument that does not fit, even empty, ends the list */
		if (budget < sep)
			break;
		budget -= sep;
		last = utf8_cut(a, budget);
		budget -= last;
		total += sep + last;
		n++;
		if (a[last] != '\0')
			break;	/* cut: nothing after it fits */
	}
	arr = arena_alloc(&priv->arena, n * sizeof(*arr),
	    _Alignof(const char *));
	line = arena_alloc(&priv->arena, total + 1, 1);
	if (arr == NULL || line == NULL)
		return -ENOMEM;
	at = line;
	for (uint32_t i = 0; i < n; i++) {
		const char *a = argv[i] != NULL ? argv[i] : "";
		size_t len = i + 1 < n ? strlen(a) : last;

		if ((arr[i] = snap_strndup(priv, a, len)) == NULL)
			return -ENOMEM;
		if (i > 0)
			*at++ = ' ';
		memcpy(at, a, len);
		at += len;
	}
	*at = '\0';
	dst->argc = n;
	dst->argv = n > 0 ? arr : NULL;
	dst->cmdline = line;
	return 0;
}

int
snapshot_builder_add_process(struct snapshot_builder *b,
    const struct snap_process *p)
{
	struct snap_process *dst;
	int r;

	if ((p->flags & ~SNAP_PROC_FLAGS) != 0 ||
	    (p->argc > 0 && p->argv == NULL))
		return -EINVAL;
	r = grow((void **)&b->priv->processes, &b->cap_processes,
	    b->n_processes + 1, sizeof(*dst), SNAP_MAX_PROCESSES);
	if (r < 0)
		return r;
	dst = &b->priv->processes[b->n_processes];
	memset(dst, 0, sizeof(*dst));
	dst->pid = p->pid;
	dst->ppid = p->ppid;
	dst->start_time = p->start_time;
	dst->netns = p->netns;
	dst->flags = p->flags;
	dst->user = snap_strdup(b->priv, p->user);
	dst->name = snap_strdup(b->priv, p->name);
	dst->exe = snap_strdup(b->priv, p->exe);
	dst->service = snap_strdup(b->priv, p->service);
	dst->container_runtime = snap_strdup(b->priv, p->container_runtime);
	dst->container_id = snap_strdup(b->priv, p->container_id);
	dst->container_name = snap_strdup(b->priv, p->container_name);
	if (p->argc > 0) {
		if (copy_argv(b->priv, dst, p->argc, p->argv) < 0)
			return -ENOMEM;
	} else {
		dst->cmdline = snap_strdup(b->priv, p->cmdline);
	}
	if (!dst->user || !dst->name || !dst->exe || !dst->cmdline ||
	    !dst->service || !dst->container_runtime || !dst->container_id ||
	    !dst->container_name)
		return -ENOMEM;
	b->n_processes++;
	return 0;
}

int
snapshot_builder_add_socket(struct snapshot_builder *b,
    const struct snap_socket *s)
{
	int r;

	if (s->proto >= SNAP_PROTO_MAX || s->state >= SNAP_STATE_MAX ||
	    s->owner >= SNAP_OWNER_MAX ||
	    (s->family != 4 && s->family != 6))
		return -EINVAL;
	r = grow((void **)&b->priv->sockets, &b->cap_sockets,
	    b->n_sockets + 1, sizeof(*s), SNAP_MAX_SOCKETS);
	if (r < 0)
		return r;
	b->priv->sockets[b->n_sockets] = *s;
	if (s->owner != SNAP_OWNER_KNOWN)
		b->priv->sockets[b->n_sockets].pid = -1;
	/* one snapshot, one encoding: no stale numbers behind has_info 0 */
	if (!s->has_info) {
		struct snap_socket *d = &b->priv->sockets[b->n_sockets];

		d->bytes_sent = d->bytes_received = 0;
		d->rtt_us = d->retrans = 0;
	}
	b->n_sockets++;
	return 0;
}

int
snapshot_builder_add_conn(struct snapshot_builder *b,
    const struct snap_conn *c)
{
	struct snap_conn *d;
	int r;

	if (c->proto >= SNAP_PROTO_MAX || c->role >= SNAP_ROLE_MAX ||
	    c->owner >= SNAP_OWNER_MAX ||
	    (c->family != 4 && c->family != 6) ||
	    (c->owner == SNAP_OWNER_KNOWN && c->pid < 0))
		return -EINVAL;
	r = grow((void **)&b->priv->conns, &b->cap_conns, b->n_conns + 1,
	    sizeof(*c), SNAP_MAX_CONNS);
	if (r < 0)
		return r;
	d = &b->priv->conns[b->n_conns++];
	*d = *c;
	/* the addresses carry the connection's family, whatever was in them */
	d->local.family = d->remote.family = c->family;
	if (c->owner != SNAP_OWNER_KNOWN)
		d->pid = -1;
	return 0;
}

int
snapshot_builder_add_conn_agg(struct snapshot_builder *b,
    const struct snap_conn_agg *a)
{
	int r;

	if (a->proto >= SNAP_PROTO_MAX || a->client_pid < -1 ||
	    a->server_pid < -1)
		return -EINVAL;
	r = grow((void **)&b->priv->conn_aggs, &b->cap_conn_aggs,
	    b->n_conn_aggs + 1, sizeof(*a), SNAP_MAX_CONN_AGGS);
	if (r < 0)
		return r;
	b->priv->conn_aggs[b->n_conn_aggs++] = *a;
	return 0;
}

static int
cmp_pid(const void *a, const void *b)
{
	const struct snap_process *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void
shrink(void **arr, size_t n, size_t cap, size_t elem)
{
	void *q;

	if (n > 0 && n < cap && (q = realloc(*arr, n * elem)) != NULL)
		*arr = q;
}

int
snapshot_builder_finish(struct snapshot_builder *b, struct snapshot **out)
{
	struct snapshot *s = b->s;
	struct snap_process *p = b->priv->processes;
	size_t i, n = 0;

	if (b->n_processes > 0) {
		qsort(p, b->n_processes, sizeof(*p), cmp_pid);
		for (i = 0; i < b->n_processes; i++) {
			if (n > 0 && p[n - 1].pid == p[i].pid)
				continue;
			p[n++] = p[i];
		}
	}
	/* The arrays grew by doubling; a snapshot lives for a whole interval
	 * (and the daemon holds one at all times), so give the slack back.
	 * Shrinking cannot fail in a way that loses data: keep the old
	 * block when realloc says no. */
	shrink((void **)&b->priv->processes, n, b->cap_processes, sizeof(*p));
	p = b->priv->processes;
	shrink((void **)&b->priv->sockets, b->n_sockets, b->cap_sockets,
	    sizeof(*b->priv->sockets));
	shrink((void **)&b->priv->conns, b->n_conns, b->cap_conns,
	    sizeof(*b->priv->conns));
	shrink((void **)&b->priv->conn_aggs, b->n_conn_aggs, b->cap_conn_aggs,
	    sizeof(*b->priv->conn_aggs));
	s->processes = p;
	s->n_processes = n;
	s->sockets = b->priv->sockets;
	s->n_sockets = b->n_sockets;
	s->conns = b->priv->conns;
	s->n_conns = b->n_conns;
	s->conn_aggs = b->priv->conn_aggs;
	s->n_conn_aggs = b->n_conn_aggs;
	s->priv = b->priv;
	s->refs = 1;
	*out = s;
	free(b);
	return 0;
}

struct snapshot *
snapshot_ref(struct snapshot *s)
{
	if (s != NULL)
		atomic_fetch_add_explicit((_Atomic unsigned *)&s->refs, 1,
		    memory_order_relaxed);
	return s;
}

void
snapshot_unref(struct snapshot *s)
{
	if (s == NULL)
		return;
	if (atomic_fetch_sub_explicit((_Atomic unsigned *)&s->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	priv_free(s->priv);
	free(s);
}

const struct snap_process *
snapshot_find_process(const struct snapshot *s, int32_t pid)
{
	size_t lo = 0, hi = s->n_processes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->processes[mid].pid == pid)
			return &s->processes[mid];
		if (s->processes[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const char *const proto_names[SNAP_PROTO_MAX] = { "tcp", "udp" };

static const char *const state_names[SNAP_STATE_MAX] = {
	"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};

static const char *const owner_names[SNAP_OWNER_MAX] = {
	"", "no-privilege", "exited", "other-netns", "kernel",
};

static const char *const role_names[SNAP_ROLE_MAX] = {
	"unknown", "connect", "accept",
};

const char *
snap_role_name(unsigned role)
{
	return role < SNAP_ROLE_MAX ? role_names[role] : NULL;
}

const char *
snap_proto_name(unsigned proto)
{
	return proto < SNAP_PROTO_MAX ? proto_names[proto] : NULL;
}

const char *
snap_state_name(unsigned state)
{
	return state < SNAP_STATE_MAX ? state_names[state] : NULL;
}

const char *
snap_owner_name(unsigned owner)
{
	return owner < SNAP_OWNER_MAX ? owner_names[owner] : NULL;
}

int
snap_state_from_name(const char *name)
{
	for (int i = 0; i < SNAP_STATE_MAX; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

/* Our own formatter so every platform prints addresses the same way as
 * glibc's inet_ntop: RFC 5952 zero compression, IPv4-mapped and
 * IPv4-compatible tails in dotted form. */
char *
snap_addr_format(const struct snap_addr *a, char *buf)
{
	const uint8_t *b = a->bytes;
	uint16_t w[8];
	int best = -1, bestlen = 0, i;
	char *p = buf;

	if (a->family == 4) {
		snprintf(buf, SNAP_ADDRSTRLEN, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		return buf;
	}
	for (i = 0; i < 8; i++)
		w[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
	for (i = 0; i < 8;) {
		int j = i;

		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (bestlen < 2)
		best = -1;
	/* glibc prints ::ffff:a.b.c.d and ::a.b.c.d (but not ::1 or ::) */
	bool v4tail = best == 0 && (bestlen == 6 ||
	    (bestlen == 5 && w[5] == 0xffff));
	if (best == 0 && bestlen == 6 && w[6] == 0 && w[7] <= 1)
		v4tail = false;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (i == 0)
				*p++ = ':';
			i += bestlen - 1;
			continue;
		}
		if (v4tail && i == 6) {
			p += sprintf(p, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
			break;
		}
		p += sprintf(p, "%x", w[i]);
		if (i < 7)
			*p++ = ':';
	}
	*p = '\0';
	return buf;
}

static int
parse_v4(const char *s, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
		}
		if (digits == 0 || (i < 3 && *s++ != '.'))
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return *s == '\0' ? 0 : -EINVAL;
}

int
snap_addr_parse(const char *s, struct snap_addr *out)
{
	uint8_t tmp[16] = { 0 };
	int n = 0, gap = -1;

	if (strchr(s, ':') == NULL) {
		if (parse_v4(s, tmp) < 0)
			return -EINVAL;
		memset(out, 0, sizeof(*out));
		out->family = 4;
		memcpy(out->bytes, tmp, 4);
		return 0;
	}
	if (s[0] == ':') {
		if (s[1] != ':')
			return -EINVAL;
		gap = 0;
		s += 2;
	}
	while (*s != '\0') {
		const char *start = s;
		unsigned v = 0;
		int d = 0, h;

		if (n >= 16)
			return -EINVAL;
		while ((h = hex_value(*s)) >= 0) {
			v = v << 4 | (unsigned)h;
			s++;
			if (++d > 4)
				return -EINVAL;
		}
		if (*s == '.') {
			if (n > 12 || parse_v4(start, tmp + n) < 0)
				return -EINVAL;
			n += 4;
			break;
		}
		if (d == 0)
			return -EINVAL;
		tmp[n++] = (uint8_t)(v >> 8);
		tmp[n++] = (uint8_t)v;
		if (*s == '\0')
			break;
		if (*s++ != ':')
			return -EINVAL;
		if (*s == ':') {
			if (gap >= 0)
				return -EINVAL;
			gap = n;
			s++;
		} else if (*s == '\0') {
			return -EINVAL;
		}
	}
	memset(out, 0, sizeof(*out));
	out->family = 6;
	if (gap >= 0) {
		if (n == 16)
			return -EINVAL;
		memcpy(out->bytes, tmp, (size_t)gap);
		memcpy(out->bytes + 16 - (n - gap), tmp + gap, (size_t)(n - gap));
	} else {
		if (n != 16)
			return -EINVAL;
		memcpy(out->bytes, tmp, 16);
	}
	return 0;
}
