/*
 * Microsoft-Windows-Kernel-Network payloads (etw_net.h).  The event table
 * is the provider's manifest: one row per event id, with its kind, protocol
 * and address size.
 *
 * Which end is local: the provider's own message texts say "N bytes
 * transmitted from saddr:sport to daddr:dport" for sends and "N bytes
 * received from saddr:sport to daddr:dport" for receives, and "between
 * saddr:sport and daddr:dport" for connection events, whose tuple comes
 * from the connection (saddr local).  So saddr is local except on receives,
 * where the sender (the remote end) is saddr.  Only a Windows machine can
 * confirm this per event; the connection tracker therefore also matches a
 * receive the other way round (etw_conns.c).
 */
#include <errno.h>
#include <string.h>

#include "etw_net.h"
#include "le.h"

struct etw_net_layout {
	uint16_t id;
	uint8_t kind, proto, family;
};

static const struct etw_net_layout layouts[] = {
	{ 10, ETW_NET_SEND, SNAP_PROTO_TCP, 4 },
	{ 11, ETW_NET_RECV, SNAP_PROTO_TCP, 4 },
	{ 12, ETW_NET_CONNECT, SNAP_PROTO_TCP, 4 },
	{ 13, ETW_NET_DISCONNECT, SNAP_PROTO_TCP, 4 },
	{ 14, ETW_NET_RETRANSMIT, SNAP_PROTO_TCP, 4 },
	{ 15, ETW_NET_ACCEPT, SNAP_PROTO_TCP, 4 },
	{ 16, ETW_NET_RECONNECT, SNAP_PROTO_TCP, 4 },
	{ 18, ETW_NET_COPY, SNAP_PROTO_TCP, 4 },
	{ 26, ETW_NET_SEND, SNAP_PROTO_TCP, 6 },
	{ 27, ETW_NET_RECV, SNAP_PROTO_TCP, 6 },
	{ 28, ETW_NET_CONNECT, SNAP_PROTO_TCP, 6 },
	{ 29, ETW_NET_DISCONNECT, SNAP_PROTO_TCP, 6 },
	{ 30, ETW_NET_RETRANSMIT, SNAP_PROTO_TCP, 6 },
	{ 31, ETW_NET_ACCEPT, SNAP_PROTO_TCP, 6 },
	{ 32, ETW_NET_RECONNECT, SNAP_PROTO_TCP, 6 },
	{ 34, ETW_NET_COPY, SNAP_PROTO_TCP, 6 },
	{ 42, ETW_NET_SEND, SNAP_PROTO_UDP, 4 },
	{ 43, ETW_NET_RECV, SNAP_PROTO_UDP, 4 },
	{ 58, ETW_NET_SEND, SNAP_PROTO_UDP, 6 },
	{ 59, ETW_NET_RECV, SNAP_PROTO_UDP, 6 },
};

static const char *const kind_names[ETW_NET_KIND_MAX] = {
	[ETW_NET_SEND] = "send",
	[ETW_NET_RECV] = "recv",
	[ETW_NET_CONNECT] = "connect",
	[ETW_NET_DISCONNECT] = "disconnect",
	[ETW_NET_RETRANSMIT] = "retransmit",
	[ETW_NET_ACCEPT] = "accept",
	[ETW_NET_RECONNECT] = "reconnect",
	[ETW_NET_COPY] = "copy",
};

const char *etw_net_kind_name(unsigned kind)
{
	return kind < ETW_NET_KIND_MAX ? kind_names[kind] : NULL;
}

static const struct etw_net_layout *find_layout(unsigned id)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].id == id)
			return &layouts[i];
	return NULL;
}

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void set_addr(struct snap_addr *a, uint8_t family,
    const unsigned char *p)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->bytes, p, family == 4 ? 4 : 16);
}

int etw_net_decode(unsigned event_id, const void *data, size_t len,
    struct etw_net_event *ev)
{
	const struct etw_net_layout *l = find_layout(event_id);
	const unsigned char *p = data;
	size_t alen;
	struct etw_net_event e;

	if (!l)
		return -ENOENT;
	alen = l->family == 4 ? 4 : 16;
	if (!p || len < 8 + 2 * alen + 4)
		return -EBADMSG;

	memset(&e, 0, sizeof(e));
	e.kind = l->kind;
	e.proto = l->proto;
	e.family = l->family;
	e.pid = le32_get(p);
	e.size = le32_get(p + 4);
	{
		const unsigned char *daddr = p + 8, *saddr = p + 8 + alen;
		uint16_t dport = be16(p + 8 + 2 * alen);
		uint16_t sport = be16(p + 10 + 2 * alen);

		if (l->kind == ETW_NET_RECV) {
			set_addr(&e.local, l->family, daddr);
			set_addr(&e.remote, l->family, saddr);
			e.local_port = dport;
			e.remote_port = sport;
		} else {
			set_addr(&e.local, l->family, saddr);
			set_addr(&e.remote, l->family, daddr);
			e.local_port = sport;
			e.remote_port = dport;
		}
	}
	*ev = e;
	return 0;
}
