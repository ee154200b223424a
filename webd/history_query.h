/*
 * The history API's request parameters: the query string decoded strictly
 * (unknown or repeated names, bad percent-encoding and overlong values are
 * errors), time ranges, row limits, node and edge selectors.  Pure; fuzzed.
 */
#ifndef PROCNET_WEBD_HISTORY_QUERY_H
#define PROCNET_WEBD_HISTORY_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HQ_MAX_PARAMS	8
#define HQ_MAX_VALUE	256

struct hq_params {
	size_t n;
	char name[HQ_MAX_PARAMS][16];
	char value[HQ_MAX_PARAMS][HQ_MAX_VALUE];
};

/* Decodes q (may be NULL) accepting only the names in allowed (NULL
 * ended).  0, or -EINVAL with a reason in err. */
int hq_parse(const char *q, struct hq_params *p, const char *const *allowed,
    char *err, size_t errlen);
/* The value of name, or NULL when not given. */
const char *hq_get(const struct hq_params *p, const char *name);

/*
 * from= and to= (RFC 3339 or Unix ms; defaults: to now, from an hour
 * before to) as whole minutes [*from_min, *to_min]: from before to, no
 * longer than max_ms, from not in the future.  0 or -EINVAL with a reason.
 */
int hq_range(const struct hq_params *p, int64_t now_ms, int64_t default_ms,
    int64_t max_ms, int64_t *from_min, int64_t *to_min, char *err,
    size_t errlen);

/* limit= (1..max, default def).  0 or -EINVAL. */
int hq_limit(const struct hq_params *p, int def, int max, int *limit,
    char *err, size_t errlen);

/* node=: a node id (p:PID:START, e:ADDR, l:ADDR:PORT), a port (":5432" or
 * "port:5432") or a program name. */
struct hq_node {
	bool is_port;
	bool by_key;		/* text is a node id, else a program name */
	int port;
	const char *text;	/* points into the parameter */
};

int hq_node(const char *s, struct hq_node *n, char *err, size_t errlen);

/* edge=<proto>:<from>><to>:<port> as the live graph names edges; from and
 * to need HQ_MAX_VALUE bytes.  0 or -EINVAL. */
int hq_edge(const char *s, int *proto, char *from, char *to, int *port);

#endif
