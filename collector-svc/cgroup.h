/*
 * What a Linux process belongs to, from the text of /proc/<pid>/cgroup:
 * its systemd unit and, when it runs in a container, the runtime and the
 * container's id.  Pure: no I/O here (container_linux.c reads the
 * runtimes' state for names), so it is tested on a table of real paths.
 *
 * Recognised (the outermost match wins: docker-in-docker reports the
 * container the host's runtime knows):
 *   docker      /docker/<id>, /system.slice/docker-<id>.scope
 *   podman      /machine.slice/libpod-<id>.scope[/container],
 *               /libpod_parent/libpod-<id>, rootless .../libpod-<id>.scope
 *   cri-o       crio-<id>.scope, /kubepods/.../crio-<id>
 *   containerd  cri-containerd-<id>.scope, nerdctl-<id>.scope,
 *               /kubepods/<qos>/pod<uid>/<id> (cgroupfs driver)
 * conmon's own scopes (libpod-conmon-, crio-conmon-) are not containers.
 * <id> is 12..64 lowercase hex digits.
 */
#ifndef PROCNET_CGROUP_H
#define PROCNET_CGROUP_H

#include <stddef.h>

#define CGROUP_UNIT_MAX		256	/* systemd's unit name limit */
#define CGROUP_ID_MAX		65

struct cgroup_info {
	char unit[CGROUP_UNIT_MAX];	/* last "*.service" component; "" */
	const char *runtime;		/* "docker" "podman" "cri-o"
					 * "containerd", or "" */
	char id[CGROUP_ID_MAX];		/* "" when not in a container */
};

/*
 * Parses buf[0..len) (no NUL needed).  The cgroup v2 line ("0::/path")
 * is used when present with a path other than "/", else the v1
 * "name=systemd" line, else the first line with a path.  Returns 0 (out
 * filled, possibly empty), or -EINVAL for text that is no cgroup file.
 */
int cgroup_parse(const char *buf, size_t len, struct cgroup_info *out);

#endif
