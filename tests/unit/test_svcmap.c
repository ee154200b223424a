/*
 * svcmap.c: services per process from the SCM's list and from each
 * socket's owner module.  The rows below are in the shape a Windows 10
 * host gives them (GetOwnerModuleFromTcpEntry / ...UdpEntry on the
 * OWNER_MODULE tables: a service-tagged socket names the service, an
 * untagged one the executable, a kernel one "System"); only a Windows
 * machine can produce real ones (docs/windows.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "svcmap.h"

struct row {
	int32_t pid;
	const char *image, *module_name, *module_path;
};

/* A svchost (pid 1044) hosting Dnscache, NlaSvc, nsi and LanmanWorkstation
 * per the SCM, with sockets of Dnscache (UDP 53/5353, TCP), of NlaSvc, and
 * one opened by a thread without a tag; a svchost (pid 2100) whose one
 * service, iphlpsvc, the SCM enumeration missed; a program (pid 3000,
 * not a service); the kernel (pid 4). */
static const struct row rows[] = {
	{ 1044, "svchost.exe", "Dnscache", "Dnscache" },
	{ 1044, "svchost.exe", "Dnscache", "Dnscache" },
	{ 1044, "svchost.exe", "dnscache", "dnscache" },
	{ 1044, "svchost.exe", "NlaSvc", "NlaSvc" },
	{ 1044, "svchost.exe", "svchost.exe",
	    "C:\\Windows\\System32\\svchost.exe" },
	{ 2100, "svchost.exe", "iphlpsvc", "iphlpsvc" },
	{ 3000, "firefox.exe", "firefox.exe",
	    "C:\\Program Files\\Mozilla Firefox\\firefox.exe" },
	{ 4, "System", "System", "System" },
};

static void load(struct svcmap *m)
{
	static const struct { int32_t pid; const char *name; } scm[] = {
		{ 1044, "Dnscache" }, { 1044, "NlaSvc" }, { 1044, "nsi" },
		{ 1044, "LanmanWorkstation" },
		{ 5000, "Spooler" }, { 5000, "Fax" },	/* no sockets */
		{ 6000, "sshd" },
	};

	for (size_t i = 0; i < sizeof(scm) / sizeof(scm[0]); i++)
		assert_int_equal(svcmap_add_scm(m, scm[i].pid, scm[i].name), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_true(svcmap_add_owner_module(m, rows[i].pid,
		    rows[i].image, rows[i].module_name,
		    rows[i].module_path) >= 0);
}

static const char *get(const struct svcmap *m, int32_t pid)
{
	static char buf[SVCMAP_MAX_STRING];

	assert_true(svcmap_get(m, pid, buf, sizeof(buf)) >= 0);
	return buf;
}

static void test_svchost_from_owner_modules(void **state)
{
	struct svcmap *m = svcmap_new();

	(void)state;
	assert_non_null(m);
	load(m);
	/* The services that own sockets, not all four hosted. */
	assert_string_equal(get(m, 1044), "Dnscache,NlaSvc");
	/* Owner module alone (the SCM did not list it). */
	assert_string_equal(get(m, 2100), "iphlpsvc");
	/* A program is not a service; the kernel is not either. */
	assert_string_equal(get(m, 3000), "");
	assert_string_equal(get(m, 4), "");
	/* No socket names a service: every service the SCM says it hosts. */
	assert_string_equal(get(m, 5000), "Fax,Spooler");
	assert_string_equal(get(m, 6000), "sshd");
	assert_string_equal(get(m, 777), "");
	svcmap_clear(m);
	assert_string_equal(get(m, 1044), "");
	svcmap_free(m);
	svcmap_free(NULL);
}

static void test_return_values(void **state)
{
	struct svcmap *m = svcmap_new();

	(void)state;
	assert_int_equal(svcmap_add_scm(m, 10, "W32Time"), 0);
	/* Listed by the SCM for this pid: a service even with a path. */
	assert_int_equal(svcmap_add_owner_module(m, 10, "svchost.exe",
	    "W32Time", "C:\\Windows\\system32\\w32time.dll"), 1);
	assert_int_equal(svcmap_add_owner_module(m, 11, "app.exe", "app.exe",
	    "app.exe"), 0);
	assert_int_equal(svcmap_add_owner_module(m, 11, "C:\\x\\app.exe",
	    "APP.EXE", NULL), 0);
	assert_int_equal(svcmap_add_owner_module(m, 11, NULL, "", ""), 0);
	assert_int_equal(svcmap_add_owner_module(m, 11, NULL, NULL, NULL), 0);
	assert_int_equal(svcmap_add_scm(m, 0, "x"), -EINVAL);
	assert_int_equal(svcmap_add_scm(m, 12, ""), -EINVAL);
	assert_int_equal(svcmap_add_scm(m, 12, "a,b"), -EINVAL);
	{
		char longname[SVCMAP_MAX_NAME + 2];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		assert_int_equal(svcmap_add_scm(m, 12, longname), -EINVAL);
		longname[SVCMAP_MAX_NAME] = '\0';
		assert_int_equal(svcmap_add_scm(m, 12, longname), 0);
	}
	svcmap_free(m);
}

/* A too-small buffer: -ENOSPC with the names that fitted, never a cut
 * name; past the entry cap: -E2BIG. */
static void test_limits(void **state)
{
	struct svcmap *m = svcmap_new();
	char buf[12];

	(void)state;
	assert_int_equal(svcmap_add_scm(m, 7, "Alpha"), 0);
	assert_int_equal(svcmap_add_scm(m, 7, "Bravo"), 0);
	assert_int_equal(svcmap_add_scm(m, 7, "Charlie"), 0);
	assert_int_equal(svcmap_get(m, 7, buf, sizeof(buf)), -ENOSPC);
	assert_string_equal(buf, "Alpha,Bravo");
	assert_int_equal(svcmap_get(m, 7, buf, 0), -ENOSPC);
	for (unsigned i = 0; i < SVCMAP_MAX_ENTRIES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%u", i);
		assert_int_equal(svcmap_add_scm(m, 100 + (int32_t)(i % 1000),
		    name), i < SVCMAP_MAX_ENTRIES - 3 ? 0 : -E2BIG);
	}
	svcmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_svchost_from_owner_modules),
		cmocka_unit_test(test_return_values),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
