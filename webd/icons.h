/*
 * Node-type icons from --icons-dir, with the original tool's file names and
 * its server-side fallback: <type>.png, else service.png, else nothing (the
 * UI then draws its built-in icon).
 */
#ifndef PROCNET_WEBD_ICONS_H
#define PROCNET_WEBD_ICONS_H

#include <stddef.h>

/* Longest type name accepted in /icons/<type>.png. */
#define ICONS_MAX_TYPE	64

/* File name for a type: "message_broker" -> "mq.png", "load_balancer" ->
 * "lb.png", else "<type>.png".  -EINVAL when type is not 1..ICONS_MAX_TYPE
 * of [A-Za-z0-9_-]. */
int icons_file_name(const char *type, char *out, size_t outlen);

/*
 * Full path of the icon to serve for type under dir: the type's own file if
 * it is a regular file, else service.png, else -ENOENT.  -EINVAL for a bad
 * type name.  dir NULL gives -ENOENT.
 */
int icons_resolve(const char *dir, const char *type, char *out, size_t outlen);

#endif
