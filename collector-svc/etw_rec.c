/*
 * Kernel-Network connections as batch records (etw_rec.h).
 */
#include "etw_rec.h"

#include <stdint.h>
#include <string.h>

void
etw_rec_fill(struct conn_rec *r, const struct etw_conn *c,
    const struct events_owner *owner)
{
	memset(r, 0, sizeof(*r));
	r->c.proto = SNAP_PROTO_TCP;
	r->c.family = c->family;
	r->c.role = c->role == ETW_CONN_ROLE_CONNECT ? SNAP_ROLE_CONNECT :
	    c->role == ETW_CONN_ROLE_ACCEPT ? SNAP_ROLE_ACCEPT :
	    SNAP_ROLE_UNKNOWN;
	r->c.local = c->local;
	r->c.remote = c->remote;
	r->c.local_port = c->local_port;
	r->c.remote_port = c->remote_port;
	r->c.open_ms = c->open_ms;
	r->c.close_ms = c->close_ms;
	r->c.bytes_sent = c->bytes_sent;
	r->c.bytes_received = c->bytes_received;
	r->opened = c->new_open != 0;
	r->closed = c->close_ms != 0;
	if (c->pid == 0 || c->pid > INT32_MAX) {
		r->c.owner = SNAP_OWNER_KERNEL;
		r->c.pid = -1;
		return;
	}
	r->c.owner = SNAP_OWNER_KNOWN;
	r->c.pid = (int32_t)c->pid;
	if (owner != NULL && owner->pid == r->c.pid) {
		r->c.start_time = owner->start_time;
		memcpy(r->name, owner->name, sizeof(r->name));
		r->name[sizeof(r->name) - 1] = '\0';
	}
}
