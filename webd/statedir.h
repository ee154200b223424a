/*
 * Where webd keeps its state (the history file) by default, per platform:
 * statedir_unix.c, statedir_win.c.
 */
#ifndef PROCNET_WEBD_STATEDIR_H
#define PROCNET_WEBD_STATEDIR_H

#include <stddef.h>

/*
 * The default history file: Linux $STATE_DIRECTORY/history.sqlite (systemd's
 * StateDirectory=), else $XDG_STATE_HOME/procnet/history.sqlite, else
 * /var/lib/procnet/history.sqlite for root and
 * ~/.local/state/procnet/history.sqlite for others; Windows
 * %ProgramData%\Procnet\history.sqlite.  0, or -ENAMETOOLONG / -ENOENT
 * (no home directory).
 */
int statedir_history_path(char *buf, size_t len);

/* Creates the directory that will hold path, and its parents, private to
 * the user where new.  0 or a negative errno code. */
int statedir_make_parent(const char *path);

#endif
