/*
 * jsonw (the JSON text writer behind snapshot_json and graph_json),
 * addrfmt (address and endpoint text) and utf8: exact bytes for each value
 * form, string escaping and UTF-8 repair, the sink, sticky errors, UTF-8
 * validity and cutting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addrfmt.h"
#include "jsonw.h"
#include "utf8.h"

static void
check_text(struct jsonw *w, const char *want)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(jsonw_finish(w, &out, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(out, want);
	free(out);
}

static void
test_values(void **state)
{
	struct jsonw w;

	(void)state;
	jsonw_init(&w, NULL, NULL);
	JSONW_LIT(&w, "[");
	jsonw_u64(&w, 0);
	jsonw_char(&w, ',');
	jsonw_u64(&w, UINT64_MAX);
	jsonw_char(&w, ',');
	jsonw_i64(&w, INT64_MIN);
	jsonw_char(&w, ',');
	jsonw_i64(&w, -1);
	jsonw_char(&w, ',');
	jsonw_bool(&w, true);
	jsonw_char(&w, ',');
	jsonw_bool(&w, false);
	jsonw_char(&w, ',');
	jsonw_str(&w, NULL);
	JSONW_LIT(&w, "]");
	check_text(&w, "[0,18446744073709551615,-9223372036854775808,-1,"
	    "true,false,\"\"]");

	/* An empty writer finishes as an empty string, not NULL. */
	jsonw_init(&w, NULL, NULL);
	check_text(&w, "");
}

static void
check_str(const char *in, const char *want)
{
	struct jsonw w;

	jsonw_init(&w, NULL, NULL);
	jsonw_str(&w, in);
	check_text(&w, want);
}

static void
test_strings(void **state)
{
	(void)state;
	check_str("plain", "\"plain\"");
	check_str("a\"b\\c/", "\"a\\\"b\\\\c/\"");
	check_str("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	check_str("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
	check_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
	/* Each byte that starts no valid sequence becomes U+FFFD. */
	check_str("a\xff" "b", "\"a\xef\xbf\xbd" "b\"");
	check_str("cut \xe2\x82", "\"cut \xef\xbf\xbd\xef\xbf\xbd\"");
	check_str("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	check_str("\xe0\x80\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_str("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_str("\xf0\x80\x80\x80",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_str("\xf4\x90\x80\x80",
	    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	check_str("\xf5", "\"\xef\xbf\xbd\"");
}

/* A long string grows the buffer past its first size intact. */
static void
test_growth(void **state)
{
	size_t n = 100000, i;
	char *in = malloc(n + 1), *want = malloc(n + 3);
	struct jsonw w;

	(void)state;
	assert_non_null(in);
	assert_non_null(want);
	for (i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	in[n] = '\0';
	want[0] = '"';
	memcpy(want + 1, in, n);
	memcpy(want + 1 + n, "\"", 2);
	jsonw_init(&w, NULL, NULL);
	jsonw_str(&w, in);
	check_text(&w, want);
	free(in);
	free(want);
}

struct sink {
	char buf[1024 * 1024];
	size_t len;
	int calls, fail_at, rc;
};

static int
sink_collect(void *arg, const char *buf, size_t len)
{
	struct sink *k = arg;

	if (++k->calls == k->fail_at)
		return k->rc;
	assert_true(len <= sizeof(k->buf) - k->len);
	memcpy(k->buf + k->len, buf, len);
	k->len += len;
	return 0;
}

static void
fill(struct jsonw *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		jsonw_str(w, "0123456789abcdef0123456789abcdef");
		jsonw_char(w, ',');
	}
}

static void
test_sink(void **state)
{
	static struct sink k;
	struct jsonw w;
	size_t i;

	(void)state;
	memset(&k, 0, sizeof(k));
	jsonw_init(&w, sink_collect, &k);
	assert_true(jsonw_reserve(&w, JSONW_CHUNK));
	fill(&w, 20000);	/* 700 KB: several pieces */
	assert_int_equal(jsonw_finish(&w, NULL, NULL), 0);
	assert_true(k.calls > 1);
	assert_int_equal(k.len, 20000 * 35);
	for (i = 0; i < k.len; i += 35)
		assert_memory_equal(k.buf + i,
		    "\"0123456789abcdef0123456789abcdef\",", 35);
	assert_null(w.p);

	/* The sink's error stops the writer and is what finish returns. */
	memset(&k, 0, sizeof(k));
	k.fail_at = 2;
	k.rc = -EPIPE;
	jsonw_init(&w, sink_collect, &k);
	assert_true(jsonw_reserve(&w, JSONW_CHUNK));
	fill(&w, 20000);
	assert_int_equal(k.calls, 2);
	assert_int_equal(jsonw_finish(&w, NULL, NULL), -EPIPE);
	assert_int_equal(k.calls, 2);

	/* A sink that returns a positive number still fails the write. */
	memset(&k, 0, sizeof(k));
	k.fail_at = 1;
	k.rc = 1;
	jsonw_init(&w, sink_collect, &k);
	JSONW_LIT(&w, "x");
	assert_int_equal(jsonw_finish(&w, NULL, NULL), -EIO);
}

/* An error is sticky: later writes do nothing, finish hands out nothing. */
static void
test_sticky_error(void **state)
{
	struct jsonw w;
	char *out = (char *)"untouched";

	(void)state;
	jsonw_init(&w, NULL, NULL);
	JSONW_LIT(&w, "abc");
	w.error = -ENOMEM;
	JSONW_LIT(&w, "def");
	jsonw_str(&w, "x");
	assert_int_equal(w.len, 3);
	assert_int_equal(jsonw_finish(&w, &out, NULL), -ENOMEM);
	assert_string_equal(out, "untouched");
	assert_null(w.p);
}

static void
check_endpoint(int family, const char *addr_text, const uint8_t *bytes,
    uint16_t port, const char *want)
{
	struct snap_addr a;
	char buf[ADDRFMT_ENDPOINT_MAX], abuf[SNAP_ADDRSTRLEN];

	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)family;
	memcpy(a.bytes, bytes, family == 4 ? 4 : 16);
	assert_int_equal(addrfmt_addr(&a, abuf), strlen(addr_text));
	assert_string_equal(abuf, addr_text);
	assert_int_equal(addrfmt_endpoint(&a, port, buf), strlen(want));
	assert_string_equal(buf, want);
}

static void
test_addrfmt(void **state)
{
	static const uint8_t v4a[4] = { 0, 0, 0, 0 };
	static const uint8_t v4b[4] = { 255, 255, 255, 255 };
	static const uint8_t v4c[4] = { 10, 0, 100, 9 };
	static const uint8_t v4d[4] = { 127, 10, 1, 99 };
	static const uint8_t v6a[16] = { [15] = 1 };
	static const uint8_t v6b[16] = { 0 };
	static const uint8_t v6c[16] = { [10] = 0xff, [11] = 0xff, 192, 168,
	    1, 20 };
	static const uint8_t v6d[16] = { 0xfe, 0x80, [15] = 1 };
	/* The longest text there is: eight full groups. */
	static const uint8_t v6e[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	(void)state;
	check_endpoint(4, "0.0.0.0", v4a, 0, "0.0.0.0:0");
	check_endpoint(4, "255.255.255.255", v4b, 65535,
	    "255.255.255.255:65535");
	check_endpoint(4, "10.0.100.9", v4c, 80, "10.0.100.9:80");
	check_endpoint(4, "127.10.1.99", v4d, 5432, "127.10.1.99:5432");
	check_endpoint(6, "::1", v6a, 443, "[::1]:443");
	check_endpoint(6, "::", v6b, 1, "[::]:1");
	check_endpoint(6, "::ffff:192.168.1.20", v6c, 8080,
	    "[::ffff:192.168.1.20]:8080");
	check_endpoint(6, "fe80::1", v6d, 10000, "[fe80::1]:10000");
	check_endpoint(6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", v6e,
	    65535, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

/* utf8 (under jsonw and ipc/frame): validity and cutting. */
static void
test_utf8(void **state)
{
	static const struct {
		const char *s;
		bool valid;
	} rows[] = {
		{ "", true },
		{ "plain ascii \x7f", true },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true },
		{ "\xf4\x8f\xbf\xbf", true },		/* U+10FFFF */
		{ "\xed\x9f\xbf", true },		/* U+D7FF */
		{ "\x80", false },			/* lone continuation */
		{ "\xc3", false },			/* cut short */
		{ "\xc3(", false },
		{ "\xc0\xaf", false },			/* overlong */
		{ "\xe0\x80\xaf", false },
		{ "\xf0\x80\x80\xaf", false },
		{ "\xed\xa0\x80", false },		/* surrogate */
		{ "\xf4\x90\x80\x80", false },	/* past U+10FFFF */
		{ "\xf5\x80\x80\x80", false },
		{ "\xff", false },
	};
	const char *e = "ab\xc3\xa9" "cd";	/* "abécd" */

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (utf8_valid(rows[i].s, strlen(rows[i].s)) != rows[i].valid)
			fail_msg("row %zu: valid should be %d", i,
			    rows[i].valid);
	/* a length that ends inside a character is not valid */
	assert_false(utf8_valid(e, 3));
	assert_true(utf8_valid(e, 4));
	/* cutting never splits a character */
	assert_int_equal(utf8_cut(e, 10), 6);
	assert_int_equal(utf8_cut(e, 6), 6);
	assert_int_equal(utf8_cut(e, 5), 5);
	assert_int_equal(utf8_cut(e, 4), 4);
	assert_int_equal(utf8_cut(e, 3), 2);
	assert_int_equal(utf8_cut(e, 2), 2);
	assert_int_equal(utf8_cut(e, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_sink),
		cmocka_unit_test(test_sticky_error),
		cmocka_unit_test(test_addrfmt),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
