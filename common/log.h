/*
 * The daemons' one logging API.  Only programs log: library code (common/,
 * ipc/, webd's graph and rules) returns errors and lets its caller decide.
 * log_unix.c writes to stderr (journald picks it up); log_win.c writes to
 * stderr in console mode and to the Event Log when running as a service.
 */
#ifndef PROCNET_LOG_H
#define PROCNET_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_MAX
};

#if defined(__GNUC__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LOG_NORETURN __attribute__((noreturn))
#else
#define LOG_PRINTF(a, b)
#define LOG_NORETURN
#endif

/* ident is the program name shown in each line / the Event Log source. */
void log_init(const char *ident, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_from_name(const char *name);	/* -1 when unknown */
/* Windows services: send warnings and errors to the Event Log too. */
void log_to_eventlog(int on);

/* log_warn appends the text of the OS error (errno / GetLastError) that
 * was current when it was called; the x variants append nothing. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
/* An error the program goes on from (usually by returning a failure
 * status): like fatalx without the exit.  Windows services: an Event Log
 * error. */
void log_errx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);

/*
 * The one rate limiter: at most `max` lines per `period` seconds pass
 * (windows on the monotonic clock, so a wall clock stepped back cannot
 * silence a daemon), the rest are counted and the count is reported with
 * the next line that passes.  One lock guards every limit: threads may
 * share one.  Declare with LOG_LIMIT(max, period).
 */
struct log_limit {
	unsigned max;
	int period;		/* seconds */
	int64_t start;		/* window start, monotonic ms */
	unsigned lines;		/* passed in this window */
	unsigned suppressed;	/* held back since the last that passed */
	int started;
};
#define LOG_LIMIT(max, period)	{ (max), (period), 0, 0, 0, 0 }

/* A line at level through l. */
void log_limited(struct log_limit *l, enum log_level level, const char *fmt,
    ...) LOG_PRINTF(3, 4);
/* log_warnx through a limit of one line per `seconds` for each call site
 * key (a string literal); a full key table stops limiting, never fails. */
void log_warnx_limited(const char *key, int seconds, const char *fmt, ...)
    LOG_PRINTF(3, 4);
/* A finished step's outcome: msg at info when status is 0, else as a
 * warning; nothing when msg is empty (fits service_main's report). */
void log_outcome(int status, const char *msg);
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) LOG_NORETURN;
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) LOG_NORETURN;

/* Platform part: write one finished line at a level.  err_text may be NULL. */
void log_platform_write(enum log_level level, const char *line);
/* Text of the current OS error, into buf. */
const char *log_platform_errstr(char *buf, unsigned len);

#endif
