/*
 * A sample's connections (connbatch.c): an open and its close merge into
 * one, owners are listed once, and past the cap connections are counted in
 * aggregates per (client pid, server pid, server port), never dropped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "connbatch.h"

static struct conn_rec
rec(uint64_t cookie, uint8_t role, int32_t pid, uint16_t lport,
    uint16_t rport, bool opened, bool closed)
{
	struct conn_rec r;

	memset(&r, 0, sizeof(r));
	r.c.proto = SNAP_PROTO_TCP;
	r.c.family = 4;
	r.c.role = role;
	r.c.local.family = r.c.remote.family = 4;
	r.c.local.bytes[0] = r.c.remote.bytes[0] = 127;
	r.c.local.bytes[3] = r.c.remote.bytes[3] = 1;
	r.c.local_port = lport;
	r.c.remote_port = rport;
	r.c.cookie = cookie;
	r.c.netns = 4026531840u;
	if (pid > 0) {
		r.c.owner = SNAP_OWNER_KNOWN;
		r.c.pid = pid;
		r.c.start_time = 1000u + (uint64_t)pid;
		snprintf(r.name, sizeof(r.name), "p%d", (int)pid);
	} else {
		r.c.owner = SNAP_OWNER_EXITED;
		r.c.pid = -1;
	}
	r.opened = opened;
	r.closed = closed;
	if (opened)
		r.c.open_ms = 100;
	if (closed) {
		r.c.close_ms = 200;
		r.c.bytes_sent = 10;
		r.c.bytes_received = 20;
	}
	return r;
}

static void
test_merge_open_close(void **state)
{
	struct connbatch *b = connbatch_new(10);
	struct events_batch eb;
	struct conn_rec o = rec(5, SNAP_ROLE_CONNECT, 42, 40000, 80, true,
	    false), c = rec(5, SNAP_ROLE_CONNECT, 42, 40000, 80, false, true);

	(void)state;
	assert_non_null(b);
	c.c.open_ms = 100;
	assert_int_equal(connbatch_add(b, &o), 0);
	assert_int_equal(connbatch_add(b, &c), 0);
	connbatch_view(b, &eb);
	assert_int_equal(eb.n_conns, 1);
	assert_int_equal(eb.conns[0].open_ms, 100);
	assert_int_equal(eb.conns[0].close_ms, 200);
	assert_int_equal(eb.conns[0].bytes_received, 20);
	assert_int_equal(eb.n_owners, 1);
	assert_int_equal(eb.owners[0].pid, 42);
	assert_int_equal(eb.owners[0].start_time, 1042);
	assert_string_equal(eb.owners[0].name, "p42");
	assert_int_equal(eb.n_aggs, 0);
	connbatch_free(b);
}

/* A close seen before the open it belongs to (two CPUs), the close without
 * an owner: one record, owner from the open. */
static void
test_merge_out_of_order(void **state)
{
	struct connbatch *b = connbatch_new(10);
	struct events_batch eb;
	struct conn_rec c = rec(6, SNAP_ROLE_UNKNOWN, -1, 80, 40000, false,
	    true), o = rec(6, SNAP_ROLE_ACCEPT, 7, 80, 40000, true, false);

	(void)state;
	assert_int_equal(connbatch_add(b, &c), 0);
	assert_int_equal(connbatch_add(b, &o), 0);
	connbatch_view(b, &eb);
	assert_int_equal(eb.n_conns, 1);
	assert_int_equal(eb.conns[0].pid, 7);
	assert_int_equal(eb.conns[0].owner, SNAP_OWNER_KNOWN);
	assert_int_equal(eb.conns[0].role, SNAP_ROLE_ACCEPT);
	assert_int_equal(eb.conns[0].close_ms, 200);
	assert_int_equal(eb.conns[0].open_ms, 100);
	connbatch_free(b);
}

static void
test_distinct_and_clear(void **state)
{
	struct connbatch *b = connbatch_new(1000);
	struct events_batch eb;
	struct conn_rec r;
	unsigned i;

	(void)state;
	/* same cookie, other tuple (a socket connected again): two */
	for (i = 0; i < 600; i++) {
		r = rec(i / 2, SNAP_ROLE_CONNECT, 3, (uint16_t)(30000 + i), 80,
		    true, true);
		assert_int_equal(connbatch_add(b, &r), 0);
	}
	connbatch_view(b, &eb);
	assert_int_equal(eb.n_conns, 600);
	assert_int_equal(eb.n_owners, 1);
	/* unknown owners are not listed; pid stays -1 */
	r = rec(9999, SNAP_ROLE_UNKNOWN, -1, 1, 2, false, true);
	r.c.pid = 55;
	assert_int_equal(connbatch_add(b, &r), 0);
	connbatch_view(b, &eb);
	assert_int_equal(eb.n_conns, 601);
	assert_int_equal(eb.n_owners, 1);
	assert_int_equal(eb.conns[600].pid, -1);
	connbatch_clear(b);
	connbatch_view(b, &eb);
	assert_int_equal(eb.n_conns, 0);
	assert_int_equal(eb.n_owners, 0);
	/* and works again after */
	r = rec(1, SNAP_ROLE_CONNECT, 3, 30000, 80, true, true);
	assert_int_equal(connbatch_add(b, &r), 0);
	assert_int_equal(connbatch_add(b, &r), 0);
	connbatch_view(b, &eb);
	assert_int_equal(eb.n_conns, 1);
	connbatch_free(b);
}

static void
test_cap_aggregates(void **state)
{
	struct connbatch *b = connbatch_new(3);
	struct events_batch eb;
	struct conn_rec r;
	unsigned i, opened = 0, closed = 0;
	uint64_t sent = 0;

	(void)state;
	/* 10 client connections of pid 9 to port 80, 5 accepted by pid 8
	 * on port 443, 2 without role or owner (lower port is the server) */
	for (i = 0; i < 10; i++) {
		r = rec(100 + i, SNAP_ROLE_CONNECT, 9, (uint16_t)(40000 + i),
		    80, true, true);
		assert_int_equal(connbatch_add(b, &r), 0);
	}
	for (i = 0; i < 5; i++) {
		r = rec(200 + i, SNAP_ROLE_ACCEPT, 8, 443,
		    (uint16_t)(50000 + i), false, true);
		assert_int_equal(connbatch_add(b, &r), 0);
	}
	for (i = 0; i < 2; i++) {
		r = rec(300 + i, SNAP_ROLE_UNKNOWN, -1, 22,
		    (uint16_t)(60000 + i), false, true);
		assert_int_equal(connbatch_add(b, &r), 0);
	}
	/* a close of a connection already listed still merges */
	r = rec(100, SNAP_ROLE_CONNECT, 9, 40000, 80, false, true);
	r.c.bytes_sent = 99;
	assert_int_equal(connbatch_add(b, &r), 0);

	connbatch_view(b, &eb);
	assert_int_equal(eb.n_conns, 3);
	assert_int_equal(eb.conns[0].bytes_sent, 99);
	assert_int_equal(eb.aggregated, 14);
	assert_int_equal(eb.n_aggs, 3);
	for (i = 0; i < eb.n_aggs; i++) {
		const struct snap_conn_agg *a = &eb.aggs[i];

		opened += a->opened;
		closed += a->closed;
		sent += a->bytes_sent;
		if (a->server_port == 80) {
			assert_int_equal(a->client_pid, 9);
			assert_int_equal(a->server_pid, -1);
			assert_int_equal(a->opened, 7);
			assert_int_equal(a->closed, 7);
		} else if (a->server_port == 443) {
			assert_int_equal(a->server_pid, 8);
			assert_int_equal(a->client_pid, -1);
			assert_int_equal(a->opened, 0);
			assert_int_equal(a->closed, 5);
		} else {
			assert_int_equal(a->server_port, 22);
			assert_int_equal(a->server_pid, -1);
			assert_int_equal(a->closed, 2);
		}
	}
	assert_int_equal(opened, 7);
	assert_int_equal(closed, 14);
	assert_int_equal(sent, 140);
	/* owners of aggregated connections are listed too */
	assert_int_equal(eb.n_owners, 2);
	assert_int_equal(connbatch_lost(b), 0);
	connbatch_free(b);
}

static void
test_bad_cap(void **state)
{
	(void)state;
	assert_null(connbatch_new(0));
	assert_null(connbatch_new(EVENTS_MAX_CONNS_LIMIT + 1));
	connbatch_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_open_close),
		cmocka_unit_test(test_merge_out_of_order),
		cmocka_unit_test(test_distinct_and_clear),
		cmocka_unit_test(test_cap_aggregates),
		cmocka_unit_test(test_bad_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
