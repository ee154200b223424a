/*
 * procnet-webd's command line: the original tool's options (same names and
 * defaults) plus the daemon's own.  Parsing validates everything and never
 * exits; main() prints the error and decides.
 */
#ifndef PROCNET_WEBD_OPTIONS_H
#define PROCNET_WEBD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPTIONS_MAX_SVC_PORTS	64
#define OPTIONS_MAX_PATH	4096
#define OPTIONS_MAX_PUBLISH	8	/* = PUBLISH_MAX_SERVERS */

enum options_cmdline {
	OPTIONS_CMDLINE_ALL,
	OPTIONS_CMDLINE_REDACTED,
	OPTIONS_CMDLINE_NONE,
	OPTIONS_CMDLINE_MAX
};

enum options_resolve {
	OPTIONS_RESOLVE_OFF,
	OPTIONS_RESOLVE_LOCAL,
	OPTIONS_RESOLVE_ON,
	OPTIONS_RESOLVE_MAX
};

/* "[v6]:65535" and a NUL */
#define OPTIONS_RESOLVER_MAX	56

struct webd_options {
	int port;			/* 1..65535, default 8765 */
	double interval;		/* seconds, > 0, default 1.0 */
	char *rules;			/* as given; NULL when none */
	bool p2p_only;
	bool udp;
	uint16_t svc_ports[OPTIONS_MAX_SVC_PORTS];
	size_t n_svc_ports;
	char *icons_dir;		/* existing directory, or NULL */
	char *bind;			/* numeric IPv4/IPv6 address */
	char *collector;		/* endpoint; NULL = platform default */
	char *collector_account;	/* who must serve it; NULL = platform
					 * default (ipc_conn_check_server) */
	char *web_root;			/* existing directory, or NULL = default */
	int log_level;			/* enum log_level */
	bool dump;
	char *group;			/* --dump --group; NULL = program */
	int cmdline;			/* enum options_cmdline */
	int resolve;			/* enum options_resolve, default on */
	char *resolver;			/* "a.b.c.d:53" / "[v6]:53"; NULL =
					   the system's servers */
	/* --history: the file; NULL = the default place; history_off for
	 * "none" */
	char *history;
	bool history_off;
	int64_t history_retention_s;	/* default 7 days */
	uint64_t history_max_size;	/* bytes, default 256 MiB */
	/* Publishing to NATS (docs/fleet.md) */
	char *publish[OPTIONS_MAX_PUBLISH];	/* nats:// or tls:// URLs */
	size_t n_publish;
	char *nats_creds, *nats_tls_ca;		/* existing files, or NULL */
	char *host_name;		/* validated; NULL = the machine's */
	unsigned publish_full_every;	/* seconds; 0 = default (30) */
	char *fleet[OPTIONS_MAX_PUBLISH];	/* --fleet: NATS URLs */
	size_t n_fleet;
	unsigned fleet_stale;		/* seconds; 0 = default (15) */
	unsigned window_s;		/* recent connections, 1..WINDOW_MAX_S [60] */
};

enum options_result {
	OPTIONS_RUN = 0,		/* parsed; run the daemon (or --dump) */
	OPTIONS_HELP = 1,		/* --help asked for; exit 0 */
	OPTIONS_VERSION = 2,		/* --version asked for; exit 0 */
	OPTIONS_RESULT_MAX
};

/* Fills *o from argv.  Returns an options_result, or a negative errno code
 * with a one-line message for a person in err.  *o must be released with
 * options_clear() whatever the result. */
int options_parse(int argc, char **argv, struct webd_options *o,
    char *err, size_t errlen);
void options_clear(struct webd_options *o);

/* --resolver's "ADDR[:PORT]" (a numeric address; IPv6 in brackets when a
 * port follows) into the "a.b.c.d:port" / "[v6]:port" form c-ares takes,
 * port 53 when none is given. */
int options_parse_resolver(const char *s, char *out, size_t outlen,
    char *err, size_t errlen);
void options_usage(FILE *f, const char *prog);

/* "80,443,5432" -> ports; strict: digits and commas only, 1..65535, at most
 * OPTIONS_MAX_SVC_PORTS, duplicates kept once.  Empty string is no ports. */
int options_parse_ports(const char *s, uint16_t *ports, size_t max,
    size_t *n, char *err, size_t errlen);

const char *options_cmdline_name(int mode);

#endif
