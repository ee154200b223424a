/*
 * Test helper: a subscriber that prints one line per event, for the ipc
 * integration tests.
 *	ipc_client --socket PATH [--interval MS] [--udp] [--count N]
 *	    [--seconds S]		stream via subscriber_start()
 *	ipc_client --socket PATH --once	one snapshot via subscriber_fetch_once()
 *	--conns: after each snapshot line, its connection events (it_events.py)
 * Lines:
 *	snapshot <n> time_ms=<t> processes=<p> sockets=<s> udp=<u>
 *	events source=<s> lost=<n> conns=<n> aggs=<n> reason=<text>
 *	conn role=<r> pid=<p> start=<ms> lport=<n> rport=<n> open=<ms>
 *	    close=<ms> sent=<n> rcvd=<n> cookie=<n> exited=<0|1|-1>
 *	    name=<the owner's, to the end of the line>
 *	agg cpid=<p> spid=<p> sport=<n> opened=<n> closed=<n>
 *	state <connecting|connected|down> error=<text>
 *	done snapshots=<n> connects=<c>
 * Exits 0 after --count snapshots, 1 when --seconds pass first.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapshot.h"
#include "subscriber.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong received;
static bool print_conns;

/* The snapshot's connection events, one line each (out_mu held). */
static void
print_events(const struct snapshot *s)
{
	size_t i;

	printf("events source=%s lost=%llu conns=%zu aggs=%zu reason=%s\n",
	    s->events_source, (unsigned long long)s->events_lost, s->n_conns,
	    s->n_conn_aggs, s->events_reason);
	for (i = 0; i < s->n_conns; i++) {
		const struct snap_conn *c = &s->conns[i];
		const struct snap_process *p = c->pid >= 0 ?
		    snapshot_find_process(s, c->pid) : NULL;

		printf("conn role=%s pid=%d start=%llu lport=%u rport=%u "
		    "open=%lld close=%lld sent=%llu rcvd=%llu cookie=%llu "
		    "exited=%d name=%s\n", snap_role_name(c->role),
		    (int)c->pid, (unsigned long long)c->start_time,
		    c->local_port, c->remote_port, (long long)c->open_ms,
		    (long long)c->close_ms, (unsigned long long)c->bytes_sent,
		    (unsigned long long)c->bytes_received,
		    (unsigned long long)c->cookie,
		    p ? (p->flags & SNAP_PROC_EXITED) != 0 : -1,
		    p ? p->name : "-");
	}
	for (i = 0; i < s->n_conn_aggs; i++) {
		const struct snap_conn_agg *a = &s->conn_aggs[i];

		printf("agg cpid=%d spid=%d sport=%u opened=%u closed=%u\n",
		    (int)a->client_pid, (int)a->server_pid, a->server_port,
		    a->opened, a->closed);
	}
}

static void
on_snapshot(struct snapshot *s, void *user)
{
	unsigned long n = atomic_fetch_add(&received, 1) + 1;
	size_t udp = 0;

	(void)user;
	for (size_t i = 0; i < s->n_sockets; i++)
		udp += s->sockets[i].proto == SNAP_PROTO_UDP;
	pthread_mutex_lock(&out_mu);
	printf("snapshot %lu time_ms=%lld processes=%zu sockets=%zu udp=%zu\n",
	    n, (long long)s->time_ms, s->n_processes, s->n_sockets, udp);
	if (print_conns)
		print_events(s);
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
}

static void
on_state(enum subscriber_state st, const char *error, void *user)
{
	(void)user;
	pthread_mutex_lock(&out_mu);
	printf("state %s error=%s\n", subscriber_state_name(st), error);
	fflush(stdout);
	pthread_mutex_unlock(&out_mu);
}

static void
usage(void)
{
	fprintf(stderr, "usage: ipc_client --socket PATH [--interval MS] "
	    "[--udp] [--count N] [--seconds S] [--once] [--conns]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct subscriber_opts o = { .interval_ms = 100, .on_snapshot =
	    on_snapshot, .on_state = on_state };
	struct subscriber_status st;
	struct subscriber *sub;
	unsigned long count = 0, seconds = 30;
	bool once = false;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--udp") == 0)
			o.udp = true;
		else if (strcmp(a, "--once") == 0)
			once = true;
		else if (strcmp(a, "--conns") == 0)
			print_conns = true;
		else if (i + 1 >= argc)
			usage();
		else if (strcmp(a, "--socket") == 0)
			o.endpoint = argv[++i];
		else if (strcmp(a, "--interval") == 0)
			o.interval_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--count") == 0)
			count = strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--seconds") == 0)
			seconds = strtoul(argv[++i], NULL, 10);
		else
			usage();
	}
	if (once) {
		struct snapshot *s;
		char err[256];

		r = subscriber_fetch_once(o.endpoint, NULL, o.udp, (int)seconds * 1000,
		    &s, err, sizeof(err));
		if (r < 0) {
			printf("error %s\n", err);
			return 1;
		}
		on_snapshot(s, NULL);
		snapshot_unref(s);
		return 0;
	}
	if ((r = subscriber_start(&o, &sub)) < 0) {
		fprintf(stderr, "ipc_client: subscriber_start: %s\n",
		    strerror(-r));
		return 1;
	}
	/* Poll, never wait on the subscriber: bounded by --seconds. */
	for (unsigned long t = 0; t < seconds * 20; t++) {
		struct timespec ts = { 0, 50 * 1000000L };

		if (count > 0 && atomic_load(&received) >= count)
			break;
		nanosleep(&ts, NULL);
	}
	subscriber_state(sub, &st);
	subscriber_stop(sub);
	printf("done snapshots=%lu connects=%llu\n", atomic_load(&received),
	    (unsigned long long)st.n_connects);
	return count > 0 && atomic_load(&received) >= count ? 0 : 1;
}
