/*
 * libFuzzer target for the connection-event parsers: sock_diag destroy
 * messages (destroymsg_parse), BPF ring-buffer records (connrec_parse),
 * /proc/net/netlink lines, and the batch they feed (connbatch, with a small
 * cap so aggregation runs too).  Each gets an exact-size copy so ASan sees a
 * read past the end; what must hold whatever the input is checked.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connbatch.h"
#include "connrec.h"
#include "destroymsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_rec(const struct conn_rec *r)
{
	const struct snap_conn *c = &r->c;

	if ((c->family != 4 && c->family != 6) || c->local.family != c->family ||
	    c->role >= SNAP_ROLE_MAX || c->owner >= SNAP_OWNER_MAX ||
	    (c->owner != SNAP_OWNER_KNOWN && c->pid != -1) ||
	    (c->owner == SNAP_OWNER_KNOWN && c->pid <= 0) ||
	    memchr(r->name, '\0', sizeof(r->name)) == NULL)
		abort();
}

static int
add(void *arg, const struct conn_rec *r)
{
	check_rec(r);
	if (!r->closed || r->c.close_ms != 1)
		abort();
	(void)connbatch_add(arg, r);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct connrec_clock k = { 1000, 1700000000, 100 };
	struct destroymsg_stats st = { 0 };
	struct connbatch *b = connbatch_new(4);
	struct events_batch eb;
	struct conn_rec r;
	uint64_t drops;
	uint8_t *p;
	size_t i, off;

	if (b == NULL || (p = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(p, data, size);
	(void)destroymsg_parse(p, size, 1, add, b, &st);
	(void)destroymsg_netlink_drops((const char *)p, size, 267091, &drops);
	/* the same bytes as a run of ring-buffer records */
	for (off = 0; off < size; off += 112) {
		size_t n = size - off < 112 ? size - off : 112;
		uint8_t *q = malloc(n ? n : 1);

		if (q == NULL)
			abort();
		memcpy(q, data + off, n);
		if (connrec_parse(q, n, &k, &r) == 0) {
			check_rec(&r);
			(void)connbatch_add(b, &r);
		}
		free(q);
	}
	connbatch_view(b, &eb);
	if (eb.n_conns > 4)
		abort();
	for (i = 0; i < eb.n_owners; i++)
		if (eb.owners[i].pid <= 0)
			abort();
	connbatch_free(b);
	free(p);
	return 0;
}
