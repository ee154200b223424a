/*
 * The fleet's hosts and their merge into one graph: pure (no I/O, no
 * threads), so it is unit-tested and benchmarked on its own.  The caller
 * (fleet_nats.c) serialises access.
 */
#ifndef PROCNET_WEBD_FLEET_MERGE_H
#define PROCNET_WEBD_FLEET_MERGE_H

#include <stddef.h>
#include <stdint.h>

struct fleet_table;

struct fleet_merged {
	char *graph;		/* {"nodes":..,"edges":..,"meta":..}, malloc'd */
	size_t glen;
	char *delta;		/* "nodes":{..},"edges":{..},"meta":{..} */
	size_t dlen;
	size_t nodes, edges, hosts, stale, processes, sockets;
};

struct fleet_table *fleet_table_new(void);
void fleet_table_free(struct fleet_table *t);	/* NULL is fine */

/*
 * One message from subject (procnet.v1.<token>.graph): a full graph or a
 * delta, wrapped with {"host":{"name",..}} as webd --publish sends it.
 * The host's name must be the subject's token ('.' as '_') — a host speaks
 * only for itself.  A delta that does not follow the host's last seq is
 * not applied; the host waits for its next full graph.  Returns 0,
 * -EBADMSG (not such a message), -EPERM (name and subject disagree),
 * -EAGAIN (a delta out of sequence), -E2BIG (too many hosts) or -ENOMEM.
 */
int fleet_apply(struct fleet_table *t, const char *subject, const char *data,
    size_t len, int64_t now_ms);

/*
 * The merged graph as of now_ms, and its delta from the previous merge.
 * Hosts silent for stale_s are marked stale, for drop_s dropped.
 * 0 or -ENOMEM; free out with fleet_merged_clear().
 */
int fleet_merge(struct fleet_table *t, int64_t now_ms, unsigned stale_s,
    unsigned drop_s, struct fleet_merged *out);
void fleet_merged_clear(struct fleet_merged *m);

/*
 * The last merge folded by group mode (enum graph_group, not PROCESS), as
 * group.c folds one host's graph: one node per group id (node.groups[mode],
 * which the merge made its host's, and "h:<host>" for the host mode), with
 * its members; edges between groups add up.  The delta is from this mode's
 * last fold when that was of the merge before (else none).  0, -EAGAIN
 * (nothing merged yet), -EALREADY (this merge is folded already), -EINVAL
 * or -ENOMEM.
 */
int fleet_fold(struct fleet_table *t, unsigned mode, struct fleet_merged *out);

#endif
