/*
 * Decoding of Microsoft-Windows-Kernel-Network ETW events
 * ({7DD42A49-5329-4832-8DFD-43D979153A88}): the user-data payload of one
 * event, as the provider's manifest lays it out, into addresses, ports,
 * pid and size.  Pure and portable (no Windows headers), so the layouts are
 * unit-tested on every platform from crafted and recorded payloads; the
 * real-time session that feeds it is events_win.c.
 *
 * Layout (little-endian, packed, version 0 of every event):
 *	PID u32, size u32, daddr, saddr, dport u16, sport u16, ...
 * with daddr/saddr 4 bytes (IPv4 events) or 16 bytes (IPv6 events), ports
 * in network byte order.  What follows sport (TCP options, seqnum, and
 * connid, which is pointer-sized) differs per event and is not read, so a
 * payload only needs to reach sport; a longer one (a later version adding
 * fields at the end) decodes the same.
 */
#ifndef PROCNET_ETW_NET_H
#define PROCNET_ETW_NET_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* Keywords of the provider: enable both to see IPv4 and IPv6 events. */
#define ETW_NET_KEYWORD_IPV4	0x10u
#define ETW_NET_KEYWORD_IPV6	0x20u

enum etw_net_kind {
	ETW_NET_SEND,		/* 10 26 (TCP), 42 58 (UDP) */
	ETW_NET_RECV,		/* 11 27 (TCP), 43 59 (UDP) */
	ETW_NET_CONNECT,	/* 12 28: an outbound connection established */
	ETW_NET_DISCONNECT,	/* 13 29 */
	ETW_NET_RETRANSMIT,	/* 14 30 */
	ETW_NET_ACCEPT,		/* 15 31: an inbound connection established */
	ETW_NET_RECONNECT,	/* 16 32: a SYN sent again */
	ETW_NET_COPY,		/* 18 34: bytes copied for the user */
	ETW_NET_KIND_MAX
};

struct etw_net_event {
	uint8_t kind;		/* enum etw_net_kind */
	uint8_t proto;		/* enum snap_proto */
	uint8_t family;		/* 4 or 6 */
	uint32_t pid;		/* as the event says; 0 when it has none */
	uint32_t size;		/* bytes for send/recv/retransmit/copy */
	struct snap_addr local, remote;
	uint16_t local_port, remote_port;	/* host order */
};

/* Decodes one event.  Returns 0 and fills *ev; -ENOENT for an event id this
 * decoder does not handle (failure notices 17/49 and ids unknown to it:
 * callers skip them); -EBADMSG when the payload is too short for its
 * layout (*ev untouched). */
int etw_net_decode(unsigned event_id, const void *data, size_t len,
    struct etw_net_event *ev);

/* "send", "connect", ...; NULL out of range. */
const char *etw_net_kind_name(unsigned kind);

#endif
