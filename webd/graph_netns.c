/*
 * Sockets of several network namespaces (graph_priv.h).  A 4-tuple pairs
 * within its own namespace first.  Across namespaces it pairs only through
 * addresses they actually share -- a veth pair, a bridge, a container's
 * address seen from the host: the mirrored tuple must exist in exactly one
 * other namespace and neither address may be loopback (127.0.0.0/8 and ::1
 * are every namespace's own, so two containers' loopback connections that
 * happen to have the same ports are never joined).  Likewise a listener in
 * another namespace is found through the one namespace that uses the
 * address as a local address.  A snapshot of one namespace (or of an OS
 * without them: netns 0) never gets here.
 */
#include "graph_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NS_AMBIGUOUS	UINT64_MAX

static bool
addr_is_any(const struct snap_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->bytes, zero, a->family == 4 ? 4 : 16) == 0;
}

static bool
shareable(const struct snap_addr *a)
{
	return !addr_is_loopback(a) && !addr_is_any(a);
}

static void
mirror_key(struct tkey *k, const struct xsock *x, bool mirrored)
{
	memset(k, 0, sizeof(*k));
	k->proto = x->proto;
	k->a = mirrored ? x->r : x->l;
	k->ap = mirrored ? x->rp : x->lp;
	k->b = mirrored ? x->l : x->r;
	k->bp = mirrored ? x->lp : x->rp;
}

int
graph_ns_prepare(struct build *b)
{
	size_t n_conn = 0, n_addr = 0, i;

	b->multi_ns = false;
	for (i = 1; i < b->n_xs; i++)
		if (b->xs[i].ns != b->xs[0].ns) {
			b->multi_ns = true;
			break;
		}
	if (!b->multi_ns)
		return 0;
	for (i = 0; i < b->n_xs; i++) {
		if (b->xs[i].rp != 0)
			n_conn++;
		if (shareable(&b->xs[i].l))
			n_addr++;
	}
	if (kmap_init(&b->xconns, sizeof(struct tkey), n_conn) < 0 ||
	    kmap_init(&b->addr_ns, sizeof(struct snap_addr), n_addr) < 0)
		return -ENOMEM;
	b->xconn_sock = calloc(n_conn ? n_conn : 1, sizeof(*b->xconn_sock));
	b->xconn_n = calloc(n_conn ? n_conn : 1, sizeof(*b->xconn_n));
	b->addr_ns_val = calloc(n_addr ? n_addr : 1, sizeof(*b->addr_ns_val));
	if (b->xconn_sock == NULL || b->xconn_n == NULL ||
	    b->addr_ns_val == NULL)
		return -ENOMEM;
	for (i = 0; i < b->n_xs; i++) {
		const struct xsock *x = &b->xs[i];
		struct tkey k;
		bool added;
		long o;

		if (x->rp != 0 && shareable(&x->l) && shareable(&x->r)) {
			mirror_key(&k, x, false);
			if ((o = kmap_put(&b->xconns, &k, &added)) < 0)
				return -E2BIG;
			if (added)
				b->xconn_sock[o] = (uint32_t)i;
			b->xconn_n[o]++;
		}
		if (shareable(&x->l)) {
			if ((o = kmap_put(&b->addr_ns, &x->l, &added)) < 0)
				return -E2BIG;
			if (added)
				b->addr_ns_val[o] = x->ns;
			else if (b->addr_ns_val[o] != x->ns)
				b->addr_ns_val[o] = NS_AMBIGUOUS;
		}
	}
	return 0;
}

long
graph_ns_peer(const struct build *b, size_t i)
{
	const struct xsock *x = &b->xs[i];
	struct tkey k;
	long o, j;

	if (!b->multi_ns || x->rp == 0 || !shareable(&x->l) ||
	    !shareable(&x->r))
		return -1;
	mirror_key(&k, x, true);
	if ((o = kmap_find(&b->xconns, &k)) < 0 || b->xconn_n[o] != 1)
		return -1;
	j = (long)b->xconn_sock[o];
	return (size_t)j != i && b->xs[j].ns != x->ns ? j : -1;
}

bool
graph_ns_owner(const struct build *b, const struct snap_addr *a,
    uint64_t *ns)
{
	long o;

	if (!b->multi_ns || !shareable(a) ||
	    (o = kmap_find(&b->addr_ns, a)) < 0 ||
	    b->addr_ns_val[o] == NS_AMBIGUOUS)
		return false;
	*ns = b->addr_ns_val[o];
	return true;
}

void
graph_ns_release(struct build *b)
{
	if (!b->multi_ns)
		return;
	kmap_free(&b->xconns);
	kmap_free(&b->addr_ns);
	free(b->xconn_sock);
	free(b->xconn_n);
	free(b->addr_ns_val);
}
