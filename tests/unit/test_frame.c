/* ipc/frame: header checks, the small messages, version negotiation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
test_header_layout(void **state)
{
	uint8_t h[FRAME_HEADER_SIZE];
	const uint8_t want[FRAME_HEADER_SIZE] = {
		'P', 'N', 'E', 'T', 1, 0, 3, 0, 0x34, 0x12, 0, 0, 0, 0, 0, 0,
	};
	struct frame_header fh;
	struct frame_error err;

	frame_header_write(h, 1, FRAME_SNAPSHOT, 0x1234);
	assert_memory_equal(h, want, sizeof(want));
	assert_int_equal(frame_header_read(h, sizeof(h), 1, FRAME_MAX_PAYLOAD,
	    &fh, &err), 0);
	assert_int_equal(fh.version, 1);
	assert_int_equal(fh.type, FRAME_SNAPSHOT);
	assert_int_equal(fh.length, 0x1234);
}

/* One corrupted header field per row, and the error it must give. */
static void
test_header_rejects(void **state)
{
	static const struct {
		size_t off;
		int width;
		uint32_t value;
		int want;
		const char *text;
	} rows[] = {
		{ 0, 4, 0x54454e51, -EBADMSG, "magic" },
		{ 0, 1, 'p', -EBADMSG, "magic" },
		{ 6, 2, 0, -EBADMSG, "unknown message type 0" },
		{ 6, 2, FRAME_TYPE_MAX, -EBADMSG, "unknown message type" },
		{ 6, 2, 0xffff, -EBADMSG, "unknown message type 65535" },
		{ 4, 2, 2, -EPROTO, "version 2" },
		{ 4, 2, 0, -EPROTO, "version 0" },
		{ 8, 4, 257, -EMSGSIZE, "exceeds the limit of 256" },
		{ 8, 4, 0xffffffff, -EMSGSIZE, "exceeds" },
		{ 12, 4, 1, -EBADMSG, "reserved" },
		{ 15, 1, 0x80, -EBADMSG, "reserved" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t h[FRAME_HEADER_SIZE];
		struct frame_header fh = { 0 };
		struct frame_error err = { 0 };

		frame_header_write(h, 1, FRAME_SUBSCRIBE, 8);
		if (rows[i].width == 1)
			h[rows[i].off] = (uint8_t)rows[i].value;
		else if (rows[i].width == 2)
			put16(h + rows[i].off, (uint16_t)rows[i].value);
		else
			put32(h + rows[i].off, rows[i].value);
		assert_int_equal(frame_header_read(h, sizeof(h), 1,
		    FRAME_MAX_CONTROL, &fh, &err), rows[i].want);
		if (strstr(err.text, rows[i].text) == NULL)
			fail_msg("row %zu: '%s' lacks '%s'", i, err.text,
			    rows[i].text);
		assert_int_equal(fh.type, 0);	/* untouched on error */
	}
}

static void
test_header_truncated(void **state)
{
	uint8_t h[FRAME_HEADER_SIZE];
	struct frame_header fh;
	struct frame_error err;

	frame_header_write(h, 1, FRAME_HELLO, 4);
	for (size_t n = 0; n < FRAME_HEADER_SIZE; n++)
		assert_int_equal(frame_header_read(h, n, 1, FRAME_MAX_CONTROL,
		    &fh, &err), -ENODATA);
}

/* HELLO and ERROR must be readable whatever version their sender speaks. */
static void
test_hello_any_version(void **state)
{
	uint8_t h[FRAME_HEADER_SIZE];
	struct frame_header fh;
	struct frame_error err;

	frame_header_write(h, 7, FRAME_HELLO, 10);
	assert_int_equal(frame_header_read(h, sizeof(h), 1, FRAME_MAX_CONTROL,
	    &fh, &err), 0);
	assert_int_equal(fh.version, 7);
	frame_header_write(h, 7, FRAME_ERROR, 10);
	assert_int_equal(frame_header_read(h, sizeof(h), 2, FRAME_MAX_CONTROL,
	    &fh, &err), 0);
	assert_int_equal(fh.version, 7);
	frame_header_write(h, 0, FRAME_ERROR, 10);
	assert_int_equal(frame_header_read(h, sizeof(h), 2, FRAME_MAX_CONTROL,
	    &fh, &err), -EPROTO);
	frame_header_write(h, 7, FRAME_SNAPSHOT, 8);
	assert_int_equal(frame_header_read(h, sizeof(h), 1, FRAME_MAX_CONTROL,
	    &fh, &err), -EPROTO);
	frame_header_write(h, 7, FRAME_SUBSCRIBE, 8);
	assert_int_equal(frame_header_read(h, sizeof(h), 1, FRAME_MAX_CONTROL,
	    &fh, &err), -EPROTO);
}

static void
test_frame_read_exact(void **state)
{
	uint8_t buf[FRAME_SMALL_MAX + 1];
	const uint8_t *payload;
	struct frame_header fh;
	struct frame_error err;
	struct frame_subscribe sub = { .interval_ms = 500, .udp = true };
	size_t len;

	assert_int_equal(frame_encode_subscribe(&sub, 1, buf, sizeof(buf),
	    &len), 0);
	assert_int_equal(len, FRAME_HEADER_SIZE + 8);
	assert_int_equal(frame_read(buf, len, 1, FRAME_MAX_CONTROL, &fh,
	    &payload, &err), 0);
	assert_ptr_equal(payload, buf + FRAME_HEADER_SIZE);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(frame_read(buf, n, 1, FRAME_MAX_CONTROL, &fh,
		    &payload, &err), -ENODATA);
	buf[len] = 0;
	assert_int_equal(frame_read(buf, len + 1, 1, FRAME_MAX_CONTROL, &fh,
	    &payload, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "trailing"));
}

static void
test_hello_roundtrip(void **state)
{
	struct frame_hello h = { .min_version = 1, .max_version = 3 }, out;
	uint8_t buf[FRAME_SMALL_MAX];
	const uint8_t *p;
	struct frame_header fh;
	struct frame_error err;
	size_t len;

	memset(h.agent, 'a', FRAME_MAX_AGENT);
	h.agent[FRAME_MAX_AGENT] = '\0';
	assert_int_equal(frame_encode_hello(&h, 1, buf, sizeof(buf), &len), 0);
	assert_int_equal(frame_read(buf, len, 1, FRAME_MAX_CONTROL, &fh, &p,
	    &err), 0);
	assert_int_equal(fh.type, FRAME_HELLO);
	assert_int_equal(frame_decode_hello(p, fh.length, &out, &err), 0);
	assert_int_equal(out.min_version, 1);
	assert_int_equal(out.max_version, 3);
	assert_string_equal(out.agent, h.agent);

	/* every truncation of the payload fails */
	for (size_t n = 0; n < fh.length; n++)
		assert_int_equal(frame_decode_hello(p, n, &out, &err), -EBADMSG);
	/* too small a buffer is not an overflow */
	assert_int_equal(frame_encode_hello(&h, 1, buf, 20, &len), -ENOSPC);
	/* an empty range cannot be sent */
	h.min_version = 4;
	assert_int_equal(frame_encode_hello(&h, 1, buf, sizeof(buf), &len),
	    -EINVAL);
}

static void
test_hello_rejects(void **state)
{
	uint8_t p[8 + FRAME_MAX_AGENT];
	struct frame_hello out;
	struct frame_error err;

	/* empty range */
	put16(p, 2);
	put16(p + 2, 1);
	put16(p + 4, 0);
	assert_int_equal(frame_decode_hello(p, 6, &out, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "range"));
	put16(p, 0);
	put16(p + 2, 0);
	assert_int_equal(frame_decode_hello(p, 6, &out, &err), -EBADMSG);
	/* agent too long */
	put16(p, 1);
	put16(p + 2, 1);
	put16(p + 4, FRAME_MAX_AGENT + 1);
	memset(p + 6, 'x', FRAME_MAX_AGENT + 1);
	assert_int_equal(frame_decode_hello(p, 6 + FRAME_MAX_AGENT + 1, &out,
	    &err), -EBADMSG);
	assert_non_null(strstr(err.text, "limit"));
	/* agent longer than what remains */
	put16(p + 4, 5);
	assert_int_equal(frame_decode_hello(p, 6 + 4, &out, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "remain"));
	/* NUL inside the agent */
	memcpy(p + 6, "ab\0cd", 5);
	assert_int_equal(frame_decode_hello(p, 11, &out, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "NUL"));
	/* not UTF-8: a lone continuation byte, a cut character, an
	 * overlong form, a surrogate */
	{
		static const char *const bad[] = { "ab\x80" "cd", "abcd\xc3",
		    "a\xc0\xaf" "cd", "a\xed\xa0\x80" "d" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memcpy(p + 6, bad[i], 5);
			assert_int_equal(frame_decode_hello(p, 11, &out, &err),
			    -EBADMSG);
			assert_non_null(strstr(err.text, "not valid UTF-8"));
			assert_int_equal(err.offset, 6);
		}
		memcpy(p + 6, "a\xc3\xa9" "cd", 5);
		assert_int_equal(frame_decode_hello(p, 11, &out, &err), 0);
		assert_string_equal(out.agent, "a\xc3\xa9" "cd");
	}
	/* trailing byte */
	memcpy(p + 6, "abcde", 5);
	assert_int_equal(frame_decode_hello(p, 11, &out, &err), 0);
	assert_string_equal(out.agent, "abcde");
	assert_int_equal(frame_decode_hello(p, 12, &out, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "trailing"));
}

static void
test_subscribe(void **state)
{
	uint8_t buf[FRAME_SMALL_MAX];
	struct frame_subscribe s = { .interval_ms = 100, .udp = false }, out;
	struct frame_error err;
	size_t len;
	uint8_t *p = buf + FRAME_HEADER_SIZE;

	assert_int_equal(frame_encode_subscribe(&s, 1, buf, sizeof(buf), &len),
	    0);
	assert_int_equal(frame_decode_subscribe(p, 8, &out, &err), 0);
	assert_int_equal(out.interval_ms, 100);
	assert_false(out.udp);
	put32(p + 4, FRAME_SUB_UDP);
	assert_int_equal(frame_decode_subscribe(p, 8, &out, &err), 0);
	assert_true(out.udp);
	put32(p + 4, 0x2);
	assert_int_equal(frame_decode_subscribe(p, 8, &out, &err), -EBADMSG);
	assert_non_null(strstr(err.text, "flags"));
	put32(p + 4, 0);
	for (size_t n = 0; n < 8; n++)
		assert_int_equal(frame_decode_subscribe(p, n, &out, &err),
		    -EBADMSG);
	assert_int_equal(frame_decode_subscribe(p, 9, &out, &err), -EBADMSG);
}

static void
test_error_text(void **state)
{
	uint8_t buf[FRAME_SMALL_MAX];
	char text[FRAME_MAX_ERROR_TEXT + 1], small[8];
	char *longtext;
	struct frame_error err;
	size_t len, n = FRAME_MAX_ERROR_TEXT + 10;

	assert_int_equal(frame_encode_error("no", 1, buf, sizeof(buf), &len), 0);
	assert_int_equal(frame_decode_error(buf + FRAME_HEADER_SIZE,
	    len - FRAME_HEADER_SIZE, text, sizeof(text), &err), 0);
	assert_string_equal(text, "no");

	/* long text is cut, and not inside a UTF-8 character: "é" is 2
	 * bytes and straddles the limit */
	longtext = malloc(n + 1);
	memset(longtext, 'a', n);
	longtext[FRAME_MAX_ERROR_TEXT - 1] = (char)0xc3;
	longtext[FRAME_MAX_ERROR_TEXT] = (char)0xa9;
	longtext[n] = '\0';
	assert_int_equal(frame_encode_error(longtext, 1, buf, sizeof(buf), &len),
	    0);
	assert_int_equal(len, FRAME_HEADER_SIZE + 2 + FRAME_MAX_ERROR_TEXT - 1);
	assert_int_equal(frame_decode_error(buf + FRAME_HEADER_SIZE,
	    len - FRAME_HEADER_SIZE, text, sizeof(text), &err), 0);
	assert_int_equal(strlen(text), FRAME_MAX_ERROR_TEXT - 1);
	/* a small output buffer truncates, it does not overflow */
	assert_int_equal(frame_decode_error(buf + FRAME_HEADER_SIZE,
	    len - FRAME_HEADER_SIZE, small, sizeof(small), &err), 0);
	assert_string_equal(small, "aaaaaaa");
	free(longtext);

	/* a short buffer is not left ending inside a character */
	assert_int_equal(frame_encode_error("abcdef\xc3\xa9", 1, buf,
	    sizeof(buf), &len), 0);
	assert_int_equal(frame_decode_error(buf + FRAME_HEADER_SIZE,
	    len - FRAME_HEADER_SIZE, small, sizeof(small), &err), 0);
	assert_string_equal(small, "abcdef");
	/* text that is not UTF-8 is neither sent nor taken */
	assert_int_equal(frame_encode_error("bad \xff", 1, buf, sizeof(buf),
	    &len), -EINVAL);
	put16(buf, 3);
	memcpy(buf + 2, "a\xff" "b", 3);
	assert_int_equal(frame_decode_error(buf, 5, text, sizeof(text), &err),
	    -EBADMSG);
	assert_non_null(strstr(err.text, "not valid UTF-8"));

	/* declared length beyond the limit */
	put16(buf, FRAME_MAX_ERROR_TEXT + 1);
	assert_int_equal(frame_decode_error(buf, FRAME_MAX_ERROR_TEXT + 3, text,
	    sizeof(text), &err), -EBADMSG);
	put16(buf, 3);
	assert_int_equal(frame_decode_error(buf, 1, text, sizeof(text), &err),
	    -EBADMSG);
	assert_int_equal(frame_decode_error(buf, 4, text, sizeof(text), &err),
	    -EBADMSG);
}

static void
test_negotiate(void **state)
{
	uint16_t v = 0;

	assert_int_equal(frame_negotiate(1, 1, 1, 1, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(frame_negotiate(1, 3, 2, 5, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(frame_negotiate(2, 5, 1, 3, &v), 0);
	assert_int_equal(v, 3);
	v = 0;
	assert_int_equal(frame_negotiate(1, 1, 2, 4, &v), -EPROTONOSUPPORT);
	assert_int_equal(frame_negotiate(2, 4, 1, 1, &v), -EPROTONOSUPPORT);
	assert_int_equal(frame_negotiate(1, 4, 3, 2, &v), -EPROTONOSUPPORT);
	assert_int_equal(frame_negotiate(0, 0, 0, 0, &v), -EPROTONOSUPPORT);
	assert_int_equal(v, 0);
	assert_string_equal(frame_type_name(FRAME_ERROR), "ERROR");
	assert_null(frame_type_name(FRAME_TYPE_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_header_rejects),
		cmocka_unit_test(test_header_truncated),
		cmocka_unit_test(test_hello_any_version),
		cmocka_unit_test(test_frame_read_exact),
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_hello_rejects),
		cmocka_unit_test(test_subscribe),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_negotiate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
