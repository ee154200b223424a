/* The third-party libraries that reach us through meson (Debian's -dev
 * packages on Linux, subprojects cross-built from Debian's source packages
 * for Windows) link and work: SQLite stores and reads back a row, c-ares
 * builds a query and parses a crafted answer.  The products' own uses are
 * tested with their modules; this catches a broken library build early. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <ares.h>
#include <sqlite3.h>

static void test_sqlite_roundtrip(void **state)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	(void)state;
	assert_int_equal(sqlite3_threadsafe() != 0, 1);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);"
	    "INSERT INTO t(v) VALUES ('svchost'), ('dns');", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	    "SELECT count(*), group_concat(v, ',') FROM t", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	assert_string_equal((const char *)sqlite3_column_text(st, 1),
	    "svchost,dns");
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	/* A syntax error is an error, not a crash. */
	assert_int_not_equal(sqlite3_exec(db, "SELEC 1", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* A DNS answer for "a.test" IN A 192.0.2.7, made from the query c-ares
 * itself built: header flags turned into a response, one answer record
 * appended that points back at the question's name. */
static void test_cares_query_and_parse(void **state)
{
	unsigned char *q = NULL;
	int qlen = 0;
	unsigned char resp[512];
	static const unsigned char answer[] = {
		0xc0, 0x0c,             /* name: pointer to the question */
		0x00, 0x01, 0x00, 0x01, /* A, IN */
		0x00, 0x00, 0x00, 0x3c, /* TTL 60 */
		0x00, 0x04, 192, 0, 2, 7,
	};
	struct hostent *he = NULL;
	struct ares_addrttl ttls[2];
	int nttls = 2;

	(void)state;
	assert_int_equal(ares_library_init(ARES_LIB_INIT_ALL), ARES_SUCCESS);
	assert_int_equal(ares_create_query("a.test", 1 /* IN */, 1 /* A */,
	    0x1234, 1, &q, &qlen, 0), ARES_SUCCESS);
	assert_true(qlen > 12 && (size_t)qlen + sizeof(answer) <= sizeof(resp));
	memcpy(resp, q, (size_t)qlen);
	ares_free_string(q);
	resp[2] = 0x81;	/* QR, RD */
	resp[3] = 0x80;	/* RA, NOERROR */
	resp[7] = 1;	/* ANCOUNT */
	memcpy(resp + qlen, answer, sizeof(answer));

	assert_int_equal(ares_parse_a_reply(resp, qlen + (int)sizeof(answer),
	    &he, ttls, &nttls), ARES_SUCCESS);
	assert_non_null(he);
	assert_int_equal(nttls, 1);
	assert_int_equal(ttls[0].ttl, 60);
	assert_memory_equal(&ttls[0].ipaddr,
	    ((const unsigned char[]){ 192, 0, 2, 7 }), 4);
	ares_free_hostent(he);

	/* Truncated: an error code, never a read past the end. */
	he = NULL;
	assert_int_not_equal(ares_parse_a_reply(resp, qlen + 6, &he, NULL,
	    NULL), ARES_SUCCESS);
	assert_null(he);
	ares_library_cleanup();
}

/* A channel (the resolver configuration: on Windows from the registry
 * and iphlpapi) can be made and destroyed. */
static void test_cares_channel(void **state)
{
	ares_channel ch = NULL;
	struct ares_options opts;

	(void)state;
	assert_int_equal(ares_library_init(ARES_LIB_INIT_ALL), ARES_SUCCESS);
	memset(&opts, 0, sizeof(opts));
	opts.timeout = 100;
	opts.tries = 1;
	assert_int_equal(ares_init_options(&ch, &opts,
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES), ARES_SUCCESS);
	ares_destroy(ch);
	ares_library_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlite_roundtrip),
		cmocka_unit_test(test_cares_query_and_parse),
		cmocka_unit_test(test_cares_channel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
