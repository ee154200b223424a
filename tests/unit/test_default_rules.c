/*
 * packaging/rules/node_types.yaml, the rules file installed by default:
 * it loads through webd's loader, and typical server processes (Linux and
 * Windows names, Java and Erlang servers told apart by command line) get
 * the type and label the file promises; ordinary programs stay "app".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

struct type_case {
	const char *name;
	const char *cmdline;
	const char *type;
	const char *label;	/* NULL: the process name */
};

static const struct type_case cases[] = {
	{ "postgres", "postgres: checkpointer", "database", "PostgreSQL" },
	{ "postgres.exe", "\"C:\\PG\\bin\\postgres.exe\" -D data", "database", "PostgreSQL" },
	{ "mysqld", "/usr/sbin/mysqld", "database", "MySQL" },
	{ "mariadbd", "/usr/sbin/mariadbd", "database", "MariaDB" },
	{ "mongod", "/usr/bin/mongod --config /etc/mongod.conf", "database", "MongoDB" },
	{ "sqlservr.exe", "sqlservr.exe -sMSSQLSERVER", "database", "SQL Server" },
	{ "redis-server", "/usr/bin/redis-server 127.0.0.1:6379", "cache", "Redis" },
	{ "redis-server.exe", "redis-server.exe", "cache", "Redis" },
	{ "memcached", "/usr/bin/memcached -m 64", "cache", "memcached" },
	{ "beam.smp", "/usr/lib/erlang/erts-13/bin/beam.smp -- -root /usr/lib/erlang "
	  "-s rabbit boot", "message_broker", "RabbitMQ" },
	/* An Erlang VM that is not RabbitMQ is just an app. */
	{ "beam.smp", "/usr/lib/erlang/erts-13/bin/beam.smp -- -s couch", "app", NULL },
	{ "java", "/usr/bin/java -Xmx1G -cp /opt/kafka/libs/* kafka.Kafka "
	  "config/server.properties", "message_broker", "Kafka" },
	{ "java", "/usr/bin/java org.elasticsearch.bootstrap.Elasticsearch",
	  "database", "Elasticsearch" },
	{ "java", "/usr/bin/java -jar app.jar", "app", NULL },
	{ "nginx", "nginx: worker process", "load_balancer", "nginx" },
	{ "haproxy", "/usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg", "load_balancer", "HAProxy" },
	{ "envoy", "envoy -c envoy.yaml", "load_balancer", "Envoy" },
	{ "sshd", "sshd: /usr/sbin/sshd -D [listener]", "service", "OpenSSH server" },
	{ "systemd-resolve", "/lib/systemd/systemd-resolved", "service", "systemd-resolved" },
	{ "chrome", "/opt/google/chrome/chrome --type=renderer", "app", "Browser (Chromium)" },
	{ "chrome.exe", "chrome.exe", "app", "Browser (Chromium)" },
	{ "firefox-esr", "/usr/lib/firefox-esr/firefox-esr", "app", "Firefox" },
	{ "Isolated Web Co", "/usr/lib/firefox-esr/firefox-esr -contentproc "
	  "-childID 3 -isForBrowser", "app", "Firefox" },
	{ "QtWebEngineProcess", "/usr/lib/qt6/libexec/QtWebEngineProcess --type=zygote",
	  "qt_desktop", "Qt WebEngine" },
	{ "konsole", "/usr/bin/konsole", "qt_desktop", NULL },
	{ "qtcreator", "/usr/bin/qtcreator", "qt_desktop", "Qt App" },
	{ "procnet-webd", "procnet-webd --port 8765", "service", NULL },
	/* Nothing matches: the default type and the name as label. */
	{ "bash", "-bash", "app", NULL },
	{ "curl", "curl http://example.invalid/", "app", NULL },
};

static struct rules *
load_default(void)
{
	const char *root = getenv("PROCNET_SOURCE_ROOT");
	char path[4096], msg[2048];
	struct rules_error err;
	struct rules *r = NULL;
	int rc;

	if (root == NULL)
		root = ".";
	snprintf(path, sizeof(path), "%s/packaging/rules/node_types.yaml", root);
	rc = rules_load(path, &r, &err);
	if (rc != 0)
		fail_msg("%s", rules_error_format(&err, msg, sizeof(msg)));
	return r;
}

static void
test_loads(void **state)
{
	struct rules *r = load_default();

	/* Every type in the file is one the UI has an icon for. */
	assert_true(rules_count(r) >= 30);
	rules_free(r);
}

static void
test_types(void **state)
{
	struct rules *r = load_default();
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct type_case *c = &cases[i];
		struct snap_process p = { .pid = 100 + (int32_t)i, .ppid = 1,
		    .start_time = 1, .user = "u", .name = c->name, .exe = "",
		    .cmdline = c->cmdline };
		struct rules_result res;
		const char *want_label = c->label ? c->label : c->name;

		rules_match(r, &p, &res);
		if (strcmp(res.type, c->type) != 0 ||
		    strcmp(res.label, want_label) != 0) {
			print_error("%s (%s): got %s/\"%s\", want %s/\"%s\"\n",
			    c->name, c->cmdline, res.type, res.label, c->type,
			    want_label);
			bad++;
		}
		assert_true(rules_type_is_known(res.type));
	}
	assert_int_equal(bad, 0);
	rules_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads),
		cmocka_unit_test(test_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
