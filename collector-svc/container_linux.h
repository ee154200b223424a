/*
 * Container names from the runtimes' state on disk, without a call to any
 * daemon (the collector must not depend on, or wait for, dockerd):
 *   docker      /var/lib/docker/containers/<id>/config.v2.json  "Name"
 *   podman,     /var/lib/containers/storage/overlay-containers/
 *   cri-o         containers.json  "names" (rootful storage only)
 *   containerd  /run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/
 *                 config.json  annotations "io.kubernetes.cri.container-name"
 *                 (Kubernetes) or "nerdctl/name" (nerdctl)
 * Rootless podman's storage (in each user's home) and plain containerd
 * clients that name nothing (ctr) give "".  Files are size-capped and
 * parsed with jansson; answers are cached per id (a miss is retried after
 * CONTAINER_RETRY_MS: a new container's state may not be written yet).
 */
#ifndef PROCNET_CONTAINER_LINUX_H
#define PROCNET_CONTAINER_LINUX_H

#include <stdint.h>

#define CONTAINER_CACHE_MAX	4096u
#define CONTAINER_FILE_MAX	(16u * 1024u * 1024u)	/* containers.json */
#define CONTAINER_RETRY_MS	10000

struct container_names;

/* root: "" or NULL for "/", else a directory standing for it (tests).
 * NULL on ENOMEM. */
struct container_names *container_names_new(const char *root);
void container_names_free(struct container_names *cn);	/* NULL is fine */

/* The name of container id of runtime ("docker", "podman", "cri-o",
 * "containerd"), "" when unknown.  now_ms is a monotonic clock (for the
 * retry of misses).  Valid until the next call. */
const char *container_name(struct container_names *cn, const char *runtime,
    const char *id, int64_t now_ms);

#endif
