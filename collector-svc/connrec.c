/*
 * Ring-buffer records (connrec.h).
 */
#include "connrec.h"

#include <errno.h>
#include <string.h>

#include <linux/types.h>
#include <sys/socket.h>

#include "bpf/conn_event.h"

uint64_t
connrec_start_ms(const struct connrec_clock *k, uint64_t boot_ns)
{
	uint64_t ticks, ns_per_tick;

	if (k->ticks <= 0 || k->ticks > 1000000000L)
		return 0;
	/* the kernel's nsec_to_clock_t() for /proc/<pid>/stat */
	ns_per_tick = 1000000000ull / (uint64_t)k->ticks;
	ticks = boot_ns / ns_per_tick;
	return (uint64_t)k->btime * 1000u + ticks * 1000u / (uint64_t)k->ticks;
}

static int64_t
to_real_ms(const struct connrec_clock *k, uint64_t mono_ns)
{
	if (mono_ns == 0)
		return 0;
	return (int64_t)(mono_ns / 1000000u) + k->real_minus_mono_ms;
}

int
connrec_parse(const void *data, size_t len, const struct connrec_clock *k,
    struct conn_rec *out)
{
	struct pn_conn_event e;
	struct snap_conn *c = &out->c;
	size_t alen;

	if (len != sizeof(e))
		return -EBADMSG;
	memcpy(&e, data, sizeof(e));
	if (e.kind != PN_EV_OPEN && e.kind != PN_EV_CLOSE)
		return -EBADMSG;
	if (e.family != AF_INET && e.family != AF_INET6)
		return -EBADMSG;
	if (e.role >= SNAP_ROLE_MAX)
		return -EBADMSG;
	if ((e.flags & ~(PN_F_OWNER | PN_F_OPEN_SENT)) != 0)
		return -EBADMSG;
	if (e.kind == PN_EV_CLOSE ? e.close_ns == 0 : e.close_ns != 0)
		return -EBADMSG;

	memset(out, 0, sizeof(*out));
	c->proto = SNAP_PROTO_TCP;
	c->family = e.family == AF_INET ? 4 : 6;
	c->role = e.role;
	alen = c->family == 4 ? 4 : 16;
	c->local.family = c->remote.family = c->family;
	memcpy(c->local.bytes, e.laddr, alen);
	memcpy(c->remote.bytes, e.raddr, alen);
	c->local_port = e.lport;
	c->remote_port = e.rport;
	c->netns = e.netns;
	c->cookie = e.cookie;
	c->open_ms = to_real_ms(k, e.open_ns);
	if (e.flags & PN_F_OWNER) {
		c->owner = SNAP_OWNER_KNOWN;
		c->pid = (int32_t)e.tgid;
		if (c->pid <= 0)
			return -EBADMSG;
		c->start_time = connrec_start_ms(k, e.start_ns);
		memcpy(out->name, e.comm, sizeof(out->name));
		out->name[sizeof(out->name) - 1] = '\0';
	} else {
		/* unknown until the collector finds it by cookie */
		c->owner = SNAP_OWNER_EXITED;
		c->pid = -1;
	}
	if (e.kind == PN_EV_OPEN) {
		out->opened = true;
	} else {
		out->closed = true;
		c->close_ms = to_real_ms(k, e.close_ns);
		c->bytes_sent = e.bytes_acked;
		c->bytes_received = e.bytes_received;
		/* It opened in this interval unless an OPEN said so before,
		 * or it opened before we were loaded. */
		out->opened = e.open_ns != 0 && !(e.flags & PN_F_OPEN_SENT);
	}
	return 0;
}
