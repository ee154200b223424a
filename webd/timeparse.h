/*
 * Times, durations and sizes as people type them, for the history options
 * and the history API: strict, whole-string, no locale.  Pure.
 */
#ifndef PROCNET_WEBD_TIMEPARSE_H
#define PROCNET_WEBD_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * An instant: RFC 3339 ("2026-12-05T07:11:01Z", fractional seconds and a
 * numeric offset allowed, 't'/'z'/' ' accepted as RFC 3339 allows) or Unix
 * milliseconds (digits only).  Years 1970..9999.  0 and *ms, or -EINVAL
 * with a reason in err.
 */
int timeparse_instant(const char *s, int64_t *ms, char *err, size_t errlen);

/* "7d", "12h", "30m", "90s" (one number, one unit s/m/h/d), 1 s .. 10 years.
 * 0 and *seconds, or -EINVAL with a reason. */
int timeparse_duration(const char *s, int64_t *seconds, char *err,
    size_t errlen);

/* "256M", "1G", "512K", "1048576" (bytes; K/M/G are powers of 1024, an
 * optional trailing "B" or "iB"), up to 1 TiB.  0 and *bytes, or -EINVAL. */
int timeparse_size(const char *s, uint64_t *bytes, char *err, size_t errlen);

/* Writes ms as RFC 3339 UTC with milliseconds ("2026-12-05T07:11:01.000Z");
 * buf needs 32 bytes.  Returns the length. */
size_t timeparse_format(int64_t ms, char *buf, size_t len);

#endif
