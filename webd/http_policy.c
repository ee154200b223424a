/*
 * Request policy: pure string checks, no I/O, no allocation.
 */
#include "http_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "snapshot.h"

int
http_policy_addr_numeric(const char *s)
{
	struct snap_addr a;

	if (s == NULL || strlen(s) >= SNAP_ADDRSTRLEN)
		return -EINVAL;
	return snap_addr_parse(s, &a) == 0 ? 0 : -EINVAL;
}

/* Same address, whatever its textual form ("::1" vs "0:0::1"). */
static bool
same_addr(const char *a, const char *b)
{
	struct snap_addr x, y;

	if (snap_addr_parse(a, &x) != 0 || snap_addr_parse(b, &y) != 0)
		return false;
	return x.family == y.family && memcmp(x.bytes, y.bytes, 16) == 0;
}

static bool
parse_port_text(const char *s, int *port)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = (int)v;
	return true;
}

bool
http_policy_host_ok(const char *host, const char *bind, int port)
{
	char name[64];
	const char *port_text = NULL;
	size_t len;
	int hport;
	bool bracketed = false;

	if (host == NULL || bind == NULL)
		return false;
	len = strlen(host);
	if (len == 0 || len >= sizeof(name) + 8)
		return false;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');

		if (close == NULL || (size_t)(close - host - 1) >= sizeof(name))
			return false;
		memcpy(name, host + 1, close - host - 1);
		name[close - host - 1] = '\0';
		if (close[1] == ':')
			port_text = close + 2;
		else if (close[1] != '\0')
			return false;
		bracketed = true;
	} else {
		const char *colon = strchr(host, ':');

		/* An unbracketed IPv6 literal is not a valid Host. */
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return false;
		len = colon != NULL ? (size_t)(colon - host) : len;
		if (len >= sizeof(name))
			return false;
		memcpy(name, host, len);
		name[len] = '\0';
		if (colon != NULL)
			port_text = colon + 1;
	}

	if (port_text != NULL) {
		if (!parse_port_text(port_text, &hport) || hport != port)
			return false;
	} else if (port != 80)
		return false;

	if (bracketed) {
		struct snap_addr a;

		if (snap_addr_parse(name, &a) != 0 || a.family != 6)
			return false;
		return same_addr(name, "::1") || same_addr(name, bind);
	}
	if (strcasecmp(name, "localhost") == 0 || strcmp(name, "127.0.0.1") == 0)
		return true;
	/* The bound address, when it is an IPv4 one (IPv6 needs brackets). */
	return strchr(bind, ':') == NULL && strcmp(name, bind) == 0;
}

bool
http_policy_origin_ok(const char *origin, const char *host)
{
	static const char scheme[] = "http://";

	if (origin == NULL)
		return true;	/* not a browser (browsers always send one) */
	if (host == NULL)
		return false;
	if (strncasecmp(origin, scheme, sizeof(scheme) - 1) != 0)
		return false;
	return strcasecmp(origin + sizeof(scheme) - 1, host) == 0;
}

bool
http_policy_method_ok(const char *method)
{
	return method != NULL &&
	    (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
}

/* One strict percent-decoding pass into dec (at least strlen(raw) + 1). */
static int
decode_once(const char *raw, char *dec)
{
	size_t n = 0;

	for (const char *p = raw; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);

			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			/* An encoded separator or NUL is never a file name. */
			if (c == '\0' || c == '/' || c == '\\')
				return -EINVAL;
			p += 2;
		}
		/* A '%' here came from %25: double encoding, which some
		 * later decoder would undo; refused outright. */
		if (c < 0x20 || c == 0x7f || c == '\\' || c == ':' || c == '%')
			return -EINVAL;
		dec[n++] = (char)c;
	}
	dec[n] = '\0';
	return 0;
}

int
http_policy_path(const char *path, char *out, size_t outlen)
{
	char dec[HTTP_POLICY_MAX_PATH + 1];
	const char *p, *seg;
	size_t n = 0;

	if (path == NULL || path[0] != '/')
		return -EINVAL;
	if (strlen(path) > HTTP_POLICY_MAX_PATH || outlen == 0)
		return -EINVAL;
	if (decode_once(path, dec) != 0)
		return -EINVAL;

	/* Walk the segments; empty ones ("//") are dropped. */
	for (p = dec; *p != '\0';) {
		size_t len;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		seg = p;
		len = strcspn(seg, "/");
		p = seg + len;
		if ((len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return -EINVAL;
		if (seg[0] == '.')
			return -ENOENT;
		if (n + len + 2 > outlen)
			return -EINVAL;
		if (n > 0)
			out[n++] = '/';
		memcpy(out + n, seg, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}

struct mime {
	const char *ext;
	const char *type;
};

static const struct mime mimes[] = {
	{ "html",	"text/html; charset=utf-8" },
	{ "htm",	"text/html; charset=utf-8" },
	{ "js",		"text/javascript; charset=utf-8" },
	{ "mjs",	"text/javascript; charset=utf-8" },
	{ "css",	"text/css; charset=utf-8" },
	{ "json",	"application/json" },
	{ "map",	"application/json" },
	{ "txt",	"text/plain; charset=utf-8" },
	{ "png",	"image/png" },
	{ "gif",	"image/gif" },
	{ "jpg",	"image/jpeg" },
	{ "jpeg",	"image/jpeg" },
	{ "svg",	"image/svg+xml" },
	{ "ico",	"image/x-icon" },
	{ "webp",	"image/webp" },
	{ "woff",	"font/woff" },
	{ "woff2",	"font/woff2" },
	{ "ttf",	"font/ttf" },
	{ "wasm",	"application/wasm" },
};

const char *
http_policy_mime(const char *name)
{
	const char *dot, *slash;

	if (name == NULL)
		return "application/octet-stream";
	dot = strrchr(name, '.');
	slash = strrchr(name, '/');
	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	for (size_t i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++)
		if (strcasecmp(dot + 1, mimes[i].ext) == 0)
			return mimes[i].type;
	return "application/octet-stream";
}
