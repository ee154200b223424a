/*
 * Rules: every rule form, YAML and JSON alike, path resolution, and each
 * bad file with its exact message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules.h"

/* The few file-system calls the fixtures need, on both platforms. */
#ifdef _WIN32
#include <direct.h>
#include <io.h>

static char *
make_tmpdir(char *tmpl)
{
	return _mktemp(tmpl) != NULL && _mkdir(tmpl) == 0 ? tmpl : NULL;
}

static int
make_dir(const char *path)
{
	return _mkdir(path);
}
#else
static char *
make_tmpdir(char *tmpl)
{
	return mkdtemp(tmpl);
}

static int
make_dir(const char *path)
{
	return mkdir(path, 0700);
}
#endif

/* A new empty directory under the system's temporary directory. */
static void
tmpdir(char *out, size_t len, const char *name)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || base[0] == '\0')
		base = getenv("TEMP");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(out, len, "%s/%s-XXXXXX", base, name);
	assert_non_null(make_tmpdir(out));
}

static char fixtures[PATH_MAX];

static const char *
fixture(const char *name)
{
	static char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

static struct rules *
load_text(const char *text, enum rules_format fmt)
{
	struct rules *r = NULL;
	struct rules_error err;
	char msg[2200];
	int rc = rules_load_buffer(text, strlen(text), "inline", fmt, &r, &err);

	if (rc != 0)
		fail_msg("load failed: %s", rules_error_format(&err, msg,
		    sizeof(msg)));
	return r;
}

/* ---- each rule form ---- */

struct form_case {
	const char *rules;		/* YAML */
	int32_t pid;
	const char *name, *cmd;
	const char *type, *label;	/* expected */
	int rule;
};

static const struct form_case form_cases[] = {
	/* match_pid */
	{ "- {match_pid: 1234, type: database, label: PG}", 1234, "postgres",
	  "", "database", "PG", 0 },
	{ "- {match_pid: 1234, type: database, label: PG}", 1235, "postgres",
	  "", "app", "postgres", -1 },
	/* exact name: no substring, case matters */
	{ "- {match_name: redis-server, type: cache}", 1, "redis-server", "",
	  "cache", "redis-server", 0 },
	{ "- {match_name: redis, type: cache}", 1, "redis-server", "", "app",
	  "redis-server", -1 },
	{ "- {match_name: Redis-Server, type: cache}", 1, "redis-server", "",
	  "app", "redis-server", -1 },
	/* name regex, case-sensitive and /i */
	{ "- {match_name: '/^chrom/', type: app, label: Chrome}", 1,
	  "chromium", "", "app", "Chrome", 0 },
	{ "- {match_name: '/^chrom/', type: app, label: Chrome}", 1,
	  "Chromium", "", "app", "Chromium", -1 },
	{ "- {match_name: '/CHROME/i', type: app, label: Chrome}", 1,
	  "google-chrome", "", "app", "Chrome", 0 },
	/* cmd substring and regex */
	{ "- {match_cmd: '--listen 0.0.0.0:5432', type: database}", 1, "x",
	  "x --listen 0.0.0.0:5432 -v", "database", "x", 0 },
	{ "- {match_cmd: '--listen 0.0.0.0:5432', type: database}", 1, "x",
	  "x --listen 127.0.0.1:5432", "app", "x", -1 },
	{ "- {match_cmd: '/--port\\s+(3000|5173)/i', type: service}", 1,
	  "node", "node vite --PORT  5173", "service", "node", 0 },
	{ "- {match_cmd: '/--port\\s+(3000|5173)/i', type: service}", 1,
	  "node", "node vite --port 8000", "app", "node", -1 },
	/* several fields: all must match */
	{ "- {match_name: python3, match_cmd: celery, type: message_broker}",
	  1, "python3", "python3 -m celery worker", "message_broker",
	  "python3", 0 },
	{ "- {match_name: python3, match_cmd: celery, type: message_broker}",
	  1, "python3", "python3 manage.py runserver", "app", "python3", -1 },
	{ "- {match_pid: 7, match_name: sh, type: service}", 8, "sh", "",
	  "app", "sh", -1 },
	/* first match wins */
	{ "- {match_name: '/./', type: first}\n- {match_name: x, type: second}",
	  1, "x", "", "first", "x", 0 },
	{ "- {match_name: y, type: first}\n- {match_name: x, type: second}",
	  1, "x", "", "second", "x", 1 },
	/* an empty label is the process name; other types are allowed */
	{ "- {match_name: nginx, type: load_balancer, label: ''}", 1, "nginx",
	  "", "load_balancer", "nginx", 0 },
	{ "- {match_name: nginx, type: my_own_type}", 1, "nginx", "",
	  "my_own_type", "nginx", 0 },
	/* a numeric-looking name in YAML is a string */
	{ "- {match_name: 1234, type: cache}", 1, "1234", "", "cache", "1234",
	  0 },
	/* a regex against a name that is not valid UTF-8 */
	{ "- {match_name: '/ab/', type: odd}", 1, "\xff\xfe" "ab", "", "odd",
	  "\xff\xfe" "ab", 0 },
	/* a path is a substring, not a regex (no trailing slash) */
	{ "- {match_cmd: /usr/bin/python, type: service}", 1, "python",
	  "/usr/bin/python3 app.py", "service", "python", 0 },
};

static void
test_rule_forms(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(form_cases) / sizeof(form_cases[0]); i++) {
		const struct form_case *c = &form_cases[i];
		struct snap_process p = { .pid = c->pid, .name = c->name,
		    .cmdline = c->cmd, .user = "", .exe = "" };
		struct rules_result res;
		struct rules *r = load_text(c->rules, RULES_FORMAT_YAML);

		rules_match(r, &p, &res);
		if (strcmp(res.type, c->type) != 0 ||
		    strcmp(res.label, c->label) != 0 || res.rule != c->rule)
			fail_msg("case %zu (%s): got %s/%s/%d, want %s/%s/%d",
			    i, c->rules, res.type, res.label, res.rule,
			    c->type, c->label, c->rule);
		rules_free(r);
	}
}

static void
test_no_rules_default(void **state)
{
	struct snap_process p = { .pid = 1, .name = "bash", .cmdline = "",
	    .user = "", .exe = "" };
	struct rules_result res;

	(void)state;
	rules_match(NULL, &p, &res);
	assert_string_equal(res.type, "app");
	assert_string_equal(res.label, "bash");
	assert_int_equal(res.rule, -1);
	assert_int_equal(rules_count(NULL), 0);
}

/* A pattern that backtracks exponentially gives up at the match limit:
 * no match, no hang. */
static void
test_regex_limits(void **state)
{
	struct rules *r = load_text("- {match_cmd: '/^(a+)+$/', type: slow}",
	    RULES_FORMAT_YAML);
	char cmd[64];
	struct snap_process p = { .pid = 1, .name = "x", .cmdline = cmd,
	    .user = "", .exe = "" };
	struct rules_result res;

	(void)state;
	memset(cmd, 'a', 40);
	cmd[40] = 'b';
	cmd[41] = '\0';
	rules_match(r, &p, &res);
	assert_int_equal(res.rule, -1);
	cmd[40] = '\0';
	rules_match(r, &p, &res);
	assert_string_equal(res.type, "slow");
	rules_free(r);
}

/* ---- YAML and JSON say the same ---- */

static const struct snap_process probe[] = {
	{ .pid = 4242, .name = "postgres", .cmdline = "postgres -D /db" },
	{ .pid = 1, .name = "redis-server", .cmdline = "redis-server *:6379" },
	{ .pid = 2, .name = "Google-Chrome", .cmdline = "chrome --type=gpu" },
	{ .pid = 3, .name = "pg", .cmdline = "pg --listen 0.0.0.0:5432" },
	{ .pid = 4, .name = "node", .cmdline = "node vite --port 5173" },
	{ .pid = 5, .name = "myQtApp", .cmdline = "myQtApp" },
	{ .pid = 6, .name = "python3", .cmdline = "python3 -m celery worker" },
	{ .pid = 7, .name = "python3", .cmdline = "python3 -m http.server" },
	{ .pid = 8, .name = "nginx", .cmdline = "nginx: master process" },
	{ .pid = 9, .name = "weird", .cmdline = "" },
	{ .pid = 10, .name = "bash", .cmdline = "-bash" },
};

static const struct {
	const char *type, *label;
} probe_want[] = {
	{ "database", "Local Postgres" }, { "cache", "Redis" },
	{ "app", "Chrome" }, { "database", "DB (Public)" },
	{ "service", "Dev Server" }, { "qt_desktop", "Qt App" },
	{ "message_broker", "python3" }, { "app", "python3" },
	{ "load_balancer", "nginx" }, { "custom_type", "Ünïcödé ✓" },
	{ "app", "bash" },
};

static void
test_yaml_json_same(void **state)
{
	const char *files[] = { "good.yaml", "good.json", "good-json-noext",
	    "good-yaml-noext" };

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct rules *r = NULL;
		struct rules_error err;
		char msg[2200];

		if (rules_load(fixture(files[f]), &r, &err) != 0)
			fail_msg("%s", rules_error_format(&err, msg,
			    sizeof(msg)));
		assert_int_equal(rules_count(r), 9);
		for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
			struct snap_process p = probe[i];
			struct rules_result res;

			p.user = p.exe = "";
			rules_match(r, &p, &res);
			if (strcmp(res.type, probe_want[i].type) != 0 ||
			    strcmp(res.label, probe_want[i].label) != 0)
				fail_msg("%s, process %s: got %s/%s", files[f],
				    p.name, res.type, res.label);
		}
		rules_free(r);
	}
}

/* ---- bad files, message by message ---- */

struct bad_case {
	const char *file;
	int rc;
	const char *msg;	/* after "<path>:" */
};

static const struct bad_case bad_cases[] = {
	{ "bad-empty.yaml", -EINVAL,
	  " empty file; expected a list of rules" },
	{ "bad-comments.yaml", -EINVAL,
	  " empty file; expected a list of rules" },
	{ "bad-empty.json", -EINVAL,
	  " empty file; expected a list of rules" },
	{ "bad-not-list.yaml", -EINVAL,
	  "1:1: expected a list of rules, found a mapping" },
	{ "bad-not-list.json", -EINVAL,
	  "1:1: expected a list of rules, found a mapping" },
	{ "bad-scalar-root.json", -EINVAL,
	  "1:1: expected a list of rules, found a string" },
	{ "bad-missing-type.yaml", -EINVAL,
	  "4:3: rule 2: missing required field 'type'" },
	{ "bad-missing-type.json", -EINVAL,
	  "3:3: rule 2: missing required field 'type'" },
	{ "bad-unknown-field.yaml", -EINVAL,
	  "3:3: rule 2: unknown field 'match_nmae'; did you mean "
	  "'match_name'?" },
	{ "bad-unknown-field.json", -EINVAL,
	  "2:23: rule 2: unknown field 'colour'; known fields are match_pid, "
	  "match_name, match_cmd, type, label, group" },
	{ "bad-pid-type.yaml", -EINVAL,
	  "1:14: rule 1: match_pid must be an integer, found a string" },
	{ "bad-pid-string.json", -EINVAL,
	  "1:16: rule 1: match_pid must be an integer, found a string" },
	{ "bad-pid-range.yaml", -EINVAL,
	  "1:14: rule 1: match_pid must be between 0 and 2147483647, "
	  "found -5" },
	{ "bad-type-list.yaml", -EINVAL,
	  "2:9: rule 1: type must be a string, found a list" },
	{ "bad-type-null.yaml", -EINVAL,
	  "2:8: rule 1: type must be a string, found null (no value)" },
	{ "bad-wrong-type.json", -EINVAL,
	  "2:18: rule 1: match_name must be a string, found an integer" },
	{ "bad-empty-type.yaml", -EINVAL,
	  "2:9: rule 1: type must not be empty" },
	{ "bad-regex.yaml", -EINVAL,
	  "3:14: rule 2: bad regex in match_cmd at offset 12: missing "
	  "closing parenthesis" },
	{ "bad-regex.json", -EINVAL,
	  "3:18: rule 2: bad regex in match_name at offset 3: missing "
	  "terminating ] for character class" },
	{ "bad-empty-regex.yaml", -EINVAL,
	  "1:15: rule 1: match_name: empty regex //" },
	{ "bad-rule-not-mapping.yaml", -EINVAL,
	  "3:3: rule 2: expected a mapping of match_pid/match_name/match_cmd, "
	  "type, label and group, found a string" },
	{ "bad-rule-not-mapping.json", -EINVAL,
	  "1:38: rule 2: expected a mapping of match_pid/match_name/"
	  "match_cmd, type, label and group, found a list" },
	{ "bad-duplicate.yaml", -EINVAL,
	  "3:3: rule 1: field 'type' is given twice" },
	{ "bad-duplicate.json", -EINVAL,
	  "1:42: a field is given twice (duplicate object key near "
	  "'\"type\"')" },
	{ "bad-no-match.yaml", -EINVAL,
	  "1:3: rule 1: no match field; give at least one of match_pid, "
	  "match_name, match_cmd" },
	{ "bad-syntax.yaml", -EINVAL,
	  "3:2: YAML syntax error: did not find expected '-' indicator while "
	  "parsing a block collection" },
	{ "bad-syntax.json", -EINVAL,
	  "3:1: JSON syntax error: unexpected token near ']'" },
	{ "bad-alias.yaml", -EINVAL,
	  "4:3: YAML aliases (*base) are not supported; write the rule out" },
	{ "bad-two-docs.yaml", -EINVAL,
	  "3:1: a second YAML document; put all rules in one list" },
	{ "does-not-exist.yaml", -ENOENT,
	  " cannot open: No such file or directory" },
	{ ".", -EINVAL, " not a regular file" },
};

static void
test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct rules *r = NULL;
		struct rules_error err;
		char got[2200], want[PATH_MAX * 3];
		int rc;

		rc = rules_load(fixture(c->file), &r, &err);
		snprintf(want, sizeof(want), "%s:%s", fixture(c->file), c->msg);
		rules_error_format(&err, got, sizeof(got));
		if (rc != c->rc || r != NULL || strcmp(got, want) != 0)
			fail_msg("%s: rc %d (want %d)\n got: %s\nwant: %s",
			    c->file, rc, c->rc, got, want);
	}
}

static void
test_too_large(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], got[2200];
	struct rules *r = NULL;
	struct rules_error err;
	FILE *f;
	char *big;

	(void)state;
	tmpdir(dir, sizeof(dir), "procnet-rules");
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	big = malloc(RULES_MAX_FILE + 1);
	assert_non_null(big);
	memset(big, '#', RULES_MAX_FILE + 1);
	assert_int_equal(fwrite(big, 1, RULES_MAX_FILE + 1, f),
	    RULES_MAX_FILE + 1);
	fclose(f);
	assert_int_equal(rules_load(path, &r, &err), -EFBIG);
	assert_null(r);
	rules_error_format(&err, got, sizeof(got));
	{
		char want[PATH_MAX + 128];

		snprintf(want, sizeof(want), "%s: file too large: 1048577 "
		    "bytes (the limit is 1048576)", path);
		assert_string_equal(got, want);
	}
	/* the buffer API enforces the same cap */
	assert_int_equal(rules_load_buffer(big, RULES_MAX_FILE + 1, "mem",
	    RULES_FORMAT_YAML, &r, &err), -EFBIG);
	free(big);
	unlink(path);
	rmdir(dir);
}

/* Odd inputs that must fail cleanly, not crash. */
static void
test_odd_buffers(void **state)
{
	static const struct {
		const char *text;
		enum rules_format fmt;
		const char *msg;
	} cases[] = {
		{ "- match_name: x\n  type: app\n  label: [a]\n",
		  RULES_FORMAT_YAML,
		  "mem:3:10: rule 1: label must be a string, found a list" },
		{ "- match_name: {a: 1}\n  type: app\n", RULES_FORMAT_YAML,
		  "mem:1:15: rule 1: match_name must be a string, found a "
		  "mapping" },
		{ "- name: nginx\n  type: app\n", RULES_FORMAT_YAML,
		  "mem:1:3: rule 1: unknown field 'name'; did you mean "
		  "'match_name'?" },
		{ "[{\"type\": \"app\", \"cmd\": \"x\"}]", RULES_FORMAT_JSON,
		  "mem:1:18: rule 1: unknown field 'cmd'; did you mean "
		  "'match_cmd'?" },
		{ "- ? [a]\n  : b\n", RULES_FORMAT_YAML,
		  "mem:1:5: rule 1: a field name must be a plain word, found a "
		  "list" },
		{ "[{\"match_pid\": 1.5, \"type\": \"x\"}]", RULES_FORMAT_JSON,
		  "mem:1:16: rule 1: match_pid must be an integer, found a "
		  "number" },
		{ "[{\"match_name\": null, \"type\": \"x\"}]", RULES_FORMAT_JSON,
		  "mem:1:17: rule 1: match_name must be a string, found null "
		  "(no value)" },
		{ "[{\"match_name\": \"x\", \"type\": true}]", RULES_FORMAT_JSON,
		  "mem:1:30: rule 1: type must be a string, found true/false" },
		{ "- {match_pid: 99999999999999999999999, type: x}",
		  RULES_FORMAT_YAML,
		  "mem:1:15: rule 1: match_pid must be between 0 and "
		  "2147483647, found 99999999999999999999999" },
		{ "[\n  {\"match_name\": \"x\", \"type\": \"app\"},\n  \"oops\"\n]",
		  RULES_FORMAT_AUTO,
		  "mem:3:3: rule 2: expected a mapping of match_pid/match_name/"
		  "match_cmd, type, label and group, found a string" },
		{ "\xEF\xBB\xBF[{\"match_name\": \"x\", \"tpye\": \"app\"}]",
		  RULES_FORMAT_AUTO,
		  "mem:1:22: rule 1: unknown field 'tpye'; did you mean 'type'?" },
		{ "\xEF\xBB\xBF- match_name: x\r\n  tpye: app\r\n",
		  RULES_FORMAT_YAML,
		  "mem:2:3: rule 1: unknown field 'tpye'; did you mean 'type'?" },
		{ "[\r\n {\"match_name\": \"x\",\r\n  \"type\": 1}]",
		  RULES_FORMAT_JSON,
		  "mem:3:11: rule 1: type must be a string, found an integer" },
		{ "- match_name: \"a\\0b\"\n  type: app\n", RULES_FORMAT_YAML,
		  "mem:1:15: a NUL character (\\0) in a string; names and "
		  "command lines cannot hold one" },
		{ "- \"type\\x00x\": app\n  match_name: x\n", RULES_FORMAT_YAML,
		  "mem:1:3: a NUL character (\\0) in a string; names and "
		  "command lines cannot hold one" },
		{ "- a\0b", RULES_FORMAT_YAML,
		  "mem:1:4: NUL byte in the file; is it a text file?" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules *r = NULL;
		struct rules_error err;
		char got[2200];
		size_t len = strlen(cases[i].text);

		if (i == sizeof(cases) / sizeof(cases[0]) - 1)
			len = 5;	/* the embedded NUL */
		assert_int_equal(rules_load_buffer(cases[i].text, len, "mem",
		    cases[i].fmt, &r, &err), -EINVAL);
		assert_null(r);
		rules_error_format(&err, got, sizeof(got));
		if (strcmp(got, cases[i].msg) != 0)
			fail_msg("case %zu\n got: %s\nwant: %s", i, got,
			    cases[i].msg);
	}
}

/* ---- path resolution ---- */

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_resolve(void **state)
{
	char base[PATH_MAX], here[PATH_MAX];
	char cwd[PATH_MAX + 8], oldcwd[PATH_MAX], conf[PATH_MAX + 8];
	char prog[PATH_MAX + 8];
	char p[PATH_MAX * 2], out[PATH_MAX * 2], got[2200], want[PATH_MAX * 4];
	struct rules_error err;

	(void)state;
	tmpdir(base, sizeof(base), "procnet-resolve");
	snprintf(cwd, sizeof(cwd), "%s/cwd", base);
	snprintf(conf, sizeof(conf), "%s/etc", base);
	snprintf(prog, sizeof(prog), "%s/bin", base);
	assert_int_equal(make_dir(cwd), 0);
	assert_int_equal(make_dir(conf), 0);
	assert_int_equal(make_dir(prog), 0);
	assert_non_null(getcwd(oldcwd, sizeof(oldcwd)));
	assert_int_equal(chdir(cwd), 0);
	/* the working directory as the OS spells it (separators, case) */
	assert_non_null(getcwd(here, sizeof(here)));

	/* only in the program dir */
	snprintf(p, sizeof(p), "%s/r.yaml", prog);
	write_file(p, "[]");
	assert_int_equal(rules_resolve("r.yaml", conf, prog, out, sizeof(out),
	    &err), 0);
	assert_string_equal(out, p);
	/* the config dir comes before it */
	snprintf(p, sizeof(p), "%s/r.yaml", conf);
	write_file(p, "[]");
	assert_int_equal(rules_resolve("r.yaml", conf, prog, out, sizeof(out),
	    &err), 0);
	assert_string_equal(out, p);
	/* and the working directory before both */
	write_file("r.yaml", "[]");
	snprintf(p, sizeof(p), "%s/r.yaml", here);
	assert_int_equal(rules_resolve("r.yaml", conf, prog, out, sizeof(out),
	    &err), 0);
	assert_string_equal(out, p);
	/* absolute: as given */
	assert_int_equal(rules_resolve("/no/such/file.yaml", conf, prog, out,
	    sizeof(out), &err), 0);
	assert_string_equal(out, "/no/such/file.yaml");
	/* a directory is not a rules file */
	assert_int_equal(make_dir("d.yaml"), 0);
	/* nowhere: the message lists every place tried, in order */
	assert_int_equal(rules_resolve("d.yaml", conf, prog, out, sizeof(out),
	    &err), -ENOENT);
	rules_error_format(&err, got, sizeof(got));
	snprintf(want, sizeof(want), "d.yaml: rules file not found; tried "
	    "%s/d.yaml (a directory), %s/d.yaml, %s/d.yaml", here, conf,
	    prog);
	assert_string_equal(got, want);
	/* NULL dirs are skipped */
	assert_int_equal(rules_resolve("d.yaml", NULL, NULL, out, sizeof(out),
	    &err), -ENOENT);
	rules_error_format(&err, got, sizeof(got));
	snprintf(want, sizeof(want), "d.yaml: rules file not found; tried "
	    "%s/d.yaml (a directory)", here);
	assert_string_equal(got, want);
	/* a name no directory can hold: said so, not "tried" nothing */
	{
		char longname[1100];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		assert_int_equal(rules_resolve(longname, NULL, NULL, out,
		    sizeof(out), &err), -ENAMETOOLONG);
		rules_error_format(&err, got, sizeof(got));
		assert_non_null(strstr(got, ": path too long"));
	}

	rmdir("d.yaml");
	unlink("r.yaml");
	snprintf(p, sizeof(p), "%s/r.yaml", conf);
	unlink(p);
	snprintf(p, sizeof(p), "%s/r.yaml", prog);
	unlink(p);
	assert_int_equal(chdir(oldcwd), 0);
	rmdir(cwd);
	rmdir(conf);
	rmdir(prog);
	rmdir(base);
}

static void
test_known_types(void **state)
{
	const char *known[] = { "app", "service", "database", "message_broker",
	    "cache", "load_balancer", "external", "qt_desktop" };

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_true(rules_type_is_known(known[i]));
	assert_false(rules_type_is_known("custom_type"));
	assert_false(rules_type_is_known(""));
}

static void
test_empty_list_ok(void **state)
{
	struct rules *r = load_text("[]", RULES_FORMAT_AUTO);

	(void)state;
	assert_int_equal(rules_count(r), 0);
	assert_string_equal(rules_source(r), "inline");
	rules_free(r);
	r = load_text("# nothing yet\n[]\n", RULES_FORMAT_YAML);
	assert_int_equal(rules_count(r), 0);
	rules_free(r);
}

/* `group:` names a group (webd/group.h), in YAML and JSON alike; an empty
 * or non-string one is refused with its position. */
static void
test_group_field(void **state)
{
	static const char *const texts[] = {
		"- {match_name: postgres, type: database, group: orders database}\n"
		"- {match_name: redis, type: cache}\n",
		"[{\"match_name\": \"postgres\", \"type\": \"database\", "
		"\"group\": \"orders database\"},\n"
		" {\"match_name\": \"redis\", \"type\": \"cache\"}]\n",
	};
	struct snap_process p;
	struct rules_result res;
	struct rules_error err;
	struct rules *r = NULL;
	char msg[2200];

	(void)state;
	for (int i = 0; i < 2; i++) {
		r = load_text(texts[i], i == 0 ? RULES_FORMAT_YAML :
		    RULES_FORMAT_JSON);
		memset(&p, 0, sizeof(p));
		p.pid = 7;
		p.name = "postgres";
		p.cmdline = "postgres -D /srv";
		rules_match(r, &p, &res);
		assert_string_equal(res.group, "orders database");
		p.name = "redis";
		rules_match(r, &p, &res);
		assert_string_equal(res.group, "");
		p.name = "other";
		rules_match(r, &p, &res);
		assert_string_equal(res.group, "");
		rules_free(r);
	}
	r = NULL;
	assert_int_equal(rules_load_buffer("- {match_name: a, type: app}\n"
	    "- {match_name: b, type: app, group: ''}\n", 69, "g.yaml",
	    RULES_FORMAT_YAML, &r, &err), -EINVAL);
	rules_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "g.yaml:2:"));
	assert_non_null(strstr(msg, "group"));
	assert_int_equal(rules_load_buffer("[{\"match_name\": \"a\", "
	    "\"type\": \"app\", \"group\": 3}]", 48, "g.json",
	    RULES_FORMAT_JSON, &r, &err), -EINVAL);
	rules_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "g.json:1:"));
	assert_null(r);
}

int
main(void)
{
	const char *src = getenv("PROCNET_SOURCE_ROOT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_forms),
		cmocka_unit_test(test_no_rules_default),
		cmocka_unit_test(test_regex_limits),
		cmocka_unit_test(test_yaml_json_same),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_odd_buffers),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_known_types),
		cmocka_unit_test(test_empty_list_ok),
		cmocka_unit_test(test_group_field),
	};

	snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures/rules",
	    src ? src : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
