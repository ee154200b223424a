/*
 * transport.h over AF_UNIX stream sockets.  Descriptors are non-blocking
 * and every wait is a poll() against a monotonic deadline, which is what
 * gives each call its timeout.
 */
#include "transport.h"

#include "clock.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IPC_DEFAULT_BACKLOG	64
#define IPC_DEFAULT_GROUP	"procnet"

struct ipc_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;		/* identity of the socket file we bound, so */
	ino_t ino;		/* close never unlinks someone else's */
};

struct ipc_conn {
	int fd;
	atomic_bool shut;
};

static int
neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* Milliseconds left until deadline for poll(): -1 forever, 0 when past. */
static int
remaining(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - clock_mono_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

static int64_t
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
}

/* Waits for events on fd until the deadline: 1 ready, 0 timeout, <0. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&pfd, 1, remaining(deadline));
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return neg_errno();
	}
}

static int
fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path == NULL || *path == '\0')
		return -EINVAL;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

static int
group_id(const char *name, gid_t *out)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -ENOENT;
	*out = res->gr_gid;
	return 0;
}

/* Creates the socket's directory when missing; an existing one is left
 * as its owner made it. */
static int
make_parent(const char *path, bool have_group, gid_t gid)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, have_group ? 0750 : 0700) == 0) {
		if (have_group && chown(dir, (uid_t)-1, gid) < 0)
			return neg_errno();
		return 0;
	}
	return errno == EEXIST ? 0 : neg_errno();
}

/*
 * Something is at path.  A socket nobody answers on is stale (a crash
 * left it) and is removed; one that answers belongs to a live server.
 */
static int
clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : neg_errno();
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return neg_errno();
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (r == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		return -EADDRINUSE;
	}
	r = errno;
	close(fd);
	if (r != ECONNREFUSED)
		return -r;
	if (unlink(path) < 0 && errno != ENOENT)
		return neg_errno();
	return 0;
}

int
ipc_server_open(const char *endpoint, const struct ipc_server_opts *opts,
    struct ipc_server **out)
{
	struct ipc_server *srv;
	struct sockaddr_un sa;
	struct stat st;
	const char *gname = IPC_DEFAULT_GROUP;
	int backlog = IPC_DEFAULT_BACKLOG;
	bool have_group;
	gid_t gid = 0;
	mode_t old;
	int r, fd;

	if (opts != NULL && opts->group != NULL)
		gname = opts->group;
	if (opts != NULL && opts->backlog > 0)
		backlog = opts->backlog;
	if ((r = fill_addr(endpoint, &sa)) < 0)
		return r;
	have_group = group_id(gname, &gid) == 0;
	if ((r = make_parent(endpoint, have_group, gid)) < 0)
		return r;
	if ((r = clear_stale(endpoint, &sa)) < 0)
		return r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return neg_errno();
	/* Bind under a tight umask so the socket is never, even for a
	 * moment, open to more than its owner; widen to the group after. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		r = neg_errno();
		close(fd);
		return r;
	}
	if (have_group && (chown(endpoint, (uid_t)-1, gid) < 0 ||
	    chmod(endpoint, 0660) < 0))
		have_group = false;
	if (!have_group)
		chmod(endpoint, 0600);
	if (listen(fd, backlog) < 0 || lstat(endpoint, &st) < 0) {
		r = neg_errno();
		unlink(endpoint);
		close(fd);
		return r;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		unlink(endpoint);
		close(fd);
		return -ENOMEM;
	}
	srv->fd = fd;
	snprintf(srv->path, sizeof(srv->path), "%s", endpoint);
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	*out = srv;
	return 0;
}

static struct ipc_conn *
conn_new(int fd)
{
	struct ipc_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	atomic_init(&c->shut, false);
	return c;
}

int
ipc_server_accept(struct ipc_server *srv, int timeout_ms,
    struct ipc_conn **out)
{
	struct ipc_conn *c;
	int r, fd;

	r = wait_fd(srv->fd, POLLIN, deadline_of(timeout_ms));
	if (r <= 0)
		return r == 0 ? -ETIMEDOUT : r;
	fd = accept4(srv->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		/* the client gave up between poll and accept */
		if (errno == EAGAIN || errno == ECONNABORTED || errno == EINTR)
			return -ETIMEDOUT;
		return neg_errno();
	}
	if ((c = conn_new(fd)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void
ipc_server_close(struct ipc_server *srv)
{
	struct stat st;

	if (srv == NULL)
		return;
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->dev &&
	    st.st_ino == srv->ino)
		unlink(srv->path);
	close(srv->fd);
	free(srv);
}

int
ipc_connect(const char *endpoint, int timeout_ms, struct ipc_conn **out)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct sockaddr_un sa;
	struct ipc_conn *c;
	int r, fd;

	if ((r = fill_addr(endpoint, &sa)) < 0)
		return r;
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
		if (fd < 0)
			return neg_errno();
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		r = neg_errno();
		close(fd);
		/* EAGAIN: the listen backlog is full; wait for room. */
		if (r != -EAGAIN)
			return r;
		if (remaining(deadline) == 0)
			return -ETIMEDOUT;
		poll(NULL, 0, remaining(deadline) < 0 || remaining(deadline) > 20 ?
		    20 : remaining(deadline));
	}
	if ((c = conn_new(fd)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

int
ipc_read_full(struct ipc_conn *c, void *buf, size_t n, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	uint8_t *p = buf;
	ssize_t got;
	int r;

	while (n > 0) {
		if (atomic_load(&c->shut))
			return -EINTR;
		got = recv(c->fd, p, n, 0);
		if (got > 0) {
			p += got;
			n -= (size_t)got;
			continue;
		}
		if (got == 0)
			return atomic_load(&c->shut) ? -EINTR : -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno == ECONNRESET ? -EPIPE : neg_errno();
		r = wait_fd(c->fd, POLLIN, deadline);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return r;
	}
	return 0;
}

int
ipc_write_full(struct ipc_conn *c, const void *buf, size_t n, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	const uint8_t *p = buf;
	ssize_t put;
	int r;

	while (n > 0) {
		if (atomic_load(&c->shut))
			return -EINTR;
		put = send(c->fd, p, n, MSG_NOSIGNAL);
		if (put >= 0) {
			p += put;
			n -= (size_t)put;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return atomic_load(&c->shut) ? -EINTR : -EPIPE;
		if (errno != EAGAIN)
			return neg_errno();
		r = wait_fd(c->fd, POLLOUT, deadline);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return r;
	}
	return 0;
}

int
ipc_conn_wait_readable(struct ipc_conn *c, int timeout_ms)
{
	int r;

	if (atomic_load(&c->shut))
		return -EINTR;
	r = wait_fd(c->fd, POLLIN, deadline_of(timeout_ms));
	if (r > 0 && atomic_load(&c->shut))
		return -EINTR;
	return r;
}

int
ipc_conn_peer(struct ipc_conn *c, char *buf, size_t len)
{
	struct ucred uc;
	socklen_t sl = sizeof(uc);

	if (len == 0)
		return -EINVAL;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) < 0) {
		int r = neg_errno();

		snprintf(buf, len, "unknown");
		return r;
	}
	snprintf(buf, len, "pid=%ld uid=%lu gid=%lu", (long)uc.pid,
	    (unsigned long)uc.uid, (unsigned long)uc.gid);
	return 0;
}

int
ipc_conn_check_server(struct ipc_conn *c, const char *account, char *why,
    size_t len)
{
	struct ucred uc;
	struct passwd *pw;
	socklen_t sl = sizeof(uc);

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &uc, &sl) < 0) {
		int r = neg_errno();

		snprintf(why, len, "cannot tell who serves the socket: %s",
		    strerror(-r));
		return r;
	}
	if (account == NULL) {
		if (uc.uid == 0 || uc.uid == geteuid())
			return 0;
		snprintf(why, len, "pid %ld runs as uid %lu, neither root nor "
		    "uid %lu", (long)uc.pid, (unsigned long)uc.uid,
		    (unsigned long)geteuid());
		return -EPERM;
	}
	if ((pw = getpwnam(account)) == NULL) {
		snprintf(why, len, "no such user '%s'", account);
		return -EINVAL;
	}
	if (uc.uid == pw->pw_uid)
		return 0;
	snprintf(why, len, "pid %ld runs as uid %lu, not %s (uid %lu)",
	    (long)uc.pid, (unsigned long)uc.uid, account,
	    (unsigned long)pw->pw_uid);
	return -EPERM;
}

void
ipc_conn_shutdown(struct ipc_conn *c)
{
	if (c == NULL)
		return;
	atomic_store(&c->shut, true);
	/* wakes any poll() on the descriptor, in whichever thread */
	shutdown(c->fd, SHUT_RDWR);
}

void
ipc_conn_close(struct ipc_conn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c);
}

int
ipc_default_endpoint(char *buf, size_t len)
{
	const char *xdg;
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "/run/procnet/collector.sock");
	else {
		xdg = getenv("XDG_RUNTIME_DIR");
		if (xdg == NULL || xdg[0] != '/')
			return -ENOENT;
		n = snprintf(buf, len, "%s/procnet/collector.sock", xdg);
	}
	if (n < 0 || (size_t)n >= len ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}
