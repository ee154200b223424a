/*
 * libFuzzer target for webd's request path: the input is a request head as
 * it comes on the wire (request line, then "Name: value" header lines, CRLF
 * or LF), parsed loosely the way civetweb hands it to begin_request(), and
 * every policy decision webd takes on it is made here in the same order:
 * Host, method, path (query cut off), Origin on /api/stream, the icon file
 * name on /icons/, the MIME type.  An "X-Fuzz-Bind" header picks the bound
 * address (default 127.0.0.1).
 *
 * Invariants, checked by an independent oracle:
 *  - an accepted Host names this machine (localhost, 127.0.0.1, ::1 or the
 *    bound address, per the C library's inet_pton) on port 8765;
 *  - an accepted method is GET or HEAD;
 *  - an accepted path is one no file system can take out of its root:
 *    relative, no "." or ".." (or hidden) segment, no "//", no separator
 *    but '/', no NUL, no backslash, no ':', no control character, no '%'
 *    (so no second decoding) -- and mapping it again gives itself;
 *  - an accepted Origin is "http://" + the Host;
 *  - an icon file name stays a plain file name.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "http_policy.h"
#include "icons.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PORT		8765
#define MAX_HEADERS	64

struct req {
	const char *method, *target, *host, *origin, *bind;
};

static void
check_path(const char *in, char *out, size_t outlen)
{
	char again[HTTP_POLICY_MAX_PATH + 2];
	char out2[HTTP_POLICY_MAX_PATH + 1];
	const char *seg;

	if (out[0] == '/' || strchr(out, '\\') != NULL ||
	    strchr(out, ':') != NULL || strchr(out, '%') != NULL)
		__builtin_trap();
	if (strlen(out) >= outlen || strlen(in) > HTTP_POLICY_MAX_PATH)
		__builtin_trap();
	for (const char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			__builtin_trap();
	for (seg = out; *seg != '\0';) {
		size_t len = strcspn(seg, "/");

		if (len == 0 || seg[0] == '.')
			__builtin_trap();	/* "//", ".", "..", hidden */
		seg += len;
		if (*seg == '/')
			seg++;
	}
	/* Decoded exactly once: what came out maps to itself. */
	again[0] = '/';
	memcpy(again + 1, out, strlen(out) + 1);
	if (http_policy_path(again, out2, sizeof(out2)) != 0 ||
	    strcmp(out, out2) != 0)
		__builtin_trap();
}

/* The oracle for an accepted Host: one of our names, then ":" and a port
 * that is 8765 (leading zeros are still that port). */
static void
check_host(const char *host, const char *bind)
{
	struct in6_addr a, b;
	char name[128];
	const char *colon = strrchr(host, ':');
	size_t len;
	long port = 0;

	if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) > 5)
		__builtin_trap();
	for (const char *p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			__builtin_trap();
		port = port * 10 + (*p - '0');
	}
	if (port != PORT)
		__builtin_trap();
	len = (size_t)(colon - host);
	if (len == 0 || len >= sizeof(name))
		__builtin_trap();
	memcpy(name, host, len);
	name[len] = '\0';
	if (strcasecmp(name, "localhost") == 0 ||
	    strcmp(name, "127.0.0.1") == 0 || strcmp(name, bind) == 0)
		return;
	/* Else a bracketed IPv6 address: ::1 or the bound one, in any
	 * spelling; asked of the C library, not of webd's parser. */
	if (len < 4 || name[0] != '[' || name[len - 1] != ']')
		__builtin_trap();
	name[len - 1] = '\0';
	if (inet_pton(AF_INET6, name + 1, &a) != 1)
		__builtin_trap();
	if (memcmp(&a, &in6addr_loopback, sizeof(a)) == 0)
		return;
	if (inet_pton(AF_INET6, bind, &b) != 1 || memcmp(&a, &b, sizeof(a)) != 0)
		__builtin_trap();
}

static void
check_icon(const char *rel)
{
	char type[ICONS_MAX_TYPE + 1], name[ICONS_MAX_TYPE + 8];
	const char *n = rel + strlen("icons/");
	size_t len = strlen(n);

	/* As webd's route_icon: "<type>.png". */
	if (len <= 4 || len - 4 > ICONS_MAX_TYPE ||
	    strcmp(n + len - 4, ".png") != 0)
		return;
	memcpy(type, n, len - 4);
	type[len - 4] = '\0';
	if (icons_file_name(type, name, sizeof(name)) != 0)
		return;
	if (strchr(name, '/') != NULL || strchr(name, '\\') != NULL ||
	    strstr(name, "..") != NULL || name[0] == '.' ||
	    strlen(name) < 5 || strcmp(name + strlen(name) - 4, ".png") != 0)
		__builtin_trap();
}

/* begin_request()'s decisions, in its order. */
static void
decide(const struct req *r)
{
	char rel[HTTP_POLICY_MAX_PATH + 1];
	const char *mime;
	char *path;
	size_t plen;

	if (!http_policy_host_ok(r->host, r->bind, PORT))
		return;
	check_host(r->host, r->bind);
	if (!http_policy_method_ok(r->method))
		return;
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
		__builtin_trap();
	if (r->target == NULL)
		return;
	/* civetweb's local_uri_raw: the target without its query string */
	plen = strcspn(r->target, "?");
	if (plen > HTTP_POLICY_MAX_PATH)
		return;				/* 414 */
	if ((path = strndup(r->target, plen)) == NULL)
		return;
	if (http_policy_path(path, rel, sizeof(rel)) != 0) {
		free(path);
		return;
	}
	check_path(path, rel, sizeof(rel));
	free(path);
	if (strcmp(rel, "api/stream") == 0) {
		/* allowed: no Origin, or exactly the page's own */
		if (http_policy_origin_ok(r->origin, r->host) &&
		    r->origin != NULL &&
		    (strncasecmp(r->origin, "http://", 7) != 0 ||
		    strcasecmp(r->origin + 7, r->host) != 0))
			__builtin_trap();
		return;
	}
	if (strncmp(rel, "icons/", 6) == 0)
		check_icon(rel);
	mime = http_policy_mime(*rel == '\0' ? "index.html" : rel);
	if (mime == NULL || *mime == '\0')
		__builtin_trap();
}

/* Splits buf (NUL-terminated, modified) into lines at "\n", "\r\n". */
static size_t
split_lines(char *buf, char **lines, size_t max)
{
	size_t n = 0;
	char *p = buf;

	while (n < max) {
		char *nl = strchr(p, '\n');

		lines[n++] = p;
		if (nl == NULL)
			break;
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		*nl = '\0';
		p = nl + 1;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *lines[MAX_HEADERS + 1], *sp;
	struct req r = { .bind = "127.0.0.1" };
	size_t n;

	if (size > 64 * 1024 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	/* Embedded NULs end the head early, as civetweb's C strings do. */
	buf[size] = '\0';
	n = split_lines(buf, lines, MAX_HEADERS + 1);

	/* Request line: METHOD SP target [SP version] */
	r.method = lines[0];
	if ((sp = strchr(lines[0], ' ')) != NULL) {
		*sp = '\0';
		r.target = sp + 1;
		if ((sp = strchr(sp + 1, ' ')) != NULL)
			*sp = '\0';
	}
	/* Headers: the first of each name counts, like mg_get_header(). */
	for (size_t i = 1; i < n; i++) {
		char *colon = strchr(lines[i], ':'), *v;

		if (colon == NULL)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (strcasecmp(lines[i], "Host") == 0 && r.host == NULL)
			r.host = v;
		else if (strcasecmp(lines[i], "Origin") == 0 && r.origin == NULL)
			r.origin = v;
		else if (strcasecmp(lines[i], "X-Fuzz-Bind") == 0 &&
		    http_policy_addr_numeric(v) == 0)
			r.bind = v;
	}
	decide(&r);
	free(buf);
	return 0;
}
