/*
 * procnet-webd: subscribes to procnet-collector, types processes by the
 * user's rules, and serves the live map on 127.0.0.1.  main() wires the
 * parts together and owns the two things no part should: the exit code and
 * the reload schedule of the rules file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "entry.h"
#include "fs.h"
#include "graph.h"
#include "group.h"
#include "graph_json.h"
#include "history.h"
#include "http.h"
#include "log.h"
#include "netif.h"
#include "options.h"
#include "fleet.h"
#include "progpath.h"
#include "publish.h"
#include "redact.h"
#include "resolver.h"
#include "rules.h"
#include "service.h"
#include "signals.h"
#include "state.h"
#include "statedir.h"
#include "stream.h"
#include "subscriber.h"

#ifndef PROCNET_DATADIR
#define PROCNET_DATADIR ""
#endif
#ifndef PROCNET_BUILD_WEB_DIR
#define PROCNET_BUILD_WEB_DIR ""
#endif
#ifndef PROCNET_SYSCONFDIR
#define PROCNET_SYSCONFDIR ""
#endif

#define PROG		"procnet-webd"
#define DUMP_TIMEOUT_MS	10000
#define RULES_POLL_MS	1000
#define TICK_MS		200
#define FIRST_ATTEMPT_WAIT_MS	15000

/* options_cmdline -> redact_mode */
static enum redact_mode
redact_mode_of(int cmdline)
{
	switch (cmdline) {
	case OPTIONS_CMDLINE_ALL:
		return REDACT_ALL;
	case OPTIONS_CMDLINE_NONE:
		return REDACT_NONE;
	default:
		return REDACT_REDACTED;
	}
}

static bool
is_dir(const char *p)
{
	struct fs_stamp st;

	return p != NULL && *p != '\0' && fs_stamp(p, &st) == 0 &&
	    st.type == FS_TYPE_DIR;
}

/* The UI: --web-root, else the installed data directory, else the build
 * tree's web output (running uninstalled). */
static const char *
pick_web_root(const struct webd_options *o)
{
	static char installed[1024];

	if (o->web_root != NULL)
		return o->web_root;
	snprintf(installed, sizeof(installed), "%s/web", PROCNET_DATADIR);
	if (PROCNET_DATADIR[0] != '\0' && is_dir(installed))
		return installed;
	if (is_dir(PROCNET_BUILD_WEB_DIR))
		return PROCNET_BUILD_WEB_DIR;
	return NULL;
}

/* Resolves and loads --rules; prints why not and returns -1 on failure. */
static int
load_rules(const char *arg, char *path, size_t pathlen, struct rules **out)
{
	struct rules_error err;
	char progdir[1024], msg[2200];

	/* The executable's own directory, not argv[0]'s: started through
	 * PATH, argv[0] has none.  Unknown, that candidate is skipped. */
	if (progpath_dir(progdir, sizeof(progdir)) != 0)
		progdir[0] = '\0';
	memset(&err, 0, sizeof(err));
	if (rules_resolve(arg, PROCNET_SYSCONFDIR[0] != '\0' ?
	    PROCNET_SYSCONFDIR : NULL, progdir[0] != '\0' ? progdir : NULL,
	    path, pathlen, &err) != 0) {
		log_errx("--rules: %s",
		    rules_error_format(&err, msg, sizeof(msg)));
		return -1;
	}
	memset(&err, 0, sizeof(err));
	if (rules_load(path, out, &err) != 0) {
		log_errx("bad rules file: %s",
		    rules_error_format(&err, msg, sizeof(msg)));
		return -1;
	}
	return 0;
}

_Static_assert((int)OPTIONS_RESOLVE_OFF == (int)RESOLVE_OFF &&
    (int)OPTIONS_RESOLVE_LOCAL == (int)RESOLVE_LOCAL &&
    (int)OPTIONS_RESOLVE_ON == (int)RESOLVE_ON, "--resolve modes");
_Static_assert(RESOLVER_NAME_MAX <= GRAPH_NAME_MAX, "name buffers");

/* The resolver --resolve asks for; NULL (and nothing started) for off. */
static int
start_resolver(const struct webd_options *o, int mode, struct resolver **out)
{
	struct resolver_config rc;
	char err[512];

	*out = NULL;
	if (mode == OPTIONS_RESOLVE_OFF)
		return 0;
	memset(&rc, 0, sizeof(rc));
	rc.mode = (enum resolve_mode)mode;
	rc.server = o->resolver;
	if (resolver_new(&rc, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return -1;
	}
	return 0;
}

static int
dump(const struct webd_options *o, struct rules *rules)
{
	struct snapshot *snap = NULL;
	struct graph *g = NULL, *gg = NULL;
	struct graph_options go;
	struct graph_json_opts jo;
	struct snap_addr *addrs = NULL;
	struct resolver *res = NULL;
	size_t n_addrs = 0, len;
	char errbuf[512], *text;
	int rc, mode = GRAPH_GROUP_DEFAULT;

	if (o->group != NULL && (mode = graph_group_from_name(o->group)) < 0) {
		fprintf(stderr, "%s: --group: '%s' is not one of process, "
		    "program, service, container, user\n", PROG, o->group);
		return 2;
	}
	rc = subscriber_fetch_once(o->collector, o->collector_account, o->udp,
	    DUMP_TIMEOUT_MS, &snap, errbuf, sizeof(errbuf));
	if (rc != 0) {
		fprintf(stderr, "%s: --dump: no snapshot from the collector: "
		    "%s\n", PROG, errbuf);
		return 1;
	}
	if (netif_local_addrs(&addrs, &n_addrs) != 0) {
		addrs = NULL;
		n_addrs = 0;
	}
	memset(&go, 0, sizeof(go));
	go.udp = o->udp;
	go.p2p_only = o->p2p_only;
	go.svc_ports = o->svc_ports;
	go.n_svc_ports = o->n_svc_ports;
	go.local_addrs = addrs;
	go.n_local_addrs = n_addrs;
	/* One graph, at once: the names local knowledge gives (hosts file,
	 * own addresses); reverse DNS would answer after it is printed. */
	if (start_resolver(o, o->resolve == OPTIONS_RESOLVE_OFF ?
	    OPTIONS_RESOLVE_OFF : OPTIONS_RESOLVE_LOCAL, &res) != 0) {
		snapshot_unref(snap);
		free(addrs);
		return 1;
	}
	if (res != NULL) {
		resolver_set_local(res, addrs, n_addrs, snap->host);
		go.name_of = resolver_name_of;
		go.name_ctx = res;
	}
	rc = graph_build(snap, rules, &go, &g);
	snapshot_unref(snap);
	free(addrs);
	resolver_free(res);
	if (rc != 0) {
		fprintf(stderr, "%s: --dump: cannot build the graph: %s\n",
		    PROG, strerror(-rc));
		return 1;
	}
	if (mode != GRAPH_GROUP_PROCESS) {
		rc = graph_group(g, (unsigned)mode, &gg);
		graph_free(g);
		if (rc != 0) {
			fprintf(stderr, "%s: --dump: cannot group the graph: "
			    "%s\n", PROG, strerror(-rc));
			return 1;
		}
		g = gg;
	}
	memset(&jo, 0, sizeof(jo));
	jo.cmdline = redact_mode_of(o->cmdline);
	text = graph_json(g, &jo, &len);
	graph_free(g);
	if (text == NULL) {
		fprintf(stderr, "%s: --dump: out of memory\n", PROG);
		return 1;
	}
	fwrite(text, 1, len, stdout);
	fputc('\n', stdout);
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}

struct webd {
	struct stream *stream;	/* set before the subscriber starts */
	struct publish *publish;	/* likewise; NULL without --publish */
};

static void
on_publish(void *user)
{
	struct webd *w = user;

	if (w->stream != NULL)
		stream_publish(w->stream);
	publish_notify(w->publish);
}

static int
start_publish(const struct webd_options *o, struct state *st,
    struct publish **out)
{
	struct publish_config pc;
	char err[512];

	*out = NULL;
	if (o->n_publish == 0)
		return 0;
	memset(&pc, 0, sizeof(pc));
	pc.servers = (const char *const *)o->publish;
	pc.n_servers = o->n_publish;
	pc.creds_file = o->nats_creds;
	pc.tls_ca = o->nats_tls_ca;
	pc.host_name = o->host_name;
	pc.full_every_s = o->publish_full_every;
	pc.state = st;
	if (publish_start(&pc, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return -1;
	}
	state_set_publish(st, *out);
	return 0;
}

static int
serve(const struct webd_options *o, const char *rules_path,
    struct rules *rules)
{
	struct webd w = { NULL };
	struct history *hist = NULL;
	struct history_config hcfg;
	char hist_path[4096];
	struct state_config sc;
	struct state *st = NULL;
	struct subscriber_opts so;
	struct subscriber *sub = NULL;
	struct http_config hc;
	struct http *http = NULL;
	struct resolver *res = NULL;
	struct fleet *fleet = NULL;
	const char *web_root;
	char err[512];
	int rc, since_poll = 0, status = 1;

	if ((web_root = pick_web_root(o)) == NULL) {
		log_errx("no web root: neither %s/web nor %s exists; "
		    "build the UI or pass --web-root", PROCNET_DATADIR,
		    PROCNET_BUILD_WEB_DIR);
		rules_free(rules);
		return 1;
	}
	if ((rc = signals_init()) != 0) {
		log_errx("cannot set up signals: %s", strerror(-rc));
		rules_free(rules);
		return 1;
	}

	if (start_resolver(o, o->resolve, &res) != 0) {
		rules_free(rules);
		return 1;
	}
	if (!o->history_off) {
		memset(&hcfg, 0, sizeof(hcfg));
		if (o->history != NULL)
			snprintf(hist_path, sizeof(hist_path), "%s", o->history);
		else if ((rc = statedir_history_path(hist_path,
		    sizeof(hist_path))) != 0) {
			fprintf(stderr, "%s: no place for the history file (%s):"
			    " give --history PATH or --history none\n", PROG,
			    strerror(-rc));
			rules_free(rules);
			resolver_free(res);
			return 1;
		}
		hcfg.path = hist_path;
		hcfg.retention_s = o->history_retention_s;
		hcfg.max_size = o->history_max_size;
		if ((rc = history_new(&hcfg, &hist)) != 0) {
			fprintf(stderr, "%s: cannot start the history writer: "
			    "%s\n", PROG, strerror(-rc));
			rules_free(rules);
			resolver_free(res);
			return 1;
		}
		log_info("history in %s (%lld s kept, at most %llu bytes)",
		    hist_path, (long long)o->history_retention_s,
		    (unsigned long long)o->history_max_size);
	}
	memset(&sc, 0, sizeof(sc));
	sc.resolver = res;
	sc.udp = o->udp;
	sc.p2p_only = o->p2p_only;
	sc.icons = o->icons_dir != NULL;
	sc.svc_ports = o->svc_ports;
	sc.n_svc_ports = o->n_svc_ports;
	sc.json.cmdline = redact_mode_of(o->cmdline);
	sc.window_s = o->window_s;
	sc.rules_path = rules_path;
	sc.rules = rules;
	sc.on_publish = on_publish;
	sc.user = &w;
	sc.history = hist;
	if ((rc = state_new(&sc, &st)) != 0) {
		log_errx("%s", strerror(-rc));
		rules_free(rules);
		resolver_free(res);
		history_free(hist);
		return 1;
	}
	if ((rc = stream_new(st, HTTP_MAX_STREAMS, &w.stream)) != 0) {
		log_errx("%s", strerror(-rc));
		goto out;
	}
	if (start_publish(o, st, &w.publish) != 0)
		goto out;
	if (o->n_fleet > 0) {
		/* The fleet view: graphs come from NATS, not a collector. */
		struct fleet_config fc;

		memset(&fc, 0, sizeof(fc));
		fc.servers = (const char *const *)o->fleet;
		fc.n_servers = o->n_fleet;
		fc.creds_file = o->nats_creds;
		fc.tls_ca = o->nats_tls_ca;
		fc.stale_s = o->fleet_stale;
		fc.state = st;
		if (fleet_start(&fc, &fleet, err, sizeof(err)) != 0) {
			log_errx("%s", err);
			goto out;
		}
		state_set_fleet(st, fleet);
		state_on_collector(SUBSCRIBER_CONNECTED, NULL, st);
		goto serve_http;
	}

	memset(&so, 0, sizeof(so));
	so.endpoint = o->collector;
	so.account = o->collector_account;
	so.interval_ms = (uint32_t)(o->interval * 1000.0 + 0.5);
	so.udp = o->udp;
	so.on_snapshot = state_on_snapshot;
	so.on_state = state_on_collector;
	so.user = st;
	if ((rc = subscriber_start(&so, &sub)) != 0) {
		log_errx("cannot start the collector subscriber: %s",
		    strerror(-rc));
		goto out;
	}

serve_http:
	memset(&hc, 0, sizeof(hc));
	hc.bind = o->bind;
	hc.port = o->port;
	hc.web_root = web_root;
	hc.icons_dir = o->icons_dir;
	hc.state = st;
	hc.sub = sub;
	hc.stream = w.stream;
	hc.history_path = hist != NULL ? history_path(hist) : NULL;
	if ((rc = http_start(&hc, &http, err, sizeof(err))) != 0) {
		log_errx("%s", err);
		goto out;
	}
	if (strchr(o->bind, ':') != NULL)
		log_info("serving http://[%s]:%d/ (UI from %s)", o->bind,
		    o->port, web_root);
	else
		log_info("serving http://%s:%d/ (UI from %s)", o->bind, o->port,
		    web_root);
	if (rules_path != NULL)
		log_info("rules from %s", rules_path);
	/* The port is open; the subscriber's first attempt, which says
	 * whether the collector is there, is made before RUNNING.  In
	 * slices, so a stop meanwhile is not held up. */
	for (int waited = 0; sub != NULL && waited < FIRST_ATTEMPT_WAIT_MS &&
	    !signals_stop_requested() &&
	    subscriber_wait_attempt(sub, TICK_MS) != 0; waited += TICK_MS)
		;
	service_ready();

	while (!signals_stop_requested()) {
		bool force = signals_take_reload();

		signals_wait(TICK_MS);
		since_poll += TICK_MS;
		if (!force && since_poll < RULES_POLL_MS)
			continue;
		since_poll = 0;
		rc = state_check_rules(st, force, err, sizeof(err));
		if (rc > 0)
			log_info("rules reloaded from %s", rules_path);
		else if (rc < 0)
			log_warnx("rules not reloaded, keeping the old ones: %s",
			    err);
	}
	log_info("stopping");
	status = 0;
out:
	/* HTTP first: its stream clients read the state. */
	http_stop(http);
	subscriber_stop(sub);
	fleet_stop(fleet);
	publish_stop(w.publish);
	stream_free(w.stream);
	state_free(st);
	resolver_free(res);	/* after the state, which asks it */
	/* after the state, which hands it its last graph */
	history_free(hist);
	return status;
}

static int
webd_main(int argc, char **argv)
{
	struct webd_options o;
	struct rules *rules = NULL;
	char err[512], rules_path[4096];
	int rc;

	log_init(PROG, LOG_LEVEL_INFO);
	rc = options_parse(argc, argv, &o, err, sizeof(err));
	if (rc < 0) {
		log_errx("%s", err);
		options_clear(&o);
		return 2;
	}
	if (rc == OPTIONS_HELP) {
		options_usage(stdout, PROG);
		options_clear(&o);
		return 0;
	}
	if (rc == OPTIONS_VERSION) {
		printf("%s %s\n", PROG, PROCNET_VERSION);
		options_clear(&o);
		return 0;
	}
	log_set_level(o.log_level);
	if (o.group != NULL && (!o.dump || graph_group_from_name(o.group) < 0)) {
		fprintf(stderr, "%s: --group: %s\n", PROG, o.dump ?
		    "not one of process, program, service, container, user, host" :
		    "goes with --dump (the API takes ?group=)");
		options_clear(&o);
		return 2;
	}

	if (o.rules != NULL &&
	    load_rules(o.rules, rules_path, sizeof(rules_path), &rules) != 0) {
		options_clear(&o);
		return 1;
	}
	if (o.dump) {
		rc = dump(&o, rules);
		rules_free(rules);
	} else
		rc = serve(&o, o.rules != NULL ? rules_path : NULL, rules);
	options_clear(&o);
	return rc;
}

/* Windows: the service procnetwebd runs as LocalService, with its own
 * service SID NT SERVICE\procnetwebd, which the collector's pipe grants
 * (docs/windows.md). */
static const struct service_def webd_service = {
	.name = "procnetwebd",
	.display = "Procnet Live Web UI",
	.description = "Serves the live process/network map of this "
	    "computer on http://127.0.0.1:8765/.",
	.account = "NT AUTHORITY\\LocalService",
	.service_sid = 1,
	.main = webd_main,
	.stop = signals_request_stop,
};

int
procnet_main(int argc, char **argv)
{
	/* "install | uninstall | run": the service verbs (common/service.h). */
	log_init(PROG, LOG_LEVEL_INFO);
	return service_main(&webd_service, argc, argv, log_outcome);
}
