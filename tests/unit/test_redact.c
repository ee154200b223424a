/*
 * Command-line redaction: what is masked, what is left alone, each mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

static const struct {
	const char *in, *out;
} cases[] = {
	/* flags with the value in the next word */
	{ "app --password hunter2 --verbose", "app --password *** --verbose" },
	{ "app --token xyz", "app --token ***" },
	{ "app --secret s --api-key k --apikey k2",
	  "app --secret *** --api-key *** --apikey ***" },
	{ "aws --aws-secret-access-key XYZ", "aws --aws-secret-access-key ***" },
	{ "app --passwd 2 --pwd 3 --pass 4", "app --passwd *** --pwd *** --pass ***" },
	{ "app --PASSWORD Hunter2", "app --PASSWORD ***" },
	{ "app --key /etc/ssl/key.pem --keyboard us",
	  "app --key *** --keyboard us" },
	/* ...but a flag is not a value */
	{ "psql --no-password -h db", "psql --no-password -h db" },
	{ "app --password", "app --password" },
	/* flags with =value */
	{ "app --password=hunter2", "app --password=***" },
	{ "app --api_key=abc --token=t --x=1", "app --api_key=*** --token=*** --x=1" },
	{ "x --client-secret=abc,def", "x --client-secret=***" },
	{ "app --password=", "app --password=" },
	/* -p: mysql's attached password, sshpass's separate one, but not a
	 * port and not a compiler flag */
	{ "mysql -u root -pS3cret db", "mysql -u root -p*** db" },
	{ "sshpass -p hunter2 ssh host", "sshpass -p *** ssh host" },
	{ "psql -h db -p 5432", "psql -h db -p 5432" },
	{ "ssh -p 2222 host", "ssh -p 2222 host" },
	{ "docker run -p 127.0.0.1:8080:80 nginx",
	  "docker run -p 127.0.0.1:8080:80 nginx" },
	{ "docker run -p 53:53/udp dns", "docker run -p 53:53/udp dns" },
	{ "gcc -pthread -pedantic -pipe x.c", "gcc -pthread -pedantic -pipe x.c" },
	/* program-specific: redis-cli -a is its password */
	{ "redis-cli -h h -a secretpw ping", "redis-cli -h h -a *** ping" },
	{ "/usr/bin/redis-cli -a pw", "/usr/bin/redis-cli -a ***" },
	{ "ls -a /tmp", "ls -a /tmp" },
	/* user:password */
	{ "curl -u bob:pa55 https://x", "curl -u bob:*** https://x" },
	{ "curl --user bob:p:w x", "curl --user bob:*** x" },
	{ "curl -u bob https://x", "curl -u bob https://x" },
	/* name=value words (environment, properties) */
	{ "env DB_PASSWORD=x TOKEN=y USER=z", "env DB_PASSWORD=*** TOKEN=*** USER=z" },
	{ "java -Dspring.datasource.password=pw -jar app.jar",
	  "java -Dspring.datasource.password=*** -jar app.jar" },
	{ "app SESSIONID=abc cookie=c", "app SESSIONID=*** cookie=***" },
	{ "make CC=gcc V=1", "make CC=gcc V=1" },
	/* URLs with credentials, query parameters */
	{ "curl https://user:pa55@example.com/x", "curl https://user:***@example.com/x" },
	{ "app --db=postgres://u:p@h:5432/db?sslmode=require",
	  "app --db=postgres://u:***@h:5432/db?sslmode=require" },
	{ "app postgres://u@h/db", "app postgres://u@h/db" },
	{ "curl https://x/y?a=1&token=abc&b=2", "curl https://x/y?a=1&token=***&b=2" },
	{ "x ?a=1&token=abc,def", "x ?a=1&token=***,def" },
	{ "app amqp://guest:guest@mq:5672/ redis://:pw@cache:6379",
	  "app amqp://guest:***@mq:5672/ redis://:***@cache:6379" },
	{ "git clone https://github.com/x/y", "git clone https://github.com/x/y" },
	/* HTTP headers split into words */
	{ "curl -H Authorization: Bearer abc.def https://x",
	  "curl -H Authorization: Bearer *** https://x" },
	{ "curl -H X-Api-Key: k123 https://x", "curl -H X-Api-Key: *** https://x" },
	/* JSON in an argument, compact or spaced */
	{ "app --config {\"user\":\"bob\",\"password\":\"p\\\"w\"}",
	  "app --config {\"user\":\"bob\",\"password\":\"***\"}" },
	{ "app --config {\"token\": \"abc\"}", "app --config {\"token\": ***" },
	/* nothing secret; spacing kept */
	{ "nginx: master process /usr/sbin/nginx", "nginx: master process /usr/sbin/nginx" },
	{ "a  b ", "a  b " },
	{ "", "" },
};

static void
test_redacted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;

		assert_int_equal(redact_cmdline(cases[i].in, REDACT_REDACTED,
		    &out), 0);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("'%s'\n got: '%s'\nwant: '%s'", cases[i].in,
			    out, cases[i].out);
		free(out);
	}
}

static void
test_modes(void **state)
{
	const char *cmd = "app --password=x";
	char *out;

	(void)state;
	assert_int_equal(redact_cmdline(cmd, REDACT_ALL, &out), 0);
	assert_string_equal(out, cmd);
	free(out);
	assert_int_equal(redact_cmdline(cmd, REDACT_NONE, &out), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(redact_cmdline(NULL, REDACT_REDACTED, &out), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(redact_cmdline(cmd, REDACT_MAX, &out), -EINVAL);
	assert_int_equal(redact_mode_from_name("all"), REDACT_ALL);
	assert_int_equal(redact_mode_from_name("redacted"), REDACT_REDACTED);
	assert_int_equal(redact_mode_from_name("none"), REDACT_NONE);
	assert_int_equal(redact_mode_from_name("some"), -1);
	assert_string_equal(redact_mode_name(REDACT_NONE), "none");
	assert_null(redact_mode_name(REDACT_MAX));
	/* the zero value is the safe default */
	assert_int_equal(REDACT_REDACTED, 0);
}

/* The output can grow (one byte becomes "***"); the worst cases must fit
 * and be masked completely. */
static void
test_growth(void **state)
{
	size_t n = 2000;
	char *in = malloc(n * 8 + 32), *out;

	(void)state;
	assert_non_null(in);
	/* "?token=1&token=1&...": every value one byte */
	{
		char *p = in;

		*p++ = '?';
		for (size_t i = 0; i < n; i++) {
			memcpy(p, "token=1&", 8);
			p += 8;
		}
		*p = '\0';
	}
	assert_int_equal(redact_cmdline(in, REDACT_REDACTED, &out), 0);
	assert_null(strchr(out, '1'));
	assert_int_equal(strlen(out), 1 + n * 10);
	free(out);
	/* "-p a -p a ...": every word masked */
	{
		char *p = in;

		for (size_t i = 0; i < n / 2; i++) {
			memcpy(p, "-p a ", 5);
			p += 5;
		}
		*p = '\0';
	}
	assert_int_equal(redact_cmdline(in, REDACT_REDACTED, &out), 0);
	assert_null(strstr(out, " a "));
	free(out);
	free(in);
}

/* Words a local user can put in a command line (up to SNAP_MAX_STRING):
 * the masking must stay linear in them.  Each is redacted many times, as
 * webd does once per sample and client; quadratic work here took seconds
 * a call, so the loop would outlive the test's time limit. */
static void
test_long_words(void **state)
{
	static const struct {
		const char *prefix, *unit, *want_head;
		size_t want_len;	/* 0: as long as the input */
	} rows[] = {
		{ "", "=", "=====", 0 },
		{ "", "a=", "a=a=a", 0 },
		{ "password", "=", "password=***", 12 },
		{ "x?token=", "=", "x?token=***", 11 },
		{ "x?token=", "a=b&", "x?token=***&a=b&", 0 },
		{ "--", "-_.=", "---_.=-_.=", 0 },
	};
	size_t n = 32767;
	char *in = malloc(n + 1), *out;

	(void)state;
	assert_non_null(in);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		size_t pl = strlen(rows[r].prefix), ul = strlen(rows[r].unit);

		memcpy(in, rows[r].prefix, pl);
		for (size_t i = pl; i < n; i++)
			in[i] = rows[r].unit[(i - pl) % ul];
		in[n] = '\0';
		for (int k = 0; k < 20; k++) {
			assert_int_equal(redact_cmdline(in, REDACT_REDACTED,
			    &out), 0);
			if (strncmp(out, rows[r].want_head,
			    strlen(rows[r].want_head)) != 0 ||
			    strlen(out) != (rows[r].want_len ? rows[r].want_len :
			    n))
				fail_msg("row %zu: %.40s... (%zu bytes)", r, out,
				    strlen(out));
			free(out);
		}
	}
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redacted),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_long_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
