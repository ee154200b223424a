/*
 * procnet-webd's command line: defaults as in the original tool, every
 * option accepted in its valid form, and each bad value refused with a
 * message that names the option.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "log.h"
#include "options.h"

#define MAXARGS 40

/* Test directories live in the build tree, so this runs on Windows too. */
#ifdef _WIN32
#include <direct.h>
#define make_dir(p)	_mkdir(p)
#else
#define make_dir(p)	mkdir((p), 0700)
#endif

static void
temp_dir(char *buf, size_t len, const char *tag)
{
	const char *root = getenv("PROCNET_BUILD_ROOT");

	snprintf(buf, len, "%s/%s.%d", root != NULL ? root : ".", tag,
	    (int)getpid());
	assert_int_equal(make_dir(buf), 0);
}

static int
parse(struct webd_options *o, char *err, size_t errlen, ...)
{
	char *argv[MAXARGS + 2];
	int argc = 0;
	va_list ap;
	const char *a;

	argv[argc++] = "procnet-webd";
	va_start(ap, errlen);
	while ((a = va_arg(ap, const char *)) != NULL && argc < MAXARGS)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return options_parse(argc, argv, o, err, errlen);
}

static void
test_defaults(void **state)
{
	struct webd_options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), NULL), OPTIONS_RUN);
	assert_int_equal(o.port, 8765);
	assert_true(o.interval == 1.0);
	assert_null(o.rules);
	assert_false(o.p2p_only);
	assert_false(o.udp);
	assert_int_equal(o.n_svc_ports, 0);
	assert_null(o.icons_dir);
	assert_string_equal(o.bind, "127.0.0.1");
	assert_null(o.collector);
	assert_null(o.web_root);
	assert_int_equal(o.log_level, LOG_LEVEL_INFO);
	assert_false(o.dump);
	assert_int_equal(o.cmdline, OPTIONS_CMDLINE_REDACTED);
	assert_int_equal(o.window_s, 60);
	assert_int_equal(o.resolve, OPTIONS_RESOLVE_ON);
	assert_null(o.resolver);
	options_clear(&o);
}

static void
test_resolver(void **state)
{
	static const char *const good[][2] = {
		{ "127.0.0.1", "127.0.0.1:53" },
		{ "127.0.0.1:5353", "127.0.0.1:5353" },
		{ "::1", "[::1]:53" },
		{ "[::1]", "[::1]:53" },
		{ "[2001:db8::1]:1053", "[2001:db8::1]:1053" },
	};
	struct webd_options o;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse(&o, err, sizeof(err), "--resolver",
		    good[i][0], NULL), OPTIONS_RUN);
		assert_string_equal(o.resolver, good[i][1]);
		options_clear(&o);
	}
	assert_int_equal(parse(&o, err, sizeof(err), "--resolve", "local",
	    NULL), OPTIONS_RUN);
	assert_int_equal(o.resolve, OPTIONS_RESOLVE_LOCAL);
	options_clear(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--resolve", "off",
	    NULL), OPTIONS_RUN);
	assert_int_equal(o.resolve, OPTIONS_RESOLVE_OFF);
	options_clear(&o);
	/* A server is only for reverse DNS. */
	assert_true(parse(&o, err, sizeof(err), "--resolve", "off",
	    "--resolver", "127.0.0.1", NULL) < 0);
	assert_non_null(strstr(err, "--resolver"));
	options_clear(&o);
}

static void
test_all_valid(void **state)
{
	struct webd_options o;
	char err[256], dir[512];

	(void)state;
	temp_dir(dir, sizeof(dir), "test_options");
	assert_int_equal(parse(&o, err, sizeof(err), "--port", "9000",
	    "--interval", "0.5", "--rules", "rules.yaml", "--p2p-only",
	    "--udp", "--svc-ports", "3000,5000,3000", "--icons-dir", dir,
	    "--bind", "::1", "--collector", "/tmp/x.sock", "--web-root", dir,
	    "--log-level", "debug", "--dump", "--cmdline", "none",
	    "--window", "300", NULL),
	    OPTIONS_RUN);
	assert_int_equal(o.port, 9000);
	assert_true(o.interval == 0.5);
	assert_string_equal(o.rules, "rules.yaml");
	assert_true(o.p2p_only);
	assert_true(o.udp);
	assert_int_equal(o.n_svc_ports, 2);
	assert_int_equal(o.svc_ports[0], 3000);
	assert_int_equal(o.svc_ports[1], 5000);
	assert_string_equal(o.icons_dir, dir);
	assert_string_equal(o.bind, "::1");
	assert_string_equal(o.collector, "/tmp/x.sock");
	assert_string_equal(o.web_root, dir);
	assert_int_equal(o.log_level, LOG_LEVEL_DEBUG);
	assert_true(o.dump);
	assert_int_equal(o.window_s, 300);
	assert_int_equal(o.cmdline, OPTIONS_CMDLINE_NONE);
	options_clear(&o);
	/* --opt=value works too */
	assert_int_equal(parse(&o, err, sizeof(err), "--port=1",
	    "--cmdline=all", NULL), OPTIONS_RUN);
	assert_int_equal(o.port, 1);
	assert_int_equal(o.cmdline, OPTIONS_CMDLINE_ALL);
	options_clear(&o);
	/* a trailing separator (installers add one) is dropped */
	char slashed[sizeof(dir) + 2];
	snprintf(slashed, sizeof(slashed), "%s//", dir);
	assert_int_equal(parse(&o, err, sizeof(err), "--web-root", slashed,
	    "--icons-dir", slashed, NULL), OPTIONS_RUN);
	assert_string_equal(o.web_root, dir);
	assert_string_equal(o.icons_dir, dir);
	options_clear(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--web-root", "/", NULL),
	    OPTIONS_RUN);
	assert_string_equal(o.web_root, "/");
	options_clear(&o);
	rmdir(dir);
}

struct bad_case {
	const char *a, *b;
	const char *needle;	/* must appear in the message */
};

static const struct bad_case bad_cases[] = {
	{ "--history", "", "empty path" },
	{ "--history-retention", "7", "not a duration" },
	{ "--history-retention", "7w", "unknown unit" },
	{ "--history-retention", "30s", "shorter than a minute" },
	{ "--history-max-size", "100K", "below 1M" },
	{ "--history-max-size", "2T", "not a size" },
	{ "--history-max-size", "5000G", "larger than 1 TiB" },
	{ "--port", "0",		"--port" },
	{ "--port", "65536",		"--port" },
	{ "--port", "-1",		"--port" },
	{ "--port", "80x",		"--port" },
	{ "--port", "",			"--port" },
	{ "--interval", "0",		"--interval" },
	{ "--interval", "-1",		"--interval" },
	{ "--interval", "abc",		"--interval" },
	{ "--interval", "nan",		"--interval" },
	{ "--interval", "inf",		"--interval" },
	{ "--interval", "1e9",		"--interval" },
	{ "--window", "0",		"--window" },
	{ "--window", "86401",		"--window" },
	{ "--window", "-5",		"--window" },
	{ "--window", "1.5",		"--window" },
	{ "--window", "60s",		"--window" },
	{ "--window", "",		"--window" },
	{ "--window", "99999999999999999999", "--window" },
	{ "--svc-ports", "80,,443",	"--svc-ports" },
	{ "--svc-ports", "80,",		"--svc-ports" },
	{ "--svc-ports", "0",		"--svc-ports" },
	{ "--svc-ports", "70000",	"--svc-ports" },
	{ "--svc-ports", "http",	"--svc-ports" },
	{ "--svc-ports", "-5",		"--svc-ports" },
	{ "--icons-dir", "/nonexistent/procnet-icons", "--icons-dir" },
	{ "--web-root", "/nonexistent/procnet-web", "--web-root" },
	{ "--web-root", "",		"--web-root" },
	{ "--bind", "localhost",	"--bind" },
	{ "--bind", "1.2.3.4.5",	"--bind" },
	{ "--bind", "[::1]",		"--bind" },
	{ "--log-level", "loud",	"--log-level" },
	{ "--cmdline", "some",		"--cmdline" },
	{ "--resolve", "yes",		"--resolve" },
	{ "--resolver", "dns.example",	"--resolver" },
	{ "--resolver", "127.0.0.1:0",	"--resolver" },
	{ "--resolver", "127.0.0.1:x",	"--resolver" },
	{ "--resolver", "[::1",		"--resolver" },
	{ "--resolver", "[127.0.0.1]:53", "--resolver" },
	{ "--resolver", "::1:53x",	"--resolver" },
	{ "--resolver", "",		"--resolver" },
	{ "--rules", "",		"--rules" },
	{ "--collector", "",		"--collector" },
	{ "--bogus", NULL,		"--bogus" },
	{ "stray", NULL,		"stray" },
	{ "--port", NULL,		"--port" },	/* missing value */
};

static void
test_bad(void **state)
{
	struct webd_options o;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]);
	    i++) {
		const struct bad_case *c = &bad_cases[i];
		int rc = parse(&o, err, sizeof(err), c->a, c->b, NULL);

		if (rc >= 0)
			fail_msg("%s %s: accepted", c->a, c->b ? c->b : "");
		if (strstr(err, c->needle) == NULL)
			fail_msg("%s %s: message '%s' lacks '%s'", c->a,
			    c->b ? c->b : "", err, c->needle);
		options_clear(&o);
	}

	/* a file where a directory is wanted */
	char dir[512], file[600];
	FILE *f;

	temp_dir(dir, sizeof(dir), "test_options_bad");
	snprintf(file, sizeof(file), "%s/file", dir);
	assert_non_null(f = fopen(file, "w"));
	fclose(f);
	assert_true(parse(&o, err, sizeof(err), "--icons-dir", file, NULL) < 0);
	assert_non_null(strstr(err, "not a directory"));
	options_clear(&o);
	remove(file);
	rmdir(dir);
}

static void
test_too_many_ports(void **state)
{
	char list[OPTIONS_MAX_SVC_PORTS * 7], err[256];
	uint16_t ports[OPTIONS_MAX_SVC_PORTS];
	size_t n = 0, len = 0;

	(void)state;
	for (int i = 0; i < OPTIONS_MAX_SVC_PORTS; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d",
		    i ? "," : "", 1000 + i);
	assert_int_equal(options_parse_ports(list, ports,
	    OPTIONS_MAX_SVC_PORTS, &n, err, sizeof(err)), 0);
	assert_int_equal(n, OPTIONS_MAX_SVC_PORTS);
	snprintf(list + len, sizeof(list) - len, ",9");
	assert_int_equal(options_parse_ports(list, ports,
	    OPTIONS_MAX_SVC_PORTS, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than"));
	assert_int_equal(options_parse_ports("", ports,
	    OPTIONS_MAX_SVC_PORTS, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
}

static void
test_help_version(void **state)
{
	struct webd_options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "--help", NULL),
	    OPTIONS_HELP);
	options_clear(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--version", NULL),
	    OPTIONS_VERSION);
	options_clear(&o);
}

static void
test_usage_lists_all(void **state)
{
	static const char *names[] = { "--port", "--interval", "--rules",
	    "--p2p-only", "--udp", "--svc-ports", "--icons-dir", "--bind",
	    "--collector", "--web-root", "--log-level", "--dump",
	    "--cmdline", "--history", "--history-retention",
	    "--history-max-size", "--window", "--help" };
	char buf[8192], dir[512], path[600];
	FILE *f;
	size_t n;

	(void)state;
	temp_dir(dir, sizeof(dir), "test_options_usage");
	snprintf(path, sizeof(path), "%s/usage.txt", dir);
	assert_non_null(f = fopen(path, "w+"));
	options_usage(f, "procnet-webd");
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	remove(path);
	rmdir(dir);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strstr(buf, names[i]) == NULL)
			fail_msg("usage lacks %s", names[i]);
}

static void
test_history(void **state)
{
	struct webd_options o;
	char err[256];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), NULL), OPTIONS_RUN);
	assert_null(o.history);
	assert_false(o.history_off);
	assert_int_equal(o.history_retention_s, 7 * 86400);
	assert_int_equal(o.history_max_size, 256ull << 20);
	options_clear(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--history", "/x/h.db",
	    "--history-retention", "12h", "--history-max-size", "1G", NULL),
	    OPTIONS_RUN);
	assert_string_equal(o.history, "/x/h.db");
	assert_int_equal(o.history_retention_s, 12 * 3600);
	assert_int_equal(o.history_max_size, 1ull << 30);
	options_clear(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--history", "none",
	    NULL), OPTIONS_RUN);
	assert_true(o.history_off);
	assert_null(o.history);
	options_clear(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_all_valid),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_too_many_ports),
		cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_usage_lists_all),
		cmocka_unit_test(test_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
