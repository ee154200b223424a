/*
 * ipc/codec, protocol version 2: round trips of generated snapshots with
 * every v2 field, every truncation, a payload written by hand from
 * docs/protocol.md with a table of corruptions (bad enums and flags, caps),
 * and what a version-1 peer gets from the same snapshot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "frame.h"
#include "snapshot.h"
#include "snapshot_json.h"

#include "codecfix.h"

static struct snapshot *
gen_snapshot(size_t nproc, size_t nsock, size_t nconn, size_t nagg)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s;
	char *host = rnd_string(), *reason = rnd_string();

	assert_int_equal(snapshot_builder_set_meta(b, host, "linux",
	    (int64_t)rnd() << 20 | rnd(), rnd() % 2), 0);
	snapshot_builder_set_sample_us(b, rnd());
	assert_int_equal(snapshot_builder_set_events(b, rnd() % 2 ? "ebpf" :
	    "none", reason, (uint64_t)rnd() << 32 | rnd()), 0);
	free(host);
	free(reason);
	for (size_t i = 0; i < nproc; i++) {
		char *argv[8] = { 0 }, *strs[7];
		struct snap_process p;
		uint32_t argc = rnd() % 9;

		for (int k = 0; k < 7; k++)
			strs[k] = rnd_string();
		for (uint32_t k = 0; k < argc && k < 8; k++)
			argv[k] = rnd_string();
		memset(&p, 0, sizeof(p));
		p.pid = (int32_t)(rnd() % 4000000);
		p.ppid = (int32_t)(rnd() % 4000000) - 1;
		p.start_time = (uint64_t)rnd() << 32 | rnd();
		p.user = strs[0];
		p.name = strs[1];
		p.exe = strs[2];
		p.cmdline = strs[3];	/* used only when argc is 0 */
		p.service = strs[4];
		p.container_runtime = rnd() % 2 ? "docker" : "";
		p.container_id = strs[5];
		p.container_name = strs[6];
		p.argc = argc > 8 ? 8 : argc;
		p.argv = (const char *const *)argv;
		p.netns = rnd() % 2 ? 4026531840ull + rnd() % 8 : 0;
		p.flags = rnd() % 4 == 0 ? SNAP_PROC_EXITED : 0;
		assert_int_equal(snapshot_builder_add_process(b, &p), 0);
		for (int k = 0; k < 7; k++)
			free(strs[k]);
		for (int k = 0; k < 8; k++)
			free(argv[k]);
	}
	for (size_t i = 0; i < nsock; i++) {
		struct snap_socket k;
		uint32_t rf = rnd() % 3;

		memset(&k, 0, sizeof(k));
		k.proto = (uint8_t)(rnd() % SNAP_PROTO_MAX);
		k.state = (uint8_t)(rnd() % SNAP_STATE_MAX);
		k.owner = (uint8_t)(rnd() % 3 == 0 ? rnd() % SNAP_OWNER_MAX : 0);
		k.family = rnd() % 2 ? 4 : 6;
		k.local_port = (uint16_t)rnd();
		rnd_addr(&k.local, k.family);
		if (rf > 0) {
			k.remote_port = (uint16_t)rnd();
			rnd_addr(&k.remote, rf == 1 ? k.family : 0);
		}
		k.pid = k.owner == SNAP_OWNER_KNOWN ?
		    (int32_t)(rnd() % 4000000) : -1;
		k.inode = (uint64_t)rnd() << 32 | rnd();
		k.netns = rnd();
		k.cookie = (uint64_t)rnd() << 32 | rnd();
		k.has_info = rnd() % 2;
		k.bytes_sent = (uint64_t)rnd() << 32 | rnd();
		k.bytes_received = rnd();
		k.rtt_us = rnd();
		k.retrans = rnd();
		assert_int_equal(snapshot_builder_add_socket(b, &k), 0);
	}
	for (size_t i = 0; i < nconn; i++) {
		struct snap_conn c;

		memset(&c, 0, sizeof(c));
		c.proto = (uint8_t)(rnd() % SNAP_PROTO_MAX);
		c.family = rnd() % 2 ? 4 : 6;
		c.role = (uint8_t)(rnd() % SNAP_ROLE_MAX);
		c.owner = (uint8_t)(rnd() % 3 == 0 ? rnd() % SNAP_OWNER_MAX : 0);
		c.local_port = (uint16_t)rnd();
		c.remote_port = (uint16_t)rnd();
		rnd_addr(&c.local, c.family);
		rnd_addr(&c.remote, c.family);
		c.pid = c.owner == SNAP_OWNER_KNOWN ? (int32_t)(rnd() % 99999) :
		    -1;
		c.start_time = rnd();
		c.netns = rnd();
		c.cookie = rnd();
		c.open_ms = (int64_t)rnd() << 10;
		c.close_ms = rnd() % 2 ? 0 : -(int64_t)rnd();
		c.bytes_sent = rnd();
		c.bytes_received = (uint64_t)rnd() << 32;
		assert_int_equal(snapshot_builder_add_conn(b, &c), 0);
	}
	for (size_t i = 0; i < nagg; i++) {
		struct snap_conn_agg a = {
			.proto = (uint8_t)(rnd() % SNAP_PROTO_MAX),
			.client_pid = (int32_t)(rnd() % 100) - 1,
			.server_pid = (int32_t)(rnd() % 100) - 1,
			.server_port = (uint16_t)rnd(), .opened = rnd(),
			.closed = rnd(), .bytes_sent = rnd(),
			.bytes_received = rnd(),
		};

		assert_int_equal(snapshot_builder_add_conn_agg(b, &a), 0);
	}
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	return s;
}

/* Same JSON (every field the model has but inode, sample_us and the
 * milliseconds of time), and those three. */
static void
assert_same(const struct snapshot *a, const struct snapshot *b)
{
	char *ja, *jb;

	assert_int_equal(snapshot_json(a, &ja, NULL), 0);
	assert_int_equal(snapshot_json(b, &jb, NULL), 0);
	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
	assert_int_equal(a->time_ms, b->time_ms);
	assert_int_equal(a->sample_us, b->sample_us);
	assert_int_equal(a->n_sockets, b->n_sockets);
	for (size_t i = 0; i < a->n_sockets; i++)
		assert_int_equal(a->sockets[i].inode, b->sockets[i].inode);
}

static void
test_roundtrip_generated(void **state)
{
	(void)state;
	for (int round = 0; round < 30; round++) {
		struct snapshot *s, *d = NULL;
		struct frame_error err = { 0 };
		uint8_t *buf, *again;
		size_t len, alen;

		s = gen_snapshot(round == 0 ? 0 : rnd() % 40,
		    round == 1 ? 0 : rnd() % 100, rnd() % 50, rnd() % 5);
		assert_int_equal(codec_encode_snapshot(s, 2, &buf, &len), 0);
		if (codec_decode_snapshot(buf, len, 2, &d, &err) != 0)
			fail_msg("round %d: %s at %zu", round, err.text,
			    err.offset);
		assert_same(s, d);
		/* one snapshot, one encoding */
		assert_int_equal(codec_encode_snapshot(d, 2, &again, &alen), 0);
		assert_int_equal(alen, len);
		assert_memory_equal(again, buf, len);
		free(again);
		free(buf);
		snapshot_unref(s);
		snapshot_unref(d);
	}
}

/* A version-1 peer gets the joined command line and none of the rest. */
static void
test_v1_from_v2(void **state)
{
	struct snapshot *s = gen_snapshot(20, 30, 10, 2), *d = NULL;
	struct frame_error err;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(codec_encode_snapshot(s, 1, &buf, &len), 0);
	assert_int_equal(codec_decode_snapshot(buf, len, 1, &d, &err), 0);
	assert_int_equal(d->n_processes, s->n_processes);
	for (size_t i = 0; i < d->n_processes; i++) {
		assert_string_equal(d->processes[i].cmdline,
		    s->processes[i].cmdline);
		assert_int_equal(d->processes[i].argc, 0);
		assert_string_equal(d->processes[i].service, "");
		assert_int_equal(d->processes[i].flags, 0);
	}
	for (size_t i = 0; i < d->n_sockets; i++) {
		assert_int_equal(d->sockets[i].has_info, 0);
		assert_int_equal(d->sockets[i].cookie, 0);
	}
	assert_int_equal(d->n_conns, 0);
	assert_string_equal(d->events_source, "none");
	/* and a v1 payload is not a v2 one */
	assert_int_equal(codec_decode_snapshot(buf, len, 2, &d, &err),
	    -EBADMSG);
	free(buf);
	snapshot_unref(s);
	snapshot_unref(d);
}

static void
test_versions(void **state)
{
	struct snapshot *s = gen_snapshot(1, 1, 0, 0), *d = NULL;
	struct frame_error err;
	uint8_t *buf = NULL;
	size_t len;

	(void)state;
	assert_int_equal(codec_encode_snapshot(s, 3, &buf, &len), -EINVAL);
	assert_int_equal(codec_encode_snapshot(s, 0, &buf, &len), -EINVAL);
	assert_null(buf);
	assert_int_equal(codec_encode_snapshot_frame(s, 2, &buf, &len), 0);
	assert_int_equal(buf[4], 2);
	assert_int_equal(codec_decode_snapshot(buf + FRAME_HEADER_SIZE,
	    len - FRAME_HEADER_SIZE, 3, &d, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "version 3"));
	assert_null(d);
	free(buf);
	snapshot_unref(s);
}

static void
test_every_truncation(void **state)
{
	struct snapshot *s = gen_snapshot(4, 6, 3, 2), *d;
	struct frame_error err;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(codec_encode_snapshot(s, 2, &buf, &len), 0);
	for (size_t n = 0; n < len; n++) {
		d = NULL;
		err.text[0] = '\0';
		assert_int_equal(codec_decode_snapshot(buf, n, 2, &d, &err),
		    -EBADMSG);
		assert_null(d);
		assert_true(err.text[0] != '\0');
		assert_true(err.offset <= n);
	}
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	assert_int_equal(codec_decode_snapshot(buf, len + 1, 2, &d, &err),
	    -EBADMSG);
	assert_non_null(strstr(err.text, "trailing"));
	free(buf);
	snapshot_unref(s);
}

enum field {
	F_EV_SOURCE, F_EV_LOST, F_P_ARGC, F_P_ARG2, F_P_SERVICE, F_P_FLAGS,
	F_NSOCK, F_S_FLAGS, F_S_PID, F_NCONN, F_C_PROTO, F_C_FAMILY, F_C_ROLE,
	F_C_OWNER, F_C_PID, F_NAGG, F_A_PROTO, F_A_RESERVED, F_A_CPID,
	F_A_SPID, F_FIELD_MAX
};

/*
 * Strings, in first-use order: "h", "linux", "ebpf", "", "root", "psql",
 * "-c", "select 1", "pg.service".  One process (10) running
 * psql -c "select 1"; one TCP socket with TCP info; one connection; one
 * aggregate.
 */
static size_t
reference(struct w *w, size_t off[F_FIELD_MAX])
{
	static const char *const strs[] = { "h", "linux", "ebpf", "", "root",
	    "psql", "-c", "select 1", "pg.service" };

	w->n = 0;
	w32(w, 9);
	for (int i = 0; i < 9; i++)
		wstr(w, strs[i]);
	wvar(w, 0);
	wvar(w, 1);
	w64(w, 1700000000000ull);
	w32(w, 77);
	w8(w, 1);
	off[F_EV_SOURCE] = w->n;
	wvar(w, 2);
	wvar(w, 3);
	off[F_EV_LOST] = w->n;
	w64(w, 5);
	w32(w, 1);			/* processes */
	w32(w, 10);
	w32(w, 1);
	w64(w, 123);
	wvar(w, 4);
	wvar(w, 5);
	wvar(w, 3);
	off[F_P_ARGC] = w->n;
	wvar(w, 3);
	wvar(w, 5);
	wvar(w, 6);
	off[F_P_ARG2] = w->n;
	wvar(w, 7);
	off[F_P_SERVICE] = w->n;
	wvar(w, 8);
	wvar(w, 3);
	wvar(w, 3);
	wvar(w, 3);
	w64(w, 4026531840ull);
	off[F_P_FLAGS] = w->n;
	w32(w, SNAP_PROC_EXITED);
	off[F_NSOCK] = w->n;
	w32(w, 1);
	w8(w, SNAP_PROTO_TCP);
	w8(w, SNAP_STATE_ESTABLISHED);
	w8(w, SNAP_OWNER_KNOWN);
	w8(w, 4);
	w8(w, 4);
	off[F_S_FLAGS] = w->n;
	w8(w, 1);			/* has_info */
	w16(w, 5432);
	w16(w, 40000);
	w32(w, 0x0100007f);
	w32(w, 0x0200007f);
	off[F_S_PID] = w->n;
	w32(w, 10);
	w64(w, 999);			/* inode */
	w64(w, 4026531840ull);		/* netns */
	w64(w, 0xc00c1e);		/* cookie */
	w64(w, 1000);
	w64(w, 2000);
	w32(w, 150);
	w32(w, 2);
	off[F_NCONN] = w->n;
	w32(w, 1);
	off[F_C_PROTO] = w->n;
	off[F_C_FAMILY] = w->n + 1;
	off[F_C_ROLE] = w->n + 2;
	off[F_C_OWNER] = w->n + 3;
	w8(w, SNAP_PROTO_TCP);
	w8(w, 4);
	w8(w, SNAP_ROLE_CONNECT);
	w8(w, SNAP_OWNER_KNOWN);
	w16(w, 40001);
	w16(w, 5432);
	w32(w, 0x0100007f);
	w32(w, 0x0100007f);
	off[F_C_PID] = w->n;
	w32(w, 10);
	w64(w, 123);			/* start_time */
	w64(w, 4026531840ull);
	w64(w, 0xc00c1f);
	w64(w, 1700000000000ull);	/* open */
	w64(w, 1700000000500ull);	/* close */
	w64(w, 10);
	w64(w, 20);
	off[F_NAGG] = w->n;
	w32(w, 1);
	off[F_A_PROTO] = w->n;
	off[F_A_RESERVED] = w->n + 1;
	w8(w, SNAP_PROTO_UDP);
	w8(w, 0);
	w16(w, 53);
	off[F_A_CPID] = w->n;
	w32(w, 0xffffffff);
	off[F_A_SPID] = w->n;
	w32(w, 10);
	w32(w, 100);
	w32(w, 99);
	w64(w, 5000);
	w64(w, 6000);
	return w->n;
}

static void
test_reference_layout(void **state)
{
	struct w w;
	size_t off[F_FIELD_MAX];
	struct snapshot *s = NULL;
	struct frame_error err;
	const struct snap_process *p;
	uint8_t *buf;
	size_t len;

	(void)state;
	reference(&w, off);
	if (codec_decode_snapshot(w.b, w.n, 2, &s, &err) != 0)
		fail_msg("reference payload rejected: %s at %zu", err.text,
		    err.offset);
	assert_string_equal(s->events_source, "ebpf");
	assert_int_equal(s->events_lost, 5);
	p = &s->processes[0];
	assert_int_equal(p->argc, 3);
	assert_string_equal(p->argv[2], "select 1");
	assert_string_equal(p->cmdline, "psql -c select 1");
	assert_string_equal(p->service, "pg.service");
	assert_int_equal(p->netns, 4026531840ull);
	assert_int_equal(p->flags, SNAP_PROC_EXITED);
	assert_int_equal(s->sockets[0].has_info, 1);
	assert_int_equal(s->sockets[0].cookie, 0xc00c1e);
	assert_int_equal(s->sockets[0].bytes_received, 2000);
	assert_int_equal(s->sockets[0].rtt_us, 150);
	assert_int_equal(s->n_conns, 1);
	assert_int_equal(s->conns[0].role, SNAP_ROLE_CONNECT);
	assert_int_equal(s->conns[0].close_ms, 1700000000500ll);
	assert_int_equal(s->n_conn_aggs, 1);
	assert_int_equal(s->conn_aggs[0].client_pid, -1);
	assert_int_equal(s->conn_aggs[0].closed, 99);
	/* and our encoder writes exactly these bytes */
	assert_int_equal(codec_encode_snapshot(s, 2, &buf, &len), 0);
	assert_int_equal(len, w.n);
	assert_memory_equal(buf, w.b, len);
	free(buf);
	snapshot_unref(s);
}

static void
test_corrupted_fields(void **state)
{
	static const struct {
		enum field f;
		int width;
		uint32_t value;
		const char *text;
	} rows[] = {
		{ F_EV_SOURCE, 1, 9, "refers to string 9 of 9" },
		{ F_EV_SOURCE, 1, 3, "before string 2" },
		{ F_P_ARG2, 1, 9, "refers to string 9" },
		{ F_P_ARG2, 1, 8, "before string 7" },
		{ F_P_FLAGS, 4, 2, "unknown flags 0x2" },
		{ F_P_FLAGS, 4, 0x80000001, "unknown flags" },
		{ F_NSOCK, 4, SNAP_MAX_SOCKETS + 1, "exceeds the limit" },
		{ F_NSOCK, 4, 9, "cannot fit" },
		{ F_S_FLAGS, 1, 2, "flags byte is 0x2" },
		/* no info: its 24 bytes are read as what follows */
		{ F_S_FLAGS, 1, 0, "connection count 1000 cannot fit" },
		{ F_S_PID, 4, 0xfffffffe, "does not fit owner" },
		{ F_NCONN, 4, SNAP_MAX_CONNS + 1, "exceeds the limit of 1048576" },
		{ F_NCONN, 4, 3, "cannot fit" },
		{ F_NCONN, 4, 0, "aggregate count" },
		{ F_C_PROTO, 1, SNAP_PROTO_MAX, "unknown proto" },
		{ F_C_FAMILY, 1, 0, "bad family 0" },
		{ F_C_FAMILY, 1, 5, "bad family 5" },
		{ F_C_ROLE, 1, SNAP_ROLE_MAX, "unknown role" },
		{ F_C_OWNER, 1, SNAP_OWNER_MAX, "unknown owner" },
		{ F_C_OWNER, 1, SNAP_OWNER_KERNEL, "does not fit owner" },
		{ F_C_PID, 4, 0xffffffff, "does not fit owner" },
		{ F_NAGG, 4, SNAP_MAX_CONN_AGGS + 1, "exceeds the limit" },
		{ F_NAGG, 4, 2, "cannot fit" },
		{ F_A_PROTO, 1, SNAP_PROTO_MAX, "unknown proto" },
		{ F_A_RESERVED, 1, 1, "reserved" },
		{ F_A_CPID, 4, 0xfffffffe, "-1 is the only negative" },
		{ F_A_SPID, 4, 0x80000000, "-1 is the only negative" },
	};
	size_t off[F_FIELD_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct w w;
		struct snapshot *s = NULL;
		struct frame_error err = { 0 };
		size_t end;

		reference(&w, off);
		end = w.n;
		w.n = off[rows[i].f];
		if (rows[i].width == 1)
			w8(&w, (uint8_t)rows[i].value);
		else
			w32(&w, rows[i].value);
		w.n = end;
		assert_int_equal(codec_decode_snapshot(w.b, w.n, 2, &s, &err),
		    -EBADMSG);
		assert_null(s);
		if (strstr(err.text, rows[i].text) == NULL)
			fail_msg("row %zu: '%s' lacks '%s'", i, err.text,
			    rows[i].text);
		assert_true(err.offset <= w.n);
	}
}

/* A process's arguments are capped in number and in bytes (separators
 * counted), on the wire as in the builder. */
static void
test_argv_caps(void **state)
{
	static struct w w;	/* larger than the shared writer's buffer */
	static uint8_t big[2 * SNAP_MAX_ARGC + 64 * 1024];
	struct snapshot *s = NULL;
	struct frame_error err;
	size_t n = 0;

	(void)state;
	/* SNAP_MAX_ARGC + 1 references to "a" */
	w.n = 0;
	w32(&w, 3);
	wstr(&w, "h");
	wstr(&w, "");
	wstr(&w, "a");
	memcpy(big, w.b, w.n);
	n = w.n;
	w.n = 0;
	wvar(&w, 0);		/* host */
	wvar(&w, 1);		/* os "" */
	w64(&w, 0);
	w32(&w, 0);
	w8(&w, 0);
	wvar(&w, 1);
	wvar(&w, 1);
	w64(&w, 0);
	w32(&w, 1);
	w32(&w, 1);
	w32(&w, 0);
	w64(&w, 0);
	wvar(&w, 1);
	wvar(&w, 1);
	wvar(&w, 1);
	wvar(&w, SNAP_MAX_ARGC + 1);
	memcpy(big + n, w.b, w.n);
	n += w.n;
	for (uint32_t i = 0; i < SNAP_MAX_ARGC + 1; i++)
		big[n++] = 2;
	assert_int_equal(codec_decode_snapshot(big, n, 2, &s, &err), -EBADMSG);
	if (strstr(err.text, "4097 arguments, limit 4096") == NULL)
		fail_msg("'%s' at %zu", err.text, err.offset);

	/* two arguments of 20000 bytes: 40001 with the separator */
	w.n = 0;
	w32(&w, 3);
	wstr(&w, "h");
	wstr(&w, "");
	wvar(&w, 20000);
	n = w.n;
	memcpy(big, w.b, n);
	memset(big + n, 'x', 20000);
	n += 20000;
	w.n = 0;
	wvar(&w, 0);
	wvar(&w, 1);
	w64(&w, 0);
	w32(&w, 0);
	w8(&w, 0);
	wvar(&w, 1);
	wvar(&w, 1);
	w64(&w, 0);
	w32(&w, 1);
	w32(&w, 1);
	w32(&w, 0);
	w64(&w, 0);
	wvar(&w, 1);
	wvar(&w, 1);
	wvar(&w, 1);
	wvar(&w, 2);
	wvar(&w, 2);
	wvar(&w, 2);
	memcpy(big + n, w.b, w.n);
	n += w.n;
	/* the rest of a process and empty tables, as if all were well */
	memset(big + n, 0, 32);
	n += 32;
	assert_int_equal(codec_decode_snapshot(big, n, 2, &s, &err), -EBADMSG);
	if (strstr(err.text, "arguments exceed 32768 bytes") == NULL)
		fail_msg("'%s' at %zu", err.text, err.offset);
	assert_null(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_generated),
		cmocka_unit_test(test_v1_from_v2),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_reference_layout),
		cmocka_unit_test(test_corrupted_fields),
		cmocka_unit_test(test_argv_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
