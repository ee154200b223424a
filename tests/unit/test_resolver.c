/*
 * webd/resolver.c against a DNS server of the test's own on 127.0.0.1: a
 * thread that answers PTR for 127.0.0.77 with db.test.internal, NXDOMAIN
 * for everything else, or nothing at all when told to be silent; it
 * counts the queries it gets.  The hosts file is the test's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "resolver.h"

struct fake_dns {
	int fd;
	uint16_t port;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool silent;
	atomic_uint queries;
};

static const uint8_t q77[] = "\00277\0010\0010\003127\007in-addr\004arpa";

static void *
fake_main(void *arg)
{
	struct fake_dns *f = arg;

	while (!atomic_load(&f->stop)) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		uint8_t b[512];
		ssize_t n;
		size_t qlen;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recvfrom(f->fd, b, sizeof(b) - 64, 0,
		    (struct sockaddr *)&from, &flen);
		if (n < 12)
			continue;
		atomic_fetch_add(&f->queries, 1);
		if (atomic_load(&f->silent))
			continue;
		qlen = (size_t)n - 12;	/* question: name, type, class */
		b[2] = 0x81;
		b[3] = 0x80;
		if (qlen == sizeof(q77) + 4 &&
		    memcmp(b + 12, q77, sizeof(q77)) == 0) {
			static const uint8_t rr[] = {
				0xc0, 12, 0, 12, 0, 1, 0, 0, 0x0e, 0x10,
				0, 18, 2, 'd', 'b', 4, 't', 'e', 's', 't',
				8, 'i', 'n', 't', 'e', 'r', 'n', 'a', 'l', 0 };

			b[7] = 1;	/* one answer */
			memcpy(b + n, rr, sizeof(rr));
			n += (ssize_t)sizeof(rr);
		} else {
			b[3] = 0x83;	/* NXDOMAIN */
		}
		b[9] = b[11] = 0;	/* no authority / additional */
		n = 12 + (ssize_t)qlen + (b[7] ? 30 : 0);
		sendto(f->fd, b, (size_t)n, 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

static struct fake_dns *
fake_start(void)
{
	struct fake_dns *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	assert_non_null(f);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
	f->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	return f;
}

static void
fake_stop(struct fake_dns *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	close(f->fd);
	free(f);
}

static char hosts_path[] = "/tmp/procnet-hosts-XXXXXX";

static struct resolver *
start(enum resolve_mode mode, struct fake_dns *f, unsigned cache_max)
{
	struct resolver_config c = { .mode = mode, .cache_max = cache_max,
	    .timeout_ms = 300, .hosts_path = hosts_path };
	struct resolver *r = NULL;
	char server[64], err[256];

	if (f != NULL) {
		snprintf(server, sizeof(server), "127.0.0.1:%u", f->port);
		c.server = server;
	}
	assert_int_equal(resolver_new(&c, &r, err, sizeof(err)), 0);
	return r;
}

static struct snap_addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct snap_addr x = { .family = 4, .bytes = { a, b, c, d } };

	return x;
}

/* Asks until a name comes or 5 s pass (an answer takes milliseconds;
 * the bound only keeps a broken resolver from hanging the suite). */
static enum names_source
wait_name(struct resolver *r, struct snap_addr a, char *out)
{
	enum names_source s = NAMES_SOURCE_NONE;

	for (int i = 0; i < 500; i++) {
		if ((s = resolver_name(r, &a, out)) != NAMES_SOURCE_NONE)
			break;
		usleep(10000);
	}
	return s;
}

/* Waits until nothing is queued or in flight. */
static void
settle(struct resolver *r)
{
	struct resolver_stats st;

	for (int i = 0; i < 500; i++) {
		resolver_get_stats(r, &st);
		if (st.queued == 0 && st.in_flight == 0)
			return;
		usleep(10000);
	}
	fail_msg("resolver never settled");
}

static int
setup(void **state)
{
	int fd = mkstemp(hosts_path);
	const char text[] = "127.0.0.1 localhost\n10.9.8.7 files.example\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
	    (ssize_t)(sizeof(text) - 1));
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(hosts_path);
	return 0;
}

static void
test_ptr(void **state)
{
	struct fake_dns *f = fake_start();
	struct resolver *r = start(RESOLVE_ON, f, 0);
	struct resolver_stats st;
	char name[RESOLVER_NAME_MAX];

	(void)state;
	/* The first ask never waits: nothing yet, a query goes out. */
	assert_int_equal(resolver_name(r, &(struct snap_addr){ .family = 4,
	    .bytes = { 127, 0, 0, 77 } }, name), NAMES_SOURCE_NONE);
	assert_int_equal(wait_name(r, v4(127, 0, 0, 77), name),
	    NAMES_SOURCE_PTR);
	assert_string_equal(name, "db.test.internal");
	/* Cached: asking again sends nothing. */
	for (int i = 0; i < 10; i++)
		resolver_name(r, &(struct snap_addr){ .family = 4,
		    .bytes = { 127, 0, 0, 77 } }, name);
	assert_int_equal(atomic_load(&f->queries), 1);

	/* NXDOMAIN is remembered too. */
	resolver_name(r, &(struct snap_addr){ .family = 4,
	    .bytes = { 192, 0, 2, 1 } }, name);
	settle(r);
	assert_int_equal(resolver_name(r, &(struct snap_addr){ .family = 4,
	    .bytes = { 192, 0, 2, 1 } }, name), NAMES_SOURCE_NONE);
	settle(r);
	assert_int_equal(atomic_load(&f->queries), 2);
	resolver_get_stats(r, &st);
	assert_int_equal(st.queries, 2);
	assert_int_equal(st.answers, 1);
	assert_int_equal(st.no_name, 1);
	resolver_free(r);
	fake_stop(f);
}

static void
test_local_knowledge(void **state)
{
	struct fake_dns *f = fake_start();
	struct resolver *r = start(RESOLVE_ON, f, 0);
	struct snap_addr own = v4(10, 1, 2, 3);
	struct snap_addr lo6 = { .family = 6, .bytes = { [15] = 1 } };
	char name[RESOLVER_NAME_MAX];

	(void)state;
	resolver_set_local(r, &own, 1, "Build-Host");
	assert_int_equal(wait_name(r, own, name), NAMES_SOURCE_LOCAL);
	assert_string_equal(name, "build-host");
	assert_int_equal(wait_name(r, v4(127, 0, 0, 1), name),
	    NAMES_SOURCE_HOSTS);
	assert_string_equal(name, "localhost");
	assert_int_equal(wait_name(r, lo6, name), NAMES_SOURCE_LOCAL);
	assert_string_equal(name, "localhost");
	assert_int_equal(wait_name(r, v4(10, 9, 8, 7), name),
	    NAMES_SOURCE_HOSTS);
	assert_string_equal(name, "files.example");
	/* None of it went to the DNS server. */
	assert_int_equal(atomic_load(&f->queries), 0);
	/* Addresses that have no name ask nothing either. */
	assert_int_equal(resolver_name(r, &(struct snap_addr){ .family = 4 },
	    name), NAMES_SOURCE_NONE);
	assert_int_equal(resolver_name(r, &(struct snap_addr){ .family = 4,
	    .bytes = { 239, 1, 1, 1 } }, name), NAMES_SOURCE_NONE);
	settle(r);
	assert_int_equal(atomic_load(&f->queries), 0);
	resolver_free(r);
	fake_stop(f);
}

static void
test_modes_send_nothing(void **state)
{
	struct fake_dns *f = fake_start();
	struct resolver *r;
	char name[RESOLVER_NAME_MAX];

	(void)state;
	r = start(RESOLVE_LOCAL, NULL, 0);
	resolver_name(r, &(struct snap_addr){ .family = 4,
	    .bytes = { 127, 0, 0, 77 } }, name);
	assert_int_equal(wait_name(r, v4(10, 9, 8, 7), name),
	    NAMES_SOURCE_HOSTS);
	settle(r);
	assert_int_equal(resolver_name(r, &(struct snap_addr){ .family = 4,
	    .bytes = { 127, 0, 0, 77 } }, name), NAMES_SOURCE_NONE);
	resolver_free(r);

	r = start(RESOLVE_OFF, NULL, 0);
	assert_int_equal(resolver_name(r, &(struct snap_addr){ .family = 4,
	    .bytes = { 10, 9, 8, 7 } }, name), NAMES_SOURCE_NONE);
	resolver_free(r);
	assert_int_equal(atomic_load(&f->queries), 0);
	fake_stop(f);
}

static void
test_silent_server(void **state)
{
	struct fake_dns *f = fake_start();
	struct resolver *r;
	struct resolver_stats st;
	char name[RESOLVER_NAME_MAX];

	(void)state;
	atomic_store(&f->silent, true);
	r = start(RESOLVE_ON, f, 0);
	for (int i = 1; i <= 40; i++)
		assert_int_equal(resolver_name(r, &(struct snap_addr){
		    .family = 4, .bytes = { 198, 51, 100, (uint8_t)i } },
		    name), NAMES_SOURCE_NONE);
	settle(r);
	resolver_get_stats(r, &st);
	/* Every lookup ended as a failure after its tries; none hung. */
	assert_int_equal(st.queries, 40);
	assert_int_equal(st.failures, 40);
	assert_int_equal(st.answers, 0);
	resolver_free(r);
	fake_stop(f);
}

static void
test_cache_cap(void **state)
{
	struct fake_dns *f = fake_start();
	struct resolver *r = start(RESOLVE_ON, f, 16);
	struct resolver_stats st;
	char name[RESOLVER_NAME_MAX];

	(void)state;
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 40; i++)
			resolver_name(r, &(struct snap_addr){ .family = 4,
			    .bytes = { 203, 0, (uint8_t)round,
			    (uint8_t)i } }, name);
		settle(r);
		resolver_get_stats(r, &st);
		assert_true(st.cached <= 16);
	}
	/* What did not fit was counted, not lost silently. */
	assert_true(st.rate_limited > 0);
	resolver_free(r);
	fake_stop(f);
}

static void
test_free_with_queries_in_flight(void **state)
{
	struct fake_dns *f = fake_start();
	struct resolver *r;
	char name[RESOLVER_NAME_MAX];

	(void)state;
	atomic_store(&f->silent, true);
	r = start(RESOLVE_ON, f, 0);
	for (int i = 1; i <= 10; i++)
		resolver_name(r, &(struct snap_addr){ .family = 4,
		    .bytes = { 198, 51, 100, (uint8_t)i } }, name);
	usleep(50000);
	resolver_free(r);	/* no leak, no hang (LeakSanitizer checks) */
	fake_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_local_knowledge),
		cmocka_unit_test(test_modes_send_nothing),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_cache_cap),
		cmocka_unit_test(test_free_with_queries_in_flight),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
