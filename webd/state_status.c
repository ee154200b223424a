/*
 * What the state says about itself: /api/status (state_status_json) and
 * the stream's status message.
 */
#include "state_priv.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fleet.h"
#include "publish.h"
#include "stream.h"
#include "utf8.h"

/* A JSON string for text that may not be UTF-8 (paths and error texts
 * come from the command line and the OS): jansson refuses such text, so
 * bad bytes become U+FFFD instead of the whole document failing. */
json_t *
state_json_text(const char *text)
{
	size_t n = strlen(text);
	char *fixed;
	json_t *v;

	if (utf8_valid(text, n))
		return json_string(text);
	fixed = malloc(n * 3 + 1);
	if (fixed == NULL)
		return NULL;
	utf8_sanitize(fixed, text, n);
	v = json_string(fixed);
	free(fixed);
	return v;
}

/* Builds the stream's status message; called with pub_lock held. */
struct state_buf *
state_status_message(struct state *st)
{
	json_t *o;
	char *text;
	struct state_buf *b = NULL;

	o = json_pack("{s:s, s:s, s:o, s:I}",
	    "type", "status",
	    "collector", subscriber_state_name(st->collector),
	    "error", state_json_text(st->collector_error),
	    "seq", (json_int_t)st->seq);
	if (o == NULL)
		return NULL;
	if (st->rules_error[0] != '\0')
		json_object_set_new(o, "rules_error",
		    state_json_text(st->rules_error));
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (text != NULL)
		b = state_buf_new(text, strlen(text));
	free(text);
	return b;
}

/* Refreshes the status message and tells the stream; pub_lock not held. */
void
state_publish_status(struct state *st)
{
	struct state_buf *b, *old;

	pthread_mutex_lock(&st->pub_lock);
	b = state_status_message(st);
	old = st->status;
	if (b != NULL) {
		st->status = b;
		st->status_seq++;
	} else
		old = NULL;
	pthread_mutex_unlock(&st->pub_lock);
	state_buf_unref(old);
	if (b != NULL && st->on_publish != NULL)
		st->on_publish(st->user);
}


static json_t *
fleet_status(struct fleet *f)
{
	struct fleet_stats fs;

	if (f == NULL)
		return json_null();
	fleet_get_stats(f, &fs);
	return json_pack("{s:b, s:i, s:i, s:I, s:I, s:I, s:I, s:f, s:s}",
	    "connected", fs.connected,
	    "hosts", (int)fs.hosts, "stale", (int)fs.stale,
	    "messages", (json_int_t)fs.messages,
	    "bad_messages", (json_int_t)fs.bad_messages,
	    "resyncs", (json_int_t)fs.resyncs,
	    "merges", (json_int_t)fs.merges,
	    "merge_ms", fs.merge_ms, "error", fs.error);
}

static json_t *
nats_status(struct publish *p)
{
	struct publish_stats ps;

	if (p == NULL)
		return json_null();
	publish_get_stats(p, &ps);
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
	    "connected", ps.connected,
	    "sent_full", (json_int_t)ps.sent_full,
	    "sent_delta", (json_int_t)ps.sent_delta,
	    "bytes", (json_int_t)ps.bytes,
	    "skipped", (json_int_t)ps.skipped,
	    "too_big", (json_int_t)ps.too_big,
	    "reconnects", (json_int_t)ps.reconnects,
	    "error", ps.error);
}

static json_t *
names_status(struct resolver *r)
{
	struct resolver_stats ns;

	resolver_get_stats(r, &ns);
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i}",
	    "mode", r != NULL ? resolve_mode_name(ns.mode) : "off",
	    "queries", (json_int_t)ns.queries,
	    "answers", (json_int_t)ns.answers,
	    "no_name", (json_int_t)ns.no_name,
	    "failures", (json_int_t)ns.failures,
	    "rate_limited", (json_int_t)ns.rate_limited,
	    "cached", (int)ns.cached,
	    "in_flight", (int)ns.in_flight,
	    "queued", (int)ns.queued);
}

/* /api/status "events"; called with pub_lock held. */
static json_t *
events_json(const struct state *st)
{
	const struct window_stats *w = &st->window_stats;
	json_t *o = json_pack("{s:o, s:o, s:I, s:i, s:I, s:I, s:I, s:I}",
	    "source", state_json_text(st->events_source),
	    "reason", state_json_text(st->events_reason),
	    "lost", (json_int_t)w->lost,
	    "window_s", (int)w->window_s,
	    "records", (json_int_t)w->records,
	    "cap", (json_int_t)w->cap,
	    "aggregated", (json_int_t)w->aggregated,
	    "dropped", (json_int_t)w->dropped);

	if (o != NULL) {
		json_object_set_new(o, "untracked",
		    json_integer((json_int_t)w->untracked));
		json_object_set_new(o, "unattributed",
		    json_integer((json_int_t)st->n_unattributed));
		json_object_set_new(o, "processes_kept",
		    json_integer((json_int_t)w->gone));
	}
	return o;
}

char *
state_status_json(struct state *st, const struct subscriber_status *sub,
    const struct stream_stats *streams, size_t *len)
{
	json_t *o, *c, *s, *r, *counts, *ev;
	int64_t now = clock_real_ms();
	char *text;

	o = json_object();
	pthread_mutex_lock(&st->pub_lock);
	c = json_pack("{s:s, s:o}",
	    "state", subscriber_state_name(sub != NULL ? sub->state :
	    st->collector),
	    /* as in the stream's status message: no error while connected */
	    "error", state_json_text(sub == NULL ? st->collector_error :
	    sub->state == SUBSCRIBER_CONNECTED ? "" : sub->error));
	if (c != NULL && sub != NULL) {
		json_object_set_new(c, "last_error", state_json_text(sub->error));
		json_object_set_new(c, "endpoint", state_json_text(sub->endpoint));
		json_object_set_new(c, "snapshots",
		    json_integer((json_int_t)sub->n_snapshots));
		json_object_set_new(c, "connects",
		    json_integer((json_int_t)sub->n_connects));
		json_object_set_new(c, "protocol", json_integer(sub->version));
	}
	s = json_pack("{s:I, s:b, s:I, s:f, s:I}",
	    "seq", (json_int_t)st->seq,
	    "privileged", st->privileged,
	    "time_ms", (json_int_t)st->sample_time_ms,
	    "sample_ms", st->sample_us / 1000.0,
	    "build_errors", (json_int_t)st->n_build_errors);
	if (s != NULL) {
		/* Age from our clock at receipt when known: the collector's
		 * clock need not agree with ours. */
		int64_t at = sub != NULL && sub->last_receive_ms != 0 ?
		    sub->last_receive_ms : st->sample_time_ms;

		json_object_set_new(s, "age_ms", at != 0 ?
		    json_integer(now - at) : json_null());
		json_object_set_new(s, "build_ms",
		    json_real(st->build_us / 1000.0));
	}
	counts = json_pack("{s:I, s:I, s:I, s:I}",
	    "processes", (json_int_t)st->n_processes,
	    "sockets", (json_int_t)st->n_sockets,
	    "nodes", (json_int_t)st->n_nodes,
	    "edges", (json_int_t)st->n_edges);
	r = json_pack("{s:o, s:I, s:o}",
	    "file", st->rules_path != NULL ? state_json_text(st->rules_path) :
	    json_null(),
	    "count", (json_int_t)st->n_rules,
	    "error", st->rules_error[0] != '\0' ?
	    state_json_text(st->rules_error) : json_null());
	if (r != NULL)
		json_object_set_new(r, "loaded_ms",
		    json_integer(st->rules_loaded_ms));
	ev = events_json(st);
	pthread_mutex_unlock(&st->pub_lock);

	if (o == NULL || c == NULL || s == NULL || counts == NULL ||
	    r == NULL) {
		json_decref(o);
		json_decref(c);
		json_decref(s);
		json_decref(counts);
		json_decref(r);
		json_decref(ev);
		return NULL;
	}
	json_object_set_new(o, "version", json_string(PROCNET_VERSION));
	json_object_set_new(o, "collector", c);
	json_object_set_new(o, "sample", s);
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "rules", r);
	json_object_set_new(o, "cmdline",
	    json_string(redact_mode_name(st->json.cmdline)));
	if (streams != NULL)
		json_object_set_new(o, "stream", json_pack(
		    "{s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		    "clients", (int)streams->clients,
		    "accepted", (json_int_t)streams->accepted,
		    "refused", (json_int_t)streams->refused,
		    "refused_frames", (json_int_t)streams->refused_frames,
		    "sent_full", (json_int_t)streams->sent_full,
		    "sent_delta", (json_int_t)streams->sent_delta,
		    "sent_status", (json_int_t)streams->sent_status,
		    "resyncs", (json_int_t)streams->resyncs,
		    "dropped", (json_int_t)streams->dropped));
	json_object_set_new(o, "history", st->history != NULL ?
	    history_status_json(st->history) : json_pack("{s:s}", "state",
	    "off"));
	json_object_set_new(o, "icons", json_boolean(st->icons));
	json_object_set_new(o, "names", names_status(st->resolver));
	json_object_set_new(o, "publish", nats_status(st->publish));
	json_object_set_new(o, "fleet", fleet_status(st->fleet));
	json_object_set_new(o, "events", ev);
	json_object_set_new(o, "options", json_pack("{s:b, s:b}",
	    "udp", st->udp, "p2p_only", st->p2p_only));
	text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (text != NULL && len != NULL)
		*len = strlen(text);
	return text;
}
