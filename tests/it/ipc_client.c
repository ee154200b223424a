/*
 * Test helper: a subscriber that prints one line per event, for the ipc
 * integration tests.
 *	ipc_client --socket PATH [--interval MS] [--udp] [--count N]
 *	    [--seconds S]		stream via subscriber_start()
 *	ipc_client --socket PATH --once	one snapshot via subscriber_fetch_once()
 * Lines:
 *	snapshot <n> time_ms=<t> processes=<p> sockets=<s> udp=<u>
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
	    "[--udp] [--count N] [--seconds S] [--once]\n");
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
