/*
 * A Windows command line split into arguments the way CommandLineToArgvW
 * splits it, so the collector can send argument boundaries (protocol v2)
 * for processes whose command line Windows keeps as one string.  Pure (no
 * Windows API, no allocation): built and tested on every platform.
 */
#ifndef PROCNET_WINARGV_H
#define PROCNET_WINARGV_H

#include <stddef.h>
#include <stdint.h>

/*
 * Splits the UTF-8 command line cmd (len bytes) into out, each argument
 * NUL-ended one after another; out must hold len + 1 bytes (the split is
 * never longer).  Returns the number of arguments: 0 for an empty line
 * (where CommandLineToArgvW would return the caller's own path instead).
 *
 * The rules: the first argument (the program) ends at the next blank, or,
 * when it starts with '"', at the next '"' (backslashes are not special in
 * it).  The rest are separated by blanks (space, tab) outside quotes;
 * 2n backslashes before '"' give n backslashes and the '"' opens or
 * closes quoting, 2n+1 give n backslashes and a literal '"'; other
 * backslashes are literal.  Inside quotes, '""' gives a literal '"' and
 * ends the quoting.
 */
uint32_t winargv_split(const char *cmd, size_t len, char *out);

#endif
