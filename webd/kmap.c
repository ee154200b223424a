/* The graph's key map (kmap.h). */
#include "kmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
kmap_init(struct kmap *m, size_t ksize, size_t cap)
{
	size_t slots = 16;

	while (slots < cap * 2)
		slots <<= 1;
	m->ksize = ksize;
	m->n = 0;
	m->cap = cap ? cap : 1;
	m->mask = slots - 1;
	m->keys = malloc(m->cap * ksize);
	m->slots = calloc(slots, sizeof(*m->slots));
	if (m->keys == NULL || m->slots == NULL) {
		free(m->keys);
		free(m->slots);
		m->keys = NULL;
		m->slots = NULL;
		return -ENOMEM;
	}
	return 0;
}

void
kmap_free(struct kmap *m)
{
	free(m->keys);
	free(m->slots);
}

/* Keys are small fixed-size blobs; mix them 8 bytes at a time. */
static uint64_t
hash_bytes(const void *k, size_t n)
{
	const unsigned char *p = k;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

/* Ordinal of key, or -1. */
long
kmap_find(const struct kmap *m, const void *key)
{
	uint64_t h = hash_bytes(key, m->ksize);
	uint64_t tag = h & 0xffffffff00000000ull;
	size_t i = h & m->mask;

	for (;;) {
		uint64_t s = m->slots[i];
		uint32_t o = (uint32_t)s;

		if (o == 0)
			return -1;
		if ((s & 0xffffffff00000000ull) == tag &&
		    memcmp(m->keys + (size_t)(o - 1) * m->ksize, key,
		    m->ksize) == 0)
			return (long)(o - 1);
		i = (i + 1) & m->mask;
	}
}

/* Ordinal of key, adding it when new (*added says which).  The capacity
 * is sized by the caller from what it will insert. */
long
kmap_put(struct kmap *m, const void *key, bool *added)
{
	uint64_t h = hash_bytes(key, m->ksize);
	uint64_t tag = h & 0xffffffff00000000ull;
	size_t i = h & m->mask;

	*added = false;
	for (;;) {
		uint64_t s = m->slots[i];
		uint32_t o = (uint32_t)s;

		if (o == 0)
			break;
		if ((s & 0xffffffff00000000ull) == tag &&
		    memcmp(m->keys + (size_t)(o - 1) * m->ksize, key,
		    m->ksize) == 0)
			return (long)(o - 1);
		i = (i + 1) & m->mask;
	}
	if (m->n >= m->cap)
		return -1;
	memcpy(m->keys + m->n * m->ksize, key, m->ksize);
	m->slots[i] = tag | (uint32_t)(++m->n);
	*added = true;
	return (long)(m->n - 1);
}
