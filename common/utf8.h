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

/* The one sanitiser.  Copies the character at s (n > 0 bytes available)
 * to dst (room for 4), or U+FFFD when s does not start a valid one;
 * *used gets the bytes of s consumed (at least 1).  Returns the bytes
 * written. */
size_t utf8_copy_char(char *dst, const unsigned char *s, size_t n,
    size_t *used);

/* The n bytes at s into dst (room for 3 * n + 1) with every invalid byte
 * as U+FFFD, NUL-terminated; returns the length written. */
size_t utf8_sanitize(char *dst, const char *s, size_t n);

/* The one printable(): s as one harmless token for a message or a log
 * line, into dst (len > 4).  Control characters (C0, DEL, C1) and bytes
 * that are not valid UTF-8 become '?', so text from outside cannot forge
 * lines or send escape sequences to a terminal; valid characters stay.
 * Cut at a character boundary, with "..." when it does not fit. */
void utf8_printable(char *dst, size_t len, const char *s);

#endif
