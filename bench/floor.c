/*
 * procnet-bench-floor: the "plain C reference" of the performance anchors,
 * measured beside the collector in every bench run so its distance from the
 * floor is visible: one netlink sock_diag dump per (family, protocol), one
 * readlink of every fd under /proc/<pid>/fd into a hash of socket inodes,
 * and comm + cmdline of each owning process.  No snapshot, no JSON, no
 * cache: the least work that answers "which process owns which socket".
 * With -d only the netlink dumps: the floor of a steady-state sample, which
 * need not walk /proc when nothing changed.  Prints one line of counts.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NL_BUF		(64u * 1024u)
#define DENTS_BUF	(32u * 1024u)
#define MAX_SOCKETS	(1u << 22)

struct floor {
	uint64_t *inodes;	/* open addressing, 0 = empty */
	int32_t *owner;		/* pid per slot, 0 = not seen */
	size_t mask, n;
	size_t fds, owned, procs;
	uint64_t *list;		/* inodes in dump order, for growth */
	size_t n_list, cap_list;
};

static void
die(const char *what)
{
	fprintf(stderr, "procnet-bench-floor: %s: %s\n", what,
	    strerror(errno));
	exit(1);
}

static size_t
slot_of(const struct floor *f, uint64_t ino)
{
	size_t i = (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 20) & f->mask;

	while (f->inodes[i] != 0 && f->inodes[i] != ino)
		i = (i + 1) & f->mask;
	return i;
}

static void
list_add(struct floor *f, uint64_t ino)
{
	if (f->n_list == f->cap_list) {
		size_t ncap = f->cap_list ? f->cap_list * 2 : 4096;

		if (ncap > MAX_SOCKETS) {
			errno = E2BIG;
			die("socket table");
		}
		if ((f->list = realloc(f->list, ncap * sizeof(*f->list))) ==
		    NULL)
			die("realloc");
		f->cap_list = ncap;
	}
	f->list[f->n_list++] = ino;
}

static void
dump(int fd, uint8_t family, uint8_t proto, struct floor *f)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = family,
			.sdiag_protocol = proto,
			.idiag_states = ~0u,
		},
	};
	static char buf[NL_BUF] __attribute__((aligned(8)));

	if (send(fd, &msg, sizeof(msg), 0) != (ssize_t)sizeof(msg))
		die("netlink send");
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("netlink recv");
		}
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len);
		    h = NLMSG_NEXT(h, len)) {
			struct inet_diag_msg *m;

			if (h->nlmsg_type == NLMSG_DONE)
				return;
			if (h->nlmsg_type == NLMSG_ERROR) {
				errno = EPROTO;
				die("netlink dump");
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			m = NLMSG_DATA(h);
			if (m->idiag_inode != 0)
				list_add(f, m->idiag_inode);
		}
	}
}

static void
index_inodes(struct floor *f)
{
	size_t size = 1024;

	while (size < f->n_list * 2)
		size *= 2;
	f->mask = size - 1;
	f->inodes = calloc(size, sizeof(*f->inodes));
	f->owner = calloc(size, sizeof(*f->owner));
	if (f->inodes == NULL || f->owner == NULL)
		die("calloc");
	for (size_t i = 0; i < f->n_list; i++) {
		size_t s = slot_of(f, f->list[i]);

		if (f->inodes[s] == 0)
			f->n++;
		f->inodes[s] = f->list[i];
	}
}

static void
read_small(int dirfd, const char *name)
{
	char buf[4096];
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;		/* gone: normal */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

/* One process: readlink every fd; owners get comm and cmdline read. */
static void
scan_pid(struct floor *f, int procfd, const char *pid)
{
	static char dents[DENTS_BUF] __attribute__((aligned(8)));
	char link[64];
	int dirfd, fdfd, owns = 0;
	long n;

	if ((dirfd = openat(procfd, pid, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		return;
	if ((fdfd = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		close(dirfd);
		return;
	}
	while ((n = syscall(SYS_getdents64, fdfd, dents, sizeof(dents))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(dents + off);
			ssize_t l;

			off += d->d_reclen;
			if (d->d_name[0] == '.')
				continue;
			f->fds++;
			l = readlinkat(fdfd, d->d_name, link, sizeof(link) - 1);
			if (l < 9 || memcmp(link, "socket:[", 8) != 0)
				continue;
			link[l] = '\0';
			uint64_t ino = strtoull(link + 8, NULL, 10);
			size_t s = slot_of(f, ino);

			if (f->inodes[s] == ino && f->owner[s] == 0) {
				f->owner[s] = atoi(pid);
				f->owned++;
				owns = 1;
			}
		}
	}
	close(fdfd);
	if (owns) {
		f->procs++;
		read_small(dirfd, "comm");
		read_small(dirfd, "cmdline");
	}
	close(dirfd);
}

int
main(int argc, char **argv)
{
	static const uint8_t fam[2] = { AF_INET, AF_INET6 };
	static const uint8_t proto[2] = { IPPROTO_TCP, IPPROTO_UDP };
	struct floor f = { 0 };
	struct dirent *e;
	DIR *proc;
	int nl, dump_only = 0;

	if (argc == 2 && strcmp(argv[1], "-d") == 0)
		dump_only = 1;
	else if (argc > 1) {
		fprintf(stderr, "usage: procnet-bench-floor [-d]\n");
		return 2;
	}
	if ((nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0)
		die("netlink socket");
	for (int p = 0; p < 2; p++)
		for (int a = 0; a < 2; a++)
			dump(nl, fam[a], proto[p], &f);
	close(nl);
	index_inodes(&f);
	if (dump_only) {
		printf("sockets=%zu\n", f.n);
		free(f.inodes);
		free(f.owner);
		free(f.list);
		return 0;
	}
	if ((proc = opendir("/proc")) == NULL)
		die("/proc");
	while ((e = readdir(proc)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
			scan_pid(&f, dirfd(proc), e->d_name);
	closedir(proc);
	printf("sockets=%zu fds=%zu owned=%zu owners=%zu\n", f.n, f.fds,
	    f.owned, f.procs);
	free(f.inodes);
	free(f.owner);
	free(f.list);
	return 0;
}
