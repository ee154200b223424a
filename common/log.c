/* Formatting, levels and rate limiting; the platform files do the writing. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* A handful of distinct keys is all the daemons use; a small table is
 * enough, and a full table just stops limiting rather than failing. */
#define LIMIT_SLOTS 32
static struct {
	const char *key;
	time_t last;
	unsigned suppressed;
} limits[LIMIT_SLOTS];

void
log_warnx_limited(const char *key, int seconds, const char *fmt, ...)
{
	time_t now = time(NULL);
	unsigned suppressed = 0;
	va_list ap;
	int i;

	for (i = 0; i < LIMIT_SLOTS; i++)
		if (limits[i].key == NULL || strcmp(limits[i].key, key) == 0)
			break;
	if (i < LIMIT_SLOTS) {
		if (limits[i].key != NULL && now - limits[i].last < seconds) {
			limits[i].suppressed++;
			return;
		}
		limits[i].key = key;
		limits[i].last = now;
		suppressed = limits[i].suppressed;
		limits[i].suppressed = 0;
	}
	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, NULL, fmt, ap);
	va_end(ap);
	if (suppressed > 0)
		log_warnx("(%u similar messages suppressed)", suppressed);
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
