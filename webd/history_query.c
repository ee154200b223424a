/*
 * History API parameters.  Everything here is bounded by the fixed-size
 * struct hq_params: no allocation, so a hostile query string costs nothing
 * but its own length.
 */
#include "history_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "snapshot.h"
#include "timeparse.h"

/* Percent-decodes [s, s+n) into out (cap bytes with the NUL). */
static int
decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n ||
			    (hi = hex_value(s[i + 1])) < 0 ||
			    (lo = hex_value(s[i + 2])) < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+')
			c = ' ';
		if (c == '\0' || k + 1 >= cap)
			return -EINVAL;
		out[k++] = c;
	}
	out[k] = '\0';
	return 0;
}

int
hq_parse(const char *q, struct hq_params *p, const char *const *allowed,
    char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	while (q != NULL && *q != '\0') {
		size_t len = strcspn(q, "&"), klen = strcspn(q, "=");
		char name[16];
		size_t i;
		bool ok = false;

		if (klen > len)
			klen = len;
		if (len == 0) {
			q++;
			continue;
		}
		if (decode(q, klen, name, sizeof(name)) != 0) {
			snprintf(err, errlen, "bad parameter name");
			return -EINVAL;
		}
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], name) == 0)
				ok = true;
		if (!ok) {
			snprintf(err, errlen, "unknown parameter '%s'", name);
			return -EINVAL;
		}
		for (i = 0; i < p->n; i++)
			if (strcmp(p->name[i], name) == 0) {
				snprintf(err, errlen, "parameter '%s' given "
				    "twice", name);
				return -EINVAL;
			}
		if (p->n == HQ_MAX_PARAMS) {
			snprintf(err, errlen, "too many parameters");
			return -EINVAL;
		}
		strcpy(p->name[p->n], name);
		if (klen < len ? decode(q + klen + 1, len - klen - 1,
		    p->value[p->n], HQ_MAX_VALUE) != 0 : 0) {
			snprintf(err, errlen, "parameter '%s': bad encoding or "
			    "longer than %d bytes", name, HQ_MAX_VALUE - 1);
			return -EINVAL;
		}
		p->n++;
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}

const char *
hq_get(const struct hq_params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->name[i], name) == 0)
			return p->value[i];
	return NULL;
}

/* from/to: defaults the last hour up to now; checked for order, span and
 * the future.  Fills minutes [*from_min, *to_min]. */
int
hq_range(const struct hq_params *p, int64_t now_ms, int64_t default_ms,
    int64_t max_ms, int64_t *from_min, int64_t *to_min, char *err,
    size_t errlen)
{
	const char *fs = hq_get(p, "from"), *ts = hq_get(p, "to");
	int64_t from, to;
	char e[300];

	if (ts != NULL) {
		if (timeparse_instant(ts, &to, e, sizeof(e)) != 0) {
			snprintf(err, errlen, "to: %s", e);
			return -EINVAL;
		}
	} else
		to = now_ms;
	if (fs != NULL) {
		if (timeparse_instant(fs, &from, e, sizeof(e)) != 0) {
			snprintf(err, errlen, "from: %s", e);
			return -EINVAL;
		}
	} else
		from = to > default_ms ?
		    to - default_ms : 0;
	if (from >= to) {
		snprintf(err, errlen, "from must be before to");
		return -EINVAL;
	}
	if (to - from > max_ms) {
		snprintf(err, errlen, "range longer than %lld days: ask for "
		    "less", (long long)(max_ms / 86400000));
		return -EINVAL;
	}
	if (from > now_ms + 60000) {
		snprintf(err, errlen, "from is in the future");
		return -EINVAL;
	}
	*from_min = from / 60000;
	*to_min = (to - 1) / 60000;
	return 0;
}

int
hq_limit(const struct hq_params *p, int def, int max, int *limit,
    char *err, size_t errlen)
{
	const char *s = hq_get(p, "limit");
	long v = 0;

	*limit = def;
	if (s == NULL)
		return 0;
	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) ||
	    strlen(s) > 6 || (v = strtol(s, NULL, 10)) < 1 ||
	    v > max) {
		snprintf(err, errlen, "limit must be 1 to %d",
		    max);
		return -EINVAL;
	}
	*limit = (int)v;
	return 0;
}

int
hq_node(const char *s, struct hq_node *n, char *err, size_t errlen)
{
	const char *num = NULL;

	memset(n, 0, sizeof(*n));
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "node is required: a node id (p:PID:START,"
		    " e:ADDR, l:ADDR:PORT), a port (:5432) or a program name");
		return -EINVAL;
	}
	if (s[0] == ':')
		num = s + 1;
	else if (strncmp(s, "port:", 5) == 0)
		num = s + 5;
	if (num != NULL) {
		long v;

		if (*num == '\0' || strlen(num) > 5 ||
		    strspn(num, "0123456789") != strlen(num) ||
		    (v = strtol(num, NULL, 10)) < 1 || v > 65535) {
			snprintf(err, errlen, "node '%s': not a port (1-65535)",
			    s);
			return -EINVAL;
		}
		n->is_port = true;
		n->port = (int)v;
		return 0;
	}
	n->text = s;
	n->by_key = (s[0] == 'p' || s[0] == 'e' || s[0] == 'l') && s[1] == ':';
	return 0;
}

/* edge=<proto>:<from>><to>:<port>, as the live graph names it. */
int
hq_edge(const char *s, int *proto, char *from, char *to, int *port)
{
	const char *c1 = strchr(s, ':'), *gt = strchr(s, '>'), *c2;
	long v;

	if (c1 == NULL || gt == NULL || gt < c1)
		return -EINVAL;
	if ((size_t)(c1 - s) == 3 && strncmp(s, "tcp", 3) == 0)
		*proto = SNAP_PROTO_TCP;
	else if ((size_t)(c1 - s) == 3 && strncmp(s, "udp", 3) == 0)
		*proto = SNAP_PROTO_UDP;
	else
		return -EINVAL;
	if ((c2 = strrchr(gt, ':')) == NULL || c2 == gt + 1)
		return -EINVAL;
	if (gt - c1 - 1 <= 0 || gt - c1 - 1 >= HQ_MAX_VALUE ||
	    c2 - gt - 1 >= HQ_MAX_VALUE)
		return -EINVAL;
	memcpy(from, c1 + 1, (size_t)(gt - c1 - 1));
	from[gt - c1 - 1] = '\0';
	memcpy(to, gt + 1, (size_t)(c2 - gt - 1));
	to[c2 - gt - 1] = '\0';
	if (c2[1] == '\0' || strlen(c2 + 1) > 5 ||
	    strspn(c2 + 1, "0123456789") != strlen(c2 + 1) ||
	    (v = strtol(c2 + 1, NULL, 10)) > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

