/*
 * Graphs built elsewhere published as the state's versions: the fleet
 * view's merge (webd/fleet_nats.c), a fold of it when a group mode is
 * asked for, and which modes are being looked at.
 */
#include "state_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* The buffers of one external mode at seq; 0 or -ENOMEM. */
static int
external_pub(const struct state_external *x, uint64_t seq,
    struct mode_pub *pub)
{
	memset(pub, 0, sizeof(*pub));
	if (x->graph == NULL)
		return 0;
	pub->graph = state_buf_new(x->graph, x->glen);
	pub->full = state_message("full", seq, "\"graph\":", x->graph,
	    x->glen);
	pub->delta = x->delta != NULL ? state_message("delta", seq, "",
	    x->delta, x->dlen) :
	    NULL;
	pub->seq = seq;
	if (pub->graph == NULL || pub->full == NULL ||
	    (x->delta != NULL && pub->delta == NULL)) {
		state_mode_pub_release(pub);
		return -ENOMEM;
	}
	return 0;
}

int
state_publish_external(struct state *st,
    const struct state_external ext[GRAPH_GROUP_MAX],
    const struct state_counts *counts)
{
	struct mode_pub pub[GRAPH_GROUP_MAX], old[GRAPH_GROUP_MAX];
	uint64_t seq;
	unsigned m;

	pthread_mutex_lock(&st->build_lock);
	pthread_mutex_lock(&st->pub_lock);
	seq = st->seq + 1;
	pthread_mutex_unlock(&st->pub_lock);
	for (m = 0; m < GRAPH_GROUP_MAX; m++)
		if (external_pub(&ext[m], seq, &pub[m]) != 0) {
			while (m-- > 0)
				state_mode_pub_release(&pub[m]);
			pthread_mutex_unlock(&st->build_lock);
			return -ENOMEM;
		}
	pthread_mutex_lock(&st->pub_lock);
	/* a mode not given has nothing of this version: nothing stale */
	for (m = 0; m < GRAPH_GROUP_MAX; m++)
		state_mode_publish(st, m, &pub[m], &old[m]);
	st->seq = seq;
	st->n_nodes = counts->nodes;
	st->n_edges = counts->edges;
	st->n_processes = counts->processes;
	st->n_sockets = counts->sockets;
	st->sample_time_ms = counts->time_ms;
	st->build_us = counts->build_us;
	st->privileged = true;
	pthread_mutex_unlock(&st->pub_lock);
	pthread_mutex_unlock(&st->build_lock);
	for (m = 0; m < GRAPH_GROUP_MAX; m++)
		state_mode_pub_release(&old[m]);
	if (st->on_publish != NULL)
		st->on_publish(st->user);
	return 0;
}

int
state_publish_external_mode(struct state *st, unsigned mode,
    const char *graph, size_t glen)
{
	struct state_external x = { graph, glen, NULL, 0 };
	struct mode_pub pub, old;
	uint64_t seq;
	int rc;

	if (mode >= GRAPH_GROUP_MAX)
		return -EINVAL;
	pthread_mutex_lock(&st->build_lock);
	pthread_mutex_lock(&st->pub_lock);
	seq = st->seq;
	pthread_mutex_unlock(&st->pub_lock);
	if ((rc = external_pub(&x, seq, &pub)) == 0) {
		pthread_mutex_lock(&st->pub_lock);
		state_mode_publish(st, mode, &pub, &old);
		pthread_mutex_unlock(&st->pub_lock);
		state_mode_pub_release(&old);
	}
	pthread_mutex_unlock(&st->build_lock);
	return rc;
}

bool
state_mode_wanted(struct state *st, unsigned mode)
{
	bool r;

	if (mode >= GRAPH_GROUP_MAX)
		return false;
	pthread_mutex_lock(&st->pub_lock);
	r = state_mode_active(st, mode, clock_mono_ms());
	pthread_mutex_unlock(&st->pub_lock);
	return r;
}
