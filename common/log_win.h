/*
 * Windows parts of common/log_win.c that the service installer shares:
 * the Event Log source a program logs under.
 */
#ifndef PROCNET_LOG_WIN_H
#define PROCNET_LOG_WIN_H

#include <stddef.h>
#include <wchar.h>

/* The program's file name without ".exe" ("procnet-collector"), which is
 * also the ident the daemons pass to log_init().  0, or -ENAMETOOLONG /
 * -ENOENT; buf (len wide characters) is written only on success. */
int log_win_source(wchar_t *buf, size_t len);

#endif
