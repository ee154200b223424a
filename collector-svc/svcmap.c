/*
 * Services per process (svcmap.h).  A flat array of (pid, name, source)
 * entries: a sample has at most a few hundred services and one entry per
 * socket-owning service, so scans are cheap and nothing needs a hash.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "svcmap.h"

enum svc_source {
	SRC_SCM = 1,
	SRC_OWNER = 2,
};

struct svc_entry {
	int32_t pid;
	unsigned sources;	/* enum svc_source bits */
	char *name;
};

struct svcmap {
	struct svc_entry *e;
	size_t n, cap;
};

struct svcmap *svcmap_new(void)
{
	return calloc(1, sizeof(struct svcmap));
}

void svcmap_clear(struct svcmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->e[i].name);
	m->n = 0;
}

void svcmap_free(struct svcmap *m)
{
	if (!m)
		return;
	svcmap_clear(m);
	free(m->e);
	free(m);
}

/* ASCII case-insensitive: service names compare so in the SCM. */
static int name_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y || x == '\0')
			return (int)x - (int)y;
	}
}

static struct svc_entry *find(const struct svcmap *m, int32_t pid,
    const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].pid == pid && name_cmp(m->e[i].name, name) == 0)
			return &m->e[i];
	return NULL;
}

static bool valid_name(const char *name)
{
	size_t len;

	if (!name)
		return false;
	len = strnlen(name, SVCMAP_MAX_NAME + 1);
	/* ',' would split the joined list into a name that is not one. */
	return len > 0 && len <= SVCMAP_MAX_NAME && !strchr(name, ',');
}

static int add(struct svcmap *m, int32_t pid, const char *name,
    unsigned source)
{
	struct svc_entry *e;

	if (pid <= 0 || !valid_name(name))
		return -EINVAL;
	e = find(m, pid, name);
	if (e) {
		e->sources |= source;
		return 0;
	}
	if (m->n >= SVCMAP_MAX_ENTRIES)
		return -E2BIG;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct svc_entry *n = realloc(m->e, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->e = n;
		m->cap = cap;
	}
	e = &m->e[m->n];
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	e->pid = pid;
	e->sources = source;
	m->n++;
	return 0;
}

int svcmap_add_scm(struct svcmap *m, int32_t pid, const char *name)
{
	return add(m, pid, name, SRC_SCM);
}

static const char *base_name(const char *path)
{
	const char *b = path;

	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return b;
}

int svcmap_add_owner_module(struct svcmap *m, int32_t pid, const char *image,
    const char *module_name, const char *module_path)
{
	const struct svc_entry *known;
	int rc;

	if (!valid_name(module_name))
		return 0;
	known = find(m, pid, module_name);
	if (!known || !(known->sources & SRC_SCM)) {
		/* Not one the SCM named for this pid: a service tag only
		 * resolves to a bare name, never to a file. */
		if (module_path && (strchr(module_path, '\\') ||
		    strchr(module_path, '/')))
			return 0;
		if (image && name_cmp(base_name(image), module_name) == 0)
			return 0;
		/* "System": the kernel owns the socket, not a service. */
		if (name_cmp(module_name, "System") == 0)
			return 0;
	}
	rc = add(m, pid, module_name, SRC_OWNER);
	return rc < 0 ? rc : 1;
}

static int cmp_names(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	int c = name_cmp(*x, *y);

	return c ? c : strcmp(*x, *y);
}

int svcmap_get(const struct svcmap *m, int32_t pid, char *buf, size_t len)
{
	const char *names[64];
	size_t n = 0, used = 0;
	unsigned want = SRC_SCM;
	bool truncated = false;

	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].pid == pid && (m->e[i].sources & SRC_OWNER))
			want = SRC_OWNER;
	for (size_t i = 0; i < m->n; i++) {
		if (m->e[i].pid != pid || !(m->e[i].sources & want))
			continue;
		if (n == sizeof(names) / sizeof(names[0])) {
			truncated = true;
			break;
		}
		names[n++] = m->e[i].name;
	}
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]) + (used ? 1 : 0);

		if (used + l + 1 > len) {
			truncated = true;
			break;
		}
		if (used)
			buf[used++] = ',';
		memcpy(buf + used, names[i], strlen(names[i]) + 1);
		used += strlen(names[i]);
	}
	return truncated ? -ENOSPC : (int)used;
}
