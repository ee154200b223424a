/*
 * The one file-system question the static routes ask the OS: where does a
 * path really lead (symbolic links resolved), so a served file can be
 * checked to lie inside its root.  http_fs_unix.c: realpath();
 * http_fs_win.c: GetFinalPathNameByHandle().
 */
#ifndef PROCNET_WEBD_HTTP_FS_H
#define PROCNET_WEBD_HTTP_FS_H

#include <stdbool.h>
#include <stddef.h>

/* Canonical absolute form of an existing path in out.  Returns 0, or a
 * negative errno-style code (-ENOENT, -ENAMETOOLONG, ...). */
int http_fs_canonical(const char *path, char *out, size_t outlen);

/* True when canonical path p is root itself or lies below it. */
bool http_fs_within(const char *root, const char *p);

#endif
