/*
 * Where the running program's executable is, asked of the OS: argv[0]
 * has no directory when the program was found through PATH (or a
 * service manager passed a bare name), so it cannot say where the files
 * installed beside the program are.  Linux: /proc/self/exe
 * (progpath_unix.c); Windows: GetModuleFileNameW (progpath_win.c).
 * Paths are UTF-8.  Library code: returns errors, never logs.
 */
#ifndef PROCNET_PROGPATH_H
#define PROCNET_PROGPATH_H

#include <stddef.h>

/* The executable's absolute path into buf.  Returns 0, -ENAMETOOLONG
 * when it does not fit in len bytes, or another negative errno-style
 * code; buf is only written on success. */
int progpath_exe(char *buf, size_t len);

/* The directory that holds it (no trailing separator, "/" for the root);
 * same returns. */
int progpath_dir(char *buf, size_t len);

#endif
