/*
 * UTF-16 <-> UTF-8 for the Windows files.  Windows hands out UTF-16
 * (the W APIs); everything we store, log and send is UTF-8.  Invalid
 * UTF-16 (lone surrogates) becomes U+FFFD rather than failing.
 */
#ifndef PROCNET_WSTR_WIN_H
#define PROCNET_WSTR_WIN_H

#include <stddef.h>
#include <wchar.h>

/* Converts w (NUL-terminated, or wlen units when wlen >= 0) into buf,
 * truncating at a character boundary; always NUL-terminates when len > 0.
 * Returns 0, or -EINVAL when buf has no room at all. */
int wstr_to_utf8(const wchar_t *w, int wlen, char *buf, size_t len);

/* Owned UTF-8 copy (free()), or NULL on ENOMEM / bad input. */
char *wstr_to_utf8_dup(const wchar_t *w, int wlen);

/* Owned UTF-16 copy of UTF-8 s (free()), or NULL on ENOMEM / bad input. */
wchar_t *wstr_from_utf8(const char *s);

#endif
