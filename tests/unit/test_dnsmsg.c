/* webd/dnsmsg.c: reverse names, and PTR replies good, hostile and broken. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dnsmsg.h"

/* A reply under construction. */
struct msg {
	uint8_t b[1024];
	size_t len;
};

static void
put8(struct msg *m, unsigned v)
{
	m->b[m->len++] = (uint8_t)v;
}

static void
put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void
put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* "a.b.c" as labels and the root. */
static void
putname(struct msg *m, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);

		put8(m, (unsigned)l);
		memcpy(m->b + m->len, name, l);
		m->len += l;
		name += l + (dot != NULL);
	}
	put8(m, 0);
}

static void
header(struct msg *m, unsigned flags, unsigned qd, unsigned an)
{
	m->len = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
}

static void
question(struct msg *m, const char *qname)
{
	putname(m, qname);
	put16(m, 12);
	put16(m, 1);
}

/* An answer record whose owner is a pointer to offset 12 (the question). */
static void
ptr_rr(struct msg *m, unsigned type, uint32_t ttl, const char *target)
{
	size_t rdlen_at;

	put16(m, 0xc000 | 12);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	rdlen_at = m->len;
	put16(m, 0);
	putname(m, target);
	m->b[rdlen_at] = (uint8_t)((m->len - rdlen_at - 2) >> 8);
	m->b[rdlen_at + 1] = (uint8_t)((m->len - rdlen_at - 2) & 0xff);
}

#define Q77 "77.0.0.127.in-addr.arpa"

static void
test_reverse_names(void **state)
{
	struct snap_addr a = { .family = 4, .bytes = { 127, 0, 0, 77 } };
	struct snap_addr b = { .family = 4, .bytes = { 10, 200, 0, 5 } };
	struct snap_addr c = { .family = 6, .bytes = { 0x20, 0x01, 0x0d,
	    0xb8, [15] = 0x01 } };
	struct snap_addr bad = { .family = 5 };
	char out[DNSMSG_REVERSE_MAX];
	int n;

	(void)state;
	assert_int_equal(dnsmsg_reverse_name(&a, out), strlen(Q77));
	assert_string_equal(out, Q77);
	dnsmsg_reverse_name(&b, out);
	assert_string_equal(out, "5.0.200.10.in-addr.arpa");
	n = dnsmsg_reverse_name(&c, out);
	assert_string_equal(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(n, DNSMSG_REVERSE_MAX - 1);
	assert_int_equal(dnsmsg_reverse_name(&bad, out), -EINVAL);
}

static void
test_answer(void **state)
{
	struct msg m;
	char name[DNSMSG_NAME_MAX + 1];
	uint32_t ttl = 0;

	(void)state;
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	ptr_rr(&m, 12, 3600, "DB.Test.Internal");
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl),
	    DNSMSG_ANSWER);
	assert_string_equal(name, "db.test.internal");
	assert_int_equal(ttl, 3600);

	/* A TTL with the top bit set counts as 0 (RFC 2181). */
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	ptr_rr(&m, 12, 0x80000001u, "x.example");
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl),
	    DNSMSG_ANSWER);
	assert_int_equal(ttl, 0);
}

static void
test_cname_chain(void **state)
{
	struct msg m;
	char name[DNSMSG_NAME_MAX + 1];
	uint32_t ttl;
	size_t rdlen_at;

	(void)state;
	/* RFC 2317: the PTR comes first, for the CNAME's target. */
	header(&m, 0x8180, 1, 2);
	question(&m, Q77);
	putname(&m, "77.64-127.0.0.127.in-addr.arpa");
	put16(&m, 12);
	put16(&m, 1);
	put32(&m, 60);
	rdlen_at = m.len;
	put16(&m, 0);
	putname(&m, "classless.example");
	m.b[rdlen_at + 1] = (uint8_t)(m.len - rdlen_at - 2);
	ptr_rr(&m, 5, 60, "77.64-127.0.0.127.in-addr.arpa");
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl),
	    DNSMSG_ANSWER);
	assert_string_equal(name, "classless.example");
}

static void
test_negative(void **state)
{
	struct msg m;
	char name[DNSMSG_NAME_MAX + 1];
	uint32_t ttl;

	(void)state;
	header(&m, 0x8183, 1, 0);	/* NXDOMAIN */
	question(&m, Q77);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl),
	    DNSMSG_NXDOMAIN);
	header(&m, 0x8180, 1, 0);	/* NOERROR, no answer */
	question(&m, Q77);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl),
	    DNSMSG_NODATA);
	header(&m, 0x8182, 1, 0);	/* SERVFAIL */
	question(&m, Q77);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EPROTO);
	/* An answer for another name is no answer for ours. */
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	putname(&m, "78.0.0.127.in-addr.arpa");
	put16(&m, 12);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 3);
	putname(&m, "x");
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl),
	    DNSMSG_NODATA);
}

static void
test_hostile(void **state)
{
	struct msg m;
	char name[DNSMSG_NAME_MAX + 1];
	uint32_t ttl;
	size_t cut;

	(void)state;
	/* Not a response; truncated flag; two questions; another type. */
	header(&m, 0x0100, 1, 0);
	question(&m, Q77);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EBADMSG);
	header(&m, 0x8380, 1, 0);
	question(&m, Q77);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EBADMSG);
	header(&m, 0x8180, 2, 0);
	question(&m, Q77);
	question(&m, Q77);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EBADMSG);

	/* A name that is not a host name: bytes the UI must never show. */
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	ptr_rr(&m, 12, 60, "evil<script>.example");
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EBADMSG);

	/* A pointer to itself, and one pointing forward. */
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	put16(&m, 0xc000 | (unsigned)m.len);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EBADMSG);
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	put16(&m, 0xc000 | (unsigned)(m.len + 4));
	put16(&m, 0);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EBADMSG);

	/* Every truncation of a good reply is refused, never read past. */
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	ptr_rr(&m, 12, 60, "db.test.internal");
	for (cut = 0; cut < m.len; cut++)
		assert_true(dnsmsg_ptr_answer(m.b, cut, name, &ttl) < 0);
}

static void
test_long_name(void **state)
{
	struct msg m;
	char name[DNSMSG_NAME_MAX + 1], big[400];
	uint32_t ttl;
	size_t i;

	(void)state;
	/* 63-byte labels until the name passes 255 bytes on the wire. */
	for (i = 0; i < 5; i++) {
		memset(big + i * 64, 'a', 63);
		big[i * 64 + 63] = '.';
	}
	big[5 * 64 - 1] = '\0';
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	ptr_rr(&m, 12, 60, big);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EBADMSG);
	/* 63 + 63 + 63 + 61 is the most there is: 255 bytes on the wire,
	 * 253 characters. */
	big[3 * 64 + 61] = '\0';
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	ptr_rr(&m, 12, 60, big);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl),
	    DNSMSG_ANSWER);
	assert_int_equal(strlen(name), 253);
	/* One more character is one too many. */
	big[3 * 64 + 61] = 'a';
	big[3 * 64 + 62] = '\0';
	header(&m, 0x8180, 1, 1);
	question(&m, Q77);
	ptr_rr(&m, 12, 60, big);
	assert_int_equal(dnsmsg_ptr_answer(m.b, m.len, name, &ttl), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reverse_names),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_long_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
