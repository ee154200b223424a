/*
 * Grouping processes into nodes: by program (the same executable in one
 * parent tree: a postmaster and its backends, nginx's master and workers),
 * by systemd service, by container, or by user.  Pure, like graph.c.
 *
 * graph_build() gives every process node its group's id in each mode
 * (node->group[mode], through group_assign()); graph_group() folds a
 * process graph into the graph of one mode: one node per group with its
 * members, edges between groups added up.  A rule's `group:` names a
 * group in the program mode and wins over the parent tree there.
 *
 * Group ids: program "p:<pid>:<start>" of the tree's top process (so a
 * lone process keeps its own id), or "n:<name>" for a rule's group;
 * service "s:<unit>"; container "c:<runtime>:<id>"; user "u:<name>".  A
 * process without a service / container / user falls back to its program
 * group in that mode.
 */
#ifndef PROCNET_GROUP_H
#define PROCNET_GROUP_H

#include "graph.h"

/* Fills nodes[i].group[] for n nodes of g (g's arena holds the ids).
 * 0 or -ENOMEM. */
int group_assign(struct graph *g, struct graph_node *nodes, size_t n);

/* The graph g (a process graph) folded by mode.  GRAPH_GROUP_PROCESS
 * gives a copy-free view: *out is a new graph sharing nothing but the
 * snapshot.  0, -EINVAL (g already grouped / bad mode) or -ENOMEM. */
int graph_group(const struct graph *g, unsigned mode, struct graph **out);

/* The group= parameter of a query string ("a=1&group=user"; NULL or none:
 * GRAPH_GROUP_DEFAULT).  0, or -EINVAL for an unknown, empty or repeated
 * value. */
int graph_group_from_query(const char *query, unsigned *mode);

#endif
