/*
 * ipc/codec: round trips of generated snapshots, every truncation, and a
 * table of corrupted fields built by hand from docs/protocol.md (so the
 * test checks the documented layout, not just encoder/decoder agreement).
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

#include "codecfix.h"

static struct snapshot *
gen_snapshot(size_t nproc, size_t nsock)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s;
	char *host = rnd_string(), *os = strdup(rnd() % 2 ? "linux" : "windows");

	assert_int_equal(snapshot_builder_set_meta(b, host, os,
	    (int64_t)rnd() << 20 | rnd(), rnd() % 2), 0);
	snapshot_builder_set_sample_us(b, rnd());
	free(host);
	free(os);
	for (size_t i = 0; i < nproc; i++) {
		struct snap_process p = {
			.pid = (int32_t)(rnd() % 4000000),
			.ppid = (int32_t)(rnd() % 4000000) - 1,
			.start_time = (uint64_t)rnd() << 32 | rnd(),
			.user = rnd_string(), .name = rnd_string(),
			.exe = rnd_string(), .cmdline = rnd_string(),
		};

		assert_int_equal(snapshot_builder_add_process(b, &p), 0);
		free((char *)p.user);
		free((char *)p.name);
		free((char *)p.exe);
		free((char *)p.cmdline);
	}
	for (size_t i = 0; i < nsock; i++) {
		struct snap_socket k;
		uint32_t rf = rnd() % 3;

		memset(&k, 0, sizeof(k));
		k.proto = (uint8_t)(rnd() % SNAP_PROTO_MAX);
		k.state = k.proto == SNAP_PROTO_UDP ? 0 :
		    (uint8_t)(rnd() % SNAP_STATE_MAX);
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
		k.inode = rnd() % 4 ? (uint64_t)rnd() << 32 | rnd() : 0;
		assert_int_equal(snapshot_builder_add_socket(b, &k), 0);
	}
	assert_int_equal(snapshot_builder_finish(b, &s), 0);
	return s;
}

static void
assert_snapshots_equal(const struct snapshot *a, const struct snapshot *b)
{
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->os, b->os);
	assert_int_equal(a->time_ms, b->time_ms);
	assert_int_equal(a->sample_us, b->sample_us);
	assert_int_equal(a->privileged, b->privileged);
	assert_int_equal(a->n_processes, b->n_processes);
	for (size_t i = 0; i < a->n_processes; i++) {
		const struct snap_process *x = &a->processes[i], *y = &b->processes[i];

		assert_int_equal(x->pid, y->pid);
		assert_int_equal(x->ppid, y->ppid);
		assert_int_equal(x->start_time, y->start_time);
		assert_string_equal(x->user, y->user);
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->exe, y->exe);
		assert_string_equal(x->cmdline, y->cmdline);
	}
	assert_int_equal(a->n_sockets, b->n_sockets);
	for (size_t i = 0; i < a->n_sockets; i++) {
		const struct snap_socket *x = &a->sockets[i], *y = &b->sockets[i];

		assert_int_equal(x->proto, y->proto);
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->owner, y->owner);
		assert_int_equal(x->family, y->family);
		assert_int_equal(x->local_port, y->local_port);
		assert_int_equal(x->remote_port, y->remote_port);
		assert_memory_equal(&x->local, &y->local, sizeof(x->local));
		assert_memory_equal(&x->remote, &y->remote, sizeof(x->remote));
		assert_int_equal(x->pid, y->pid);
		assert_int_equal(x->inode, y->inode);
	}
}

static void
test_roundtrip_generated(void **state)
{
	for (int round = 0; round < 40; round++) {
		size_t np = round == 0 ? 0 : rnd() % 60;
		size_t ns = round == 1 ? 0 : rnd() % 200;
		struct snapshot *s = gen_snapshot(np, ns), *d = NULL;
		struct frame_error err = { 0 };
		uint8_t *buf;
		size_t len;

		assert_int_equal(codec_encode_snapshot(s, 1, &buf, &len), 0);
		if (codec_decode_snapshot(buf, len, 1, &d, &err) != 0)
			fail_msg("round %d: %s at %zu", round, err.text,
			    err.offset);
		assert_snapshots_equal(s, d);
		free(buf);
		snapshot_unref(s);
		snapshot_unref(d);
	}
}

/* Repeated strings travel once. */
static void
test_interning(void **state)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s;
	char cmd[1000];
	uint8_t *buf;
	size_t len;

	memset(cmd, 'c', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	snapshot_builder_set_meta(b, "h", "linux", 1, true);
	for (int i = 0; i < 100; i++) {
		struct snap_process p = { .pid = i + 1, .ppid = 1,
		    .user = "root", .name = "worker", .exe = "/bin/worker",
		    .cmdline = cmd };
		assert_int_equal(snapshot_builder_add_process(b, &p), 0);
	}
	snapshot_builder_finish(b, &s);
	assert_int_equal(codec_encode_snapshot(s, 1, &buf, &len), 0);
	/* 100 processes of ~24 bytes plus one copy of each string */
	assert_true(len < 100 * 24 + 1000 + 100);
	free(buf);
	snapshot_unref(s);
}

static void
test_every_truncation(void **state)
{
	struct snapshot *s = gen_snapshot(5, 12), *d;
	struct frame_error err;
	struct frame_header fh;
	const uint8_t *p;
	uint8_t *buf, *frame;
	size_t len, flen;

	assert_int_equal(codec_encode_snapshot(s, 1, &buf, &len), 0);
	for (size_t n = 0; n < len; n++) {
		d = NULL;
		err.text[0] = '\0';
		assert_int_equal(codec_decode_snapshot(buf, n, 1, &d, &err),
		    -EBADMSG);
		assert_null(d);
		assert_true(err.text[0] != '\0');
		assert_true(err.offset <= n);
	}
	/* one byte too many */
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	assert_int_equal(codec_decode_snapshot(buf, len + 1, 1, &d, &err),
	    -EBADMSG);
	assert_non_null(strstr(err.text, "trailing"));

	/* the whole frame too: header and payload */
	assert_int_equal(codec_encode_snapshot_frame(s, 1, &frame, &flen), 0);
	assert_int_equal(flen, len + FRAME_HEADER_SIZE);
	assert_memory_equal(frame + FRAME_HEADER_SIZE, buf, len);
	assert_int_equal(frame_read(frame, flen, 1, FRAME_MAX_PAYLOAD, &fh, &p,
	    &err), 0);
	for (size_t n = 0; n < flen; n++)
		assert_int_equal(frame_read(frame, n, 1, FRAME_MAX_PAYLOAD, &fh,
		    &p, &err), -ENODATA);
	free(frame);
	free(buf);
	snapshot_unref(s);
}

/* Field offsets of the reference payload, for the corruption table. */
enum field {
	F_NSTRINGS, F_STR1_LEN, F_STR1_BYTE, F_HOST_REF, F_FLAGS, F_NPROC,
	F_P2_PID, F_P1_NAME_REF, F_NSOCK, F_S1_PROTO, F_S1_STATE, F_S1_OWNER,
	F_S1_FAMILY, F_S1_RFAMILY, F_S1_RESERVED, F_S1_PID, F_S2_PID,
	F_FIELD_MAX
};

/*
 * Strings: "host", "linux", "root", "nginx", "".  Process 10 and 20.
 * Socket 1: tcp ESTABLISHED v4 -> v6 remote, pid 10.
 * Socket 2: udp, owner kernel, v6, no remote, pid -1.
 */
static size_t
reference(struct w *w, size_t off[F_FIELD_MAX])
{
	static const char *const strs[] = { "host", "linux", "root", "nginx", "" };

	w->n = 0;
	off[F_NSTRINGS] = w->n;
	w32(w, 5);
	for (int i = 0; i < 5; i++) {
		if (i == 1) {
			off[F_STR1_LEN] = w->n;
			off[F_STR1_BYTE] = w->n + 1;
		}
		wstr(w, strs[i]);
	}
	off[F_HOST_REF] = w->n;
	wvar(w, 0);
	wvar(w, 1);
	w64(w, 1700000000000ull);
	w32(w, 1234);
	off[F_FLAGS] = w->n;
	w8(w, 1);
	off[F_NPROC] = w->n;
	w32(w, 2);
	for (int i = 0; i < 2; i++) {
		if (i == 1)
			off[F_P2_PID] = w->n;
		w32(w, (uint32_t)(10 * (i + 1)));
		w32(w, 1);
		w64(w, 5000 + (uint64_t)i);
		wvar(w, 2);
		if (i == 0)
			off[F_P1_NAME_REF] = w->n;
		wvar(w, 3);
		wvar(w, 4);
		wvar(w, 4);
	}
	off[F_NSOCK] = w->n;
	w32(w, 2);
	off[F_S1_PROTO] = w->n;
	off[F_S1_STATE] = w->n + 1;
	off[F_S1_OWNER] = w->n + 2;
	off[F_S1_FAMILY] = w->n + 3;
	off[F_S1_RFAMILY] = w->n + 4;
	off[F_S1_RESERVED] = w->n + 5;
	w8(w, SNAP_PROTO_TCP);
	w8(w, SNAP_STATE_ESTABLISHED);
	w8(w, SNAP_OWNER_KNOWN);
	w8(w, 4);
	w8(w, 6);
	w8(w, 0);
	w16(w, 40000);
	w16(w, 443);
	w32(w, 0x0100007f);	/* 127.0.0.1 */
	for (int i = 0; i < 16; i++)
		w8(w, (uint8_t)(0x20 + i));
	off[F_S1_PID] = w->n;
	w32(w, 10);
	w64(w, 99);
	w8(w, SNAP_PROTO_UDP);
	w8(w, SNAP_STATE_NONE);
	w8(w, SNAP_OWNER_KERNEL);
	w8(w, 6);
	w8(w, 0);
	w8(w, 0);
	w16(w, 53);
	w16(w, 0);
	for (int i = 0; i < 16; i++)
		w8(w, 0);
	off[F_S2_PID] = w->n;
	w32(w, 0xffffffff);
	w64(w, 0);
	return w->n;
}

static void
test_reference_layout(void **state)
{
	struct w w;
	size_t off[F_FIELD_MAX];
	struct snapshot *s = NULL;
	struct frame_error err;
	uint8_t *buf;
	size_t len;
	char a[SNAP_ADDRSTRLEN];

	reference(&w, off);
	if (codec_decode_snapshot(w.b, w.n, 1, &s, &err) != 0)
		fail_msg("reference payload rejected: %s at %zu", err.text,
		    err.offset);
	assert_string_equal(s->host, "host");
	assert_true(s->privileged);
	assert_int_equal(s->n_processes, 2);
	assert_string_equal(s->processes[1].name, "nginx");
	assert_string_equal(s->processes[1].exe, "");
	assert_int_equal(s->n_sockets, 2);
	assert_string_equal(snap_addr_format(&s->sockets[0].local, a),
	    "127.0.0.1");
	assert_int_equal(s->sockets[0].remote.family, 6);
	assert_int_equal(s->sockets[1].pid, -1);
	/* and our encoder produces exactly these bytes */
	assert_int_equal(codec_encode_snapshot(s, 1, &buf, &len), 0);
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
		{ F_NSTRINGS, 4, 0xffffffff, "string count" },
		{ F_NSTRINGS, 4, 200, "string count" },
		{ F_STR1_LEN, 1, 0x85, "truncated" },
		{ F_STR1_LEN, 1, 250 & 0x7f, "NUL" },
		{ F_STR1_LEN, 4, 0x7fff, "truncated" },
		{ F_STR1_LEN, 4, 0x048080, "limit 32768" },
		{ F_STR1_BYTE, 1, 0, "NUL" },
		{ F_HOST_REF, 1, 5, "refers to string 5 of 5" },
		{ F_HOST_REF, 1, 1, "before string 0" },
		{ F_P1_NAME_REF, 1, 4, "before string 3" },
		{ F_HOST_REF, 1, 0x80, "refers to string 128" },
		{ F_FLAGS, 1, 3, "flags" },
		{ F_NPROC, 4, SNAP_MAX_PROCESSES + 1, "exceeds the limit" },
		{ F_NPROC, 4, 1000, "cannot fit" },
		{ F_P2_PID, 4, 10, "sorted" },
		{ F_P2_PID, 4, 5, "sorted" },
		{ F_P1_NAME_REF, 1, 9, "refers to string" },
		{ F_NSOCK, 4, SNAP_MAX_SOCKETS + 1, "exceeds the limit" },
		{ F_NSOCK, 4, 4, "cannot fit" },
		{ F_NSOCK, 4, 1, "trailing" },
		{ F_S1_PROTO, 1, SNAP_PROTO_MAX, "proto" },
		{ F_S1_STATE, 1, SNAP_STATE_MAX, "state" },
		{ F_S1_OWNER, 1, SNAP_OWNER_MAX, "owner" },
		{ F_S1_FAMILY, 1, 5, "family" },
		{ F_S1_FAMILY, 1, 0, "family" },
		{ F_S1_RFAMILY, 1, 2, "remote family" },
		{ F_S1_RESERVED, 1, 1, "reserved" },
		{ F_S1_PID, 4, 0xffffffff, "does not fit owner" },
		{ F_S2_PID, 4, 7, "does not fit owner" },
	};
	size_t off[F_FIELD_MAX];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct w w;
		struct snapshot *s = NULL;
		struct frame_error err = { 0 };
		size_t o, end;

		reference(&w, off);
		end = w.n;
		o = off[rows[i].f];
		w.n = o;
		if (rows[i].width == 1)
			w8(&w, (uint8_t)rows[i].value);
		else
			w32(&w, rows[i].value);
		w.n = end;
		assert_int_equal(codec_decode_snapshot(w.b, w.n, 1, &s, &err),
		    -EBADMSG);
		assert_null(s);
		if (strstr(err.text, rows[i].text) == NULL)
			fail_msg("row %zu: '%s' lacks '%s'", i, err.text,
			    rows[i].text);
		assert_true(err.offset <= w.n);
	}
}

/* A varint in a longer form than needed is refused: one value, one
 * encoding, so a payload cannot smuggle slack. */
static void
test_varint_forms(void **state)
{
	struct w w;
	size_t off[F_FIELD_MAX];
	struct snapshot *s = NULL;
	struct frame_error err;
	uint8_t tail[4096];
	size_t o, rest;

	reference(&w, off);
	o = off[F_HOST_REF];
	rest = w.n - o - 1;
	memcpy(tail, w.b + o + 1, rest);
	w.b[o] = 0x80;		/* 0 as two bytes */
	w.b[o + 1] = 0x00;
	memcpy(w.b + o + 2, tail, rest);
	assert_int_equal(codec_decode_snapshot(w.b, w.n + 1, 1, &s, &err),
	    -EBADMSG);
	assert_non_null(strstr(err.text, "shortest"));
	/* six continuation bytes */
	memset(w.b + o, 0xff, 5);
	w.b[o + 5] = 0x01;
	assert_int_equal(codec_decode_snapshot(w.b, o + 6, 1, &s, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "longer than 5"));
	/* 5 bytes but more than 32 bits */
	memset(w.b + o, 0xff, 4);
	w.b[o + 4] = 0x7f;
	assert_int_equal(codec_decode_snapshot(w.b, o + 5, 1, &s, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "32 bits"));
}

/* Nor is a string nobody refers to. */
static void
test_unused_string(void **state)
{
	struct w w;
	size_t off[F_FIELD_MAX], o;
	struct snapshot *s = NULL;
	struct frame_error err;
	uint8_t tail[4096];

	reference(&w, off);
	o = off[F_HOST_REF];
	memcpy(tail, w.b + o, w.n - o);
	w.b[o] = 1;
	w.b[o + 1] = 'z';
	memcpy(w.b + o + 2, tail, w.n - o);
	w.b[0] = 6;
	assert_int_equal(codec_decode_snapshot(w.b, w.n + 2, 1, &s, &err),
	    -EBADMSG);
	assert_non_null(strstr(err.text, "string 5 is never used"));
	assert_null(s);
}

/* A string listed twice is not what the encoder writes. */
static void
test_repeated_string(void **state)
{
	struct w w;
	size_t off[F_FIELD_MAX];
	struct snapshot *s = NULL;
	struct frame_error err;
	uint8_t *root = NULL;

	reference(&w, off);
	for (size_t i = 0; i + 4 <= w.n && root == NULL; i++)
		if (memcmp(w.b + i, "root", 4) == 0)
			root = w.b + i;
	assert_non_null(root);
	memcpy(root, "host", 4);
	assert_int_equal(codec_decode_snapshot(w.b, w.n, 1, &s, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "string 2 repeats string 0"));
	assert_null(s);
}

static void
test_oversize(void **state)
{
	struct snapshot *s = NULL;
	struct frame_error err;
	uint8_t b[4] = { 0 };

	assert_int_equal(codec_decode_snapshot(b, (size_t)FRAME_MAX_PAYLOAD + 1, 1,
	    &s, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "limit"));
	assert_null(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_generated),
		cmocka_unit_test(test_interning),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_reference_layout),
		cmocka_unit_test(test_corrupted_fields),
		cmocka_unit_test(test_varint_forms),
		cmocka_unit_test(test_repeated_string),
		cmocka_unit_test(test_unused_string),
		cmocka_unit_test(test_oversize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
