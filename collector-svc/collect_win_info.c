/*
 * What the Windows socket and process tables do not carry, added to a
 * sample (collect_win_priv.h): the services each process hosts
 * (svcscan_win.c, issue 15) and per-connection TCP counters from ESTATS
 * (estats_win.c, issue 16).  Neither fails a sample: a process without a
 * service list has service "", a connection without counters has_info 0,
 * and why is kept for the stats (collect_stats.info_note).
 */
#include "collect_win_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int win_info_init(struct collector *c)
{
	c->svc = svcscan_new();
	c->svcm = svcmap_new();
	c->est = estats_new(0);
	return c->svc && c->svcm && c->est ? 0 : -ENOMEM;
}

void win_info_free(struct collector *c)
{
	svcscan_free(c->svc);
	svcmap_free(c->svcm);
	estats_free(c->est);
	free(c->ec);
	free(c->ei);
}

int win_services(struct collector *c)
{
	char err[192];
	int rc = svcscan_run(c->svc, c->svcm, err, sizeof(err));

	if (rc == -ENOMEM)
		return rc;
	c->svc_ok = rc == 0;
	if (rc < 0)
		snprintf(c->svc_err, sizeof(c->svc_err), "%s", err);
	else
		c->svc_err[0] = '\0';
	return 0;
}

const char *win_service_of(struct collector *c, int32_t pid)
{
	/* A list cut at SVCMAP_MAX_STRING keeps the names that fitted. */
	(void)svcmap_get(c->svcm, pid, c->svc_buf, sizeof(c->svc_buf));
	return c->svc_buf;
}

static int grow(struct collector *c, size_t n)
{
	struct estats_conn *ec;
	struct estats_info *ei;

	if (n <= c->cap_ec)
		return 0;
	if ((ec = realloc(c->ec, n * sizeof(*ec))) == NULL)
		return -ENOMEM;
	c->ec = ec;
	if ((ei = realloc(c->ei, n * sizeof(*ei))) == NULL)
		return -ENOMEM;
	c->ei = ei;
	c->cap_ec = n;
	return 0;
}

int win_estats(struct collector *c, bool enable)
{
	size_t n = 0;

	if (!enable) {
		snprintf(c->est_note, sizeof(c->est_note), "%s",
		    "one-off sample: ESTATS counters are read only in daemon "
		    "mode (from the sample after they were turned on)");
		return 0;
	}
	if (grow(c, c->n_socks) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_socks; i++) {
		const struct snap_socket *s = &c->socks[i];

		if (s->proto != SNAP_PROTO_TCP ||
		    s->state != SNAP_STATE_ESTABLISHED)
			continue;
		memset(&c->ec[n], 0, sizeof(c->ec[n]));
		c->ec[n].key.local = s->local;
		c->ec[n].key.remote = s->remote;
		c->ec[n].key.local_port = s->local_port;
		c->ec[n].key.remote_port = s->remote_port;
		c->ec[n].established = true;
		n++;
	}
	estats_sample(c->est, c->ec, n, c->ei);
	/* Back onto the sockets, in the same order. */
	for (size_t i = 0, j = 0; i < c->n_socks && j < n; i++) {
		struct snap_socket *s = &c->socks[i];

		if (s->proto != SNAP_PROTO_TCP ||
		    s->state != SNAP_STATE_ESTABLISHED)
			continue;
		if (c->ei[j].valid) {
			s->has_info = 1;
			s->bytes_sent = c->ei[j].bytes_sent;
			s->bytes_received = c->ei[j].bytes_received;
			s->rtt_us = c->ei[j].rtt_us;
			s->retrans = c->ei[j].retrans;
		}
		j++;
	}
	(void)estats_status(c->est, c->est_note, sizeof(c->est_note));
	return 0;
}
