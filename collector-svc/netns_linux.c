/*
 * The set of network namespaces in use and a sock_diag socket inside each
 * (netns_linux.h).  Sockets are made on a helper thread that enters each
 * new namespace with setns(): the namespace of a netlink socket is fixed
 * when it is created, and only that thread ever changes namespace.
 */
#include "netns_linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/vfs.h>

#include "inode_map.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC	0x6e736673
#endif

/* Distinct namespaces a round may note before it stops counting them in
 * detail: far beyond any cap, bounds memory against a hostile workload. */
#define NOTE_LIMIT	(NETNS_MAX_LIMIT * 4u)

struct netns_set {
	int procfd;
	char *run_dir;
	netns_open_fn open_fn;
	uint64_t self;
	uint32_t gen;
	struct netns_ent *ents;
	size_t n, cap;
	struct inode_map *index;	/* ino -> index in ents */
	size_t skipped;
	size_t overflow;		/* notes past NOTE_LIMIT this round */
};

int
netns_of_pid(int procfd, int32_t pid, uint64_t *ino)
{
	char path[40];
	struct stat st;

	if (pid == 0)
		snprintf(path, sizeof(path), "self/ns/net");
	else
		snprintf(path, sizeof(path), "%d/ns/net", (int)pid);
	if (fstatat(procfd, path, &st, 0) != 0) {
		if (errno == EACCES || errno == EPERM)
			return -EACCES;
		return errno == ENOENT ? -ESRCH : -errno;
	}
	*ino = (uint64_t)st.st_ino;
	return 0;
}

static int
reindex(struct netns_set *s)
{
	size_t i;
	int rc;

	inode_map_clear(s->index);
	for (i = 0; i < s->n; i++)
		if (s->ents[i].ino != 0 && (rc = inode_map_set(s->index,
		    s->ents[i].ino, (uint32_t)i)) != 0)
			return rc;
	return 0;
}

static struct netns_ent *
ent_add(struct netns_set *s, uint64_t ino)
{
	struct netns_ent *e;

	if (ino == 0 || ino > INODE_MAP_MAX_KEY)
		return NULL;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct netns_ent *ne = realloc(s->ents, ncap * sizeof(*ne));

		if (ne == NULL)
			return NULL;
		s->ents = ne;
		s->cap = ncap;
	}
	if (inode_map_set(s->index, ino, (uint32_t)s->n) != 0)
		return NULL;
	e = &s->ents[s->n++];
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->fd = -1;
	e->own = ino == s->self;
	return e;
}

int
netns_set_new(int procfd, const char *run_dir, netns_open_fn open_fn,
    struct netns_set **out)
{
	struct netns_set *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->procfd = procfd;
	s->open_fn = open_fn;
	s->index = inode_map_new(64);
	if (s->index == NULL ||
	    (run_dir != NULL && (s->run_dir = strdup(run_dir)) == NULL)) {
		netns_set_free(s);
		return -ENOMEM;
	}
	rc = netns_of_pid(procfd, 0, &s->self);
	if (rc != 0)
		s->self = 0;
	*out = s;
	return rc;
}

void
netns_set_free(struct netns_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		if (s->ents[i].fd >= 0)
			close(s->ents[i].fd);
	free(s->ents);
	inode_map_free(s->index);
	free(s->run_dir);
	free(s);
}

uint64_t
netns_set_self(const struct netns_set *s)
{
	return s->self;
}

void
netns_set_begin(struct netns_set *s)
{
	size_t i;

	s->gen++;
	s->overflow = 0;
	for (i = 0; i < s->n; i++) {
		s->ents[i].members = 0;
		s->ents[i].pid = 0;
		s->ents[i].bound = false;
	}
}

int
netns_set_note(struct netns_set *s, uint64_t ino, int32_t pid)
{
	struct netns_ent *e;
	uint32_t idx;

	if (ino == 0 || ino > INODE_MAP_MAX_KEY)
		return 0;
	if (inode_map_get_min(s->index, ino, &idx) == 0) {
		e = &s->ents[idx];
	} else {
		if (s->n >= NOTE_LIMIT) {
			s->overflow++;
			return 0;
		}
		if ((e = ent_add(s, ino)) == NULL)
			return -ENOMEM;
	}
	e->gen = s->gen;
	e->members++;
	/* The smallest pid is a stable choice to enter it through. */
	if (pid > 0 && (e->pid == 0 || pid < e->pid))
		e->pid = pid;
	return 0;
}

/* Is fd a namespace file (nsfs)?  Its inode into *ino. */
static bool
nsfs_ino(int fd, uint64_t *ino)
{
	struct statfs sfs;
	struct stat st;

	if (fstatfs(fd, &sfs) != 0 || (unsigned long)sfs.f_type != NSFS_MAGIC)
		return false;
	if (fstat(fd, &st) != 0)
		return false;
	*ino = (uint64_t)st.st_ino;
	return true;
}

/* Notes the namespaces bind-mounted in the run dir (`ip netns add`).  A
 * plain file there (a mount that failed or was undone) is no namespace. */
static int
note_run_dir(struct netns_set *s)
{
	struct dirent *d;
	size_t seen = 0;
	DIR *dir;
	int dfd;

	if (s->run_dir == NULL || (dir = opendir(s->run_dir)) == NULL)
		return 0;
	dfd = dirfd(dir);
	while ((d = readdir(dir)) != NULL && seen < NETNS_MAX_LIMIT) {
		struct netns_ent *e;
		uint64_t ino;
		uint32_t idx;
		bool ok;
		int fd;

		if (d->d_name[0] == '.' || strlen(d->d_name) >=
		    sizeof(e->name))
			continue;
		seen++;
		fd = openat(dfd, d->d_name, O_RDONLY | O_CLOEXEC | O_NOCTTY |
		    O_NONBLOCK);
		if (fd < 0)
			continue;
		ok = nsfs_ino(fd, &ino);
		close(fd);
		if (!ok || ino == 0 || ino > INODE_MAP_MAX_KEY)
			continue;
		if (inode_map_get_min(s->index, ino, &idx) == 0) {
			e = &s->ents[idx];
		} else {
			if (s->n >= NOTE_LIMIT) {
				s->overflow++;
				continue;
			}
			if ((e = ent_add(s, ino)) == NULL) {
				closedir(dir);
				return -ENOMEM;
			}
		}
		e->gen = s->gen;
		e->bound = true;
		memcpy(e->name, d->d_name, strlen(d->d_name) + 1);
	}
	closedir(dir);
	return 0;
}

/* Opens a namespace file of e, checked to be e's namespace still (the pid
 * may have moved or been reused since it was noted). */
static int
open_ns_file(struct netns_set *s, const struct netns_ent *e)
{
	char path[40];
	uint64_t ino;
	int fd = -1;

	if (e->pid > 0) {
		snprintf(path, sizeof(path), "%d/ns/net", (int)e->pid);
		fd = openat(s->procfd, path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 && e->bound && s->run_dir != NULL) {
		char rp[4096];

		snprintf(rp, sizeof(rp), "%s/%s", s->run_dir, e->name);
		fd = open(rp, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	}
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? -EACCES : -ESRCH;
	if (!nsfs_ino(fd, &ino) || ino != e->ino) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

/* What the helper thread does: for each job, enter the namespace and make
 * a socket there.  The thread ends in the last namespace it entered, which
 * is harmless: it ends. */
struct open_job {
	netns_open_fn open_fn;
	size_t n;
	int *nsfd;	/* in: namespace files */
	int *out;	/* out: socket fd or negative errno */
};

static void *
open_thread(void *arg)
{
	struct open_job *j = arg;
	size_t i;

	for (i = 0; i < j->n; i++) {
		if (setns(j->nsfd[i], CLONE_NEWNET) != 0) {
			j->out[i] = -errno;
			continue;
		}
		j->out[i] = j->open_fn();
	}
	return NULL;
}

static int
cmp_keep(const void *a, const void *b)
{
	const struct netns_ent *x = a, *y = b;

	/* own first, then those already open, then by inode */
	if (x->own != y->own)
		return x->own ? -1 : 1;
	if ((x->fd >= 0) != (y->fd >= 0))
		return x->fd >= 0 ? -1 : 1;
	return (x->ino > y->ino) - (x->ino < y->ino);
}

/* Opens sockets in the entries that have none, all in one helper thread. */
static int
open_new(struct netns_set *s)
{
	struct open_job j;
	size_t i, k = 0, *which;
	pthread_t th;
	int rc = 0;

	memset(&j, 0, sizeof(j));
	j.open_fn = s->open_fn;
	j.nsfd = calloc(s->n ? s->n : 1, sizeof(*j.nsfd));
	j.out = calloc(s->n ? s->n : 1, sizeof(*j.out));
	which = calloc(s->n ? s->n : 1, sizeof(*which));
	if (j.nsfd == NULL || j.out == NULL || which == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->n; i++) {
		struct netns_ent *e = &s->ents[i];
		int fd;

		if (e->fd >= 0)
			continue;
		if (e->own) {
			/* ours: no need to move */
			fd = s->open_fn();
			e->fd = fd >= 0 ? fd : -1;
			e->open_err = fd >= 0 ? 0 : fd;
			continue;
		}
		if ((fd = open_ns_file(s, e)) < 0) {
			e->open_err = fd;
			continue;
		}
		j.nsfd[k] = fd;
		which[k++] = i;
	}
	if (k == 0)
		goto out;
	j.n = k;
	if ((rc = pthread_create(&th, NULL, open_thread, &j)) != 0) {
		rc = -rc;
		for (i = 0; i < k; i++)
			s->ents[which[i]].open_err = rc;
		rc = 0;	/* tried again next round */
	} else {
		pthread_join(th, NULL);
		for (i = 0; i < k; i++) {
			struct netns_ent *e = &s->ents[which[i]];

			e->fd = j.out[i] >= 0 ? j.out[i] : -1;
			e->open_err = j.out[i] >= 0 ? 0 : j.out[i];
		}
	}
	for (i = 0; i < k; i++)
		close(j.nsfd[i]);
out:
	free(j.nsfd);
	free(j.out);
	free(which);
	return rc;
}

int
netns_set_update(struct netns_set *s, size_t max)
{
	size_t i, k = 0;
	bool have_own = false;
	int rc;

	if (max == 0)
		max = NETNS_MAX_DEFAULT;
	if (max > NETNS_MAX_LIMIT)
		max = NETNS_MAX_LIMIT;
	if ((rc = note_run_dir(s)) != 0)
		return rc;
	/* The own namespace is always kept, even when nothing was noted in
	 * it (a collector whose /proc shows no other process). */
	for (i = 0; i < s->n; i++)
		if (s->ents[i].own) {
			s->ents[i].gen = s->gen;
			have_own = true;
		}
	if (!have_own && s->self != 0 && ent_add(s, s->self) != NULL)
		s->ents[s->n - 1].gen = s->gen;
	else if (!have_own && s->self == 0) {
		/* Unknown own inode: keep one entry standing for it. */
		if (s->n == s->cap) {
			struct netns_ent *ne = realloc(s->ents,
			    (s->cap ? s->cap * 2 : 16) * sizeof(*ne));

			if (ne == NULL)
				return -ENOMEM;
			s->ents = ne;
			s->cap = s->cap ? s->cap * 2 : 16;
		}
		memset(&s->ents[s->n], 0, sizeof(s->ents[0]));
		s->ents[s->n].fd = -1;
		s->ents[s->n].own = true;
		s->ents[s->n].gen = s->gen;
		s->n++;
	}
	/* Gone namespaces give their socket back (it would keep them
	 * alive). */
	for (i = 0; i < s->n; i++) {
		struct netns_ent *e = &s->ents[i];

		if (e->gen != s->gen) {
			if (e->fd >= 0)
				close(e->fd);
			continue;
		}
		s->ents[k++] = *e;
	}
	s->n = k;
	qsort(s->ents, s->n, sizeof(*s->ents), cmp_keep);
	s->skipped = s->overflow;
	if (s->n > max) {
		for (i = max; i < s->n; i++)
			if (s->ents[i].fd >= 0)
				close(s->ents[i].fd);
		s->skipped += s->n - max;
		s->n = max;
	}
	if ((rc = reindex(s)) != 0)
		return rc;
	return open_new(s);
}

size_t
netns_set_count(const struct netns_set *s)
{
	return s->n;
}

struct netns_ent *
netns_set_at(struct netns_set *s, size_t i)
{
	return i < s->n ? &s->ents[i] : NULL;
}

struct netns_ent *
netns_set_find(struct netns_set *s, uint64_t ino)
{
	uint32_t idx;

	if (ino == 0 || ino > INODE_MAP_MAX_KEY ||
	    inode_map_get_min(s->index, ino, &idx) != 0)
		return NULL;
	return &s->ents[idx];
}

size_t
netns_set_skipped(const struct netns_set *s)
{
	return s->skipped;
}

void
netns_ent_reset(struct netns_ent *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}
