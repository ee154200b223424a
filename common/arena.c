/* The arena (arena.h). */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK	(64u * 1024u)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

void *
arena_alloc(struct arena *a, size_t n, size_t align)
{
	struct arena_chunk *c = a->chunks;
	size_t at = 0;

	if (align == 0 || align > 16 || (align & (align - 1)) != 0)
		align = 16;
	if (n > SIZE_MAX - 16)
		return NULL;
	if (c != NULL)
		at = (c->used + align - 1) & ~(align - 1);
	if (c == NULL || at > c->size || c->size - at < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		if ((c = malloc(sizeof(*c) + size)) == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
		at = 0;
	}
	c->used = at + n;
	return c->data + at;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = n < SIZE_MAX ? arena_alloc(a, n + 1, 1) : NULL;

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void
arena_release(struct arena *a)
{
	struct arena_chunk *c, *next;

	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->chunks = NULL;
}
