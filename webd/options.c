/*
 * Command line parsing and validation for procnet-webd.  Every value is
 * checked here, once, so the rest of the daemon can trust struct
 * webd_options; a bad value gives one line a person can act on.
 */
#include "options.h"
#include "fs.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "http_policy.h"
#include "timeparse.h"
#include "window.h"

#define DEFAULT_PORT		8765
#define DEFAULT_INTERVAL	1.0
#define DEFAULT_BIND		"127.0.0.1"
/* The collector would not sample faster than this anyway; slower than an
 * hour is certainly a typo. */
#define MIN_INTERVAL		0.05
#define MAX_INTERVAL		3600.0
#define DEFAULT_HISTORY_RETENTION_S	(7 * 86400)
#define DEFAULT_HISTORY_MAX_SIZE	(256ull << 20)
/* The schema and one minute need some room (history_db.h). */
#define MIN_HISTORY_MAX_SIZE		(1ull << 20)

enum {
	OPT_PORT = 256,
	OPT_INTERVAL,
	OPT_RULES,
	OPT_P2P_ONLY,
	OPT_UDP,
	OPT_SVC_PORTS,
	OPT_ICONS_DIR,
	OPT_BIND,
	OPT_COLLECTOR,
	OPT_WEB_ROOT,
	OPT_LOG_LEVEL,
	OPT_DUMP,
	OPT_GROUP,
	OPT_CMDLINE,
	OPT_RESOLVE,
	OPT_RESOLVER,
	OPT_HISTORY,
	OPT_HISTORY_RETENTION,
	OPT_HISTORY_MAX_SIZE,
	OPT_COLLECTOR_ACCOUNT,
	OPT_PUBLISH,
	OPT_NATS_CREDS,
	OPT_NATS_TLS_CA,
	OPT_HOST_NAME,
	OPT_PUBLISH_FULL_EVERY,
	OPT_FLEET,
	OPT_FLEET_STALE,
	OPT_WINDOW,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "port",	required_argument,	NULL, OPT_PORT },
	{ "interval",	required_argument,	NULL, OPT_INTERVAL },
	{ "rules",	required_argument,	NULL, OPT_RULES },
	{ "p2p-only",	no_argument,		NULL, OPT_P2P_ONLY },
	{ "udp",	no_argument,		NULL, OPT_UDP },
	{ "svc-ports",	required_argument,	NULL, OPT_SVC_PORTS },
	{ "icons-dir",	required_argument,	NULL, OPT_ICONS_DIR },
	{ "bind",	required_argument,	NULL, OPT_BIND },
	{ "collector",	required_argument,	NULL, OPT_COLLECTOR },
	{ "collector-account", required_argument, NULL, OPT_COLLECTOR_ACCOUNT },
	{ "web-root",	required_argument,	NULL, OPT_WEB_ROOT },
	{ "log-level",	required_argument,	NULL, OPT_LOG_LEVEL },
	{ "dump",	no_argument,		NULL, OPT_DUMP },
	{ "group",	required_argument,	NULL, OPT_GROUP },
	{ "cmdline",	required_argument,	NULL, OPT_CMDLINE },
	{ "resolve",	required_argument,	NULL, OPT_RESOLVE },
	{ "resolver",	required_argument,	NULL, OPT_RESOLVER },
	{ "history",	required_argument,	NULL, OPT_HISTORY },
	{ "history-retention", required_argument, NULL, OPT_HISTORY_RETENTION },
	{ "history-max-size", required_argument, NULL, OPT_HISTORY_MAX_SIZE },
	{ "publish",	required_argument,	NULL, OPT_PUBLISH },
	{ "nats-creds",	required_argument,	NULL, OPT_NATS_CREDS },
	{ "nats-tls-ca", required_argument,	NULL, OPT_NATS_TLS_CA },
	{ "host-name",	required_argument,	NULL, OPT_HOST_NAME },
	{ "publish-full-every", required_argument, NULL, OPT_PUBLISH_FULL_EVERY },
	{ "fleet",	required_argument,	NULL, OPT_FLEET },
	{ "fleet-stale", required_argument,	NULL, OPT_FLEET_STALE },
	{ "window",	required_argument,	NULL, OPT_WINDOW },
	{ "help",	no_argument,		NULL, OPT_HELP },
	{ "version",	no_argument,		NULL, OPT_VERSION },
	{ NULL,		0,			NULL, 0 },
};

static const char *cmdline_names[OPTIONS_CMDLINE_MAX] = {
	[OPTIONS_CMDLINE_ALL] = "all",
	[OPTIONS_CMDLINE_REDACTED] = "redacted",
	[OPTIONS_CMDLINE_NONE] = "none",
};

static const char *resolve_names[OPTIONS_RESOLVE_MAX] = {
	[OPTIONS_RESOLVE_OFF] = "off",
	[OPTIONS_RESOLVE_LOCAL] = "local",
	[OPTIONS_RESOLVE_ON] = "on",
};

const char *
options_cmdline_name(int mode)
{
	if (mode < 0 || mode >= OPTIONS_CMDLINE_MAX)
		return NULL;
	return cmdline_names[mode];
}

void
options_usage(FILE *f, const char *prog)
{
	fprintf(f,
"Usage: %s [OPTIONS]\n"
"       %s install [OPTIONS] | uninstall | run [OPTIONS]   (Windows)\n"
"Serves the live process/connection map of procnet-collector to a browser.\n"
"\n"
"  --port N            HTTP port (1-65535) [%d]\n"
"  --interval SECONDS  sampling interval asked of the collector, > 0 [%.1f]\n"
"  --rules PATH        YAML/JSON rules typing processes; a relative path is\n"
"                      tried in the working directory, the configuration\n"
"                      directory, then the program's directory\n"
"  --p2p-only          only process<->process edges\n"
"  --udp               include connected UDP sockets\n"
"  --svc-ports LIST    extra service ports for direction, e.g. 3000,5000\n"
"  --icons-dir DIR     PNG icons per type (app.png, service.png, database.png,\n"
"                      mq.png, cache.png, lb.png, external.png, qt_desktop.png)\n"
"  --bind ADDR         numeric address to listen on [%s]\n"
"  --collector EP      collector endpoint (socket path / pipe name)\n"
"                      [/run/procnet/collector.sock as root, else\n"
"                      $XDG_RUNTIME_DIR/procnet/collector.sock]\n"
"  --collector-account NAME  the account the collector must run as, else\n"
"                      webd refuses it [Windows: LocalSystem; Unix: root\n"
"                      or webd's own user]\n"
"  --web-root DIR      directory of the UI files [installed data directory]\n"
"  --log-level LEVEL   error, warn, info or debug [info]\n"
"  --cmdline MODE      command lines served: all, redacted (secrets masked)\n"
"                      or none [redacted]\n"
"  --resolve MODE      names for addresses: on (hosts file, own addresses,\n"
"                      reverse DNS), local (no DNS queries) or off [on]\n"
"  --resolver ADDR[:PORT]  DNS server for reverse lookups, a numeric address\n"
"                      ([v6]:port with a port) [the system's servers]\n"
"  --history PATH      the history file (SQLite), or none [Linux:\n"
"                      $STATE_DIRECTORY/history.sqlite, else\n"
"                      $XDG_STATE_HOME/procnet/history.sqlite, else\n"
"                      /var/lib/procnet (root) or ~/.local/state/procnet;\n"
"                      Windows: %%ProgramData%%\\Procnet\\history.sqlite]\n"
"  --history-retention DURATION  keep history this long: a number and\n"
"                      s, m, h or d [7d]\n"
"  --history-max-size SIZE  the history file's size cap, bytes or with\n"
"                      K, M, G; at least 1M [256M]\n"
"  --publish URL       publish this host's graph to NATS (nats://host:port,\n"
"                      tls://host:port; repeat for a cluster's seeds)\n"
"  --nats-creds FILE   NATS credentials (.creds: JWT and seed)\n"
"  --nats-tls-ca FILE  CA bundle: TLS to NATS, the server checked against it\n"
"  --host-name NAME    this host's name on the fleet map [the machine's]\n"
"  --publish-full-every SECONDS  a full graph at least this often [30]\n"
"  --fleet URL         draw the fleet: every host publishing to this NATS\n"
"                      (repeat for a cluster's seeds) instead of this host\n"
"  --fleet-stale SECONDS  a host silent this long is marked stale [15]\n"
"  --window SECONDS    how long connections that closed, and processes that\n"
"                      exited, stay on the map (1-%u) [%u]\n"
"  --dump              print one graph as JSON and exit\n"
"  --group MODE        with --dump: process, program, service, container,\n"
"                      user or host [program]\n"
"  --help              this text\n"
"  --version           print the version\n"
"\n"
"Windows service verbs:\n"
"  install [OPTIONS]   register the service procnetwebd, run as\n"
"                      NT AUTHORITY\\LocalService with automatic start,\n"
"                      to run \"procnet-webd run [OPTIONS]\"\n"
"  uninstall           stop and remove the service\n"
"  run [OPTIONS]       what the service manager starts; as a console\n"
"                      program, the same as no verb\n",
	    prog, prog, DEFAULT_PORT, DEFAULT_INTERVAL, DEFAULT_BIND,
	    WINDOW_MAX_S, WINDOW_DEFAULT_S);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    LOG_PRINTF(3, 4);

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
parse_port(const char *s, int *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

int
options_parse_ports(const char *s, uint16_t *ports, size_t max, size_t *n,
    char *err, size_t errlen)
{
	const char *p = s;
	size_t count = 0;

	while (*p != '\0') {
		char num[8];
		size_t len = strcspn(p, ",");
		int port;

		if (len == 0 || len >= sizeof(num))
			return fail(err, errlen, "--svc-ports: '%s' is not a "
			    "comma-separated list of ports (1-65535)", s);
		memcpy(num, p, len);
		num[len] = '\0';
		if (strspn(num, "0123456789") != len ||
		    parse_port(num, &port) != 0)
			return fail(err, errlen, "--svc-ports: '%s' is not a "
			    "port (1-65535)", num);
		size_t i;
		for (i = 0; i < count; i++)
			if (ports[i] == port)
				break;
		if (i == count) {
			if (count == max)
				return fail(err, errlen, "--svc-ports: more than "
				    "%zu ports", max);
			ports[count++] = (uint16_t)port;
		}
		p += len;
		if (*p == ',') {
			p++;
			if (*p == '\0')
				return fail(err, errlen, "--svc-ports: '%s' "
				    "ends with a comma", s);
		}
	}
	*n = count;
	return 0;
}

/* "dir/" -> "dir": the Windows C library's stat() fails on a trailing
 * separator, and installers like to add one.  "/" and "C:\\" stay. */
static void
trim_separators(char *p)
{
	size_t len = strlen(p);

	while (len > 1 && (p[len - 1] == '/' || p[len - 1] == '\\') &&
	    !(len == 3 && p[1] == ':'))
		p[--len] = '\0';
}

static int
check_dir(const char *opt, char *path, char *err, size_t errlen)
{
	struct fs_stamp st;
	int rc;

	if (*path == '\0')
		return fail(err, errlen, "%s: empty path", opt);
	if (strlen(path) >= OPTIONS_MAX_PATH)
		return fail(err, errlen, "%s: path too long", opt);
	trim_separators(path);
	if ((rc = fs_stamp(path, &st)) != 0)
		return fail(err, errlen, "%s: %s: %s", opt, path,
		    strerror(-rc));
	if (st.type != FS_TYPE_DIR)
		return fail(err, errlen, "%s: %s: not a directory", opt, path);
	return 0;
}

static int
set_str(char **dst, const char *src, char *err, size_t errlen)
{
	char *copy = strdup(src);

	if (copy == NULL)
		return fail(err, errlen, "out of memory");
	free(*dst);
	*dst = copy;
	return 0;
}

int
options_parse_resolver(const char *s, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char host[64];
	const char *port = NULL, *close_;
	size_t hlen;
	int p = 53;

	if (s[0] == '[') {
		/* [v6] or [v6]:port */
		if ((close_ = strchr(s, ']')) == NULL)
			goto bad;
		hlen = (size_t)(close_ - s - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (close_[1] == ':')
			port = close_ + 2;
		else if (close_[1] != '\0')
			goto bad;
		if (strchr(host, ':') == NULL)
			goto bad;
	} else if (strchr(s, ':') != NULL && strchr(s, ':') != strrchr(s,
	    ':')) {
		/* a bare IPv6 address: no port */
		if (strlen(s) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%s", s);
	} else {
		const char *colon = strchr(s, ':');

		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (colon != NULL)
			port = colon + 1;
	}
	if (http_policy_addr_numeric(host) != 0)
		goto bad;
	if (port != NULL && parse_port(port, &p) != 0)
		return fail(err, errlen, "--resolver: '%s' has a bad port "
		    "(1-65535)", s);
	if (strchr(host, ':') != NULL)
		snprintf(out, outlen, "[%s]:%d", host, p);
	else
		snprintf(out, outlen, "%s:%d", host, p);
	return 0;
bad:
	return fail(err, errlen, "--resolver: '%s' is not a numeric address "
	    "(a.b.c.d[:port], v6 or [v6]:port)", s);
}

int
options_parse(int argc, char **argv, struct webd_options *o, char *err,
    size_t errlen)
{
	int c, rc;
	char *end;

	memset(o, 0, sizeof(*o));
	o->port = DEFAULT_PORT;
	o->interval = DEFAULT_INTERVAL;
	o->log_level = LOG_LEVEL_INFO;
	o->cmdline = OPTIONS_CMDLINE_REDACTED;
	o->resolve = OPTIONS_RESOLVE_ON;
	o->history_retention_s = DEFAULT_HISTORY_RETENTION_S;
	o->history_max_size = DEFAULT_HISTORY_MAX_SIZE;
	o->window_s = WINDOW_DEFAULT_S;
	if ((rc = set_str(&o->bind, DEFAULT_BIND, err, errlen)) != 0)
		return rc;

	/* Our own messages only; getopt's would go to stderr unformatted. */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_PORT:
			if (parse_port(optarg, &o->port) != 0)
				return fail(err, errlen, "--port: '%s' is not a "
				    "port number (1-65535)", optarg);
			break;
		case OPT_INTERVAL:
			errno = 0;
			o->interval = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !isfinite(o->interval) || o->interval <= 0)
				return fail(err, errlen, "--interval: '%s' is not "
				    "a number of seconds greater than 0", optarg);
			if (o->interval < MIN_INTERVAL ||
			    o->interval > MAX_INTERVAL)
				return fail(err, errlen, "--interval: %s is out of "
				    "range (%.2f-%.0f seconds)", optarg,
				    MIN_INTERVAL, MAX_INTERVAL);
			break;
		case OPT_RULES:
			/* Existence is checked by rules_load, which also
			 * searches the configuration directories. */
			if (*optarg == '\0')
				return fail(err, errlen, "--rules: empty path");
			if (strlen(optarg) >= OPTIONS_MAX_PATH)
				return fail(err, errlen, "--rules: path too long");
			if ((rc = set_str(&o->rules, optarg, err, errlen)) != 0)
				return rc;
			break;
		case OPT_WINDOW: {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    optarg[0] < '0' || optarg[0] > '9')
				return fail(err, errlen, "--window: '%s' is not "
				    "a whole number of seconds", optarg);
			if (v < 1 || v > WINDOW_MAX_S)
				return fail(err, errlen, "--window: %s is out of "
				    "range (1-%u seconds)", optarg, WINDOW_MAX_S);
			o->window_s = (unsigned)v;
			break;
		}
		case OPT_P2P_ONLY:
			o->p2p_only = true;
			break;
		case OPT_UDP:
			o->udp = true;
			break;
		case OPT_SVC_PORTS:
			rc = options_parse_ports(optarg, o->svc_ports,
			    OPTIONS_MAX_SVC_PORTS, &o->n_svc_ports, err, errlen);
			if (rc != 0)
				return rc;
			break;
		case OPT_ICONS_DIR:
			if ((rc = set_str(&o->icons_dir, optarg, err,
			    errlen)) != 0)
				return rc;
			if ((rc = check_dir("--icons-dir", o->icons_dir, err,
			    errlen)) != 0)
				return rc;
			break;
		case OPT_BIND:
			if (http_policy_addr_numeric(optarg) != 0)
				return fail(err, errlen, "--bind: '%s' is not a "
				    "numeric IPv4 or IPv6 address", optarg);
			if ((rc = set_str(&o->bind, optarg, err, errlen)) != 0)
				return rc;
			break;
		case OPT_COLLECTOR:
			if (*optarg == '\0' || strlen(optarg) >= 256)
				return fail(err, errlen, "--collector: endpoint "
				    "must be 1-255 characters");
			if ((rc = set_str(&o->collector, optarg, err,
			    errlen)) != 0)
				return rc;
			break;
		case OPT_COLLECTOR_ACCOUNT:
			if (*optarg == '\0' || strlen(optarg) >= 256)
				return fail(err, errlen, "--collector-account: "
				    "must be 1-255 characters");
			if ((rc = set_str(&o->collector_account, optarg, err,
			    errlen)) != 0)
				return rc;
			break;
		case OPT_WEB_ROOT:
			if ((rc = set_str(&o->web_root, optarg, err,
			    errlen)) != 0)
				return rc;
			if ((rc = check_dir("--web-root", o->web_root, err,
			    errlen)) != 0)
				return rc;
			break;
		case OPT_LOG_LEVEL:
			if ((o->log_level = log_level_from_name(optarg)) < 0)
				return fail(err, errlen, "--log-level: '%s' is not "
				    "one of error, warn, info, debug", optarg);
			break;
		case OPT_DUMP:
			o->dump = true;
			break;
		case OPT_GROUP:
			/* the names are graph.h's; main.c checks them */
			if (*optarg == '\0' || strlen(optarg) > 32)
				return fail(err, errlen, "--group: '%s' is not "
				    "one of process, program, service, "
				    "container, user, host", optarg);
			if ((rc = set_str(&o->group, optarg, err,
			    errlen)) != 0)
				return rc;
			break;
		case OPT_CMDLINE: {
			int m;

			for (m = 0; m < OPTIONS_CMDLINE_MAX; m++)
				if (strcmp(optarg, cmdline_names[m]) == 0)
					break;
			if (m == OPTIONS_CMDLINE_MAX)
				return fail(err, errlen, "--cmdline: '%s' is not "
				    "one of all, redacted, none", optarg);
			o->cmdline = m;
			break;
		}
		case OPT_RESOLVE: {
			int m;

			for (m = 0; m < OPTIONS_RESOLVE_MAX; m++)
				if (strcmp(optarg, resolve_names[m]) == 0)
					break;
			if (m == OPTIONS_RESOLVE_MAX)
				return fail(err, errlen, "--resolve: '%s' is not "
				    "one of on, local, off", optarg);
			o->resolve = m;
			break;
		}
		case OPT_RESOLVER: {
			char canon[OPTIONS_RESOLVER_MAX];

			if ((rc = options_parse_resolver(optarg, canon,
			    sizeof(canon), err, errlen)) != 0)
				return rc;
			if ((rc = set_str(&o->resolver, canon, err,
			    errlen)) != 0)
				return rc;
			break;
		}
		case OPT_HISTORY:
			if (*optarg == '\0')
				return fail(err, errlen, "--history: empty path "
				    "(none turns history off)");
			if (strlen(optarg) >= OPTIONS_MAX_PATH)
				return fail(err, errlen, "--history: path too "
				    "long");
			o->history_off = strcmp(optarg, "none") == 0;
			free(o->history);
			o->history = NULL;
			if (!o->history_off && (rc = set_str(&o->history,
			    optarg, err, errlen)) != 0)
				return rc;
			break;
		case OPT_HISTORY_RETENTION: {
			char why[200];

			if (timeparse_duration(optarg, &o->history_retention_s,
			    why, sizeof(why)) != 0)
				return fail(err, errlen, "--history-retention: "
				    "%s", why);
			if (o->history_retention_s < 60)
				return fail(err, errlen, "--history-retention: "
				    "'%s' is shorter than a minute", optarg);
			break;
		}
		case OPT_HISTORY_MAX_SIZE: {
			char why[200];

			if (timeparse_size(optarg, &o->history_max_size, why,
			    sizeof(why)) != 0)
				return fail(err, errlen, "--history-max-size: %s",
				    why);
			if (o->history_max_size < MIN_HISTORY_MAX_SIZE)
				return fail(err, errlen, "--history-max-size: "
				    "'%s' is below 1M", optarg);
			break;
		}
		case OPT_PUBLISH:
		case OPT_FLEET: {
			bool pub = c == OPT_PUBLISH;
			char **list = pub ? o->publish : o->fleet;
			size_t *n = pub ? &o->n_publish : &o->n_fleet;
			const char *name = pub ? "--publish" : "--fleet";

			if (*n == OPTIONS_MAX_PUBLISH)
				return fail(err, errlen, "%s: at most %d servers",
				    name, OPTIONS_MAX_PUBLISH);
			if ((strncmp(optarg, "nats://", 7) != 0 &&
			    strncmp(optarg, "tls://", 6) != 0) ||
			    strlen(optarg) < 8 || strlen(optarg) > 512 ||
			    strpbrk(optarg, " \t\r\n,") != NULL)
				return fail(err, errlen, "%s: '%s' is not a NATS "
				    "URL (nats://host:port or tls://host:port)",
				    name, optarg);
			if ((rc = set_str(&list[*n], optarg, err, errlen)) != 0)
				return rc;
			(*n)++;
			break;
		}
		case OPT_NATS_CREDS:
		case OPT_NATS_TLS_CA: {
			const char *name = c == OPT_NATS_CREDS ? "--nats-creds" :
			    "--nats-tls-ca";
			struct stat sb;

			if (stat(optarg, &sb) != 0 || !S_ISREG(sb.st_mode))
				return fail(err, errlen, "%s: '%s' is not a "
				    "readable file", name, optarg);
			if ((rc = set_str(c == OPT_NATS_CREDS ? &o->nats_creds :
			    &o->nats_tls_ca, optarg, err, errlen)) != 0)
				return rc;
			break;
		}
		case OPT_HOST_NAME: {
			size_t i, n = strlen(optarg);

			for (i = 0; i < n; i++) {
				char ch = optarg[i];

				if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
				    ch <= 'Z') || (ch >= '0' && ch <= '9') ||
				    ch == '-' || ch == '_' || ch == '.'))
					break;
			}
			if (n == 0 || n > 64 || i < n)
				return fail(err, errlen, "--host-name: '%s' must be "
				    "1-64 of A-Z a-z 0-9 . - _", optarg);
			if ((rc = set_str(&o->host_name, optarg, err,
			    errlen)) != 0)
				return rc;
			break;
		}
		case OPT_PUBLISH_FULL_EVERY: {
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 1 || v > 3600)
				return fail(err, errlen, "--publish-full-every: "
				    "'%s' is not 1-3600 seconds", optarg);
			o->publish_full_every = (unsigned)v;
			break;
		}
		case OPT_FLEET_STALE: {
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v < 2 || v > 3600)
				return fail(err, errlen, "--fleet-stale: '%s' is not "
				    "2-3600 seconds", optarg);
			o->fleet_stale = (unsigned)v;
			break;
		}
		case OPT_HELP:
			return OPTIONS_HELP;
		case OPT_VERSION:
			return OPTIONS_VERSION;
		case ':':
			return fail(err, errlen, "%s needs a value",
			    argv[optind - 1]);
		default:
			return fail(err, errlen, "unknown option '%s' (see "
			    "--help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s' (see --help)",
		    argv[optind]);
	if (o->n_publish > 0 && o->n_fleet > 0)
		return fail(err, errlen, "--publish and --fleet: a fleet view "
		    "has no host of its own to publish");
	if (o->n_publish == 0 && (o->host_name != NULL ||
	    o->publish_full_every != 0))
		return fail(err, errlen, "--host-name and --publish-full-every "
		    "go with --publish");
	if (o->n_fleet == 0 && o->fleet_stale != 0)
		return fail(err, errlen, "--fleet-stale goes with --fleet");
	if (o->n_publish == 0 && o->n_fleet == 0 && (o->nats_creds != NULL ||
	    o->nats_tls_ca != NULL))
		return fail(err, errlen, "--nats-creds and --nats-tls-ca go with "
		    "--publish or --fleet");
	if (o->resolver != NULL && o->resolve != OPTIONS_RESOLVE_ON)
		return fail(err, errlen, "--resolver is only used with "
		    "--resolve on");
	return OPTIONS_RUN;
}

void
options_clear(struct webd_options *o)
{
	if (o == NULL)
		return;
	free(o->rules);
	free(o->icons_dir);
	free(o->bind);
	free(o->collector);
	free(o->collector_account);
	free(o->web_root);
	free(o->resolver);
	free(o->group);
	free(o->history);
	for (size_t i = 0; i < o->n_publish; i++)
		free(o->publish[i]);
	for (size_t i = 0; i < o->n_fleet; i++)
		free(o->fleet[i]);
	free(o->nats_creds);
	free(o->nats_tls_ca);
	free(o->host_name);
	memset(o, 0, sizeof(*o));
}
