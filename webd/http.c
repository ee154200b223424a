/*
 * civetweb setup and routing.  Every request goes through begin_request:
 * the Host, method and path policy first, then the route; only a WebSocket
 * upgrade to /api/stream is handed back to civetweb (which calls stream.c).
 * civetweb has no document root, so it serves nothing on its own, and its
 * own error pages go through http_error so they carry our headers too.
 */
#include "http.h"
#include "fs.h"

#include <civetweb.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "clock.h"
#include "history_api.h"
#include "http_fs.h"
#include "group.h"
#include "http_policy.h"
#include "icons.h"
#include "log.h"

#define CANON_MAX	4096

struct http {
	struct mg_context *ctx;
	char bind[64];
	int port;
	char web_root[CANON_MAX];	/* canonical */
	char icons_dir[CANON_MAX];	/* canonical, "" when none */
	struct state *state;
	struct subscriber *sub;
	struct stream *stream;
	const char *history_path;	/* NULL: off; the caller's */
};

/* civetweb's first complaint while starting (port in use ...): mg_start
 * has no error out-parameter.  Only written while http_start runs, but
 * its worker threads may already log then: hence the lock. */
static char start_error[256];
static atomic_int starting;
static pthread_mutex_t start_error_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *
status_text(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/*
 * The headers every response carries.  The CSP allows only this origin;
 * connect-src names the WebSocket URL explicitly since older browsers do
 * not count ws: as 'self'.  host is an accepted Host header or NULL.
 */
static void
send_head(struct mg_connection *conn, int code, const char *ctype,
    long long len, const char *host, const char *extra)
{
	mg_printf(conn,
	    "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %lld\r\n"
	    "Cache-Control: no-cache\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "Cross-Origin-Resource-Policy: same-origin\r\n"
	    "Content-Security-Policy: default-src 'self'; "
	    "connect-src 'self'%s%s; img-src 'self' data:; "
	    "style-src 'self'; script-src 'self'; object-src 'none'; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
	    "%s"
	    "Connection: close\r\n"
	    "\r\n",
	    code, status_text(code), ctype, len,
	    host != NULL ? " ws://" : "", host != NULL ? host : "",
	    extra != NULL ? extra : "");
}

static bool
is_head(const struct mg_connection *conn)
{
	const char *m = mg_get_request_info(conn)->request_method;

	return m != NULL && strcmp(m, "HEAD") == 0;
}

static int
send_buf(struct mg_connection *conn, int code, const char *ctype,
    const char *data, size_t len, const char *host, const char *extra)
{
	send_head(conn, code, ctype, (long long)len, host, extra);
	if (!is_head(conn) && len > 0)
		mg_write(conn, data, len);
	return code;
}

static int
send_error(struct mg_connection *conn, int code, const char *why,
    const char *extra)
{
	char body[256];
	int n;

	n = snprintf(body, sizeof(body), "%d %s: %s\n", code,
	    status_text(code), why);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = (int)strlen(body);
	return send_buf(conn, code, "text/plain; charset=utf-8", body,
	    (size_t)n, NULL, extra);
}

static int
route_graph(struct http *h, struct mg_connection *conn, const char *host)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct state_view v;
	unsigned mode;
	int code;

	if (graph_group_from_query(ri->query_string, &mode) != 0)
		return send_error(conn, 400, "group must be one of process, "
		    "program, service, container, user, host", NULL);
	if (state_want(h->state, mode, 0) == -ENOMEM)
		return send_error(conn, 503, "out of memory",
		    "Retry-After: 1\r\n");
	state_get_mode(h->state, mode, &v);
	if (v.graph == NULL) {
		static const char body[] =
		    "{\"error\":\"no sample from the collector yet\"}";

		code = send_buf(conn, 503, "application/json", body,
		    sizeof(body) - 1, host, "Retry-After: 1\r\n");
	} else
		code = send_buf(conn, 200, "application/json", v.graph->data,
		    v.graph->len, host, NULL);
	state_view_release(&v);
	return code;
}

/* Whether the raw query string has a parameter called name. */
static bool
has_param(const char *q, const char *name)
{
	size_t n = strlen(name);

	while (q != NULL && *q != '\0') {
		if (strncmp(q, name, n) == 0 && (q[n] == '=' || q[n] == '&' ||
		    q[n] == '\0'))
			return true;
		q = strchr(q, '&');
		if (q != NULL)
			q++;
	}
	return false;
}

/* /api/graph?at= and /api/history/...: answered from the history file. */
static int
route_history(struct http *h, struct mg_connection *conn, const char *route,
    const char *host)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct history_reply r;
	int code;

	if (history_api_handle(h->history_path, route, ri->query_string,
	    clock_real_ms(), &r) != 0)
		return send_error(conn, 500, "out of memory", NULL);
	code = send_buf(conn, r.code, "application/json", r.body, r.len, host,
	    NULL);
	free(r.body);
	return code;
}

static int
route_status(struct http *h, struct mg_connection *conn, const char *host)
{
	struct subscriber_status ss;
	struct stream_stats sst;
	char *text;
	size_t len;
	int code;

	memset(&ss, 0, sizeof(ss));
	if (h->sub != NULL)
		subscriber_state(h->sub, &ss);
	memset(&sst, 0, sizeof(sst));
	if (h->stream != NULL)
		stream_get_stats(h->stream, &sst);
	text = state_status_json(h->state, h->sub != NULL ? &ss : NULL, &sst,
	    &len);
	if (text == NULL)
		return send_error(conn, 500, "out of memory", NULL);
	code = send_buf(conn, 200, "application/json", text, len, host, NULL);
	free(text);
	return code;
}

/* Sends the file at path if it is a regular file inside root. */
static int
send_file_within(struct mg_connection *conn, const char *root,
    const char *path, const char *host)
{
	char canon[CANON_MAX], buf[16384];
	struct stat st;
	FILE *f;
	long long left;
	size_t n;

	if (http_fs_canonical(path, canon, sizeof(canon)) != 0)
		return send_error(conn, 404, "no such file", NULL);
	/* A symbolic link out of the root is as good as a "..". */
	if (!http_fs_within(root, canon))
		return send_error(conn, 404, "no such file", NULL);
	/* Size and bytes from one open file, so a file replaced meanwhile
	 * (a rebuild of the UI) cannot make Content-Length lie. */
	if ((f = fs_fopen(canon, "rb")) == NULL)
		return send_error(conn, 404, "no such file", NULL);
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return send_error(conn, 404, "no such file", NULL);
	}
	send_head(conn, 200, http_policy_mime(canon), (long long)st.st_size,
	    host, NULL);
	left = is_head(conn) ? 0 : (long long)st.st_size;
	while (left > 0) {
		n = fread(buf, 1, left < (long long)sizeof(buf) ?
		    (size_t)left : sizeof(buf), f);
		/* A file that shrank under us: the connection closes short,
		 * which the client sees as a failed transfer. */
		if (n == 0 || mg_write(conn, buf, n) != (int)n)
			break;
		left -= (long long)n;
	}
	fclose(f);
	return 200;
}

static int
route_icon(struct http *h, struct mg_connection *conn, const char *rel,
    const char *host)
{
	char type[ICONS_MAX_TYPE + 1], path[CANON_MAX];
	const char *name = rel + strlen("icons/");
	size_t len = strlen(name);

	if (h->icons_dir[0] == '\0')
		return send_error(conn, 404, "no icons directory", NULL);
	if (len <= 4 || len - 4 > ICONS_MAX_TYPE ||
	    strcmp(name + len - 4, ".png") != 0)
		return send_error(conn, 404, "no such icon", NULL);
	memcpy(type, name, len - 4);
	type[len - 4] = '\0';
	if (icons_resolve(h->icons_dir, type, path, sizeof(path)) != 0)
		return send_error(conn, 404, "no such icon", NULL);
	return send_file_within(conn, h->icons_dir, path, host);
}

static int
route_static(struct http *h, struct mg_connection *conn, const char *rel,
    const char *host)
{
	char path[CANON_MAX];

	if (*rel == '\0')
		rel = "index.html";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", h->web_root, rel) >=
	    sizeof(path))
		return send_error(conn, 414, "path too long", NULL);
	return send_file_within(conn, h->web_root, path, host);
}

static bool
is_upgrade(const struct mg_connection *conn)
{
	const char *u = mg_get_header(conn, "Upgrade");

	return u != NULL && strcasecmp(u, "websocket") == 0;
}

static int
begin_request(struct mg_connection *conn)
{
	struct http *h = mg_get_user_data(mg_get_context(conn));
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *host = mg_get_header(conn, "Host");
	const char *uri;
	char rel[HTTP_POLICY_MAX_PATH + 1];
	int rc;

	/* DNS rebinding: a page from elsewhere that resolves its own name to
	 * 127.0.0.1 still sends its own name as Host. */
	if (!http_policy_host_ok(host, h->bind, h->port))
		return send_error(conn, 403, "unknown Host", NULL);
	if (!http_policy_method_ok(ri->request_method))
		return send_error(conn, 405, "only GET and HEAD",
		    "Allow: GET, HEAD\r\n");

	/* Still percent-encoded (decode_url is off): the policy decodes it
	 * once, strictly, so %00 and double encoding are seen. */
	uri = ri->local_uri_raw != NULL ? ri->local_uri_raw : ri->local_uri;
	if (uri != NULL && strlen(uri) > HTTP_POLICY_MAX_PATH)
		return send_error(conn, 414, "path too long", NULL);
	rc = http_policy_path(uri, rel, sizeof(rel));
	if (rc == -ENOENT)
		return send_error(conn, 404, "no such file", NULL);
	if (rc != 0)
		return send_error(conn, 400, "bad path", NULL);

	if (strcmp(rel, "api/stream") == 0) {
		if (!is_upgrade(conn))
			return send_error(conn, 426, "WebSocket only",
			    "Upgrade: websocket\r\n");
		/* Cross-site WebSocket hijacking: a foreign page can open
		 * a socket to us, but its Origin gives it away (a client
		 * without Origin is no browser, and allowed). */
		if (!http_policy_origin_ok(mg_get_header(conn, "Origin"),
		    host))
			return send_error(conn, 403, "foreign Origin", NULL);
		unsigned mode;

		if (graph_group_from_query(mg_get_request_info(conn)->
		    query_string, &mode) != 0)
			return send_error(conn, 400, "group must be one of "
			    "process, program, service, container, user, host",
			    NULL);
		if (h->stream == NULL || !stream_has_room(h->stream))
			return send_error(conn, 503, "too many stream clients",
			    "Retry-After: 5\r\n");
		return 0;	/* civetweb does the handshake, stream.c the rest */
	}
	if (is_upgrade(conn))
		return send_error(conn, 404, "no WebSocket here", NULL);
	/* at= asks for the past (history); group= alone for the present */
	if (strcmp(rel, "api/graph") == 0 && has_param(ri->query_string, "at"))
		return route_history(h, conn, "graph", host);
	if (strcmp(rel, "api/graph") == 0)
		return route_graph(h, conn, host);
	if (strncmp(rel, "api/history/", 12) == 0)
		return route_history(h, conn, rel + 4, host);
	if (strcmp(rel, "api/status") == 0)
		return route_status(h, conn, host);
	if (strcmp(rel, "api") == 0 || strncmp(rel, "api/", 4) == 0)
		return send_error(conn, 404, "no such API", NULL);
	if (strncmp(rel, "icons/", 6) == 0)
		return route_icon(h, conn, rel, host);
	return route_static(h, conn, rel, host);
}

static int
http_error(struct mg_connection *conn, int status, const char *msg)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);

	(void)msg;
	/* civetweb refuses methods it does not know (TRACE, FOO) before we
	 * see them: for us they are all just not GET or HEAD. */
	if (ri != NULL && ri->request_method != NULL &&
	    !http_policy_method_ok(ri->request_method))
		send_error(conn, 405, "only GET and HEAD", "Allow: GET, HEAD\r\n");
	else
		send_error(conn, status >= 400 && status <= 599 ? status : 500,
		    "request refused", NULL);
	return 0;
}

static void
connection_closed(const struct mg_connection *conn)
{
	struct http *h = mg_get_user_data(mg_get_context(conn));

	if (h != NULL && h->stream != NULL)
		stream_connection_closed(h->stream, conn);
}

static int
log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	if (atomic_load(&starting)) {
		pthread_mutex_lock(&start_error_lock);
		if (start_error[0] == '\0')
			snprintf(start_error, sizeof(start_error), "%s",
			    message);
		pthread_mutex_unlock(&start_error_lock);
	}
	log_debug("civetweb: %s", message);
	return 1;
}

int
http_start(const struct http_config *c, struct http **out, char *err,
    size_t errlen)
{
	struct mg_callbacks cb;
	struct http *h;
	char ports[96], threads[16], reqsize[16], timeout[16];
	const char *opts[32];
	int n = 0, rc;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(h->bind, sizeof(h->bind), "%s", c->bind);
	h->port = c->port;
	h->state = c->state;
	h->sub = c->sub;
	h->stream = c->stream;
	h->history_path = c->history_path;
	if ((rc = http_fs_canonical(c->web_root, h->web_root,
	    sizeof(h->web_root))) != 0) {
		snprintf(err, errlen, "web root %s: %s", c->web_root,
		    strerror(-rc));
		free(h);
		return rc;
	}
	if (c->icons_dir != NULL) {
		if ((rc = http_fs_canonical(c->icons_dir, h->icons_dir,
		    sizeof(h->icons_dir))) != 0) {
			snprintf(err, errlen, "icons directory %s: %s",
			    c->icons_dir, strerror(-rc));
			free(h);
			return rc;
		}
	} else {
		char p[CANON_MAX + 8];
		struct fs_stamp st;

		/* The UI's own icons, when the web root ships some. */
		snprintf(p, sizeof(p), "%s/icons", h->web_root);
		if (fs_stamp(p, &st) == 0 && st.type == FS_TYPE_DIR &&
		    http_fs_canonical(p, h->icons_dir, sizeof(h->icons_dir)) != 0)
			h->icons_dir[0] = '\0';
	}

	if (strchr(c->bind, ':') != NULL && mg_check_feature(8) == 0) {
		snprintf(err, errlen, "--bind %s: this build of civetweb has no "
		    "IPv6; give an IPv4 address", c->bind);
		free(h);
		return -EAFNOSUPPORT;
	}
	if (strchr(c->bind, ':') != NULL)
		snprintf(ports, sizeof(ports), "[%s]:%d", c->bind, c->port);
	else
		snprintf(ports, sizeof(ports), "%s:%d", c->bind, c->port);
	snprintf(threads, sizeof(threads), "%d", HTTP_THREADS);
	snprintf(reqsize, sizeof(reqsize), "%d", HTTP_MAX_REQUEST);
	snprintf(timeout, sizeof(timeout), "%d", HTTP_TIMEOUT_MS);
	opts[n++] = "listening_ports";		opts[n++] = ports;
	opts[n++] = "num_threads";		opts[n++] = threads;
	opts[n++] = "max_request_size";		opts[n++] = reqsize;
	opts[n++] = "request_timeout_ms";	opts[n++] = timeout;
	/* One request per connection: an idle keep-alive would pin a
	 * worker thread. */
	opts[n++] = "enable_keep_alive";	opts[n++] = "no";
	opts[n++] = "enable_directory_listing";	opts[n++] = "no";
	opts[n++] = "decode_url";		opts[n++] = "no";
	opts[n++] = "access_control_allow_origin"; opts[n++] = "";
	/* Idle stream clients are pinged; five unanswered pings close. */
	opts[n++] = "websocket_timeout_ms";	opts[n++] = "15000";
	opts[n++] = "enable_websocket_ping_pong"; opts[n++] = "yes";
	opts[n++] = "listen_backlog";		opts[n++] = "128";
	opts[n++] = "tcp_nodelay";		opts[n++] = "1";
	opts[n] = NULL;

	memset(&cb, 0, sizeof(cb));
	cb.begin_request = begin_request;
	cb.http_error = http_error;
	cb.connection_closed = connection_closed;
	cb.log_message = log_message;
	start_error[0] = '\0';
	atomic_store(&starting, 1);
	mg_init_library(0);
	h->ctx = mg_start(&cb, h, opts);
	atomic_store(&starting, 0);
	if (h->ctx == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", ports,
		    start_error[0] != '\0' ? start_error :
		    "address in use or not available");
		free(h);
		mg_exit_library();
		return -EADDRINUSE;
	}
	if (h->stream != NULL)
		stream_attach(h->stream, h->ctx, "/api/stream");
	*out = h;
	return 0;
}

void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	mg_stop(h->ctx);
	mg_exit_library();
	free(h);
}
