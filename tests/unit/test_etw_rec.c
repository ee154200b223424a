/*
 * The whole way from Kernel-Network payloads to what a Windows sample
 * carries, without Windows: payloads laid out as the provider's manifest
 * says (etw_net.c decodes them), the tracker (etw_conns.c), the records
 * (etw_rec.c) and the sample's batch (connbatch.c) with its owners and its
 * cap.  events_win.c does exactly this with the session's events and
 * owners read from the running processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "connbatch.h"
#include "etw_conns.h"
#include "etw_net.h"
#include "etw_rec.h"

/* TCPv4 event ids of the manifest. */
enum { SEND4 = 10, RECV4 = 11, CONNECT4 = 12, DISCONNECT4 = 13,
	ACCEPT4 = 15, CONNECT6 = 28, DISCONNECT6 = 29 };

struct feed {
	struct etw_conns *conns;
	struct connbatch *batch;
	struct events_owner known[4];	/* the processes "running" */
	size_t n_known;
};

/* PID, size, daddr, saddr, dport, sport (network order), then the fields
 * this decoder does not read (seqnum, connid). */
static size_t
payload(unsigned char *p, uint32_t pid, uint32_t size, const uint8_t *daddr,
    const uint8_t *saddr, size_t alen, uint16_t dport, uint16_t sport)
{
	size_t n = 0;

	memcpy(p + n, &pid, 4);		/* x86: little-endian, as ETW */
	n += 4;
	memcpy(p + n, &size, 4);
	n += 4;
	memcpy(p + n, daddr, alen);
	n += alen;
	memcpy(p + n, saddr, alen);
	n += alen;
	p[n++] = (unsigned char)(dport >> 8);
	p[n++] = (unsigned char)dport;
	p[n++] = (unsigned char)(sport >> 8);
	p[n++] = (unsigned char)sport;
	memset(p + n, 0xa5, 12);	/* seqnum + connid */
	return n + 12;
}

static void
event(struct feed *f, unsigned id, uint32_t pid, uint32_t size,
    const uint8_t *daddr, const uint8_t *saddr, size_t alen, uint16_t dport,
    uint16_t sport, int64_t t_ms)
{
	unsigned char p[64];
	struct etw_net_event ev;
	size_t n = payload(p, pid, size, daddr, saddr, alen, dport, sport);

	assert_int_equal(etw_net_decode(id, p, n, &ev), 0);
	etw_conns_event(f->conns, &ev, t_ms);
}

static void
to_batch(void *ctx, const struct etw_conn *c)
{
	struct feed *f = ctx;
	const struct events_owner *o = NULL;
	struct conn_rec r;

	for (size_t i = 0; i < f->n_known; i++)
		if ((uint32_t)f->known[i].pid == c->pid)
			o = &f->known[i];
	etw_rec_fill(&r, c, o);
	assert_int_equal(connbatch_add(f->batch, &r), 0);
}

static const struct snap_conn *
find_conn(const struct events_batch *eb, uint8_t role, int32_t pid)
{
	for (size_t i = 0; i < eb->n_conns; i++)
		if (eb->conns[i].role == role && eb->conns[i].pid == pid)
			return &eb->conns[i];
	return NULL;
}

static const struct events_owner *
find_owner(const struct events_batch *eb, int32_t pid)
{
	for (size_t i = 0; i < eb->n_owners; i++)
		if (eb->owners[i].pid == pid)
			return &eb->owners[i];
	return NULL;
}

static const uint8_t lo4[4] = { 127, 0, 0, 1 };

/* A client (pid 100, running) connects to a server (pid 200, exited by
 * the sample), 10 bytes out and 20 back, and both close before the sample:
 * two connections with their roles, ends, times and bytes; the client's
 * owner with its start time and name, the server's with its pid only. */
static void
short_lived_pair(struct feed *f)
{
	event(f, CONNECT4, 100, 0, lo4, lo4, 4, 8080, 40000, 1000);
	event(f, ACCEPT4, 200, 0, lo4, lo4, 4, 40000, 8080, 1001);
	event(f, SEND4, 100, 10, lo4, lo4, 4, 8080, 40000, 1002);
	/* receives: saddr is the sender, pid where the packet landed */
	event(f, RECV4, 4, 10, lo4, lo4, 4, 8080, 40000, 1002);
	event(f, SEND4, 200, 20, lo4, lo4, 4, 40000, 8080, 1003);
	event(f, RECV4, 0, 20, lo4, lo4, 4, 40000, 8080, 1003);
	event(f, DISCONNECT4, 100, 0, lo4, lo4, 4, 8080, 40000, 1004);
	event(f, DISCONNECT4, 200, 0, lo4, lo4, 4, 40000, 8080, 1005);
}

static void
test_pair_to_sample(void **state)
{
	struct feed f;
	struct events_batch eb;
	const struct snap_conn *c;
	const struct events_owner *o;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.conns = etw_conns_new(0);
	f.batch = connbatch_new(100);
	assert_non_null(f.conns);
	assert_non_null(f.batch);
	f.known[0].pid = 100;
	f.known[0].start_time = 1796000000000ull;
	snprintf(f.known[0].name, sizeof(f.known[0].name), "curl.exe");
	f.n_known = 1;

	short_lived_pair(&f);
	assert_int_equal(etw_conns_take(f.conns, to_batch, &f), 2);
	connbatch_view(f.batch, &eb);
	assert_int_equal(eb.n_conns, 2);
	assert_int_equal(eb.n_aggs, 0);

	c = find_conn(&eb, SNAP_ROLE_CONNECT, 100);
	assert_non_null(c);
	assert_int_equal(c->proto, SNAP_PROTO_TCP);
	assert_int_equal(c->family, 4);
	assert_int_equal(c->owner, SNAP_OWNER_KNOWN);
	assert_int_equal(c->start_time, 1796000000000ull);
	assert_int_equal(c->local_port, 40000);
	assert_int_equal(c->remote_port, 8080);
	assert_memory_equal(c->local.bytes, lo4, 4);
	assert_int_equal(c->open_ms, 1000);
	assert_int_equal(c->close_ms, 1004);
	assert_int_equal(c->bytes_sent, 10);
	assert_int_equal(c->bytes_received, 20);

	c = find_conn(&eb, SNAP_ROLE_ACCEPT, 200);
	assert_non_null(c);
	assert_int_equal(c->start_time, 0);
	assert_int_equal(c->local_port, 8080);
	assert_int_equal(c->remote_port, 40000);
	assert_int_equal(c->bytes_sent, 20);
	assert_int_equal(c->bytes_received, 10);
	assert_int_equal(c->close_ms, 1005);

	/* Owners, once each: the running one named, the gone one not. */
	assert_int_equal(eb.n_owners, 2);
	o = find_owner(&eb, 100);
	assert_non_null(o);
	assert_int_equal(o->start_time, 1796000000000ull);
	assert_string_equal(o->name, "curl.exe");
	o = find_owner(&eb, 200);
	assert_non_null(o);
	assert_int_equal(o->start_time, 0);
	assert_string_equal(o->name, "");

	connbatch_clear(f.batch);
	assert_int_equal(etw_conns_take(f.conns, to_batch, &f), 0);
	connbatch_free(f.batch);
	etw_conns_free(f.conns);
}

/* A connection older than the session, seen only as a close with no pid,
 * is the kernel's: reported once with open_ms 0 and no owner. An IPv6
 * connect stays open across the sample: opened now, close 0. */
static void
test_kernel_owner_and_open_v6(void **state)
{
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	struct feed f;
	struct events_batch eb;
	const struct snap_conn *c;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.conns = etw_conns_new(0);
	f.batch = connbatch_new(100);
	assert_non_null(f.conns);
	assert_non_null(f.batch);

	event(&f, DISCONNECT4, 0, 0, lo4, lo4, 4, 445, 50123, 2000);
	event(&f, CONNECT6, 300, 0, b6, a6, 16, 443, 51000, 2001);
	assert_int_equal(etw_conns_take(f.conns, to_batch, &f), 2);
	connbatch_view(f.batch, &eb);
	assert_int_equal(eb.n_conns, 2);

	c = find_conn(&eb, SNAP_ROLE_UNKNOWN, -1);
	assert_non_null(c);
	assert_int_equal(c->owner, SNAP_OWNER_KERNEL);
	assert_int_equal(c->open_ms, 0);
	assert_int_equal(c->close_ms, 2000);
	assert_int_equal(c->remote_port, 445);

	c = find_conn(&eb, SNAP_ROLE_CONNECT, 300);
	assert_non_null(c);
	assert_int_equal(c->family, 6);
	assert_memory_equal(c->local.bytes, a6, 16);
	assert_memory_equal(c->remote.bytes, b6, 16);
	assert_int_equal(c->open_ms, 2001);
	assert_int_equal(c->close_ms, 0);
	/* The kernel's connection names no owner; pid 300 exited unseen. */
	assert_int_equal(eb.n_owners, 1);
	assert_non_null(find_owner(&eb, 300));

	/* Closed at a later sample: reported again with its open time. */
	connbatch_clear(f.batch);
	event(&f, DISCONNECT6, 300, 0, b6, a6, 16, 443, 51000, 3000);
	assert_int_equal(etw_conns_take(f.conns, to_batch, &f), 1);
	connbatch_view(f.batch, &eb);
	assert_int_equal(eb.n_conns, 1);
	assert_int_equal(eb.conns[0].open_ms, 2001);
	assert_int_equal(eb.conns[0].close_ms, 3000);
	connbatch_free(f.batch);
	etw_conns_free(f.conns);
}

/* Past the per-sample cap the rest is counted in aggregates, not lost. */
static void
test_cap_aggregates(void **state)
{
	struct feed f;
	struct events_batch eb;
	uint32_t opened = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.conns = etw_conns_new(0);
	f.batch = connbatch_new(1);
	assert_non_null(f.conns);
	assert_non_null(f.batch);
	for (uint16_t i = 0; i < 5; i++) {
		event(&f, CONNECT4, 100, 0, lo4, lo4, 4, 8080, 40000 + i,
		    1000 + i);
		event(&f, DISCONNECT4, 100, 0, lo4, lo4, 4, 8080, 40000 + i,
		    1100 + i);
	}
	assert_int_equal(etw_conns_take(f.conns, to_batch, &f), 5);
	connbatch_view(f.batch, &eb);
	assert_int_equal(eb.n_conns, 1);
	assert_true(eb.n_aggs >= 1);
	for (size_t i = 0; i < eb.n_aggs; i++) {
		assert_int_equal(eb.aggs[i].client_pid, 100);
		assert_int_equal(eb.aggs[i].server_port, 8080);
		opened += eb.aggs[i].opened;
	}
	assert_int_equal(opened, 4);
	assert_int_equal(eb.aggregated, 4);
	connbatch_free(f.batch);
	etw_conns_free(f.conns);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_to_sample),
		cmocka_unit_test(test_kernel_owner_and_open_v6),
		cmocka_unit_test(test_cap_aggregates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
