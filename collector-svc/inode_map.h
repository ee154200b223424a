/*
 * An open-addressing hash multimap from a 64-bit key (a socket inode, or a
 * pid) to 32-bit values (a pid, or an index).  One key may carry several
 * values: a socket shared after fork or passed over SCM_RIGHTS has several
 * holders.  Linear probing with backward-shift deletion, so no tombstones
 * build up in a map that lives for the whole daemon.
 *
 * Keys are 1 .. INODE_MAP_MAX_KEY: 0 marks an empty slot (inode 0 never
 * names a socket that a process holds, pid 0 is never a process in /proc),
 * and socket inodes are 32-bit (get_next_ino(), sock_diag's idiag_inode),
 * as are pids, so slots are 8 bytes.
 */
#ifndef PROCNET_INODE_MAP_H
#define PROCNET_INODE_MAP_H

#include <stddef.h>
#include <stdint.h>

#define INODE_MAP_MAX_ENTRIES	(1u << 26)	/* 64 Mi: far beyond pid_max/fd caps */
#define INODE_MAP_MAX_KEY	UINT32_MAX

struct inode_map;

struct inode_map *inode_map_new(size_t expected);	/* NULL on ENOMEM */
void inode_map_free(struct inode_map *m);		/* NULL is fine */
void inode_map_clear(struct inode_map *m);		/* keeps the storage */
size_t inode_map_count(const struct inode_map *m);

/* Adds the pair (key, value).  An identical pair already present is not
 * added twice.  Returns 0, -EINVAL for a key out of range, -ENOMEM, or
 * -E2BIG. */
int inode_map_add(struct inode_map *m, uint64_t key, uint32_t value);

/* Sets key to exactly one value (replacing any it had). */
int inode_map_set(struct inode_map *m, uint64_t key, uint32_t value);

/* The smallest value stored under key into *value; 0, or -ENOENT. */
int inode_map_get_min(const struct inode_map *m, uint64_t key,
    uint32_t *value);

/* How many values key carries. */
size_t inode_map_count_key(const struct inode_map *m, uint64_t key);

/* Removes the pair (key, value); 0 or -ENOENT. */
int inode_map_remove(struct inode_map *m, uint64_t key, uint32_t value);

/* Removes every value of key; returns how many went. */
size_t inode_map_remove_key(struct inode_map *m, uint64_t key);

#endif
