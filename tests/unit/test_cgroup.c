/*
 * cgroup_parse on a table of /proc/<pid>/cgroup texts as real systems
 * write them (systemd services, Docker with both cgroup drivers, rootful
 * and rootless podman, cri-o and containerd under Kubernetes, cgroup v1
 * hybrids), on malformed text, and on every truncation.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroup.h"

#define ID64 "3f4e8a1b2c9d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"

struct row {
	const char *text;
	const char *unit, *runtime, *id;
};

static const struct row rows[] = {
	/* a systemd service, cgroup v2 */
	{ "0::/system.slice/postgresql@15-main.service\n",
	    "postgresql@15-main.service", "", "" },
	/* v1 hybrid: name=systemd is the one that names the unit */
	{ "12:pids:/system.slice/nginx.service\n"
	  "11:memory:/system.slice/nginx.service\n"
	  "1:name=systemd:/system.slice/nginx.service\n"
	  "0::/system.slice/nginx.service\n",
	    "nginx.service", "", "" },
	{ "4:memory:/\n1:name=systemd:/system.slice/ssh.service\n0::/\n",
	    "ssh.service", "", "" },
	/* a user's service under the user manager: the innermost unit */
	{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"
	  "pipewire.service\n", "pipewire.service", "", "" },
	/* a login session: no service */
	{ "0::/user.slice/user-1000.slice/session-3.scope\n", "", "", "" },
	/* the root cgroup (a container with its own cgroup namespace) */
	{ "0::/\n", "", "", "" },
	/* docker, systemd driver */
	{ "0::/system.slice/docker-" ID64 ".scope\n", "", "docker", ID64 },
	/* docker, cgroupfs driver, v1 */
	{ "12:devices:/docker/" ID64 "\n"
	  "1:name=systemd:/docker/" ID64 "\n", "", "docker", ID64 },
	/* systemd inside a docker container */
	{ "0::/system.slice/docker-" ID64 ".scope/system.slice/"
	  "nginx.service\n", "nginx.service", "docker", ID64 },
	/* docker-in-docker: the outer container, which the host knows */
	{ "0::/docker/" ID64 "/docker/0123456789ab0123456789ab0123456789ab"
	  "0123456789ab0123456789ab0123\n", "", "docker", ID64 },
	/* podman rootful, with and without the cgroupns "container" leaf */
	{ "0::/machine.slice/libpod-" ID64 ".scope/container\n", "",
	    "podman", ID64 },
	{ "0::/machine.slice/libpod-" ID64 ".scope\n", "", "podman", ID64 },
	/* conmon is not the container */
	{ "0::/machine.slice/libpod-conmon-" ID64 ".scope\n", "", "", "" },
	/* podman rootless */
	{ "0::/user.slice/user-1000.slice/user@1000.service/user.slice/"
	  "libpod-" ID64 ".scope\n", "user@1000.service", "podman", ID64 },
	/* podman, cgroupfs manager */
	{ "0::/libpod_parent/libpod-" ID64 "\n", "", "podman", ID64 },
	/* cri-o under Kubernetes, systemd driver */
	{ "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
	  "pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/crio-" ID64
	  ".scope\n", "", "cri-o", ID64 },
	{ "0::/kubepods.slice/kubepods-besteffort.slice/crio-conmon-" ID64
	  ".scope\n", "", "", "" },
	/* containerd under Kubernetes, systemd driver */
	{ "0::/kubepods.slice/kubepods-pod0f1e2d3c_4b5a.slice/"
	  "cri-containerd-" ID64 ".scope\n", "", "containerd", ID64 },
	/* containerd under Kubernetes, cgroupfs driver (v1) */
	{ "11:cpu,cpuacct:/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8796-"
	  "a5b4c3d2e1f0/" ID64 "\n", "", "containerd", ID64 },
	/* nerdctl (containerd) */
	{ "0::/system.slice/nerdctl-" ID64 ".scope\n", "", "containerd",
	    ID64 },
	/* not ids: wrong length, upper case, not hex */
	{ "0::/system.slice/docker-abc.scope\n", "", "", "" },
	{ "0::/system.slice/docker-3F4E8A1B2C9D.scope\n", "", "", "" },
	{ "0::/system.slice/docker.service\n", "docker.service", "", "" },
	{ "0::/system.slice/containerd.service\n", "containerd.service", "",
	    "" },
	/* a bare 64-hex directory outside docker and kubepods */
	{ "0::/actions_job/" ID64 "\n", "", "", "" },
	/* no trailing newline */
	{ "0::/system.slice/cron.service", "cron.service", "", "" },
	/* ".service" alone is no unit */
	{ "0::/system.slice/.service\n", "", "", "" },
};

static void
test_table(void **state)
{
	struct cgroup_info ci;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		int rc = cgroup_parse(r->text, strlen(r->text), &ci);

		if (rc != 0)
			fail_msg("row %zu: rc %d", i, rc);
		if (strcmp(ci.unit, r->unit) != 0 ||
		    strcmp(ci.runtime, r->runtime) != 0 ||
		    strcmp(ci.id, r->id) != 0)
			fail_msg("row %zu: got unit '%s' runtime '%s' id '%s'",
			    i, ci.unit, ci.runtime, ci.id);
	}
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n\n",
		"hello\n",
		"0:/system.slice\n",
		"x::/system.slice/a.service\n",
		":pids:/\n",
		"0::relative/path\n",
		"0::\n",
		"0::/ok.service\ngarbage\n",
	};
	struct cgroup_info ci;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cgroup_parse(bad[i], strlen(bad[i]), &ci) != -EINVAL)
			fail_msg("bad[%zu] accepted", i);
}

/* Every prefix of every row parses or fails cleanly, reading no byte past
 * its length (the copy has no NUL, ASan sees an overrun). */
static void
test_truncations(void **state)
{
	struct cgroup_info ci;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t len = strlen(rows[i].text);

		for (n = 0; n <= len; n++) {
			char *b = malloc(n ? n : 1);
			int rc;

			assert_non_null(b);
			memcpy(b, rows[i].text, n);
			rc = cgroup_parse(b, n, &ci);
			assert_true(rc == 0 || rc == -EINVAL);
			assert_non_null(ci.runtime);
			assert_true(strlen(ci.unit) < CGROUP_UNIT_MAX);
			free(b);
		}
	}
}

/* A unit name past systemd's limit is not copied (nor overflowed). */
static void
test_long_unit(void **state)
{
	char buf[1024];
	struct cgroup_info ci;

	(void)state;
	memcpy(buf, "0::/", 4);
	memset(buf + 4, 'a', 600);
	memcpy(buf + 604, ".service\n", 9);
	assert_int_equal(cgroup_parse(buf, 613, &ci), 0);
	assert_string_equal(ci.unit, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_long_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
