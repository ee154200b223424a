/*
 * Open-addressing multimap, linear probing, backward-shift deletion.  Keys
 * and values sit in two parallel 32-bit arrays (8 bytes a slot: at 100k
 * sockets the map is 2 MiB); the table doubles when it is 3/4 full.
 */
#include "inode_map.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAP		64u

struct inode_map {
	uint32_t *keys;		/* 0 = empty */
	uint32_t *values;
	size_t cap;		/* power of two */
	size_t count;
};

static inline size_t
slot_of(uint64_t key, size_t mask)
{
	/* splitmix64 finaliser: inodes are sequential, so spread them. */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & mask;
}

static int
table_alloc(struct inode_map *m, size_t cap)
{
	uint32_t *keys = calloc(cap, sizeof(*keys));
	uint32_t *values = malloc(cap * sizeof(*values));

	if (keys == NULL || values == NULL) {
		free(keys);
		free(values);
		return -ENOMEM;
	}
	m->keys = keys;
	m->values = values;
	m->cap = cap;
	return 0;
}

static void
insert_raw(struct inode_map *m, uint64_t key, uint32_t value)
{
	size_t mask = m->cap - 1, i = slot_of(key, mask);

	while (m->keys[i] != 0)
		i = (i + 1) & mask;
	m->keys[i] = (uint32_t)key;
	m->values[i] = value;
	m->count++;
}

static int
grow(struct inode_map *m)
{
	struct inode_map old = *m;
	size_t i;
	int rc;

	if ((rc = table_alloc(m, old.cap * 2)) != 0) {
		*m = old;
		return rc;
	}
	m->count = 0;
	for (i = 0; i < old.cap; i++)
		if (old.keys[i] != 0)
			insert_raw(m, old.keys[i], old.values[i]);
	free(old.keys);
	free(old.values);
	return 0;
}

struct inode_map *
inode_map_new(size_t expected)
{
	struct inode_map *m;
	size_t cap = MIN_CAP;

	if (expected > INODE_MAP_MAX_ENTRIES)
		expected = INODE_MAP_MAX_ENTRIES;
	while (cap * 3 < expected * 4)
		cap *= 2;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (table_alloc(m, cap) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

void
inode_map_free(struct inode_map *m)
{
	if (m == NULL)
		return;
	free(m->keys);
	free(m->values);
	free(m);
}

void
inode_map_clear(struct inode_map *m)
{
	memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->count = 0;
}

size_t
inode_map_count(const struct inode_map *m)
{
	return m->count;
}

static bool
has_pair(const struct inode_map *m, uint64_t key, uint32_t value)
{
	size_t mask = m->cap - 1, i = slot_of(key, mask);

	for (; m->keys[i] != 0; i = (i + 1) & mask)
		if (m->keys[i] == key && m->values[i] == value)
			return true;
	return false;
}

int
inode_map_add(struct inode_map *m, uint64_t key, uint32_t value)
{
	int rc;

	if (key == 0 || key > INODE_MAP_MAX_KEY)
		return -EINVAL;
	if (has_pair(m, key, value))
		return 0;
	if (m->count >= INODE_MAP_MAX_ENTRIES)
		return -E2BIG;
	if ((m->count + 1) * 4 > m->cap * 3 && (rc = grow(m)) != 0)
		return rc;
	insert_raw(m, key, value);
	return 0;
}

int
inode_map_set(struct inode_map *m, uint64_t key, uint32_t value)
{
	if (key == 0 || key > INODE_MAP_MAX_KEY)
		return -EINVAL;
	inode_map_remove_key(m, key);
	return inode_map_add(m, key, value);
}

int
inode_map_get_min(const struct inode_map *m, uint64_t key, uint32_t *value)
{
	size_t mask = m->cap - 1, i = slot_of(key, mask);
	bool found = false;
	uint32_t best = 0;

	if (key == 0)
		return -ENOENT;
	for (; m->keys[i] != 0; i = (i + 1) & mask) {
		if (m->keys[i] == key && (!found || m->values[i] < best)) {
			best = m->values[i];
			found = true;
		}
	}
	if (!found)
		return -ENOENT;
	*value = best;
	return 0;
}

size_t
inode_map_count_key(const struct inode_map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i = slot_of(key, mask), n = 0;

	if (key == 0)
		return 0;
	for (; m->keys[i] != 0; i = (i + 1) & mask)
		if (m->keys[i] == key)
			n++;
	return n;
}

/* Empties slot i and shifts later members of the run back into the hole,
 * so that every key stays reachable from its home slot. */
static void
delete_slot(struct inode_map *m, size_t i)
{
	size_t mask = m->cap - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (m->keys[j] == 0)
			break;
		home = slot_of(m->keys[j], mask);
		/* Move j into the hole when its home is not within (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->values[i] = m->values[j];
			i = j;
		}
	}
	m->keys[i] = 0;
	m->count--;
}

int
inode_map_remove(struct inode_map *m, uint64_t key, uint32_t value)
{
	size_t mask = m->cap - 1, i = slot_of(key, mask);

	if (key == 0)
		return -ENOENT;
	for (; m->keys[i] != 0; i = (i + 1) & mask) {
		if (m->keys[i] == key && m->values[i] == value) {
			delete_slot(m, i);
			return 0;
		}
	}
	return -ENOENT;
}

size_t
inode_map_remove_key(struct inode_map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, n = 0;

	if (key == 0)
		return 0;
	/* A backward shift may pull a later match into slot i: rescan. */
	i = slot_of(key, mask);
	while (m->keys[i] != 0) {
		if (m->keys[i] == key) {
			delete_slot(m, i);
			n++;
			continue;
		}
		i = (i + 1) & mask;
	}
	return n;
}
