/*
 * Snapshot -> JSON, written with common/jsonw.h so the hot loop over
 * sockets only formats numbers and copies bytes.
 */
#include "snapshot_json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addrfmt.h"
#include "jsonw.h"

#define PUTS(w, lit)	JSONW_LIT((w), lit)

int
snapshot_json_string(char **buf, size_t *len, size_t *cap, const char *str)
{
	struct jsonw w;

	jsonw_init(&w, NULL, NULL);
	w.p = *buf;
	w.len = *len;
	w.cap = *cap;
	jsonw_str(&w, str);
	if (w.error != 0)
		return w.error;
	*buf = w.p;
	*len = w.len;
	*cap = w.cap;
	return 0;
}

static void
put_process(struct jsonw *b, const struct snap_process *p)
{
	PUTS(b, "{\"pid\":");
	jsonw_i64(b, p->pid);
	PUTS(b, ",\"ppid\":");
	jsonw_i64(b, p->ppid);
	PUTS(b, ",\"start_time\":");
	jsonw_u64(b, p->start_time);
	PUTS(b, ",\"user\":");
	jsonw_str(b, p->user);
	PUTS(b, ",\"name\":");
	jsonw_str(b, p->name);
	PUTS(b, ",\"exe\":");
	jsonw_str(b, p->exe);
	PUTS(b, ",\"cmdline\":");
	jsonw_str(b, p->cmdline);
	PUTS(b, ",\"argv\":[");
	for (uint32_t i = 0; i < p->argc; i++) {
		if (i > 0)
			PUTS(b, ",");
		jsonw_str(b, p->argv[i]);
	}
	PUTS(b, "],\"netns\":");
	jsonw_u64(b, p->netns);
	PUTS(b, ",\"service\":");
	jsonw_str(b, p->service != NULL ? p->service : "");
	if (p->container_runtime != NULL && *p->container_runtime != '\0') {
		PUTS(b, ",\"container\":{\"runtime\":");
		jsonw_str(b, p->container_runtime);
		PUTS(b, ",\"id\":");
		jsonw_str(b, p->container_id != NULL ? p->container_id : "");
		PUTS(b, ",\"name\":");
		jsonw_str(b, p->container_name != NULL ? p->container_name : "");
		PUTS(b, "}");
	}
	PUTS(b, ",\"exited\":");
	jsonw_bool(b, (p->flags & SNAP_PROC_EXITED) != 0);
	PUTS(b, "}");
}

/* "pid":N, or "pid":null,"owner_unknown":"why" */
static void
put_owner(struct jsonw *b, uint8_t owner, int32_t pid)
{
	const char *name;

	if (owner == SNAP_OWNER_KNOWN) {
		PUTS(b, ",\"pid\":");
		jsonw_i64(b, pid);
	} else {
		PUTS(b, ",\"pid\":null,\"owner_unknown\":");
		name = snap_owner_name(owner);
		jsonw_str(b, name != NULL ? name : "unknown");
	}
}

static void
put_endpoints(struct jsonw *b, const struct snap_addr *local,
    uint16_t local_port, const struct snap_addr *remote,
    uint16_t remote_port)
{
	char addr[SNAP_ADDRSTRLEN];

	PUTS(b, ",\"local_addr\":\"");
	jsonw_put(b, addr, addrfmt_addr(local, addr));
	PUTS(b, "\",\"local_port\":");
	jsonw_u64(b, local_port);
	PUTS(b, ",\"remote_addr\":\"");
	jsonw_put(b, addr, addrfmt_addr(remote, addr));
	PUTS(b, "\",\"remote_port\":");
	jsonw_u64(b, remote_port);
}

/* a pid or null for -1 (unknown) */
static void
put_pid_or_null(struct jsonw *b, int32_t pid)
{
	if (pid < 0)
		PUTS(b, "null");
	else
		jsonw_i64(b, pid);
}

static void
put_socket(struct jsonw *b, const struct snap_socket *s)
{
	const char *name;

	PUTS(b, "{\"proto\":");
	name = snap_proto_name(s->proto);
	jsonw_str(b, name != NULL ? name : "");
	PUTS(b, ",\"family\":");
	jsonw_u64(b, s->family);
	put_endpoints(b, &s->local, s->local_port, &s->remote, s->remote_port);
	PUTS(b, ",\"state\":");
	name = snap_state_name(s->state);
	jsonw_str(b, name != NULL ? name : "");
	put_owner(b, s->owner, s->pid);
	PUTS(b, ",\"netns\":");
	jsonw_u64(b, s->netns);
	PUTS(b, ",\"cookie\":");
	jsonw_u64(b, s->cookie);
	if (s->has_info) {
		PUTS(b, ",\"bytes_sent\":");
		jsonw_u64(b, s->bytes_sent);
		PUTS(b, ",\"bytes_received\":");
		jsonw_u64(b, s->bytes_received);
		PUTS(b, ",\"rtt_us\":");
		jsonw_u64(b, s->rtt_us);
		PUTS(b, ",\"retrans\":");
		jsonw_u64(b, s->retrans);
	}
	PUTS(b, "}");
}

static void
put_conn(struct jsonw *b, const struct snap_conn *c)
{
	const char *name;

	PUTS(b, "{\"proto\":");
	name = snap_proto_name(c->proto);
	jsonw_str(b, name != NULL ? name : "");
	PUTS(b, ",\"family\":");
	jsonw_u64(b, c->family);
	PUTS(b, ",\"role\":");
	name = snap_role_name(c->role);
	jsonw_str(b, name != NULL ? name : "unknown");
	put_endpoints(b, &c->local, c->local_port, &c->remote, c->remote_port);
	put_owner(b, c->owner, c->pid);
	PUTS(b, ",\"start_time\":");
	jsonw_u64(b, c->start_time);
	PUTS(b, ",\"netns\":");
	jsonw_u64(b, c->netns);
	PUTS(b, ",\"cookie\":");
	jsonw_u64(b, c->cookie);
	PUTS(b, ",\"open_ms\":");
	jsonw_i64(b, c->open_ms);
	PUTS(b, ",\"close_ms\":");
	jsonw_i64(b, c->close_ms);
	PUTS(b, ",\"bytes_sent\":");
	jsonw_u64(b, c->bytes_sent);
	PUTS(b, ",\"bytes_received\":");
	jsonw_u64(b, c->bytes_received);
	PUTS(b, "}");
}

static void
put_conn_agg(struct jsonw *b, const struct snap_conn_agg *a)
{
	const char *name;

	PUTS(b, "{\"proto\":");
	name = snap_proto_name(a->proto);
	jsonw_str(b, name != NULL ? name : "");
	PUTS(b, ",\"client_pid\":");
	put_pid_or_null(b, a->client_pid);
	PUTS(b, ",\"server_pid\":");
	put_pid_or_null(b, a->server_pid);
	PUTS(b, ",\"server_port\":");
	jsonw_u64(b, a->server_port);
	PUTS(b, ",\"opened\":");
	jsonw_u64(b, a->opened);
	PUTS(b, ",\"closed\":");
	jsonw_u64(b, a->closed);
	PUTS(b, ",\"bytes_sent\":");
	jsonw_u64(b, a->bytes_sent);
	PUTS(b, ",\"bytes_received\":");
	jsonw_u64(b, a->bytes_received);
	PUTS(b, "}");
}

static void
put_events(struct jsonw *b, const struct snapshot *s)
{
	size_t i;

	PUTS(b, ",\"events\":{\"source\":");
	jsonw_str(b, s->events_source != NULL ? s->events_source : "none");
	PUTS(b, ",\"reason\":");
	jsonw_str(b, s->events_reason != NULL ? s->events_reason : "");
	PUTS(b, ",\"lost\":");
	jsonw_u64(b, s->events_lost);
	PUTS(b, ",\"conns\":[");
	for (i = 0; i < s->n_conns; i++) {
		if (i > 0)
			PUTS(b, ",");
		put_conn(b, &s->conns[i]);
	}
	PUTS(b, "],\"aggregated\":[");
	for (i = 0; i < s->n_conn_aggs; i++) {
		if (i > 0)
			PUTS(b, ",");
		put_conn_agg(b, &s->conn_aggs[i]);
	}
	PUTS(b, "]}");
}

static void
put_snapshot(struct jsonw *b, const struct snapshot *s)
{
	int64_t secs;
	size_t i;

	PUTS(b, "{\"version\":2,\"host\":");
	jsonw_str(b, s->host != NULL ? s->host : "");
	PUTS(b, ",\"os\":");
	jsonw_str(b, s->os != NULL ? s->os : "");
	PUTS(b, ",\"time\":");
	/* Floor division: whole Unix seconds even before 1970. */
	secs = s->time_ms >= 0 ? s->time_ms / 1000 :
	    -((-s->time_ms + 999) / 1000);
	jsonw_i64(b, secs);
	PUTS(b, ",\"privileged\":");
	jsonw_bool(b, s->privileged);
	PUTS(b, ",\"processes\":[");
	for (i = 0; i < s->n_processes; i++) {
		if (i > 0)
			PUTS(b, ",");
		put_process(b, &s->processes[i]);
	}
	PUTS(b, "],\"sockets\":[");
	for (i = 0; i < s->n_sockets; i++) {
		if (i > 0)
			PUTS(b, ",");
		put_socket(b, &s->sockets[i]);
	}
	PUTS(b, "]");
	put_events(b, s);
	PUTS(b, "}\n");
}

int
snapshot_json(const struct snapshot *s, char **out, size_t *len)
{
	struct jsonw w;

	jsonw_init(&w, NULL, NULL);
	/* About 170 bytes a socket: size once, grow rarely. */
	if (jsonw_reserve(&w, 256 + s->n_sockets * 220 +
	    s->n_processes * 384 + s->n_conns * 300))
		put_snapshot(&w, s);
	return jsonw_finish(&w, out, len);
}

int
snapshot_json_stream(const struct snapshot *s, snapshot_json_sink sink,
    void *arg)
{
	struct jsonw w;

	jsonw_init(&w, sink, arg);
	if (jsonw_reserve(&w, JSONW_CHUNK))
		put_snapshot(&w, s);
	return jsonw_finish(&w, NULL, NULL);
}
