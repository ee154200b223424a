/*
 * etw_conns.c: connections from a stream of decoded Kernel-Network events:
 * a connect and an accept with their pids and bytes, reported once when
 * they open and once when they close; connections older than the session;
 * receives in either orientation; the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "etw_conns.h"

#define MAXTAKE 64

struct took {
	size_t n;
	struct etw_conn c[MAXTAKE];
};

static void collect(void *ctx, const struct etw_conn *conn)
{
	struct took *t = ctx;

	assert_true(t->n < MAXTAKE);
	t->c[t->n++] = *conn;
}

static void count_one(void *ctx, const struct etw_conn *conn)
{
	(void)ctx;
	assert_int_equal(conn->close_ms, 20);
}

static size_t take(struct etw_conns *c, struct took *t)
{
	memset(t, 0, sizeof(*t));
	return etw_conns_take(c, collect, t);
}

static struct etw_net_event ev4(unsigned kind, uint32_t pid, uint8_t l4,
    uint16_t lport, uint8_t r4, uint16_t rport, uint32_t size)
{
	struct etw_net_event e;

	memset(&e, 0, sizeof(e));
	e.kind = (uint8_t)kind;
	e.proto = SNAP_PROTO_TCP;
	e.family = 4;
	e.pid = pid;
	e.size = size;
	e.local.family = e.remote.family = 4;
	e.local.bytes[0] = e.remote.bytes[0] = 127;
	e.local.bytes[3] = l4;
	e.remote.bytes[3] = r4;
	e.local_port = lport;
	e.remote_port = rport;
	return e;
}

static void feed(struct etw_conns *c, struct etw_net_event e, int64_t t)
{
	etw_conns_event(c, &e, t);
}

/* A client (pid 100) connects to a server (pid 200) on loopback, sends 10
 * bytes, gets 20 back, and both ends close within one sample: two
 * connections, each with its role, pid, open and close time and bytes. */
static void test_short_lived_pair(void **state)
{
	struct etw_conns *c = etw_conns_new(0);
	struct took t;

	(void)state;
	assert_non_null(c);
	feed(c, ev4(ETW_NET_CONNECT, 100, 1, 40000, 1, 8080, 0), 1000);
	feed(c, ev4(ETW_NET_ACCEPT, 200, 1, 8080, 1, 40000, 0), 1001);
	feed(c, ev4(ETW_NET_SEND, 100, 1, 40000, 1, 8080, 10), 1002);
	/* receives: the sender is the remote end */
	feed(c, ev4(ETW_NET_RECV, 4, 1, 8080, 1, 40000, 10), 1002);
	feed(c, ev4(ETW_NET_SEND, 200, 1, 8080, 1, 40000, 20), 1003);
	feed(c, ev4(ETW_NET_RECV, 0, 1, 40000, 1, 8080, 20), 1003);
	feed(c, ev4(ETW_NET_DISCONNECT, 100, 1, 40000, 1, 8080, 0), 1004);
	feed(c, ev4(ETW_NET_DISCONNECT, 200, 1, 8080, 1, 40000, 0), 1005);

	assert_int_equal(take(c, &t), 2);
	for (size_t i = 0; i < 2; i++) {
		const struct etw_conn *x = &t.c[i];

		assert_int_equal(x->new_open, 1);

		if (x->role == ETW_CONN_ROLE_CONNECT) {
			assert_int_equal(x->pid, 100);
			assert_int_equal(x->local_port, 40000);
			assert_int_equal(x->open_ms, 1000);
			assert_int_equal(x->close_ms, 1004);
			assert_int_equal(x->bytes_sent, 10);
			assert_int_equal(x->bytes_received, 20);
		} else {
			assert_int_equal(x->role, ETW_CONN_ROLE_ACCEPT);
			assert_int_equal(x->pid, 200);
			assert_int_equal(x->local_port, 8080);
			assert_int_equal(x->open_ms, 1001);
			assert_int_equal(x->close_ms, 1005);
			assert_int_equal(x->bytes_sent, 20);
			assert_int_equal(x->bytes_received, 10);
		}
	}
	assert_int_equal(etw_conns_count(c), 0);
	assert_int_equal(take(c, &t), 0);
	etw_conns_free(c);
}

/* Open at one sample (close_ms 0), not repeated while open, closed at a
 * later sample with its open time. */
static void test_reported_open_then_closed(void **state)
{
	struct etw_conns *c = etw_conns_new(0);
	struct took t;

	(void)state;
	feed(c, ev4(ETW_NET_CONNECT, 7, 2, 1234, 9, 443, 0), 5000);
	assert_int_equal(take(c, &t), 1);
	assert_int_equal(t.c[0].close_ms, 0);
	assert_int_equal(t.c[0].open_ms, 5000);
	assert_int_equal(t.c[0].new_open, 1);
	feed(c, ev4(ETW_NET_SEND, 7, 2, 1234, 9, 443, 300), 5500);
	assert_int_equal(take(c, &t), 0);
	feed(c, ev4(ETW_NET_DISCONNECT, 0, 2, 1234, 9, 443, 0), 7000);
	assert_int_equal(take(c, &t), 1);
	assert_int_equal(t.c[0].open_ms, 5000);
	assert_int_equal(t.c[0].close_ms, 7000);
	assert_int_equal(t.c[0].new_open, 0);	/* reported open before */
	assert_int_equal(t.c[0].pid, 7);	/* from the connect */
	assert_int_equal(t.c[0].bytes_sent, 300);
	etw_conns_free(c);
}

/* Opened before the session: nothing at its first bytes, one report at its
 * close with open_ms 0 and the bytes seen; a receive's pid is not the
 * owner, the disconnect's is. */
static void test_older_than_session(void **state)
{
	struct etw_conns *c = etw_conns_new(0);
	struct took t;

	(void)state;
	feed(c, ev4(ETW_NET_RECV, 4, 3, 5555, 4, 80, 1000), 100);
	assert_int_equal(take(c, &t), 0);
	feed(c, ev4(ETW_NET_DISCONNECT, 321, 3, 5555, 4, 80, 0), 200);
	assert_int_equal(take(c, &t), 1);
	assert_int_equal(t.c[0].open_ms, 0);
	assert_int_equal(t.c[0].close_ms, 200);
	assert_int_equal(t.c[0].new_open, 0);
	assert_int_equal(t.c[0].role, ETW_CONN_ROLE_UNKNOWN);
	assert_int_equal(t.c[0].pid, 321);
	assert_int_equal(t.c[0].bytes_received, 1000);
	etw_conns_free(c);
}

/* A receive whose addresses come the other way round still lands on its
 * connection, as received bytes. */
static void test_recv_other_orientation(void **state)
{
	struct etw_conns *c = etw_conns_new(0);
	struct took t;

	(void)state;
	feed(c, ev4(ETW_NET_CONNECT, 9, 1, 1111, 2, 22, 0), 10);
	feed(c, ev4(ETW_NET_RECV, 9, 2, 22, 1, 1111, 64), 11);
	feed(c, ev4(ETW_NET_DISCONNECT, 9, 1, 1111, 2, 22, 0), 12);
	assert_int_equal(take(c, &t), 1);
	assert_int_equal(t.c[0].bytes_received, 64);
	assert_int_equal(t.c[0].bytes_sent, 0);
	assert_int_equal(etw_conns_count(c), 0);
	etw_conns_free(c);
}

/* The same 4-tuple reused after a close not yet taken: both reported. */
static void test_tuple_reused(void **state)
{
	struct etw_conns *c = etw_conns_new(0);
	struct took t;

	(void)state;
	feed(c, ev4(ETW_NET_CONNECT, 1, 1, 2000, 2, 80, 0), 10);
	feed(c, ev4(ETW_NET_DISCONNECT, 1, 1, 2000, 2, 80, 0), 11);
	feed(c, ev4(ETW_NET_CONNECT, 5, 1, 2000, 2, 80, 0), 12);
	assert_int_equal(take(c, &t), 2);
	assert_true((t.c[0].pid == 1 && t.c[0].close_ms == 11 &&
	    t.c[1].pid == 5 && t.c[1].close_ms == 0) ||
	    (t.c[1].pid == 1 && t.c[1].close_ms == 11 &&
	    t.c[0].pid == 5 && t.c[0].close_ms == 0));
	/* A connect on a tuple that is open (its close was lost) ends the
	 * old one. */
	feed(c, ev4(ETW_NET_CONNECT, 6, 1, 2000, 2, 80, 0), 20);
	assert_int_equal(take(c, &t), 2);
	etw_conns_free(c);
}

/* Past the cap, new connections are counted as dropped, never tracked;
 * taking the closed ones makes room again.  Thousands of tuples also make
 * the table grow and rehash. */
static void test_cap(void **state)
{
	struct etw_conns *c = etw_conns_new(3000);
	struct took t;
	size_t n = 0;

	(void)state;
	for (unsigned i = 0; i < 3100; i++)
		feed(c, ev4(ETW_NET_CONNECT, 1, 1, (uint16_t)(10000 + i), 2,
		    80, 0), 10);
	assert_int_equal(etw_conns_count(c), 3000);
	assert_int_equal(etw_conns_dropped(c), 100);
	for (unsigned i = 0; i < 3000; i++)
		feed(c, ev4(ETW_NET_DISCONNECT, 1, 1, (uint16_t)(10000 + i), 2,
		    80, 0), 20);
	/* dropped ones close without ever being tracked: dropped again */
	feed(c, ev4(ETW_NET_DISCONNECT, 1, 1, 13050, 2, 80, 0), 20);
	assert_int_equal(etw_conns_dropped(c), 101);
	n = etw_conns_take(c, count_one, NULL);
	assert_int_equal(n, 3000);
	assert_int_equal(etw_conns_count(c), 0);
	feed(c, ev4(ETW_NET_CONNECT, 2, 1, 30000, 2, 80, 0), 30);
	assert_int_equal(take(c, &t), 1);
	assert_int_equal(etw_conns_dropped(c), 101);
	etw_conns_free(c);
}

static void test_udp_ignored(void **state)
{
	struct etw_conns *c = etw_conns_new(0);
	struct etw_net_event e = ev4(ETW_NET_SEND, 1, 1, 53000, 2, 53, 40);
	struct took t;

	(void)state;
	e.proto = SNAP_PROTO_UDP;
	etw_conns_event(c, &e, 10);
	assert_int_equal(etw_conns_count(c), 0);
	assert_int_equal(take(c, &t), 0);
	etw_conns_free(c);
	assert_null(etw_conns_new(ETW_CONNS_MAX_MAX + 1));
	etw_conns_free(NULL);
}

/* A connect no event closes (a failed attempt: its failure event has no
 * addresses) ends once the socket table lacks it and it has been quiet
 * for quiet_ms; a connection in the table (either orientation) or with
 * recent events does not.  One older than the session, tracked from its
 * bytes, ends the same way, reported once with its bytes. */
static void test_table_ends_unclosed(void **state)
{
	struct etw_conns *c = etw_conns_new(0);
	struct etw_net_event e;
	struct took t;

	(void)state;
	assert_non_null(c);
	feed(c, ev4(ETW_NET_CONNECT, 100, 1, 40000, 2, 8080, 0), 1000);
	assert_int_equal(take(c, &t), 1);
	assert_int_equal(t.c[0].close_ms, 0);

	/* Not in the table, but not quiet long enough. */
	etw_conns_table_begin(c);
	assert_int_equal(etw_conns_table_end(c, 5000, 10000), 0);
	/* Quiet, but in the table: as the collector saw it, and the other
	 * way round. */
	e = ev4(ETW_NET_CONNECT, 100, 1, 40000, 2, 8080, 0);
	etw_conns_table_begin(c);
	etw_conns_table_note(c, &e.local, 40000, &e.remote, 8080);
	assert_int_equal(etw_conns_table_end(c, 20000, 10000), 0);
	etw_conns_table_begin(c);
	etw_conns_table_note(c, &e.remote, 8080, &e.local, 40000);
	assert_int_equal(etw_conns_table_end(c, 20000, 10000), 0);
	assert_int_equal(take(c, &t), 0);

	/* Bytes older than the session on another connection, then both
	 * gone from the table. */
	feed(c, ev4(ETW_NET_SEND, 300, 1, 50000, 3, 443, 5), 2000);
	etw_conns_table_begin(c);
	etw_conns_table_note(c, &e.local, 40000, &e.remote, 8080);
	assert_int_equal(etw_conns_table_end(c, 12000, 10000), 1);
	etw_conns_table_begin(c);
	assert_int_equal(etw_conns_table_end(c, 12000, 10000), 1);
	assert_int_equal(take(c, &t), 2);
	for (size_t i = 0; i < t.n; i++) {
		if (t.c[i].role == ETW_CONN_ROLE_CONNECT) {
			assert_int_equal(t.c[i].open_ms, 1000);
			assert_int_equal(t.c[i].close_ms, 1000);
			assert_int_equal(t.c[i].new_open, 0);
		} else {
			assert_int_equal(t.c[i].local_port, 50000);
			assert_int_equal(t.c[i].open_ms, 0);
			assert_int_equal(t.c[i].close_ms, 2000);
			assert_int_equal(t.c[i].bytes_sent, 5);
		}
	}
	assert_int_equal(etw_conns_count(c), 0);
	etw_conns_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_lived_pair),
		cmocka_unit_test(test_reported_open_then_closed),
		cmocka_unit_test(test_older_than_session),
		cmocka_unit_test(test_recv_other_orientation),
		cmocka_unit_test(test_tuple_reused),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_udp_ignored),
		cmocka_unit_test(test_table_ends_unclosed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
