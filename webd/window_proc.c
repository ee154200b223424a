/*
 * The processes the window keeps (window.h): copies of those that left
 * the snapshot while drawn, and bare records of those only an event names,
 * for the window's length.
 */
#include "window_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
window_gone_release(struct window_proc *g)
{
	/* the strings live in one block that starts at user */
	free((char *)g->p.user);
}

static int
cmp_gone(const void *a, const void *b)
{
	const struct snap_process *x = &((const struct window_proc *)a)->p;
	const struct snap_process *y = &((const struct window_proc *)b)->p;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->start_time > y->start_time) - (x->start_time < y->start_time);
}

const struct window_proc *
window_find_gone(const struct window_view *v, int32_t pid, uint64_t start)
{
	size_t lo = 0, hi = v->n_gone;
	const struct window_proc *best = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->gone[mid].p.pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->n_gone && v->gone[lo].p.pid == pid; lo++) {
		if (start == 0 || v->gone[lo].p.start_time == start)
			best = &v->gone[lo];	/* sorted: the last is latest */
		if (start != 0 && best != NULL)
			break;
	}
	return best;
}

bool
window_in_snapshot(const struct snapshot *s, int32_t pid, uint64_t start)
{
	const struct snap_process *p = snapshot_find_process(s, pid);

	return p != NULL && p->start_time == start;
}

/* Copies p's strings into one block (freed by gone_release). */
static int
gone_add(struct window *w, const struct snap_process *p)
{
	const char *src[7] = { p->user, p->name, p->exe, p->cmdline,
	    p->service, p->container_runtime, p->container_id };
	const char *cname = p->container_name;
	size_t len[8], total = 0;
	struct window_proc *g;
	char *block, *at;

	if (w->n_gone >= WINDOW_MAX_GONE) {
		w->dropped++;
		return 0;
	}
	if (window_grow((void **)&w->gone, &w->alloc_gone, w->n_gone + 1,
	    sizeof(*w->gone)) < 0)
		return -ENOMEM;
	for (int i = 0; i < 8; i++) {
		const char *t = i < 7 ? src[i] : cname;

		len[i] = t != NULL ? strlen(t) : 0;
		total += len[i] + 1;
	}
	if ((block = malloc(total)) == NULL)
		return -ENOMEM;
	g = &w->gone[w->n_gone++];
	memset(g, 0, sizeof(*g));
	g->p.pid = p->pid;
	g->p.ppid = p->ppid;
	g->p.start_time = p->start_time;
	g->p.netns = p->netns;
	g->p.flags = p->flags | SNAP_PROC_EXITED;
	g->gone_ms = w->now_ms;
	at = block;
	for (int i = 0; i < 8; i++) {
		const char *t = i < 7 ? src[i] : cname;
		const char **dst[8] = { &g->p.user, &g->p.name, &g->p.exe,
		    &g->p.cmdline, &g->p.service, &g->p.container_runtime,
		    &g->p.container_id, &g->p.container_name };

		if (len[i] > 0)
			memcpy(at, t, len[i]);
		at[len[i]] = '\0';
		*dst[i] = at;
		at += len[i] + 1;
	}
	return 0;
}

/* A process that only an event names (it came and went between samples
 * and the collector could not say more): a node with a pid and no name. */
int
window_gone_add_bare(struct window *w, int32_t pid, uint64_t start)
{
	struct snap_process p;

	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.ppid = -1;
	p.start_time = start;
	return gone_add(w, &p);
}

bool
window_gone_has(const struct window *w, int32_t pid, uint64_t start)
{
	for (size_t i = w->n_gone; i-- > 0;)
		if (w->gone[i].p.pid == pid && w->gone[i].p.start_time == start)
			return true;
	return false;
}

int
window_gone_departures(struct window *w, const struct snapshot *s,
    bool (*is_node)(void *, int32_t, uint64_t), void *user)
{
	const struct snapshot *old = w->prev;

	if (old == NULL)
		return 0;
	for (size_t i = 0; i < old->n_processes; i++) {
		const struct snap_process *p = &old->processes[i];

		if (window_in_snapshot(s, p->pid, p->start_time) ||
		    window_gone_has(w, p->pid, p->start_time))
			continue;
		if (is_node != NULL && !is_node(user, p->pid, p->start_time))
			continue;
		if (gone_add(w, p) < 0)
			return -ENOMEM;
	}
	return 0;
}

void
window_gone_expire(struct window *w, const struct snapshot *s)
{
	int64_t cut = window_cutoff(w);
	size_t k = 0;

	for (size_t i = 0; i < w->n_gone; i++) {
		struct window_proc *g = &w->gone[i];

		/* back in the table (it opened a socket again): the
		 * snapshot speaks for it */
		if (g->gone_ms < cut || window_in_snapshot(s, g->p.pid,
		    g->p.start_time))
			window_gone_release(g);
		else
			w->gone[k++] = *g;
	}
	w->n_gone = k;
}

void
window_gone_sort(struct window *w)
{
	if (w->n_gone > 1)	/* gone is NULL while none was kept */
		qsort(w->gone, w->n_gone, sizeof(*w->gone), cmp_gone);
}
