/*
 * webd's request policy: Host (DNS rebinding), Origin (cross-site
 * WebSocket), methods, path mapping (traversal in every spelling that can
 * reach us after civetweb's single URL decode), MIME types.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http_fs.h"
#include "http_policy.h"

struct host_case {
	const char *host;
	const char *bind;
	int port;
	bool ok;
};

static const struct host_case host_cases[] = {
	{ "127.0.0.1:8765",		"127.0.0.1",	8765,	true },
	{ "localhost:8765",		"127.0.0.1",	8765,	true },
	{ "LocalHost:8765",		"127.0.0.1",	8765,	true },
	{ "[::1]:8765",			"127.0.0.1",	8765,	true },
	{ "[0:0::1]:8765",		"127.0.0.1",	8765,	true },
	{ "[::1]:8765",			"::1",		8765,	true },
	{ "192.168.1.5:8765",		"192.168.1.5",	8765,	true },
	{ "[fe80::1]:9000",		"fe80::1",	9000,	true },
	{ "localhost",			"127.0.0.1",	80,	true },
	/* foreign names: a rebinding page keeps its own name */
	{ "evil.example:8765",		"127.0.0.1",	8765,	false },
	{ "localhost.evil.example:8765", "127.0.0.1",	8765,	false },
	{ "127.0.0.1.nip.io:8765",	"127.0.0.1",	8765,	false },
	{ "192.168.1.5:8765",		"127.0.0.1",	8765,	false },
	{ "[fe80::1]:8765",		"127.0.0.1",	8765,	false },
	/* the port must be ours and present */
	{ "127.0.0.1:8766",		"127.0.0.1",	8765,	false },
	{ "127.0.0.1",			"127.0.0.1",	8765,	false },
	{ "localhost:",			"127.0.0.1",	8765,	false },
	{ "localhost:08765x",		"127.0.0.1",	8765,	false },
	{ "localhost:99999999",		"127.0.0.1",	8765,	false },
	/* malformed */
	{ "",				"127.0.0.1",	8765,	false },
	{ NULL,				"127.0.0.1",	8765,	false },
	{ "::1:8765",			"::1",		8765,	false },
	{ "[::1",			"127.0.0.1",	8765,	false },
	{ "[::1]x:8765",		"127.0.0.1",	8765,	false },
	{ "[localhost]:8765",		"127.0.0.1",	8765,	false },
	{ "localhost :8765",		"127.0.0.1",	8765,	false },
	{ "127.0.0.1:8765 ",		"127.0.0.1",	8765,	false },
	{ "user@localhost:8765",	"127.0.0.1",	8765,	false },
};

static void
test_host(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]);
	    i++) {
		const struct host_case *c = &host_cases[i];
		bool got = http_policy_host_ok(c->host, c->bind, c->port);

		if (got != c->ok)
			fail_msg("host '%s' bind %s port %d: got %d want %d",
			    c->host != NULL ? c->host : "(null)", c->bind,
			    c->port, got, c->ok);
	}
}

static void
test_host_long(void **state)
{
	char big[4096];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(http_policy_host_ok(big, "127.0.0.1", 8765));
	big[0] = '[';
	assert_false(http_policy_host_ok(big, "127.0.0.1", 8765));
}

static void
test_origin(void **state)
{
	(void)state;
	/* no Origin: not a browser, allowed; a foreign one is the attack */
	assert_true(http_policy_origin_ok(NULL, "127.0.0.1:8765"));
	assert_true(http_policy_origin_ok("http://127.0.0.1:8765",
	    "127.0.0.1:8765"));
	assert_true(http_policy_origin_ok("HTTP://LOCALHOST:8765",
	    "localhost:8765"));
	assert_false(http_policy_origin_ok("http://evil.example",
	    "127.0.0.1:8765"));
	assert_false(http_policy_origin_ok("http://localhost:8765",
	    "127.0.0.1:8765"));
	assert_false(http_policy_origin_ok("http://127.0.0.1:8765.evil",
	    "127.0.0.1:8765"));
	assert_false(http_policy_origin_ok("https://127.0.0.1:8765",
	    "127.0.0.1:8765"));
	assert_false(http_policy_origin_ok("null", "127.0.0.1:8765"));
	assert_false(http_policy_origin_ok("", "127.0.0.1:8765"));
	assert_false(http_policy_origin_ok("http://127.0.0.1:8765", NULL));
}

static void
test_method(void **state)
{
	(void)state;
	assert_true(http_policy_method_ok("GET"));
	assert_true(http_policy_method_ok("HEAD"));
	assert_false(http_policy_method_ok("get"));
	assert_false(http_policy_method_ok("POST"));
	assert_false(http_policy_method_ok("OPTIONS"));
	assert_false(http_policy_method_ok("PUT"));
	assert_false(http_policy_method_ok(""));
	assert_false(http_policy_method_ok(NULL));
}

struct path_case {
	const char *in;
	int rc;
	const char *out;
};

static const struct path_case path_cases[] = {
	{ "/",				0,	"" },
	{ "/index.html",		0,	"index.html" },
	{ "//app.js",			0,	"app.js" },
	{ "/js/stream.js",		0,	"js/stream.js" },
	{ "/js//stream.js/",		0,	"js/stream.js" },
	{ "/icons/service.png",		0,	"icons/service.png" },
	{ "/a..b/c",			0,	"a..b/c" },
	{ "/caf%C3%A9.html",		0,	"caf\xc3\xa9.html" },
	{ "/a%20b+c",			0,	"a b+c" },
	/* traversal: plain, encoded, double-encoded, backslashes */
	{ "/../etc/passwd",		-EINVAL, NULL },
	{ "/js/../../etc/passwd",	-EINVAL, NULL },
	{ "/..",			-EINVAL, NULL },
	{ "/.",				-EINVAL, NULL },
	{ "/./index.html",		-EINVAL, NULL },
	{ "/%2e%2e/etc/passwd",		-EINVAL, NULL },
	{ "/%2E%2E/etc/passwd",		-EINVAL, NULL },
	{ "/.%2e/etc/passwd",		-EINVAL, NULL },
	{ "/%2e%2e%2fetc%2fpasswd",	-EINVAL, NULL },
	{ "/..%2fetc",			-EINVAL, NULL },
	{ "/a%2fb",			-EINVAL, NULL },
	{ "/%252e%252e/etc/passwd",	-EINVAL, NULL },
	{ "/%25",			-EINVAL, NULL },
	{ "/..\\..\\windows\\win.ini",	-EINVAL, NULL },
	{ "/..%5cetc",			-EINVAL, NULL },
	{ "/%5C",			-EINVAL, NULL },
	{ "/\\etc\\passwd",		-EINVAL, NULL },
	{ "/C:/windows/win.ini",	-EINVAL, NULL },
	{ "/C%3a/windows/win.ini",	-EINVAL, NULL },
	{ "/index.html::$DATA",		-EINVAL, NULL },
	/* NUL and control characters, raw or encoded */
	{ "/%00index.html",		-EINVAL, NULL },
	{ "/index.html%00.png",		-EINVAL, NULL },
	{ "/a%0d%0aX: y",		-EINVAL, NULL },
	{ "/a\x01" "b",			-EINVAL, NULL },
	{ "/a\x7f",			-EINVAL, NULL },
	{ "/a%7f",			-EINVAL, NULL },
	/* malformed escapes */
	{ "/a%",			-EINVAL, NULL },
	{ "/a%2",			-EINVAL, NULL },
	{ "/a%zz",			-EINVAL, NULL },
	{ "/a%g0",			-EINVAL, NULL },
	{ "relative",			-EINVAL, NULL },
	{ "",				-EINVAL, NULL },
	{ NULL,				-EINVAL, NULL },
	/* hidden files are not served */
	{ "/.git/config",		-ENOENT, NULL },
	{ "/%2egit/config",		-ENOENT, NULL },
	{ "/js/.env",			-ENOENT, NULL },
	{ "/.htaccess",			-ENOENT, NULL },
};

static void
test_path(void **state)
{
	char out[HTTP_POLICY_MAX_PATH + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]);
	    i++) {
		const struct path_case *c = &path_cases[i];
		int rc = http_policy_path(c->in, out, sizeof(out));

		if (rc != c->rc)
			fail_msg("path '%s': rc %d want %d",
			    c->in != NULL ? c->in : "(null)", rc, c->rc);
		if (rc == 0 && strcmp(out, c->out) != 0)
			fail_msg("path '%s': '%s' want '%s'", c->in, out,
			    c->out);
	}
}

static void
test_path_limits(void **state)
{
	char in[HTTP_POLICY_MAX_PATH + 2], out[HTTP_POLICY_MAX_PATH + 1];
	char small[8];

	(void)state;
	in[0] = '/';
	memset(in + 1, 'a', HTTP_POLICY_MAX_PATH);
	in[HTTP_POLICY_MAX_PATH + 1] = '\0';
	assert_int_equal(http_policy_path(in, out, sizeof(out)), -EINVAL);
	in[HTTP_POLICY_MAX_PATH] = '\0';
	assert_int_equal(http_policy_path(in, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), HTTP_POLICY_MAX_PATH - 1);
	/* never overflows a short output */
	assert_int_equal(http_policy_path("/abcdefgh", small, sizeof(small)),
	    -EINVAL);
	assert_int_equal(http_policy_path("/abcdef", small, sizeof(small)), 0);
	assert_string_equal(small, "abcdef");
}

static void
test_mime(void **state)
{
	(void)state;
	assert_string_equal(http_policy_mime("index.html"),
	    "text/html; charset=utf-8");
	assert_string_equal(http_policy_mime("js/app.JS"),
	    "text/javascript; charset=utf-8");
	assert_string_equal(http_policy_mime("x/style.css"),
	    "text/css; charset=utf-8");
	assert_string_equal(http_policy_mime("icons/db.png"), "image/png");
	assert_string_equal(http_policy_mime("logo.svg"), "image/svg+xml");
	assert_string_equal(http_policy_mime("a.json"), "application/json");
	assert_string_equal(http_policy_mime("README"),
	    "application/octet-stream");
	assert_string_equal(http_policy_mime("dir.d/file"),
	    "application/octet-stream");
	assert_string_equal(http_policy_mime("x.exe"),
	    "application/octet-stream");
	assert_string_equal(http_policy_mime(NULL), "application/octet-stream");
}

static void
test_addr_numeric(void **state)
{
	(void)state;
	assert_int_equal(http_policy_addr_numeric("127.0.0.1"), 0);
	assert_int_equal(http_policy_addr_numeric("0.0.0.0"), 0);
	assert_int_equal(http_policy_addr_numeric("::1"), 0);
	assert_int_equal(http_policy_addr_numeric("fe80::1"), 0);
	assert_int_equal(http_policy_addr_numeric("localhost"), -EINVAL);
	assert_int_equal(http_policy_addr_numeric("[::1]"), -EINVAL);
	assert_int_equal(http_policy_addr_numeric("256.0.0.1"), -EINVAL);
	assert_int_equal(http_policy_addr_numeric("1.2.3"), -EINVAL);
	assert_int_equal(http_policy_addr_numeric(""), -EINVAL);
	assert_int_equal(http_policy_addr_numeric(NULL), -EINVAL);
}

/* Root checks take the platform's separators and case rules. */
#ifdef _WIN32
static void
test_within(void **state)
{
	(void)state;
	assert_true(http_fs_within("C:\\web", "C:\\web"));
	assert_true(http_fs_within("C:\\web", "c:\\WEB\\index.html"));
	assert_false(http_fs_within("C:\\web", "C:\\webx\\a"));
	assert_false(http_fs_within("C:\\web", "C:\\"));
	assert_true(http_fs_within("C:\\", "C:\\x"));
}
#else
static void
test_within(void **state)
{
	char canon[4096], root[4096];

	(void)state;
	assert_true(http_fs_within("/srv/web", "/srv/web"));
	assert_true(http_fs_within("/srv/web", "/srv/web/index.html"));
	assert_true(http_fs_within("/srv/web", "/srv/web/js/a.js"));
	assert_false(http_fs_within("/srv/web", "/srv/webx/a"));
	assert_false(http_fs_within("/srv/web", "/srv/we"));
	assert_false(http_fs_within("/srv/web", "/srv"));
	assert_false(http_fs_within("/srv/web", "/etc/passwd"));
	assert_true(http_fs_within("/", "/etc/passwd"));
	/* the canonical form resolves "." and ".." and links */
	assert_int_equal(http_fs_canonical("/", root, sizeof(root)), 0);
	assert_string_equal(root, "/");
	assert_int_equal(http_fs_canonical("/tmp/../tmp/.", canon,
	    sizeof(canon)), 0);
	assert_int_equal(http_fs_canonical("/tmp", root, sizeof(root)), 0);
	assert_string_equal(canon, root);
	assert_true(http_fs_canonical("/nonexistent/procnet", canon,
	    sizeof(canon)) < 0);
	assert_int_equal(http_fs_canonical("/tmp", canon, 3), -ENAMETOOLONG);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_host_long),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_mime),
		cmocka_unit_test(test_addr_numeric),
		cmocka_unit_test(test_within),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
