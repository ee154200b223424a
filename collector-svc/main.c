/*
 * procnet-collector: the command line.  Options live in one table that
 * drives both getopt_long and --help; a mode picks what runs:
 *	--once		one snapshot to stdout (json or text) and exit
 *	--watch		a live summary on the terminal, once a second
 *	--samples N	N samples in one process, --stats for their cost
 * Daemon mode (serving snapshots over IPC) and the Windows service entry add
 * rows to the table and a case to run_mode().
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addrfmt.h"
#include "clock.h"
#include "collect.h"
#include "entry.h"
#include "events.h"
#include "log.h"
#include "server.h"
#include "service.h"
#include "snapshot.h"
#include "snapshot_json.h"

#define PROG		"procnet-collector"
#define SERVICE_NAME	"procnetcollector"	/* the Windows service */
#define SAMPLES_MAX	100000u
#define INTERVAL_MAX	3600.0
#define WATCH_TOP	20u

enum mode {
	MODE_NONE,
	MODE_ONCE,
	MODE_WATCH,
	MODE_SAMPLES,
	MODE_FOREGROUND,	/* daemon: serve subscribers (server.h) */
	MODE_MAX
};

enum format {
	FORMAT_JSON,
	FORMAT_TEXT,
	FORMAT_MAX
};

enum opt_id {
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_ONCE = 256,
	OPT_WATCH,
	OPT_SAMPLES,
	OPT_FORMAT,
	OPT_INTERVAL,
	OPT_STATS,
	OPT_NO_TCP,
	OPT_NO_UDP,
	OPT_COLD,
	OPT_FULL_EVERY,
	OPT_PROC_NET,
	OPT_MAX_NETNS,
	OPT_FOREGROUND,
	OPT_SOCKET,
	OPT_EVENTS,
	OPT_MAX_CONNS,
	OPT_MAX
};

struct opt_def {
	const char *name;
	int has_arg;		/* no_argument / required_argument */
	int id;			/* enum opt_id */
	const char *argname;	/* for --help */
	const char *help;
};

static const struct opt_def opt_table[] = {
	{ "once", no_argument, OPT_ONCE, NULL,
	  "print one snapshot and exit" },
	{ "watch", no_argument, OPT_WATCH, NULL,
	  "live summary of sockets and their processes, refreshed each interval" },
	{ "samples", required_argument, OPT_SAMPLES, "N",
	  "take N samples in one process (steady state), then exit" },
	{ "format", required_argument, OPT_FORMAT, "json|text",
	  "output format of --once (default json; see docs/snapshot-json.md)" },
	{ "interval", required_argument, OPT_INTERVAL, "S",
	  "seconds between samples for --watch and --samples (default 1)" },
	{ "stats", no_argument, OPT_STATS, NULL,
	  "print the samples' cost as a JSON line on stderr at the end" },
	{ "no-tcp", no_argument, OPT_NO_TCP, NULL, "leave out TCP sockets" },
	{ "no-udp", no_argument, OPT_NO_UDP, NULL, "leave out UDP sockets" },
	{ "cold", no_argument, OPT_COLD, NULL,
	  "no steady state: a full /proc pass every sample" },
	{ "full-every", required_argument, OPT_FULL_EVERY, "N",
	  "steady state: full /proc pass at least every N samples (default 30)" },
	{ "proc-net", no_argument, OPT_PROC_NET, NULL,
	  "read /proc/net/{tcp,udp}[6] instead of netlink (tests, old kernels)" },
	{ "max-netns", required_argument, OPT_MAX_NETNS, "N",
	  "Linux: dump the sockets of at most N network namespaces, our own "
	  "included (1-4096, default 256)" },
	{ "foreground", no_argument, OPT_FOREGROUND, NULL,
	  "daemon mode in the foreground: serve snapshots to subscribers" },
	{ "socket", required_argument, OPT_SOCKET, "PATH",
	  "--foreground: listen here (default /run/procnet/collector.sock as "
	  "root, else $XDG_RUNTIME_DIR/procnet/collector.sock)" },
	{ "events", required_argument, OPT_EVENTS, "auto|ebpf|sock_diag|etw|none",
	  "connections opened and closed between samples: auto (default) takes "
	  "the best available (Linux: ebpf, else sock_diag; Windows: etw); a "
	  "named one or nothing" },
	{ "max-conns", required_argument, OPT_MAX_CONNS, "N",
	  "connections one sample lists one by one (default 100000); the rest "
	  "are counted per (client, server, port)" },
	{ "help", no_argument, OPT_HELP, NULL, "show this help and exit" },
	{ "version", no_argument, OPT_VERSION, NULL,
	  "show the version and exit" },
};

#define N_OPTS	(sizeof(opt_table) / sizeof(opt_table[0]))

struct options {
	enum mode mode;
	enum format format;
	bool format_set;
	unsigned samples;
	double interval;
	bool stats;
	const char *socket;	/* --foreground endpoint, NULL: default */
	struct collect_opts collect;
	struct events_opts events;
	bool events_set;
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(FILE *f)
{
	size_t i;
	char left[64];

	fprintf(f, "usage: %s --once [--format json|text] [options]\n"
	    "       %s --watch [options]\n"
	    "       %s --samples N [--interval S] [--stats] [options]\n"
	    "       %s --foreground [--socket PATH] [options]\n"
	    "       %s install [options] | uninstall | run [options]"
	    " (Windows)\n\n"
	    "Shows which process owns which TCP/UDP socket.\n\n"
	    "Windows service verbs:\n"
	    "  install [options]   register the service %s (LocalSystem,\n"
	    "                      automatic start) to run \"%s run\n"
	    "                      [options]\", by default \"run --foreground\"\n"
	    "  uninstall           stop the service, then delete it\n"
	    "  run [options]       what the service starts; from a console, "
	    "the same as\n"
	    "                      the options alone\n"
	    "Elsewhere the init system starts the daemon, and install and "
	    "uninstall\nonly say so.\n\noptions:\n",
	    PROG, PROG, PROG, PROG, PROG, SERVICE_NAME, PROG);
	for (i = 0; i < N_OPTS; i++) {
		const struct opt_def *d = &opt_table[i];

		if (d->id < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", d->id,
			    d->name, d->argname ? " " : "",
			    d->argname ? d->argname : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", d->name,
			    d->argname ? " " : "", d->argname ? d->argname : "");
		fprintf(f, "  %-28s %s\n", left, d->help);
	}
}

static int usage_error(const char *fmt, ...) LOG_PRINTF(1, 2);

/* Bad usage: one clear line, a pointer to --help, exit code 2. */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", PROG);
	return 2;
}

static bool
parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool
parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0) ||
	    v > INTERVAL_MAX)
		return false;
	*out = v;
	return true;
}

static int
set_mode(struct options *o, enum mode m, const char *name)
{
	if (o->mode != MODE_NONE && o->mode != m)
		return usage_error("%s cannot be combined with another mode "
		    "(--once, --watch, --samples)", name);
	o->mode = m;
	return 0;
}

/* Fills o from argv.  Returns -1 to go on, or an exit code. */
static int
parse_options(int argc, char **argv, struct options *o)
{
	struct option longopts[N_OPTS + 1];
	char shortopts[2 * N_OPTS + 2], *sp = shortopts;
	size_t i;
	int ch, rc;

	memset(longopts, 0, sizeof(longopts));
	*sp++ = ':';	/* report a missing argument as ':' */
	for (i = 0; i < N_OPTS; i++) {
		longopts[i].name = opt_table[i].name;
		longopts[i].has_arg = opt_table[i].has_arg;
		longopts[i].val = opt_table[i].id;
		if (opt_table[i].id < 256) {
			*sp++ = (char)opt_table[i].id;
			if (opt_table[i].has_arg == required_argument)
				*sp++ = ':';
		}
	}
	*sp = '\0';

	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("%s %s\n", PROG, PROCNET_VERSION);
			return 0;
		case OPT_ONCE:
			if ((rc = set_mode(o, MODE_ONCE, "--once")) != 0)
				return rc;
			break;
		case OPT_WATCH:
			if ((rc = set_mode(o, MODE_WATCH, "--watch")) != 0)
				return rc;
			break;
		case OPT_SAMPLES:
			if ((rc = set_mode(o, MODE_SAMPLES, "--samples")) != 0)
				return rc;
			if (!parse_uint(optarg, SAMPLES_MAX, &o->samples) ||
			    o->samples == 0)
				return usage_error("--samples: expected a "
				    "number from 1 to 100000, got '%s'",
				    optarg);
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0)
				o->format = FORMAT_JSON;
			else if (strcmp(optarg, "text") == 0)
				o->format = FORMAT_TEXT;
			else
				return usage_error("--format: expected json "
				    "or text, got '%s'", optarg);
			o->format_set = true;
			break;
		case OPT_INTERVAL:
			if (!parse_seconds(optarg, &o->interval))
				return usage_error("--interval: expected "
				    "seconds from 0 to 3600, got '%s'",
				    optarg);
			break;
		case OPT_STATS:
			o->stats = true;
			break;
		case OPT_NO_TCP:
			o->collect.tcp = false;
			break;
		case OPT_NO_UDP:
			o->collect.udp = false;
			break;
		case OPT_COLD:
			o->collect.incremental = false;
			break;
		case OPT_FULL_EVERY:
			if (!parse_uint(optarg, 1000000u,
			    &o->collect.full_every) ||
			    o->collect.full_every == 0)
				return usage_error("--full-every: expected a "
				    "positive number, got '%s'", optarg);
			break;
		case OPT_PROC_NET:
			o->collect.text_tables = true;
			break;
		case OPT_MAX_NETNS:
			if (!parse_uint(optarg, 4096u, &o->collect.max_netns) ||
			    o->collect.max_netns == 0)
				return usage_error("--max-netns: expected 1-4096, "
				    "got '%s'", optarg);
			break;
		case OPT_FOREGROUND:
			if ((rc = set_mode(o, MODE_FOREGROUND,
			    "--foreground")) != 0)
				return rc;
			break;
		case OPT_SOCKET:
			if (optarg[0] == '\0')
				return usage_error("--socket: empty path");
			o->socket = optarg;
			break;
		case OPT_EVENTS: {
			int m = events_mode_parse(optarg);

			if (m < 0)
				return usage_error("--events: expected auto, "
				    "ebpf, sock_diag, etw or none, got '%s'",
				    optarg);
			o->events.mode = (enum events_mode)m;
			o->events_set = true;
			break;
		}
		case OPT_MAX_CONNS:
			if (!parse_uint(optarg, EVENTS_MAX_CONNS_LIMIT,
			    &o->events.max_conns) || o->events.max_conns == 0)
				return usage_error("--max-conns: expected a "
				    "number from 1 to %u, got '%s'",
				    EVENTS_MAX_CONNS_LIMIT, optarg);
			break;
		case ':':
			return usage_error("option '%s' needs an argument",
			    argv[optind - 1]);
		case '?':
		default:
			if (optopt != 0 && optopt < 256)
				return usage_error("unknown option '-%c'",
				    optopt);
			return usage_error("unknown option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->collect.tcp && !o->collect.udp)
		return usage_error("--no-tcp and --no-udp leave nothing to "
		    "collect");
	if (o->mode == MODE_NONE)
		return usage_error("nothing to do: give --once, --watch, "
		    "--samples N or --foreground");
	if (o->socket != NULL && o->mode != MODE_FOREGROUND)
		return usage_error("--socket goes with --foreground");
	if (o->format_set && o->mode != MODE_ONCE && o->mode != MODE_SAMPLES)
		return usage_error("--format goes with --once or --samples");
	if (o->mode == MODE_ONCE)
		o->collect.incremental = false;	/* one cold sample */
	if (o->mode == MODE_ONCE && o->events_set)
		return usage_error("--events needs more than one sample: "
		    "--samples, --watch or --foreground");
	return -1;
}

static int
print_text(const struct snapshot *s, FILE *f)
{
	char local[ADDRFMT_ENDPOINT_MAX], remote[ADDRFMT_ENDPOINT_MAX];
	size_t i;

	fprintf(f, "%-5s %-12s %-45s %-45s %-8s %s\n", "PROTO", "STATE",
	    "LOCAL", "REMOTE", "PID", "PROCESS");
	for (i = 0; i < s->n_sockets; i++) {
		const struct snap_socket *k = &s->sockets[i];
		const struct snap_process *p = NULL;
		char pid[16];

		addrfmt_endpoint(&k->local, k->local_port, local);
		addrfmt_endpoint(&k->remote, k->remote_port, remote);
		if (k->owner == SNAP_OWNER_KNOWN) {
			snprintf(pid, sizeof(pid), "%d", (int)k->pid);
			p = snapshot_find_process(s, k->pid);
		} else {
			snprintf(pid, sizeof(pid), "-");
		}
		fprintf(f, "%-5s %-12s %-45s %-45s %-8s %s\n",
		    snap_proto_name(k->proto), k->state ?
		    snap_state_name(k->state) : "-", local, remote, pid,
		    p != NULL ? p->name : k->owner != SNAP_OWNER_KNOWN ?
		    snap_owner_name(k->owner) : "?");
	}
	return fflush(f) != 0 ? -EIO : 0;
}

static int
stdout_sink(void *arg, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, arg) == len ? 0 : -EIO;
}

static int
print_snapshot(const struct snapshot *s, enum format fmt)
{
	int rc;

	if (fmt == FORMAT_TEXT)
		return print_text(s, stdout);
	/* Streamed: at 100k sockets the JSON is ~17 MB we need not hold. */
	if ((rc = snapshot_json_stream(s, stdout_sink, stdout)) != 0)
		return rc;
	return fflush(stdout) != 0 ? -EIO : 0;
}

static int
run_once(struct options *o)
{
	struct collector *c;
	struct snapshot *s;
	int rc;

	if ((rc = collector_new(&c)) != 0) {
		log_warnx("cannot start the collector: %s", strerror(-rc));
		return 1;
	}
	if ((rc = collector_sample(c, &o->collect, &s)) != 0) {
		log_warnx("sample failed: %s", collector_error(c));
		collector_free(c);
		return 1;
	}
	rc = print_snapshot(s, o->format);
	snapshot_unref(s);
	collector_free(c);
	if (rc != 0) {
		log_warnx("writing the snapshot: %s", strerror(-rc));
		return 1;
	}
	return 0;
}

/* Sleeps about `secs`, returning early when a signal asks us to stop. */
static void
pause_for(double secs)
{
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (!stop_requested && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
run_samples(struct options *o)
{
	struct collector *c;
	struct snapshot *s, *last = NULL;
	struct collect_stats st;
	double *ms;
	int64_t t0;
	unsigned i, done = 0;
	uint64_t conns = 0, aggregated = 0, lost = 0;
	const char *source = "none";
	int rc, ret = 0;
	double first = 0;

	if ((ms = calloc(o->samples, sizeof(*ms))) == NULL) {
		log_warnx("out of memory");
		return 1;
	}
	if ((rc = collector_new(&c)) != 0) {
		log_warnx("cannot start the collector: %s", strerror(-rc));
		free(ms);
		return 1;
	}
	memset(&st, 0, sizeof(st));
	for (i = 0; i < o->samples && !stop_requested; i++) {
		if (i > 0)
			pause_for(o->interval);
		if (stop_requested)
			break;
		/* Only the last snapshot is printed: hold one at a time. */
		snapshot_unref(last);
		last = NULL;
		t0 = clock_mono_us();
		if ((rc = collector_sample(c, &o->collect, &s)) != 0) {
			log_warnx("sample %u failed: %s", i + 1,
			    collector_error(c));
			ret = 1;
			break;
		}
		ms[done++] = (double)(clock_mono_us() - t0) / 1e3;
		if (done == 1)
			first = ms[0];	/* the cold one */
		collector_stats(c, &st);
		conns += s->n_conns;
		for (size_t k = 0; k < s->n_conn_aggs; k++)
			aggregated += s->conn_aggs[k].opened >
			    s->conn_aggs[k].closed ? s->conn_aggs[k].opened :
			    s->conn_aggs[k].closed;
		lost = s->events_lost;
		last = s;
	}
	if (o->collect.events != NULL)
		source = events_source(o->collect.events);
	if (last != NULL && o->format_set && print_snapshot(last,
	    o->format) != 0) {
		log_warnx("writing the snapshot failed");
		ret = 1;
	}
	snapshot_unref(last);
	collector_free(c);
	if (o->stats && done > 0) {
		double max;
		size_t p95;

		qsort(ms, done, sizeof(*ms), cmp_double);
		max = ms[done - 1];
		/* Nearest rank. */
		p95 = (size_t)((done * 95 + 99) / 100);
		if (p95 > 0)
			p95--;
		fprintf(stderr, "{\"samples\":%u,\"median_ms\":%.3f,"
		    "\"p95_ms\":%.3f,\"max_ms\":%.3f,\"first_ms\":%.3f,"
		    "\"rss_kb\":%llu,\"netns\":%zu,\"netns_skipped\":%zu,"
		    "\"events\":\"%s\",\"conns\":%llu,\"aggregated\":%llu,"
		    "\"events_lost\":%llu}\n",
		    done, done % 2 ? ms[done / 2] : (ms[done / 2 - 1] +
		    ms[done / 2]) / 2, ms[p95], max, first,
		    (unsigned long long)st.peak_rss_kb, st.n_netns,
		    st.n_netns_skipped, source,
		    (unsigned long long)conns, (unsigned long long)aggregated,
		    (unsigned long long)lost);
	}
	free(ms);
	return ret;
}

struct proc_count {
	int32_t pid;
	unsigned total, listen, estab, udp;
};

static int
cmp_count(const void *a, const void *b)
{
	const struct proc_count *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The --watch screen: totals, then the processes owning most sockets. */
static void
print_summary(const struct snapshot *s, const struct collect_stats *st,
    bool tty)
{
	unsigned states[SNAP_STATE_MAX] = { 0 }, owners[SNAP_OWNER_MAX] = { 0 };
	unsigned tcp = 0, udp = 0;
	struct proc_count *pc;
	size_t i, n = 0;

	pc = calloc(s->n_processes ? s->n_processes : 1, sizeof(*pc));
	for (i = 0; i < s->n_processes && pc != NULL; i++)
		pc[i].pid = s->processes[i].pid;
	n = pc != NULL ? s->n_processes : 0;
	for (i = 0; i < s->n_sockets; i++) {
		const struct snap_socket *k = &s->sockets[i];
		const struct snap_process *p;

		if (k->proto == SNAP_PROTO_TCP) {
			tcp++;
			states[k->state]++;
		} else
			udp++;
		owners[k->owner]++;
		if (pc == NULL || k->owner != SNAP_OWNER_KNOWN ||
		    (p = snapshot_find_process(s, k->pid)) == NULL)
			continue;
		struct proc_count *c = &pc[p - s->processes];

		c->total++;
		if (k->proto == SNAP_PROTO_UDP)
			c->udp++;
		else if (k->state == SNAP_STATE_LISTEN)
			c->listen++;
		else if (k->state == SNAP_STATE_ESTABLISHED)
			c->estab++;
	}
	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("%s on %s: %zu sockets (tcp %u, udp %u), %zu processes; "
	    "sample %.1f ms%s%s\n", PROG, s->host, s->n_sockets, tcp, udp,
	    s->n_processes, st->sample_us / 1000.0,
	    st->full_pass ? " (full pass)" : "",
	    s->privileged ? "" : " [not privileged: some owners hidden]");
	printf("tcp:");
	for (i = 1; i < SNAP_STATE_MAX; i++)
		if (states[i] != 0)
			printf(" %s %u", snap_state_name((unsigned)i), states[i]);
	printf("\nunknown owner:");
	for (i = 1; i < SNAP_OWNER_MAX; i++)
		printf(" %s %u", snap_owner_name((unsigned)i), owners[i]);
	printf("\n\n%-8s %-10s %-16s %6s %6s %6s %6s  %s\n", "PID", "USER",
	    "NAME", "SOCKS", "LISTEN", "ESTAB", "UDP", "COMMAND");
	if (pc != NULL)
		qsort(pc, n, sizeof(*pc), cmp_count);
	for (i = 0; i < n && i < WATCH_TOP; i++) {
		const struct snap_process *p = snapshot_find_process(s,
		    pc[i].pid);

		if (p == NULL || pc[i].total == 0)
			continue;
		printf("%-8d %-10.10s %-16.16s %6u %6u %6u %6u  %.60s\n",
		    (int)p->pid, p->user, p->name, pc[i].total, pc[i].listen,
		    pc[i].estab, pc[i].udp, p->cmdline);
	}
	fflush(stdout);
	free(pc);
}

static int
run_watch(struct options *o)
{
	struct collector *c;
	struct snapshot *s;
	struct collect_stats st;
	bool tty = isatty(STDOUT_FILENO);
	int rc;

	if ((rc = collector_new(&c)) != 0) {
		log_warnx("cannot start the collector: %s", strerror(-rc));
		return 1;
	}
	while (!stop_requested) {
		if ((rc = collector_sample(c, &o->collect, &s)) != 0) {
			/* Keep watching: the next sample may work. */
			log_warnx_limited("watch", 10, "sample failed: %s",
			    collector_error(c));
		} else {
			collector_stats(c, &st);
			print_summary(s, &st, tty);
			snapshot_unref(s);
		}
		pause_for(o->interval);
	}
	collector_free(c);
	return 0;
}

/* Opens the connection event source for the sampling modes; says which one
 * is in use and why not a better one.  0, or 1 when an explicitly named
 * source cannot be had. */
static int
open_events(struct options *o, struct events **out)
{
	char why[384];
	int rc;

	*out = NULL;
	if (o->mode == MODE_ONCE)
		return 0;
	if ((rc = events_new(&o->events, out, why, sizeof(why))) != 0) {
		log_warnx("--events %s: %s", events_mode_name(o->events.mode),
		    why[0] ? why : strerror(-rc));
		return 1;
	}
	if (events_reason(*out)[0] != '\0')
		log_info("connection events: %s (%s)", events_source(*out),
		    events_reason(*out));
	else
		log_info("connection events: %s", events_source(*out));
	o->collect.events = *out;
	return 0;
}

static int
run_mode(struct options *o)
{
	switch (o->mode) {
	case MODE_ONCE:
		return run_once(o);
	case MODE_WATCH:
		return run_watch(o);
	case MODE_SAMPLES:
		return run_samples(o);
	case MODE_FOREGROUND: {
		struct server_opts so = { .endpoint = o->socket,
		    .collect = &o->collect };

		return server_run(&so) == 0 ? 0 : 1;
	}
	default:
		return 2;
	}
}

static int
collector_main(int argc, char **argv)
{
	struct events *events;
	struct options o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.mode = MODE_NONE;
	o.format = FORMAT_JSON;
	o.interval = 1.0;
	o.collect.tcp = true;
	o.collect.udp = true;
	o.collect.incremental = true;

	log_init(PROG, LOG_LEVEL_INFO);
	if ((rc = parse_options(argc, argv, &o)) >= 0)
		return rc;
	if (open_events(&o, &events) != 0)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = run_mode(&o);
	events_free(events);
	return rc;
}

/* Windows: the service procnetcollector runs as LocalSystem, the only
 * account that sees every process's details; the SCM starts it as
 * "procnet-collector.exe run --foreground" (common/service.h). */
static const char *const service_args[] = { "--foreground", NULL };
static const struct service_def collector_service = {
	.name = SERVICE_NAME,
	.display = "Procnet Live Collector",
	.description = "Samples which process owns which TCP/UDP socket and "
	    "serves the snapshots on \\\\.\\pipe\\procnet-collector.",
	.default_args = service_args,
	.main = collector_main,
	.stop = server_request_stop,
};

int
procnet_main(int argc, char **argv)
{
	/* "install | uninstall | run" first: the service verbs. */
	log_init(PROG, LOG_LEVEL_INFO);
	return service_main(&collector_service, argc, argv, log_outcome);
}
