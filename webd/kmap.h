/*
 * A fixed-size open-addressing map from a small fixed-size key blob to its
 * ordinal (0, 1, 2, ... in insertion order).  The capacity is set once, by
 * the caller, from what it will insert; nothing is ever removed.
 */
#ifndef PROCNET_KMAP_H
#define PROCNET_KMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kmap {
	size_t ksize;
	unsigned char *keys;	/* n * ksize */
	/* low half: ordinal + 1 (0 = empty); high half: the hash's top
	 * bits, so most mismatches never touch the keys */
	uint64_t *slots;
	size_t n, cap, mask;
};

int kmap_init(struct kmap *m, size_t ksize, size_t cap);
void kmap_free(struct kmap *m);
/* Ordinal of key, or -1. */
long kmap_find(const struct kmap *m, const void *key);
/* Ordinal of key, adding it when new (*added says which); -1 when full. */
long kmap_put(struct kmap *m, const void *key, bool *added);

#endif
