/*
 * UTF-8 checks shared by the JSON writer (common/jsonw.c), the protocol's
 * strings (ipc/frame.c) and anything else that must not split or pass on
 * a broken character.  "Valid" is RFC 3629: shortest form, no surrogates,
 * nothing past U+10FFFF.  Pure: no allocation.
 */
#ifndef PROCNET_UTF8_H
#define PROCNET_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the valid UTF-8 sequence at s, which has n > 0 bytes
 * available; 0 when s does not start one. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* Whether the n bytes at s are valid UTF-8 throughout. */
bool utf8_valid(const char *s, size_t n);

/* strlen(s), or less when that is over max: max, moved back so that it
 * does not end inside a character. */
size_t utf8_cut(const char *s, size_t max);

#endif
