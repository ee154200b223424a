/*
 * The ESTATS slot set (estats_set.h): two sorted arrays, the previous
 * sample's connections and this one's.  keep() is a binary search in the
 * previous array; kept and claimed keys are appended to the current one,
 * which end() sorts and makes the previous.  A sample costs O(n log n) in
 * the held connections, at most cap.
 */
#include <stdlib.h>
#include <string.h>

#include "estats_set.h"

struct estats_set {
	struct estats_key *prev, *cur;
	size_t n_prev, n_cur, cap;
	bool *kept;		/* per prev entry, this sample */
};

static int key_cmp(const void *a, const void *b)
{
	const struct estats_key *x = a, *y = b;
	int c;

	if (x->local.family != y->local.family)
		return x->local.family < y->local.family ? -1 : 1;
	if ((c = memcmp(x->local.bytes, y->local.bytes, 16)) != 0)
		return c;
	if ((c = memcmp(x->remote.bytes, y->remote.bytes, 16)) != 0)
		return c;
	if (x->local_port != y->local_port)
		return x->local_port < y->local_port ? -1 : 1;
	if (x->remote_port != y->remote_port)
		return x->remote_port < y->remote_port ? -1 : 1;
	return 0;
}

struct estats_set *estats_set_new(size_t cap)
{
	struct estats_set *s;

	if (cap == 0)
		cap = ESTATS_DEFAULT_CAP;
	if (cap > ESTATS_MAX_CAP)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->prev = calloc(cap, sizeof(*s->prev));
	s->cur = calloc(cap, sizeof(*s->cur));
	s->kept = calloc(cap, sizeof(*s->kept));
	if (!s->prev || !s->cur || !s->kept) {
		estats_set_free(s);
		return NULL;
	}
	s->cap = cap;
	return s;
}

void estats_set_free(struct estats_set *s)
{
	if (!s)
		return;
	free(s->prev);
	free(s->cur);
	free(s->kept);
	free(s);
}

void estats_set_begin(struct estats_set *s)
{
	s->n_cur = 0;
	memset(s->kept, 0, s->cap * sizeof(*s->kept));
}

/* Held now: kept from the previous sample or claimed in this one. */
static size_t held(const struct estats_set *s)
{
	return s->n_cur;
}

static struct estats_key *in_prev(const struct estats_set *s,
    const struct estats_key *k)
{
	return bsearch(k, s->prev, s->n_prev, sizeof(*k), key_cmp);
}

bool estats_set_keep(struct estats_set *s, const struct estats_key *k)
{
	struct estats_key *p = in_prev(s, k);
	size_t i;

	if (!p)
		return false;
	i = (size_t)(p - s->prev);
	if (s->kept[i])
		return true;	/* the same connection twice in one table */
	s->kept[i] = true;
	s->cur[s->n_cur++] = *k;
	return true;
}

bool estats_set_claim(struct estats_set *s, const struct estats_key *k)
{
	if (held(s) >= s->cap)
		return false;
	s->cur[s->n_cur++] = *k;
	return true;
}

void estats_set_release(struct estats_set *s, const struct estats_key *k)
{
	for (size_t i = s->n_cur; i-- > 0;) {
		if (key_cmp(&s->cur[i], k) == 0) {
			s->cur[i] = s->cur[--s->n_cur];
			return;
		}
	}
}

void estats_set_end(struct estats_set *s)
{
	struct estats_key *t = s->prev;

	qsort(s->cur, s->n_cur, sizeof(*s->cur), key_cmp);
	s->prev = s->cur;
	s->n_prev = s->n_cur;
	s->cur = t;
	s->n_cur = 0;
}

size_t estats_set_count(const struct estats_set *s)
{
	return s->n_prev;
}

size_t estats_set_cap(const struct estats_set *s)
{
	return s->cap;
}
