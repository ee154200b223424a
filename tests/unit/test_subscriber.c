/*
 * webd/subscriber.c against a scripted fake collector (a thread speaking
 * the protocol through transport.h): the handshake, what it reports when
 * the collector misbehaves, and reconnecting after the collector goes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "frame.h"
#include "snapshot.h"
#include "subscriber.h"
#include "transport.h"

enum script {
	SCRIPT_GOOD,		/* HELLO, SNAPSHOT x n, then close */
	SCRIPT_REFUSE,		/* ERROR instead of HELLO */
	SCRIPT_VERSION,		/* answers with a version we do not speak */
	SCRIPT_BAD_SNAPSHOT,	/* HELLO, then a SNAPSHOT that does not decode */
	SCRIPT_BAD_MAGIC,	/* garbage instead of HELLO */
	SCRIPT_SILENT_AFTER,	/* HELLO, one SNAPSHOT, then says nothing */
	SCRIPT_STALL_PAYLOAD,	/* HELLO, a SNAPSHOT's header, then nothing */
	SCRIPT_MAX
};

struct fake {
	char dir[64];
	char path[128];
	struct ipc_server *srv;
	pthread_t thread;
	enum script script;
	int sessions;		/* how many connections to serve */
	int snapshots;		/* per session, SCRIPT_GOOD */
	atomic_bool stop;
	/* what the client said */
	struct frame_hello hello;
	struct frame_subscribe sub;
	atomic_int served;
};

static struct snapshot *
small_snapshot(int64_t t)
{
	struct snapshot_builder *b = snapshot_builder_new();
	struct snapshot *s;
	struct snap_process p = { .pid = 42, .ppid = 1, .start_time = 7,
	    .user = "u", .name = "fake", .exe = "/bin/fake", .cmdline = "fake" };

	snapshot_builder_set_meta(b, "fakehost", "linux", t, true);
	snapshot_builder_add_process(b, &p);
	snapshot_builder_finish(b, &s);
	return s;
}

static int
read_frame(struct ipc_conn *c, struct frame_header *h, uint8_t *p)
{
	uint8_t hb[FRAME_HEADER_SIZE];
	struct frame_error err;

	if (ipc_read_full(c, hb, sizeof(hb), 5000) < 0 ||
	    frame_header_read(hb, sizeof(hb), 1, FRAME_MAX_CONTROL, h,
	    &err) < 0 || ipc_read_full(c, p, h->length, 5000) < 0)
		return -1;
	return 0;
}

static void
send_snapshot(struct ipc_conn *c, int64_t t)
{
	struct snapshot *s = small_snapshot(t);
	uint8_t *buf;
	size_t len;

	assert_int_equal(codec_encode_snapshot_frame(s, 1, &buf, &len), 0);
	ipc_write_full(c, buf, len, 5000);
	free(buf);
	snapshot_unref(s);
}

static void
serve_one(struct fake *f, struct ipc_conn *c)
{
	uint8_t p[FRAME_MAX_CONTROL], out[FRAME_SMALL_MAX];
	struct frame_header h;
	struct frame_error err;
	struct frame_hello reply = { .min_version = 1, .max_version = 1 };
	size_t len;

	if (read_frame(c, &h, p) < 0 || h.type != FRAME_HELLO ||
	    frame_decode_hello(p, h.length, &f->hello, &err) < 0)
		return;
	switch (f->script) {
	case SCRIPT_REFUSE:
		frame_encode_error("too many clients", 1, out, sizeof(out),
		    &len);
		ipc_write_full(c, out, len, 5000);
		return;
	case SCRIPT_VERSION:
		reply.min_version = reply.max_version = 9;
		frame_encode_hello(&reply, 9, out, sizeof(out), &len);
		ipc_write_full(c, out, len, 5000);
		return;
	case SCRIPT_BAD_MAGIC:
		ipc_write_full(c, "HTTP/1.0 400 Bad Request\r\n\r\n", 28, 5000);
		return;
	default:
		break;
	}
	strcpy(reply.agent, "fake-collector");
	frame_encode_hello(&reply, 1, out, sizeof(out), &len);
	ipc_write_full(c, out, len, 5000);
	if (read_frame(c, &h, p) < 0 || h.type != FRAME_SUBSCRIBE ||
	    frame_decode_subscribe(p, h.length, &f->sub, &err) < 0)
		return;
	if (f->script == SCRIPT_STALL_PAYLOAD) {
		frame_header_write(out, 1, FRAME_SNAPSHOT, 1000);
		ipc_write_full(c, out, FRAME_HEADER_SIZE + 10, 5000);
		while (!atomic_load(&f->stop))
			if (ipc_conn_wait_readable(c, 50) != 0)
				break;
		return;
	}
	if (f->script == SCRIPT_BAD_SNAPSHOT) {
		frame_header_write(out, 1, FRAME_SNAPSHOT, 4);
		memcpy(out + FRAME_HEADER_SIZE, "\xff\xff\xff\xff", 4);
		ipc_write_full(c, out, FRAME_HEADER_SIZE + 4, 5000);
		return;
	}
	for (int i = 0; i < (f->script == SCRIPT_SILENT_AFTER ? 1 :
	    f->snapshots); i++)
		send_snapshot(c, 1000 + atomic_load(&f->served) * 100 + i);
	if (f->script == SCRIPT_SILENT_AFTER)
		while (!atomic_load(&f->stop))
			if (ipc_conn_wait_readable(c, 50) != 0)
				break;
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;

	for (int n = 0; n < f->sessions && !atomic_load(&f->stop);) {
		struct ipc_conn *c;

		if (ipc_server_accept(f->srv, 50, &c) < 0)
			continue;
		serve_one(f, c);
		ipc_conn_close(c);
		atomic_fetch_add(&f->served, 1);
		n++;
	}
	return NULL;
}

static struct fake *
fake_start(enum script script, int sessions, int snapshots)
{
	struct fake *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/procnet-sub-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/c.sock", f->dir);
	f->script = script;
	f->sessions = sessions;
	f->snapshots = snapshots;
	assert_int_equal(ipc_server_open(f->path, NULL, &f->srv), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	return f;
}

static void
fake_stop(struct fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	ipc_server_close(f->srv);
	rmdir(f->dir);
	free(f);
}

static void
test_fetch_once(void **state)
{
	struct fake *f = fake_start(SCRIPT_GOOD, 1, 1);
	struct snapshot *s = NULL;
	char err[256];

	assert_int_equal(subscriber_fetch_once(f->path, NULL, true, 10000, &s,
	    err,
	    sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(s->host, "fakehost");
	assert_int_equal(s->n_processes, 1);
	snapshot_unref(s);
	fake_stop(f);
}

static void
test_fetch_once_subscribe_values(void **state)
{
	struct fake *f = fake_start(SCRIPT_GOOD, 1, 1);
	struct snapshot *s = NULL;
	char err[256];

	assert_int_equal(subscriber_fetch_once(f->path, NULL, true, 10000, &s,
	    err,
	    sizeof(err)), 0);
	snapshot_unref(s);
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	assert_true(f->sub.udp);
	assert_int_equal(f->hello.min_version, FRAME_VERSION_MIN);
	assert_int_equal(f->hello.max_version, FRAME_VERSION_MAX);
	assert_non_null(strstr(f->hello.agent, "procnet-webd/"));
	ipc_server_close(f->srv);
	rmdir(f->dir);
	free(f);
}

/* Each misbehaviour gives a failure with a reason a person can act on. */
static void
test_fetch_once_errors(void **state)
{
	static const struct {
		enum script script;
		const char *text;
	} rows[] = {
		{ SCRIPT_REFUSE, "collector refused: too many clients" },
		{ SCRIPT_VERSION, "collector chose protocol 9..9" },
		{ SCRIPT_BAD_SNAPSHOT, "bad snapshot at byte 0" },
		{ SCRIPT_BAD_MAGIC, "bad magic" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fake *f = fake_start(rows[i].script, 1, 0);
		struct snapshot *s = NULL;
		char err[256] = "";

		assert_true(subscriber_fetch_once(f->path, NULL, false, 10000, &s,
		    err, sizeof(err)) < 0);
		assert_null(s);
		if (strstr(err, rows[i].text) == NULL)
			fail_msg("row %zu: '%s' lacks '%s'", i, err,
			    rows[i].text);
		fake_stop(f);
	}
}

/* The timeout bounds the whole call: a collector that stalls inside a
 * SNAPSHOT's payload is given up on by then, not after the 30 s a live
 * session allows a payload. */
static void
test_fetch_once_deadline(void **state)
{
	struct fake *f = fake_start(SCRIPT_STALL_PAYLOAD, 1, 0);
	struct snapshot *s = NULL;
	char err[256] = "";

	assert_int_equal(subscriber_fetch_once(f->path, NULL, false, 300, &s, err,
	    sizeof(err)), -ETIMEDOUT);
	assert_null(s);
	assert_non_null(strstr(err, "SNAPSHOT payload"));
	fake_stop(f);
}

static void
test_fetch_once_nobody(void **state)
{
	struct snapshot *s = NULL;
	char err[256];

	assert_int_equal(subscriber_fetch_once("/nonexistent/procnet.sock", NULL,
	    false, 1000, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "is procnet-collector running?"));
	assert_null(s);
}

struct seen {
	atomic_int snapshots;
	atomic_int connecting;
	atomic_int connected;
};

static void
on_snap(struct snapshot *s, void *user)
{
	struct seen *seen = user;

	assert_string_equal(s->host, "fakehost");
	atomic_fetch_add(&seen->snapshots, 1);
}

static void
on_state(enum subscriber_state st, const char *error, void *user)
{
	struct seen *seen = user;

	if (st == SUBSCRIBER_CONNECTED)
		atomic_fetch_add(&seen->connected, 1);
	else
		atomic_fetch_add(&seen->connecting, 1);
}

/* Bounded wait for a condition; no assertion on how long it took. */
static bool
wait_until(atomic_int *v, int want)
{
	for (int i = 0; i < 400; i++) {
		struct timespec ts = { 0, 25 * 1000000L };

		if (atomic_load(v) >= want)
			return true;
		nanosleep(&ts, NULL);
	}
	return atomic_load(v) >= want;
}

static void
test_stream_and_reconnect(void **state)
{
	struct fake *f = fake_start(SCRIPT_GOOD, 2, 3);
	struct seen seen = { 0 };
	struct subscriber_opts o = { .endpoint = f->path, .interval_ms = 250,
	    .on_snapshot = on_snap, .on_state = on_state, .user = &seen };
	struct subscriber_status st;
	struct subscriber *sub;
	struct snapshot *latest;

	assert_int_equal(subscriber_start(&o, &sub), 0);
	/* 3 snapshots, the fake hangs up, the subscriber comes back for 3 more */
	assert_true(wait_until(&seen.snapshots, 6));
	assert_true(wait_until(&seen.connected, 2));
	assert_true(seen.connecting >= 1);
	latest = subscriber_latest(sub);
	assert_non_null(latest);
	assert_int_equal(latest->time_ms, 1000 + 100 + 2);
	snapshot_unref(latest);
	/* the fake is gone for good now: not connected, with a reason */
	fake_stop(f);
	for (int i = 0; i < 400; i++) {
		struct timespec ts = { 0, 25 * 1000000L };

		subscriber_state(sub, &st);
		if (st.state != SUBSCRIBER_CONNECTED && st.error[0] != '\0')
			break;
		nanosleep(&ts, NULL);
	}
	assert_int_not_equal(st.state, SUBSCRIBER_CONNECTED);
	assert_true(st.error[0] != '\0');
	assert_int_equal(st.n_snapshots, 6);
	assert_int_equal(st.n_connects, 2);
	assert_int_equal(st.last_sample_ms, 1102);
	assert_true(st.last_receive_ms > 0);
	/* the last snapshot outlives the connection */
	latest = subscriber_latest(sub);
	assert_non_null(latest);
	snapshot_unref(latest);
	subscriber_stop(sub);
	subscriber_stop(NULL);
}

/* Stopping while the collector is connected but quiet must not hang. */
static void
test_stop_while_blocked(void **state)
{
	struct fake *f = fake_start(SCRIPT_SILENT_AFTER, 1, 1);
	struct seen seen = { 0 };
	struct subscriber_opts o = { .endpoint = f->path, .interval_ms = 60000,
	    .on_snapshot = on_snap, .user = &seen };
	struct subscriber_status st;
	struct subscriber *sub;

	assert_int_equal(subscriber_start(&o, &sub), 0);
	assert_true(wait_until(&seen.snapshots, 1));
	subscriber_state(sub, &st);
	assert_int_equal(st.state, SUBSCRIBER_CONNECTED);
	assert_int_equal(st.version, 1);
	assert_string_equal(subscriber_state_name(st.state), "connected");
	subscriber_stop(sub);	/* returns: the blocked read is interrupted */
	fake_stop(f);
}

static void
test_start_errors(void **state)
{
	struct subscriber *sub = NULL;
	struct subscriber_opts o = { 0 };
	char longpath[400];

	assert_int_equal(subscriber_start(NULL, &sub), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	o.endpoint = longpath;
	assert_int_equal(subscriber_start(&o, &sub), -ENAMETOOLONG);
	assert_null(sub);
	assert_null(subscriber_state_name(SUBSCRIBER_STATE_MAX));
	assert_string_equal(subscriber_state_name(SUBSCRIBER_DOWN), "down");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_once),
		cmocka_unit_test(test_fetch_once_subscribe_values),
		cmocka_unit_test(test_fetch_once_errors),
		cmocka_unit_test(test_fetch_once_deadline),
		cmocka_unit_test(test_fetch_once_nobody),
		cmocka_unit_test(test_stream_and_reconnect),
		cmocka_unit_test(test_stop_while_blocked),
		cmocka_unit_test(test_start_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
