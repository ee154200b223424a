/* Formatting, levels and rate limiting; the platform files do the writing. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static enum log_level cur_level = LOG_LEVEL_INFO;
static const char *log_ident = "procnet";

static const char *const level_names[LOG_LEVEL_MAX] = {
	"error", "warn", "info", "debug",
};

void
log_init(const char *ident, enum log_level level)
{
	log_ident = ident;
	cur_level = level;
}

void
log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level
log_get_level(void)
{
	return cur_level;
}

int
log_level_from_name(const char *name)
{
	for (int i = 0; i < LOG_LEVEL_MAX; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "warning") == 0)
		return LOG_LEVEL_WARN;
	return -1;
}

static void
vlog(enum log_level level, const char *errtext, const char *fmt, va_list ap)
{
	char msg[1024], line[1536];

	if (level > cur_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errtext != NULL)
		snprintf(line, sizeof(line), "%s: %s: %s: %s", log_ident,
		    level_names[level], msg, errtext);
	else
		snprintf(line, sizeof(line), "%s: %s: %s", log_ident,
		    level_names[level], msg);
	log_platform_write(level, line);
}

void
log_warn(const char *fmt, ...)
{
	char err[256];
	va_list ap;

	log_platform_errstr(err, sizeof(err));
	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, NULL, fmt, ap);
	va_end(ap);
}

void
log_errx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

static void log_at(enum log_level level, const char *fmt, ...)
    LOG_PRINTF(2, 3);

static void
log_at(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, NULL, fmt, ap);
	va_end(ap);
}

static pthread_mutex_t limit_mu = PTHREAD_MUTEX_INITIALIZER;

/* Whether a line may pass l now; *suppressed gets the count held back
 * since the last one that passed. */
static int
limit_pass(struct log_limit *l, unsigned *suppressed)
{
	int64_t now = clock_mono_ms();
	int pass;

	pthread_mutex_lock(&limit_mu);
	if (!l->started || now - l->start >= (int64_t)l->period * 1000) {
		l->started = 1;
		l->start = now;
		l->lines = 0;
	}
	pass = l->lines < l->max;
	*suppressed = 0;
	if (pass) {
		l->lines++;
		*suppressed = l->suppressed;
		l->suppressed = 0;
	} else {
		l->suppressed++;
	}
	pthread_mutex_unlock(&limit_mu);
	return pass;
}

static void
vlog_limited(struct log_limit *l, enum log_level level, const char *fmt,
    va_list ap)
{
	unsigned suppressed;

	if (level > cur_level || !limit_pass(l, &suppressed))
		return;
	vlog(level, NULL, fmt, ap);
	if (suppressed > 0)
		log_at(level, "(%u similar lines not logged)", suppressed);
}

void
log_limited(struct log_limit *l, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_limited(l, level, fmt, ap);
	va_end(ap);
}

/* A handful of distinct keys is all the daemons use; a small table is
 * enough, and a full table just stops limiting rather than failing. */
#define LIMIT_SLOTS 32
static struct {
	const char *key;
	struct log_limit limit;
} keyed[LIMIT_SLOTS];

void
log_warnx_limited(const char *key, int seconds, const char *fmt, ...)
{
	struct log_limit *l = NULL;
	va_list ap;
	int i;

	pthread_mutex_lock(&limit_mu);
	for (i = 0; i < LIMIT_SLOTS; i++) {
		if (keyed[i].key == NULL) {
			keyed[i].key = key;
			keyed[i].limit = (struct log_limit)LOG_LIMIT(1, seconds);
		}
		if (strcmp(keyed[i].key, key) == 0) {
			l = &keyed[i].limit;
			break;
		}
	}
	pthread_mutex_unlock(&limit_mu);
	va_start(ap, fmt);
	if (l != NULL)
		vlog_limited(l, LOG_LEVEL_WARN, fmt, ap);
	else
		vlog(LOG_LEVEL_WARN, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char err[256];
	va_list ap;

	log_platform_errstr(err, sizeof(err));
	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_outcome(int status, const char *msg)
{
	if (msg == NULL || msg[0] == '\0')
		return;
	if (status == 0)
		log_info("%s", msg);
	else
		log_warnx("%s", msg);
}
