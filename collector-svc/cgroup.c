/*
 * /proc/<pid>/cgroup -> systemd unit, container runtime and id
 * (cgroup.h).
 */
#include "cgroup.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* A line "hierarchy:controllers:path" split into its parts. */
struct cg_line {
	const char *ctl, *path;
	size_t ctl_len, path_len;
	bool v2;		/* hierarchy 0, no controllers */
};

static int
split_line(const char *s, size_t n, struct cg_line *l)
{
	const char *c1 = memchr(s, ':', n), *c2;

	if (c1 == NULL || c1 == s)
		return -EINVAL;
	for (const char *p = s; p < c1; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - s));
	if (c2 == NULL)
		return -EINVAL;
	l->ctl = c1 + 1;
	l->ctl_len = (size_t)(c2 - l->ctl);
	l->path = c2 + 1;
	l->path_len = n - (size_t)(l->path - s);
	l->v2 = c1 - s == 1 && s[0] == '0' && l->ctl_len == 0;
	if (l->path_len == 0 || l->path[0] != '/')
		return -EINVAL;
	return 0;
}

static bool
is_hex_id(const char *s, size_t n)
{
	if (n < 12 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool
has_prefix(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && memcmp(s, p, k) == 0;
}

static bool
has_suffix(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);

	return n >= k && memcmp(s + n - k, p, k) == 0;
}

struct prefix_rule {
	const char *prefix;
	const char *runtime;
};

/* "<prefix><id>" or "<prefix><id>.scope"; longer prefixes first where one
 * is the start of another. */
static const struct prefix_rule prefixes[] = {
	{ "libpod-conmon-", NULL },
	{ "crio-conmon-", NULL },
	{ "cri-containerd-", "containerd" },
	{ "docker-", "docker" },
	{ "libpod-", "podman" },
	{ "crio-", "cri-o" },
	{ "nerdctl-", "containerd" },
};

/* Is component c (n bytes) a container's cgroup?  prev is the component
 * before it ("" at the top), kube says whether the path is under
 * kubepods. */
static const char *
container_of(const char *c, size_t n, const char *prev, size_t pn,
    bool kube, const char **id, size_t *idlen)
{
	size_t k;

	for (k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		const char *p = prefixes[k].prefix;
		size_t pl = strlen(p), il;

		if (!has_prefix(c, n, p))
			continue;
		if (prefixes[k].runtime == NULL)
			return NULL;	/* conmon: not the container */
		il = n - pl;
		if (has_suffix(c, n, ".scope"))
			il -= 6;
		if (!is_hex_id(c + pl, il))
			return NULL;
		*id = c + pl;
		*idlen = il;
		return prefixes[k].runtime;
	}
	if (!is_hex_id(c, n) || n != 64)
		return NULL;
	*id = c;
	*idlen = n;
	if (pn == 6 && memcmp(prev, "docker", 6) == 0)
		return "docker";
	if (kube && has_prefix(prev, pn, "pod"))
		return "containerd";
	return NULL;
}

static void
parse_path(const char *path, size_t len, struct cgroup_info *out)
{
	const char *prev = "", *c = path, *end = path + len;
	size_t pn = 0;
	bool kube = false, have_ctr = false;

	while (c < end) {
		const char *slash, *id, *rt;
		size_t n, idlen;

		while (c < end && *c == '/')
			c++;
		if (c == end)
			break;
		slash = memchr(c, '/', (size_t)(end - c));
		n = slash != NULL ? (size_t)(slash - c) : (size_t)(end - c);
		if (has_prefix(c, n, "kubepods"))
			kube = true;
		if (!have_ctr && (rt = container_of(c, n, prev, pn, kube, &id,
		    &idlen)) != NULL) {
			out->runtime = rt;
			memcpy(out->id, id, idlen);
			out->id[idlen] = '\0';
			have_ctr = true;
		}
		if (has_suffix(c, n, ".service") && n > 8 &&
		    n < sizeof(out->unit)) {
			memcpy(out->unit, c, n);
			out->unit[n] = '\0';
		}
		prev = c;
		pn = n;
		c += n;
	}
}

int
cgroup_parse(const char *buf, size_t len, struct cgroup_info *out)
{
	struct cg_line l, best;
	const char *s = buf, *end = buf + len;
	int rank = 0;	/* of best: 3 v2, 2 name=systemd, 1 any */
	size_t lines = 0;

	memset(out, 0, sizeof(*out));
	out->runtime = "";
	memset(&best, 0, sizeof(best));
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		int r;

		if (n == 0) {
			s += 1;
			continue;
		}
		if (split_line(s, n, &l) != 0)
			return -EINVAL;
		lines++;
		if (l.v2)
			r = l.path_len > 1 ? 3 : 0;
		else if (l.ctl_len == 12 && memcmp(l.ctl, "name=systemd",
		    12) == 0)
			r = 2;
		else
			r = 1;
		if (r > rank) {
			rank = r;
			best = l;
		}
		s += n + (nl != NULL ? 1 : 0);
	}
	if (lines == 0)
		return -EINVAL;
	if (rank == 0)
		return 0;	/* only the root cgroup: nothing to say */
	parse_path(best.path, best.path_len, out);
	return 0;
}
