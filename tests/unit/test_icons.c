/*
 * Icon names and the fallback chain: <type>.png, else service.png, else
 * nothing; type names never reach the file system unless they are plain.
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

#include "icons.h"

/* Test directories live in the build tree, so this runs on Windows too. */
#ifdef _WIN32
#include <direct.h>
#define make_dir(p)	_mkdir(p)
#else
#define make_dir(p)	mkdir((p), 0700)
#endif

static void
touch(const char *dir, const char *name)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs("png", f);
	fclose(f);
}

static void
rm(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	remove(p);
}

static void
test_names(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(icons_file_name("database", out, sizeof(out)), 0);
	assert_string_equal(out, "database.png");
	assert_int_equal(icons_file_name("message_broker", out, sizeof(out)),
	    0);
	assert_string_equal(out, "mq.png");
	assert_int_equal(icons_file_name("load_balancer", out, sizeof(out)), 0);
	assert_string_equal(out, "lb.png");
	assert_int_equal(icons_file_name("qt_desktop", out, sizeof(out)), 0);
	assert_string_equal(out, "qt_desktop.png");
	assert_int_equal(icons_file_name("my-type2", out, sizeof(out)), 0);

	assert_int_equal(icons_file_name("", out, sizeof(out)), -EINVAL);
	assert_int_equal(icons_file_name("../etc", out, sizeof(out)), -EINVAL);
	assert_int_equal(icons_file_name("a/b", out, sizeof(out)), -EINVAL);
	assert_int_equal(icons_file_name("a\\b", out, sizeof(out)), -EINVAL);
	assert_int_equal(icons_file_name("a.b", out, sizeof(out)), -EINVAL);
	assert_int_equal(icons_file_name("a b", out, sizeof(out)), -EINVAL);
	assert_int_equal(icons_file_name(NULL, out, sizeof(out)), -EINVAL);
	char long_type[ICONS_MAX_TYPE + 2];
	memset(long_type, 'a', sizeof(long_type) - 1);
	long_type[sizeof(long_type) - 1] = '\0';
	assert_int_equal(icons_file_name(long_type, out, sizeof(out)), -EINVAL);
	long_type[ICONS_MAX_TYPE] = '\0';
	assert_int_equal(icons_file_name(long_type, out, sizeof(out)), 0);
	assert_int_equal(icons_file_name("database", out, 8), -ENAMETOOLONG);
}

static void
test_chain(void **state)
{
	char dir[400], out[512], want[512];
	const char *root = getenv("PROCNET_BUILD_ROOT");

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_icons.%d", root != NULL ? root :
	    ".", (int)getpid());
	assert_int_equal(make_dir(dir), 0);
	/* nothing at all: 404 for the UI's own icon */
	assert_int_equal(icons_resolve(dir, "database", out, sizeof(out)),
	    -ENOENT);
	assert_int_equal(icons_resolve(NULL, "database", out, sizeof(out)),
	    -ENOENT);

	touch(dir, "service.png");
	assert_int_equal(icons_resolve(dir, "database", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/service.png", dir);
	assert_string_equal(out, want);

	touch(dir, "database.png");
	touch(dir, "mq.png");
	assert_int_equal(icons_resolve(dir, "database", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/database.png", dir);
	assert_string_equal(out, want);
	assert_int_equal(icons_resolve(dir, "message_broker", out,
	    sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/mq.png", dir);
	assert_string_equal(out, want);

	/* a directory named like an icon is not an icon */
	snprintf(want, sizeof(want), "%s/cache.png", dir);
	assert_int_equal(make_dir(want), 0);
	assert_int_equal(icons_resolve(dir, "cache", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/service.png", dir);
	assert_string_equal(out, want);

	assert_int_equal(icons_resolve(dir, "../x", out, sizeof(out)), -EINVAL);

	snprintf(want, sizeof(want), "%s/cache.png", dir);
	rmdir(want);
	rm(dir, "service.png");
	rm(dir, "database.png");
	rm(dir, "mq.png");
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
