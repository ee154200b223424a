/*
 * An arena: allocations from chunks that never move, all freed at once.
 * Pointers handed out stay valid as it grows.  The snapshot's strings
 * (common/snapshot.c) and the graph's strings and ids (webd/graph.c) live
 * in one each.  Zero-initialise (ARENA_INIT); not thread-safe.
 */
#ifndef PROCNET_ARENA_H
#define PROCNET_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks;
};

#define ARENA_INIT	{ NULL }

/* n bytes aligned to align (a power of two, at most 16); NULL when out
 * of memory. */
void *arena_alloc(struct arena *a, size_t n, size_t align);
/* The first n bytes of s (which has at least n), NUL-terminated. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Frees every chunk; the arena is empty after and may be used again. */
void arena_release(struct arena *a);

#endif
