/*
 * Connection events on Linux (events.h): the BPF tracer when it loads, else
 * sock_diag's destroy notifications, else none, each with the reason a
 * better one was not had.  Records go through connbatch; owners the source
 * cannot name are looked up by cookie in the last two socket tables.
 */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "clock.h"
#include "connbatch.h"
#include "connrec.h"
#include "destroymsg.h"
#include "evbpf.h"
#include "procfs.h"

#define DESTROY_BUF	(64u * 1024u)
#define DESTROY_RCVBUF	(8u * 1024u * 1024u)
/* recv() calls one poll makes at most: the kernel cannot keep us here. */
#define DESTROY_MAX_RECVS	4096u
#define NOTES_MAX	(1u << 23)	/* twice SNAP_MAX_SOCKETS */

struct note {
	uint64_t cookie;	/* 0 = empty */
	int32_t pid;
	uint64_t start_time;
	char name[16];
};

/* cookie -> owner, open addressing; rebuilt each sample. */
struct notes {
	struct note *slots;
	size_t mask;		/* capacity - 1 */
	size_t n;
};

struct events {
	enum events_mode mode;
	const char *source;
	char reason[384];
	struct connbatch *batch;
	struct connrec_clock clk;
	struct evbpf *bpf;
	int dfd;		/* destroy groups, -1 when unused */
	uint64_t dfd_ino;
	uint64_t dfd_drops;	/* the socket's drop count, when last read */
	bool dfd_overflow;	/* ENOBUFS seen since the count was read */
	uint64_t netns;		/* ours: the destroy groups are per netns */
	unsigned char *buf;
	uint64_t bad;		/* records the parser refused */
	bool taken;		/* the batch was handed out: empty it next */
	struct notes notes[2];	/* [cur] this sample's table, the other the
				 * last one's */
	int cur;
};

/* --- owners by cookie ------------------------------------------------ */

static uint64_t
cookie_slot(uint64_t c)
{
	c ^= c >> 33;
	c *= 0xff51afd7ed558ccdull;
	return c ^ (c >> 33);
}

static void
notes_clear(struct notes *t)
{
	if (t->slots != NULL && t->n != 0)
		memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
	t->n = 0;
}

static int
notes_put(struct notes *t, uint64_t cookie, int32_t pid, uint64_t start,
    const char *name)
{
	size_t i;

	if (t->slots == NULL || (t->n + 1) * 2 > t->mask + 1) {
		size_t cap = t->slots ? (t->mask + 1) * 2 : 1024, j;
		struct note *ns;

		if (cap > NOTES_MAX)
			return -E2BIG;
		if ((ns = calloc(cap, sizeof(*ns))) == NULL)
			return -ENOMEM;
		for (i = 0; t->slots != NULL && i <= t->mask; i++) {
			if (t->slots[i].cookie == 0)
				continue;
			for (j = cookie_slot(t->slots[i].cookie) & (cap - 1);
			    ns[j].cookie != 0; j = (j + 1) & (cap - 1))
				;
			ns[j] = t->slots[i];
		}
		free(t->slots);
		t->slots = ns;
		t->mask = cap - 1;
	}
	for (i = cookie_slot(cookie) & t->mask; t->slots[i].cookie != 0 &&
	    t->slots[i].cookie != cookie; i = (i + 1) & t->mask)
		;
	if (t->slots[i].cookie == 0)
		t->n++;
	t->slots[i].cookie = cookie;
	t->slots[i].pid = pid;
	t->slots[i].start_time = start;
	snprintf(t->slots[i].name, sizeof(t->slots[i].name), "%s", name);
	return 0;
}

static const struct note *
notes_get(const struct notes *t, uint64_t cookie)
{
	size_t i;

	if (t->slots == NULL || t->n == 0)
		return NULL;
	for (i = cookie_slot(cookie) & t->mask; t->slots[i].cookie != 0;
	    i = (i + 1) & t->mask)
		if (t->slots[i].cookie == cookie)
			return &t->slots[i];
	return NULL;
}

void
events_note_begin(struct events *e)
{
	e->cur ^= 1;
	notes_clear(&e->notes[e->cur]);
}

void
events_note_socket(struct events *e, const struct snap_socket *s,
    const struct snap_process *owner)
{
	if (e->source[0] == 'n' || s->proto != SNAP_PROTO_TCP ||
	    s->cookie == 0 || s->remote_port == 0 || owner == NULL)
		return;
	/* A full table only loses owners for closes: nothing to report. */
	(void)notes_put(&e->notes[e->cur], s->cookie, owner->pid,
	    owner->start_time, owner->name);
}

/* --- records --------------------------------------------------------- */

static int
add_rec(struct events *e, struct conn_rec *r)
{
	const struct note *n;

	if (r->c.owner != SNAP_OWNER_KNOWN && r->c.cookie != 0 &&
	    ((n = notes_get(&e->notes[e->cur], r->c.cookie)) != NULL ||
	    (n = notes_get(&e->notes[e->cur ^ 1], r->c.cookie)) != NULL)) {
		r->c.owner = SNAP_OWNER_KNOWN;
		r->c.pid = n->pid;
		r->c.start_time = n->start_time;
		memcpy(r->name, n->name, sizeof(r->name));
	}
	/* ENOMEM is counted by the batch as lost; keep draining. */
	(void)connbatch_add(e->batch, r);
	return 0;
}

static int
on_bpf(void *arg, const void *data, size_t len)
{
	struct events *e = arg;
	struct conn_rec r;

	if (connrec_parse(data, len, &e->clk, &r) != 0) {
		e->bad++;
		return 0;
	}
	return add_rec(e, &r);
}

static int
on_destroy(void *arg, const struct conn_rec *rc)
{
	struct events *e = arg;
	struct conn_rec r = *rc;

	r.c.netns = e->netns;
	return add_rec(e, &r);
}

static void
clock_refresh(struct events *e)
{
	e->clk.real_minus_mono_ms = clock_real_ms() - clock_mono_ms();
}

/* --- sock_diag destroy groups ---------------------------------------- */

static int
destroy_open(struct events *e, char *why, size_t whylen)
{
	static const int groups[] = { SKNLGRP_INET_TCP_DESTROY,
	    SKNLGRP_INET6_TCP_DESTROY };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int sz = DESTROY_RCVBUF, fd, rc;
	struct stat st;
	size_t i;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    NETLINK_SOCK_DIAG);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "sock_diag socket: %s", strerror(-rc));
		return rc;
	}
	/* Beyond net.core.rmem_max needs CAP_NET_ADMIN; without it the
	 * queue is rmem_max (overflows are counted as lost).  Joining the
	 * groups needs no capability. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		    &groups[i], sizeof(groups[i])) != 0)
			goto fail;
	e->dfd_ino = fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
	e->dfd = fd;
	return 0;
fail:
	rc = -errno;
	snprintf(why, whylen, "cannot join the sock_diag destroy groups: %s",
	    strerror(-rc));
	close(fd);
	return rc;
}

/* The destroy socket's drop count from /proc/net/netlink. */
static void
destroy_drops(struct events *e)
{
	FILE *f = fopen("/proc/net/netlink", "re");
	char line[512];
	uint64_t drops;

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (destroymsg_netlink_drops(line, strlen(line), e->dfd_ino,
		    &drops) == 0) {
			e->dfd_drops = drops;
			break;
		}
	fclose(f);
}

static int
destroy_poll(struct events *e)
{
	struct destroymsg_stats st = { 0 };
	unsigned i;
	ssize_t n;
	int64_t now = clock_real_ms();

	for (i = 0; i < DESTROY_MAX_RECVS; i++) {
		n = recv(e->dfd, e->buf, DESTROY_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			/* the queue overflowed: count what the kernel
			 * dropped, and go on reading */
			e->dfd_overflow = true;
			continue;
		}
		if (n <= 0)
			break;
		if (destroymsg_parse(e->buf, (size_t)n, now, on_destroy, e,
		    &st) != 0)
			e->bad++;
	}
	if (e->dfd_overflow) {
		destroy_drops(e);
		e->dfd_overflow = false;
	}
	return 0;
}

/* --- the interface --------------------------------------------------- */

static int
open_source(struct events *e, enum events_mode mode, char *why,
    size_t whylen)
{
	char bwhy[192] = "", dwhy[160] = "";
	int rc = 0;

	if (mode == EVENTS_ETW) {
		snprintf(why, whylen, "ETW is Windows only");
		return -ENOTSUP;
	}
	if (mode == EVENTS_AUTO || mode == EVENTS_EBPF) {
		if ((rc = evbpf_open(on_bpf, e, &e->bpf, bwhy,
		    sizeof(bwhy))) == 0) {
			e->source = "ebpf";
			return 0;
		}
		if (mode == EVENTS_EBPF) {
			snprintf(why, whylen, "%s", bwhy);
			return rc;
		}
	}
	if (mode == EVENTS_AUTO || mode == EVENTS_SOCK_DIAG) {
		if ((rc = destroy_open(e, dwhy, sizeof(dwhy))) == 0) {
			e->source = "sock_diag-destroy";
			if (mode == EVENTS_AUTO)
				snprintf(e->reason, sizeof(e->reason), "%s",
				    bwhy);
			else
				snprintf(e->reason, sizeof(e->reason),
				    "chosen (--events sock_diag)");
			return 0;
		}
		if (mode == EVENTS_SOCK_DIAG) {
			snprintf(why, whylen, "%s", dwhy);
			return rc;
		}
		snprintf(e->reason, sizeof(e->reason), "%s; %s", bwhy, dwhy);
		return 0;
	}
	snprintf(e->reason, sizeof(e->reason), "disabled (--events none)");
	return 0;
}

int
events_new(const struct events_opts *o, struct events **out, char *why,
    size_t whylen)
{
	uint32_t cap = o->max_conns ? o->max_conns : EVENTS_MAX_CONNS_DEFAULT;
	char buf[4096];
	struct events *e;
	struct stat st;
	int fd, rc;
	ssize_t n;

	why[0] = '\0';
	if (o->mode >= EVENTS_MODE_MAX || cap > EVENTS_MAX_CONNS_LIMIT) {
		snprintf(why, whylen, "bad events options");
		return -EINVAL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	e->dfd = -1;
	e->source = "none";
	e->mode = o->mode;
	if ((e->batch = connbatch_new(cap)) == NULL ||
	    (e->buf = malloc(DESTROY_BUF)) == NULL) {
		events_free(e);
		return -ENOMEM;
	}
	if ((e->clk.ticks = sysconf(_SC_CLK_TCK)) <= 0)
		e->clk.ticks = 100;
	if ((fd = open("/proc/stat", O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0)
			(void)procfs_parse_btime(buf, (size_t)n, &e->clk.btime);
		close(fd);
	}
	if (stat("/proc/self/ns/net", &st) == 0)
		e->netns = (uint64_t)st.st_ino;
	clock_refresh(e);
	if ((rc = open_source(e, o->mode, why, whylen)) != 0) {
		events_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void
events_free(struct events *e)
{
	if (e == NULL)
		return;
	evbpf_free(e->bpf);
	if (e->dfd >= 0)
		close(e->dfd);
	connbatch_free(e->batch);
	free(e->notes[0].slots);
	free(e->notes[1].slots);
	free(e->buf);
	free(e);
}

const char *
events_source(const struct events *e)
{
	return e->source;
}

const char *
events_reason(const struct events *e)
{
	return e->reason;
}

uint64_t
events_lost(const struct events *e)
{
	uint64_t n = connbatch_lost(e->batch);

	if (e->bpf != NULL)
		n += evbpf_lost(e->bpf);
	return n + e->dfd_drops + e->bad;
}

int
events_poll(struct events *e)
{
	int rc = 0;

	if (e->taken) {
		connbatch_clear(e->batch);
		e->taken = false;
	}
	clock_refresh(e);
	if (e->bpf != NULL)
		rc = evbpf_poll(e->bpf);
	else if (e->dfd >= 0)
		rc = destroy_poll(e);
	return rc < 0 ? rc : 0;
}

int
events_take(struct events *e, struct events_batch *out)
{
	int rc = events_poll(e);

	connbatch_view(e->batch, out);
	e->taken = true;
	return rc;
}
