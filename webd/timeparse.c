/*
 * Calendar arithmetic by hand (days from a civil date), because neither
 * timegm() nor a locale-free strptime() exists on every platform we build.
 */
#include "timeparse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_DURATION_S	(10LL * 366 * 86400)
#define MAX_SIZE	(1ULL << 40)

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at *p into *v; advances *p. */
static bool
digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*p += n;
	*v = x;
	return true;
}

static int
parse_rfc3339(const char *s, int64_t *ms, char *err, size_t errlen)
{
	static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, frac = 0, oh = 0, om = 0, sign = 0;
	unsigned maxd;
	int64_t t;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d))
		goto bad;
	if (*p != 'T' && *p != 't' && *p != ' ')
		goto bad;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) ||
	    *p++ != ':' || !digits(&p, 2, &sec))
		goto bad;
	if (*p == '.') {
		int n = 0;

		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		/* milliseconds kept, finer digits read and dropped */
		while (*p >= '0' && *p <= '9') {
			if (n < 3)
				frac = frac * 10 + (*p - '0');
			n++;
			p++;
			if (n > 9)
				goto bad;
		}
		for (; n < 3; n++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om))
			goto bad;
		if (oh > 23 || om > 59)
			return fail(err, errlen, "'%s': bad UTC offset", s);
	} else
		goto bad;
	if (*p != '\0')
		goto bad;
	if (y < 1970 || mo < 1 || mo > 12)
		return fail(err, errlen, "'%s': year or month out of range",
		    s);
	maxd = mdays[mo - 1] + (mo == 2 && leap(y));
	if (d < 1 || (unsigned)d > maxd || h > 23 || mi > 59 || sec > 60)
		return fail(err, errlen, "'%s': day or time of day out of "
		    "range", s);
	if (sec == 60)
		sec = 59;	/* a leap second: the last whole second */
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	if (t < 0)
		return fail(err, errlen, "'%s' is before 1970", s);
	*ms = t * 1000 + frac;
	return 0;
bad:
	return fail(err, errlen, "'%s' is not a time: use RFC 3339 "
	    "(2026-12-05T07:11:00Z) or Unix milliseconds", s);
}

int
timeparse_instant(const char *s, int64_t *ms, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0)
		return fail(err, errlen, "empty time: use RFC 3339 "
		    "(2026-12-05T07:11:00Z) or Unix milliseconds");
	if (n > 40)
		return fail(err, errlen, "time too long (%zu characters)", n);
	if (strspn(s, "0123456789") == n) {
		int64_t v = 0;

		/* 9999-12-31 is 253402300799999 ms: 15 digits */
		if (n > 15)
			return fail(err, errlen, "'%s': Unix milliseconds out "
			    "of range", s);
		for (size_t i = 0; i < n; i++)
			v = v * 10 + (s[i] - '0');
		if (v > 253402300799999LL)
			return fail(err, errlen, "'%s': Unix milliseconds out "
			    "of range", s);
		*ms = v;
		return 0;
	}
	return parse_rfc3339(s, ms, err, errlen);
}

int
timeparse_duration(const char *s, int64_t *seconds, char *err,
    size_t errlen)
{
	const char *p = s;
	int64_t v = 0, mul;
	size_t nd = 0;

	while (*p >= '0' && *p <= '9') {
		if (++nd > 12)
			return fail(err, errlen, "'%s': too large", s);
		v = v * 10 + (*p++ - '0');
	}
	if (nd == 0 || p[0] == '\0' || p[1] != '\0')
		return fail(err, errlen, "'%s' is not a duration: a number "
		    "and a unit s, m, h or d (7d, 12h)", s);
	switch (*p) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default:
		return fail(err, errlen, "'%s': unknown unit '%c' (s, m, h or "
		    "d)", s, *p);
	}
	if (v == 0 || v > MAX_DURATION_S / mul)
		return fail(err, errlen, "'%s': out of range (1s to 3660d)",
		    s);
	*seconds = v * mul;
	return 0;
}

int
timeparse_size(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t v = 0, mul = 1;
	size_t nd = 0;

	while (*p >= '0' && *p <= '9') {
		if (++nd > 13)
			return fail(err, errlen, "'%s': too large", s);
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (nd == 0)
		goto bad;
	switch (*p) {
	case '\0': break;
	case 'K': case 'k': mul = 1ULL << 10; p++; break;
	case 'M': case 'm': mul = 1ULL << 20; p++; break;
	case 'G': case 'g': mul = 1ULL << 30; p++; break;
	case 'B': break;
	default: goto bad;
	}
	if (mul != 1 && *p == 'i')
		p++;
	if (*p == 'B')
		p++;
	if (*p != '\0')
		goto bad;
	if (v > MAX_SIZE / mul)
		return fail(err, errlen, "'%s': larger than 1 TiB", s);
	*bytes = v * mul;
	return 0;
bad:
	return fail(err, errlen, "'%s' is not a size: a number of bytes, or "
	    "with K, M or G (256M)", s);
}

size_t
timeparse_format(int64_t ms, char *buf, size_t len)
{
	int64_t y, days, rem;
	unsigned m, d;
	int n;

	if (ms < 0)
		ms = 0;
	days = ms / 86400000;
	rem = ms % 86400000;
	civil_from_days(days, &y, &m, &d);
	n = snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (long long)y, m, d, (unsigned)(rem / 3600000),
	    (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60),
	    (unsigned)(rem % 1000));
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}
