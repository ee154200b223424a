/*
 * The window's insides, shared by window.c (records, aggregates, the
 * update) and window_proc.c (processes kept after they left).  Not for
 * other modules.
 */
#ifndef PROCNET_WEBD_WINDOW_PRIV_H
#define PROCNET_WEBD_WINDOW_PRIV_H

#include "window.h"

struct window {
	uint32_t window_s;
	size_t cap;
	bool started;
	int64_t now_ms, prev_ms;

	struct window_end *ends;
	size_t n_ends, alloc_ends;
	struct window_agg *aggs;
	size_t n_aggs, alloc_aggs;
	struct window_proc *gone;
	size_t n_gone, alloc_gone;
	struct snapshot *prev;

	uint64_t aggregated, dropped, lost;
	size_t untracked;		/* table sockets past the cap, this sample */
	/* during an update: the index maps' ordinals -> record index */
	uint32_t *id_end, *tuple_end;
	char source[32];
	char reason[256];
};

/* *arr holds *alloc elements of size; makes room for need.  0 / -ENOMEM. */
int window_grow(void **arr, size_t *alloc, size_t need, size_t size);

/* Records older than this (Unix ms) are out of the window. */
int64_t window_cutoff(const struct window *w);

/* window_proc.c */
bool window_in_snapshot(const struct snapshot *s, int32_t pid,
    uint64_t start);
void window_gone_release(struct window_proc *g);
int window_gone_add_bare(struct window *w, int32_t pid, uint64_t start);
bool window_gone_has(const struct window *w, int32_t pid, uint64_t start);
/* Keeps the processes of the previous snapshot that are not in s and were
 * drawn (is_node; NULL: all). */
int window_gone_departures(struct window *w, const struct snapshot *s,
    bool (*is_node)(void *, int32_t, uint64_t), void *user);
/* Forgets those out of the window, or back in s. */
void window_gone_expire(struct window *w, const struct snapshot *s);
void window_gone_sort(struct window *w);

#endif
