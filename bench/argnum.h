/*
 * argnum: the bench tools' strict parsing of numeric command-line options.
 */
#ifndef BENCH_ARGNUM_H
#define BENCH_ARGNUM_H

/* Parses s as a decimal unsigned in [min, max] into *out: 0, or -EINVAL
 * (sign, trailing junk, empty, overflow or out of range; *out unchanged). */
int	argnum_uint(const char *s, unsigned min, unsigned max, unsigned *out);

#endif
