/*
 * container_linux: names from docker's, containers/storage's (podman,
 * cri-o) and containerd's files as they lie on disk (tests/fixtures/
 * containers/ is a root with one of each), ids that must not become
 * paths, and the retry of a miss.
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

#include "container_linux.h"

#define DOCKER_ID "3f4e8a1b2c9d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f"
#define PODMAN_ID "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"
#define K8S_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NERD_ID "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static struct container_names *
fixture_root(void)
{
	const char *src = getenv("PROCNET_SOURCE_ROOT");
	char root[2048];
	struct container_names *cn;

	snprintf(root, sizeof(root), "%s/tests/fixtures/containers",
	    src != NULL ? src : "..");
	cn = container_names_new(root);
	assert_non_null(cn);
	return cn;
}

static void
test_runtimes(void **state)
{
	struct container_names *cn = fixture_root();

	(void)state;
	assert_string_equal(container_name(cn, "docker", DOCKER_ID, 1),
	    "shop-web");
	assert_string_equal(container_name(cn, "podman", PODMAN_ID, 1),
	    "orders-db");
	/* cri-o keeps its containers in the same storage */
	assert_string_equal(container_name(cn, "cri-o", PODMAN_ID, 1),
	    "orders-db");
	assert_string_equal(container_name(cn, "containerd", K8S_ID, 1),
	    "api");
	assert_string_equal(container_name(cn, "containerd", NERD_ID, 1),
	    "toolbox");
	/* cached: the same answer again */
	assert_string_equal(container_name(cn, "docker", DOCKER_ID, 2),
	    "shop-web");
	/* unknown ids and runtimes */
	assert_string_equal(container_name(cn, "docker", K8S_ID, 1), "");
	assert_string_equal(container_name(cn, "lxc", DOCKER_ID "0", 1), "");
	container_names_free(cn);
}

/* An id goes into a path: anything but lowercase hex is refused. */
static void
test_hostile_ids(void **state)
{
	struct container_names *cn = fixture_root();

	(void)state;
	assert_string_equal(container_name(cn, "docker", "../../etc", 1), "");
	assert_string_equal(container_name(cn, "docker", "", 1), "");
	assert_string_equal(container_name(cn, "docker", DOCKER_ID "/x", 1),
	    "");
	assert_string_equal(container_name(cn, "docker",
	    DOCKER_ID DOCKER_ID, 1), "");
	container_names_free(cn);
}

/* A container whose state is not written yet is looked up again after
 * CONTAINER_RETRY_MS; a corrupt file is no name. */
static void
test_retry_and_corrupt(void **state)
{
	char root[] = "/tmp/procnet-ctr-XXXXXX", path[512];
	struct container_names *cn;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	cn = container_names_new(root);
	assert_string_equal(container_name(cn, "docker", DOCKER_ID, 1000), "");
	snprintf(path, sizeof(path), "%s/var", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/var/lib", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/var/lib/docker", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/var/lib/docker/containers", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/var/lib/docker/containers/%s", root,
	    DOCKER_ID);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/var/lib/docker/containers/%s/"
	    "config.v2.json", root, DOCKER_ID);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"Name\":\"/late\"}", f);
	fclose(f);
	/* too soon: the miss stands */
	assert_string_equal(container_name(cn, "docker", DOCKER_ID, 2000), "");
	assert_string_equal(container_name(cn, "docker", DOCKER_ID,
	    1000 + CONTAINER_RETRY_MS), "late");
	container_names_free(cn);

	/* corrupt */
	f = fopen(path, "w");
	fputs("{\"Name\":", f);
	fclose(f);
	cn = container_names_new(root);
	assert_string_equal(container_name(cn, "docker", DOCKER_ID, 1), "");
	container_names_free(cn);
	unlink(path);
	for (int i = 0; i < 5; i++) {
		char *slash = strrchr(path, '/');

		*slash = '\0';
		rmdir(path);
	}
	rmdir(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtimes),
		cmocka_unit_test(test_hostile_ids),
		cmocka_unit_test(test_retry_and_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
