/*
 * Files by UTF-8 path on every platform: Windows' narrow C library calls
 * (fopen, open, stat) take the ANSI code page and fail on a path with
 * characters outside it, so fs_win.c goes through the wide calls; Unix
 * paths are bytes already (fs_unix.c).  And a file's identity at full
 * resolution, so a rewrite of the same size within a second is still a
 * change.  Library code: errors come back as negative errno values.
 */
#ifndef PROCNET_FS_H
#define PROCNET_FS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum fs_type {
	FS_TYPE_FILE,
	FS_TYPE_DIR,
	FS_TYPE_OTHER,		/* FIFO, device, socket ... */
	FS_TYPE_MAX
};

struct fs_stamp {
	enum fs_type type;
	uint64_t volume;	/* st_dev; Windows: volume serial number */
	uint64_t index;		/* st_ino; Windows: the NTFS file index */
	int64_t mtime_ns;	/* last write, full resolution (Windows:
				 * 100 ns ticks, so a multiple of 100) */
	int64_t size;
};

/* What is at path now; 0, or -ENOENT / -EACCES / ... (out untouched). */
int fs_stamp(const char *path, struct fs_stamp *out);
/* Same file, same size, same last write (one definition for both
 * platforms' stamps). */
static inline bool
fs_stamp_same(const struct fs_stamp *a, const struct fs_stamp *b)
{
	return a->type == b->type && a->volume == b->volume &&
	    a->index == b->index && a->mtime_ns == b->mtime_ns &&
	    a->size == b->size;
}
/* fopen() of a UTF-8 path; NULL with errno set. */
FILE *fs_fopen(const char *path, const char *mode);
/* A read-only descriptor of a UTF-8 path: binary, not inherited by child
 * processes, and not blocking on a FIFO (Unix).  fd, or -errno. */
int fs_open_read(const char *path);

#endif
