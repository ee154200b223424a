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
	PUTS(b, "}");
}

static void
put_socket(struct jsonw *b, const struct snap_socket *s)
{
	char addr[SNAP_ADDRSTRLEN];
	const char *name;

	PUTS(b, "{\"proto\":");
	name = snap_proto_name(s->proto);
	jsonw_str(b, name != NULL ? name : "");
	PUTS(b, ",\"family\":");
	jsonw_u64(b, s->family);
	PUTS(b, ",\"local_addr\":\"");
	jsonw_put(b, addr, addrfmt_addr(&s->local, addr));
	PUTS(b, "\",\"local_port\":");
	jsonw_u64(b, s->local_port);
	PUTS(b, ",\"remote_addr\":\"");
	jsonw_put(b, addr, addrfmt_addr(&s->remote, addr));
	PUTS(b, "\",\"remote_port\":");
	jsonw_u64(b, s->remote_port);
	PUTS(b, ",\"state\":");
	name = snap_state_name(s->state);
	jsonw_str(b, name != NULL ? name : "");
	if (s->owner == SNAP_OWNER_KNOWN) {
		PUTS(b, ",\"pid\":");
		jsonw_i64(b, s->pid);
	} else {
		PUTS(b, ",\"pid\":null,\"owner_unknown\":");
		name = snap_owner_name(s->owner);
		jsonw_str(b, name != NULL ? name : "unknown");
	}
	PUTS(b, "}");
}

static void
put_snapshot(struct jsonw *b, const struct snapshot *s)
{
	int64_t secs;
	size_t i;

	PUTS(b, "{\"version\":1,\"host\":");
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
	PUTS(b, "]}\n");
}

int
snapshot_json(const struct snapshot *s, char **out, size_t *len)
{
	struct jsonw w;

	jsonw_init(&w, NULL, NULL);
	/* About 170 bytes a socket: size once, grow rarely. */
	if (jsonw_reserve(&w, 256 + s->n_sockets * 180 +
	    s->n_processes * 256))
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
