/*
 * Command-line redaction: issue 18's command lines exactly, a corpus of
 * real-world secret command lines (redact_corpus.h) and one of harmless
 * ones, the joined-line fallback, each mode, the output's growth, and
 * linear time on long hostile arguments.
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
#include "redact_corpus.h"

#define MAX_ARGS	64

/* A command line as a shell would split it: blanks separate, 'single' and
 * "double" quotes group (no escapes).  argv points into buf. */
static uint32_t
split(const char *line, char *buf, const char *argv[MAX_ARGS])
{
	uint32_t argc = 0;
	char *d = buf;
	const char *s = line;

	while (*s != '\0') {
		char quote = 0;

		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		assert_true(argc < MAX_ARGS);
		argv[argc++] = d;
		while (*s != '\0' && (quote || *s != ' ')) {
			if (quote == 0 && (*s == '\'' || *s == '"'))
				quote = *s;
			else if (*s == quote)
				quote = 0;
			else
				*d++ = *s;
			s++;
		}
		*d++ = '\0';
	}
	return argc;
}

/* Redacts line as argv; the joined result in a malloc'd string. */
static char *
redact_line(const char *line)
{
	char *buf = malloc(strlen(line) + 1);
	const char *argv[MAX_ARGS];
	struct redact_args r;
	uint32_t argc = split(line, buf, argv);
	char *out;

	assert_int_equal(redact_argv(argc, argv, "", REDACT_REDACTED, &r), 0);
	assert_int_equal(r.argc, argc);
	out = strdup(r.cmdline);
	redact_args_free(&r);
	free(buf);
	return out;
}

/* The same line joined, as a collector without argument boundaries (or
 * ALL mode) would give it. */
static char *
joined(const char *line)
{
	char *buf = malloc(strlen(line) + 1), *out;
	const char *argv[MAX_ARGS];
	uint32_t argc = split(line, buf, argv);
	struct redact_args r;

	assert_int_equal(redact_argv(argc, argv, "", REDACT_ALL, &r), 0);
	out = strdup(r.cmdline);
	redact_args_free(&r);
	free(buf);
	return out;
}

/* Issue 18's list, each exactly. */
static const struct {
	const char *in, *out;
} issue[] = {
	{ "mysql -u root -proot", "mysql -u root -p***" },
	{ "mysql -pchangeme", "mysql -p***" },
	{ "curl -ualice:hunter2 https://x", "curl -ualice:*** https://x" },
	{ "curl --user=alice:secret https://x", "curl --user=alice:*** https://x" },
	{ "curl --proxy-user=a:b https://x", "curl --proxy-user=a:*** https://x" },
	{ "smbclient //srv/s -U alice%hunter2", "smbclient //srv/s -U alice%***" },
	{ "git clone https://ghp_xxx@github.com/o/r.git",
	  "git clone https://***@github.com/o/r.git" },
	{ "git clone git://tok@host/r ssh://tok@host/r",
	  "git clone git://***@host/r ssh://***@host/r" },
	{ "http https://x Authorization:'Bearer abc'",
	  "http https://x Authorization:Bearer ***" },
	{ "curl -H Authorization:Bearer abc https://x",
	  "curl -H Authorization:Bearer *** https://x" },
	{ "curl -H 'Authorization: Bearer abc' https://x",
	  "curl -H Authorization: Bearer *** https://x" },
	{ "ldapsearch -x -w secret -b dc=x", "ldapsearch -x -w *** -b dc=x" },
	{ "openssl rsa -in k.pem -passin pass:secret",
	  "openssl rsa -in k.pem -passin pass:***" },
	{ "aws configure set aws_secret_access_key X",
	  "aws configure set aws_secret_access_key ***" },
	{ "app --password 'two words' -v", "app --password *** -v" },
	/* and what stays */
	{ "gcc -pthread -o x x.c", "gcc -pthread -o x x.c" },
	{ "app -pthread", "app -pthread" },
	{ "psql -h db -p 5432", "psql -h db -p 5432" },
	{ "curl -u alice https://x", "curl -u alice https://x" },
	{ "app postgres://u@h/db", "app postgres://u@h/db" },
};

static void
test_issue_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(issue) / sizeof(issue[0]); i++) {
		char *out = redact_line(issue[i].in);

		if (strcmp(out, issue[i].out) != 0)
			fail_msg("'%s'\n got: '%s'\nwant: '%s'", issue[i].in,
			    out, issue[i].out);
		free(out);
	}
}

static void
test_secret_corpus(void **state)
{
	size_t n = sizeof(secret_lines) / sizeof(secret_lines[0]);

	(void)state;
	assert_true(n >= 100);
	for (size_t i = 0; i < n; i++) {
		char *out = redact_line(secret_lines[i]);

		if (strstr(out, "SEKRIT") != NULL || strstr(out, "***") == NULL)
			fail_msg("line %zu leaks: '%s'\n got: '%s'", i,
			    secret_lines[i], out);
		free(out);
	}
}

static void
test_false_positive_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(false_positives) /
	    sizeof(false_positives[0]); i++) {
		char *out = redact_line(false_positives[i]);
		char *want = joined(false_positives[i]);

		if (strcmp(out, want) != 0)
			fail_msg("line %zu masked: '%s'\n got: '%s'", i, want,
			    out);
		free(out);
		free(want);
	}
}

/* The redacted arguments keep their boundaries. */
static void
test_argv_array(void **state)
{
	const char *argv[] = { "mysql", "--password", "two words", "-h",
	    "db", "" };
	struct redact_args r;

	(void)state;
	assert_int_equal(redact_argv(6, argv, "ignored", REDACT_REDACTED, &r),
	    0);
	assert_int_equal(r.argc, 6);
	assert_string_equal(r.argv[1], "--password");
	assert_string_equal(r.argv[2], REDACT_MASK);
	assert_string_equal(r.argv[4], "db");
	assert_string_equal(r.argv[5], "");
	assert_string_equal(r.cmdline, "mysql --password *** -h db ");
	redact_args_free(&r);
	redact_args_free(NULL);
	/* NULL elements are empty arguments */
	argv[1] = NULL;
	assert_int_equal(redact_argv(3, argv, NULL, REDACT_REDACTED, &r), 0);
	assert_string_equal(r.cmdline, "mysql  two words");
	redact_args_free(&r);
}

/* With no argv (protocol v1), the joined line's words are the arguments:
 * boundaries inside an argument are lost there, so the words are masked
 * one by one as before. */
static const struct {
	const char *in, *out;
} joined_cases[] = {
	{ "app --password hunter2 --verbose", "app --password *** --verbose" },
	{ "mysql -u root -pS3cret db", "mysql -u root -p*** db" },
	{ "curl -H Authorization: Bearer abc.def https://x",
	  "curl -H Authorization: Bearer *** https://x" },
	{ "curl -H X-Api-Key: k123 https://x", "curl -H X-Api-Key: *** https://x" },
	{ "app --config {\"token\": \"abc\"}", "app --config {\"token\": ***" },
	{ "x ?a=1&token=abc,def", "x ?a=1&token=***,def" },
	{ "app amqp://guest:guest@mq:5672/ redis://:pw@cache:6379",
	  "app amqp://guest:***@mq:5672/ redis://:***@cache:6379" },
	{ "env DB_PASSWORD=x TOKEN=y USER=z", "env DB_PASSWORD=*** TOKEN=*** USER=z" },
	{ "a  b ", "a  b " },
	{ "", "" },
};

static void
test_joined_fallback(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(joined_cases) / sizeof(joined_cases[0]);
	    i++) {
		char *out = NULL;

		assert_int_equal(redact_cmdline(joined_cases[i].in,
		    REDACT_REDACTED, &out), 0);
		if (strcmp(out, joined_cases[i].out) != 0)
			fail_msg("'%s'\n got: '%s'\nwant: '%s'",
			    joined_cases[i].in, out, joined_cases[i].out);
		free(out);
	}
}

static void
test_modes(void **state)
{
	const char *cmd = "app --password=x";
	const char *argv[] = { "app", "--password=x" };
	struct redact_args r;
	char *out;

	(void)state;
	assert_int_equal(redact_cmdline(cmd, REDACT_ALL, &out), 0);
	assert_string_equal(out, cmd);
	free(out);
	assert_int_equal(redact_cmdline(cmd, REDACT_NONE, &out), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(redact_argv(2, argv, cmd, REDACT_NONE, &r), 0);
	assert_int_equal(r.argc, 0);
	assert_string_equal(r.cmdline, "");
	redact_args_free(&r);
	assert_int_equal(redact_argv(2, argv, cmd, REDACT_ALL, &r), 0);
	assert_string_equal(r.argv[1], "--password=x");
	redact_args_free(&r);
	assert_int_equal(redact_cmdline(NULL, REDACT_REDACTED, &out), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(redact_cmdline(cmd, REDACT_MAX, &out), -EINVAL);
	assert_int_equal(redact_argv(2, argv, cmd, REDACT_MAX, &r), -EINVAL);
	assert_int_equal(redact_mode_from_name("all"), REDACT_ALL);
	assert_int_equal(redact_mode_from_name("redacted"), REDACT_REDACTED);
	assert_int_equal(redact_mode_from_name("none"), REDACT_NONE);
	assert_int_equal(redact_mode_from_name("some"), -1);
	assert_string_equal(redact_mode_name(REDACT_NONE), "none");
	assert_null(redact_mode_name(REDACT_MAX));
	/* the zero value is the safe default */
	assert_int_equal(REDACT_REDACTED, 0);
}

/* The output can grow (one byte becomes "***"); the worst cases must be
 * masked completely. */
static void
test_growth(void **state)
{
	size_t n = 2000;
	char *in = malloc(n * 8 + 32), *out;
	const char **argv = malloc(n * sizeof(*argv));
	struct redact_args r;

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
	/* "-p a -p a ...": every value one byte, each its own argument */
	for (size_t i = 0; i < n; i++)
		argv[i] = i % 2 ? "a" : "-p";
	assert_int_equal(redact_argv((uint32_t)n, argv, NULL, REDACT_REDACTED,
	    &r), 0);
	for (size_t i = 1; i < n; i += 2)
		assert_string_equal(r.argv[i], REDACT_MASK);
	assert_null(strstr(r.cmdline, " a"));
	redact_args_free(&r);
	free(argv);
	free(in);
}

/* Arguments a local user can make as long as SNAP_MAX_STRING: the masking
 * must stay linear in them.  Each is redacted many times, as webd does
 * once per sample and client; quadratic work here took seconds a call, so
 * the loop would outlive the test's time limit. */
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
		{ "", ":", "::::", 0 },
		{ "", "a:", "a:a:", 0 },
		{ "", "\":", "\":\":", 0 },
		{ "", "x:y", "x:yx:y", 0 },
		{ "", "a ", "a a ", 0 },
		{ "", "x -p ", "x -p *** -p ***", 0 },
		{ "", "http://", "http://http://", 0 },
		{ "Authorization:", " ", "Authorization: ", 0 },
	};
	size_t n = 32767;
	char *in = malloc(n + 1);
	struct redact_args r;

	(void)state;
	assert_non_null(in);
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		size_t pl = strlen(rows[k].prefix), ul = strlen(rows[k].unit);
		const char *argv[1] = { in };

		memcpy(in, rows[k].prefix, pl);
		for (size_t i = pl; i < n; i++)
			in[i] = rows[k].unit[(i - pl) % ul];
		in[n] = '\0';
		for (int rep = 0; rep < 20; rep++) {
			/* as one argument (v2) and as a joined line (v1) */
			assert_int_equal(redact_argv(rep % 2, argv, in,
			    REDACT_REDACTED, &r), 0);
			if (strncmp(r.cmdline, rows[k].want_head,
			    strlen(rows[k].want_head)) != 0 ||
			    (rows[k].want_len != 0 &&
			    strlen(r.cmdline) != rows[k].want_len))
				fail_msg("row %zu: %.40s... (%zu bytes)", k,
				    r.cmdline, strlen(r.cmdline));
			redact_args_free(&r);
		}
	}
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_lines),
		cmocka_unit_test(test_secret_corpus),
		cmocka_unit_test(test_false_positive_corpus),
		cmocka_unit_test(test_argv_array),
		cmocka_unit_test(test_joined_fallback),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_long_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
