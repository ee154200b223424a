/*
 * webd's request policy as pure functions of the request's text, so they can
 * be unit-tested and fuzzed without a server: which Host and Origin headers
 * are ours (DNS rebinding, cross-site WebSocket), which methods, which paths
 * may map to a file, and the MIME type of a served file.
 */
#ifndef PROCNET_WEBD_HTTP_POLICY_H
#define PROCNET_WEBD_HTTP_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* Longest request path we map to a file; longer ones are refused. */
#define HTTP_POLICY_MAX_PATH	1024

/* 0 when s is a numeric IPv4 or IPv6 address (no brackets), else -EINVAL. */
int http_policy_addr_numeric(const char *s);

/*
 * True when a Host header names this server: "localhost", "127.0.0.1",
 * "[::1]" or the bound address, followed by ":port" (the port may be
 * omitted only when it is 80).  Case-insensitive host names; anything else,
 * NULL included, is foreign.
 */
bool http_policy_host_ok(const char *host, const char *bind, int port);

/*
 * True when a WebSocket upgrade's Origin is the page's own: "http://" + the
 * (already accepted) Host header, or when there is none (NULL).  Browsers
 * always send Origin on an upgrade, so refusing a foreign one is the
 * defence against cross-site WebSocket hijacking; a client without one
 * (curl, websocat, a script) is not a browser and is allowed, like any
 * local program that may connect to the port.  "null" and "" are foreign.
 */
bool http_policy_origin_ok(const char *origin, const char *host);

/* True for GET and HEAD, the only methods webd answers. */
bool http_policy_method_ok(const char *method);

/*
 * Maps a request path as it came on the wire, percent-encoded ("/app.js",
 * "/caf%C3%A9.html"), to a relative file path ("app.js") in out, decoding
 * it exactly once.  Refused: no leading '/', longer than
 * HTTP_POLICY_MAX_PATH, a malformed %xx, encoded NUL or separators (%00,
 * %2f, %5c), control characters, '\\', ':', a '%' left after decoding
 * (double encoding), "." and ".." segments, and hidden segments (".git").
 * Returns 0, or -EINVAL (a bad request), or -ENOENT (a hidden name).
 * "/" gives "" (the caller serves its index).
 */
int http_policy_path(const char *path, char *out, size_t outlen);

/* Content-Type for a file name by its extension; never NULL. */
const char *http_policy_mime(const char *name);

#endif
