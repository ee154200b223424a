/*
 * The byte pipe between the collector and its subscribers: one API, two
 * implementations chosen by the build (ipc_unix.c: AF_UNIX stream socket,
 * ipc_win.c: named pipe \\.\pipe\procnet-collector, overlapped I/O).
 *
 * Every call blocks for at most its timeout, so the collector server can be
 * one sampler thread plus one thread per client (capped), and a thread that
 * must stop only has to notice a flag between two calls.  Timeouts are in
 * milliseconds: < 0 waits forever, 0 does not wait at all.
 *
 * Errors are negative errno-style codes from <errno.h>; each platform file
 * translates its OS errors in one place.  The codes callers rely on:
 *   -ETIMEDOUT    the timeout passed (nothing accepted / not all bytes moved)
 *   -EPIPE        the peer closed the connection (EOF on read, broken pipe)
 *   -EADDRINUSE   ipc_server_open: another server answers on the endpoint
 *   -EEXIST       ipc_server_open: the path exists and is not a socket/pipe
 *   -ECONNREFUSED / -ENOENT   ipc_connect: nobody listens / no such endpoint
 *   -ENAMETOOLONG the endpoint does not fit (sun_path, pipe name)
 *   -EINTR        ipc_conn_shutdown() was called on the connection
 * Library code: nothing here logs.
 */
#ifndef PROCNET_IPC_TRANSPORT_H
#define PROCNET_IPC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

struct ipc_server;
struct ipc_conn;

/* Longest endpoint text (a path or a pipe name), with its NUL. */
#define IPC_ENDPOINT_MAX	256
/* Room for ipc_conn_peer() text. */
#define IPC_PEER_MAX		96

struct ipc_server_opts {
	/*
	 * Local group that may connect besides the owner (Unix: the socket
	 * gets mode 0660 and this group when the group exists, else 0600;
	 * Windows: added to the pipe's DACL beside SYSTEM and
	 * Administrators when it exists).  NULL means "procnet".  The
	 * endpoint is never writable by everyone.
	 */
	const char *group;
	/* Pending connections the OS may queue; 0 picks a default. */
	int backlog;
};

/*
 * Creates the listening endpoint.  Unix: creates the parent directory when
 * missing (mode 0750 with the group, else 0700), replaces a stale socket
 * left by a crash (nobody answers a connect), refuses with -EADDRINUSE
 * when another server answers, -EEXIST when the path is not a socket.
 * Windows: -EADDRINUSE when the pipe name already exists (checked by
 * opening it, then FILE_FLAG_FIRST_PIPE_INSTANCE for the race); while the
 * server is open, at least one instance of the name always exists.
 * opts may be NULL.  *out is written only on success.  Unix: the socket is
 * bound under a tight umask, which is process-wide for that moment: open
 * the server before starting threads that create files.
 */
int ipc_server_open(const char *endpoint, const struct ipc_server_opts *opts,
    struct ipc_server **out);

/*
 * Waits up to timeout_ms for one client.  -ETIMEDOUT when none came; the
 * server loop checks its stop flag between calls (short timeouts, e.g.
 * 200 ms), so no cross-thread wakeup is needed.  *out only on success.
 */
int ipc_server_accept(struct ipc_server *srv, int timeout_ms,
    struct ipc_conn **out);

/* Stops listening and removes the endpoint (Unix: unlinks the socket it
 * created).  Call from the thread that accepts, after its last accept.
 * NULL is fine. */
void ipc_server_close(struct ipc_server *srv);

/* Connects to a server, waiting up to timeout_ms for a free instance. */
int ipc_connect(const char *endpoint, int timeout_ms, struct ipc_conn **out);

/*
 * Moves exactly n bytes or fails; timeout_ms bounds the whole call, not
 * each chunk.  After a failure (including -ETIMEDOUT part way) the stream
 * position is unknown: the caller must close the connection.
 */
int ipc_read_full(struct ipc_conn *c, void *buf, size_t n, int timeout_ms);
int ipc_write_full(struct ipc_conn *c, const void *buf, size_t n,
    int timeout_ms);

/*
 * Waits up to timeout_ms until a read would not block: returns 1 when
 * bytes (or EOF, which the next read reports as -EPIPE) are pending,
 * 0 on timeout, negative on error.  Lets one thread serve a client that
 * it mostly writes to, yet notice the client talking or hanging up.
 */
int ipc_conn_wait_readable(struct ipc_conn *c, int timeout_ms);

/*
 * Who is on the other end, as text for the log: Unix "pid=123 uid=1000
 * gid=1000" (SO_PEERCRED), Windows "pid=123" (GetNamedPipeClientProcessId).
 * Always NUL-terminates buf; "unknown" when the OS will not say.
 */
int ipc_conn_peer(struct ipc_conn *c, char *buf, size_t len);

/*
 * Client side: is the server on c who it should be?  A named pipe's name
 * can be created first by anyone while the collector is down, and whoever
 * holds it would feed us made-up data.  account NULL: the platform's
 * collector (Windows: LocalSystem; Unix: root or this process's own user);
 * otherwise an account name (Windows "DOMAIN\\name" or a SID string
 * "S-1-5-..."; Unix a user name).  Windows reads the server process's
 * token, or where that process cannot be opened the pipe's owner (which
 * only the creator's own account, or Administrators, can be).  0 when it
 * matches; -EPERM when not, and -EACCES / -EIO when it cannot be told
 * (both a refusal); why always says what was found, with the pid.
 */
int ipc_conn_check_server(struct ipc_conn *c, const char *account,
    char *why, size_t len);

/*
 * Who serves endpoint right now, as ipc_conn_peer() text ("pid=123"), for
 * the log when ipc_server_open() says -EADDRINUSE.  -ENOENT when nobody.
 */
int ipc_endpoint_owner(const char *endpoint, char *buf, size_t len);

/*
 * Makes every blocked and later read/write/wait on c fail promptly
 * (-EINTR or -EPIPE).  The one call that is safe from another thread
 * while c is in use; the owner thread still calls ipc_conn_close().
 */
void ipc_conn_shutdown(struct ipc_conn *c);

/* Closes and frees; NULL is fine. */
void ipc_conn_close(struct ipc_conn *c);

/*
 * The default endpoint: Unix /run/procnet/collector.sock for root, else
 * $XDG_RUNTIME_DIR/procnet/collector.sock (-ENOENT when that variable is
 * unset or not absolute); Windows \\.\pipe\procnet-collector.
 */
int ipc_default_endpoint(char *buf, size_t len);

#endif
