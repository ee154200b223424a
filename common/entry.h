/*
 * Each daemon's main() with its arguments in UTF-8 on every platform.
 * Windows starts the program at wmain (entry_win.c, linked with
 * -municode), which turns the UTF-16 command line into UTF-8: the narrow
 * main() would get it in the ANSI code page, and a path with characters
 * outside it would arrive as '?'.  Unix: main (entry_unix.c) passes argv
 * through.  Linked into the programs, not into libprocnet-common, so the
 * tests keep their own main().
 */
#ifndef PROCNET_ENTRY_H
#define PROCNET_ENTRY_H

int procnet_main(int argc, char **argv);

#endif
