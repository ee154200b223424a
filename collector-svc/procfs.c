/*
 * Parsers of /proc text.  Buffers are not NUL-terminated; every scan is
 * bounded by len.
 */
#include "procfs.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hex.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses a decimal number at *p (< end); advances *p.  Negative allowed
 * when neg_ok. */
static int
parse_dec(const char **p, const char *end, bool neg_ok, int64_t *out)
{
	const char *s = *p;
	bool neg = false;
	uint64_t v = 0;

	if (s < end && *s == '-' && neg_ok) {
		neg = true;
		s++;
	}
	if (s >= end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > INT64_MAX)
		return -EINVAL;
	*out = neg ? -(int64_t)v : (int64_t)v;
	*p = s;
	return 0;
}

/* Exactly n hex digits at p into *out. */
static int
parse_hex_n(const char *p, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;
	int d;

	for (i = 0; i < n; i++) {
		if ((d = hex_value(p[i])) < 0)
			return -EINVAL;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

int
procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out)
{
	const char *end = buf + len, *open, *close, *p;
	struct procfs_stat st;
	int64_t v;
	size_t n;
	int field;

	memset(&st, 0, sizeof(st));
	/* comm may hold ')' and spaces: it ends at the LAST ')'. */
	if ((open = memchr(buf, '(', len)) == NULL)
		return -EINVAL;
	for (close = end - 1; close > open && *close != ')'; close--)
		;
	if (close <= open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(st.comm))
		n = sizeof(st.comm) - 1;
	memcpy(st.comm, open + 1, n);
	st.comm[n] = '\0';

	/* After ") ": field 3 is the state, 4 ppid, ... 22 starttime. */
	p = close + 1;
	for (field = 3; field <= 22; field++) {
		if (p >= end || *p != ' ')
			return -EINVAL;
		p++;
		if (field == 3) {
			if (p >= end)
				return -EINVAL;
			st.state = *p++;
			continue;
		}
		if (parse_dec(&p, end, true, &v) != 0)
			return -EINVAL;
		if (field == 4) {
			if (v < 0 || v > INT32_MAX)
				return -EINVAL;
			st.ppid = (int32_t)v;
		} else if (field == 22) {
			/* The kernel always ends the field with a blank: a
			 * number cut short by a truncated read is refused. */
			if (v < 0 || p >= end || (*p != ' ' && *p != '\n'))
				return -EINVAL;
			st.starttime = (uint64_t)v;
		}
	}
	*out = st;
	return 0;
}

/* Finds a line starting with key (which includes its ':'); returns a
 * pointer just past the key, or NULL. */
static const char *
find_line(const char *buf, size_t len, const char *key)
{
	const char *p = buf, *end = buf + len, *nl;
	size_t klen = strlen(key);

	while (p < end) {
		if ((size_t)(end - p) >= klen && memcmp(p, key, klen) == 0)
			return p + klen;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p = nl + 1;
	}
	return NULL;
}

int
procfs_parse_status_uid(const char *buf, size_t len, uid_t *out)
{
	const char *end = buf + len, *p;
	int64_t v;

	if ((p = find_line(buf, len, "Uid:")) == NULL)
		return -EINVAL;
	while (p < end && is_space(*p))
		p++;
	if (parse_dec(&p, end, false, &v) != 0 || v > UINT32_MAX)
		return -EINVAL;
	*out = (uid_t)v;
	return 0;
}

int
procfs_parse_btime(const char *buf, size_t len, int64_t *out)
{
	const char *end = buf + len, *p;
	int64_t v;

	if ((p = find_line(buf, len, "btime ")) == NULL)
		return -EINVAL;
	while (p < end && is_space(*p))
		p++;
	if (parse_dec(&p, end, false, &v) != 0)
		return -EINVAL;
	*out = v;
	return 0;
}

uint32_t
procfs_cmdline_args(char *buf, size_t len, size_t *outlen)
{
	uint32_t argc;

	/* Trailing NULs are the terminator (and setproctitle padding), not
	 * empty arguments. */
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	buf[len] = '\0';
	*outlen = len;
	if (len == 0)
		return 0;
	argc = 1;
	for (const char *p = buf; (p = memchr(p, '\0', len - (size_t)(p - buf)))
	    != NULL; p++)
		argc++;
	return argc;
}

int
procfs_parse_socket_link(const char *link, size_t len, uint64_t *inode)
{
	static const char pfx[] = "socket:[";
	const char *p = link + sizeof(pfx) - 1, *end = link + len;
	int64_t v;

	if (len < sizeof(pfx) + 1 || memcmp(link, pfx, sizeof(pfx) - 1) != 0)
		return -EINVAL;
	if (parse_dec(&p, end, false, &v) != 0 || p != end - 1 || *p != ']')
		return -EINVAL;
	*inode = (uint64_t)v;
	return 0;
}

/* "AABBCCDD:PPPP" (IPv4) or 32 hex digits + ":PPPP" (IPv6).  The kernel
 * prints each 32-bit word of the address as a host-order number. */
static int
parse_net_addr(const char *p, size_t n, int family, struct snap_addr *a,
    uint16_t *port)
{
	size_t words = family == 4 ? 1 : 4, i;
	uint32_t w, pt;

	if (n != words * 8 + 5 || p[words * 8] != ':')
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	for (i = 0; i < words; i++) {
		if (parse_hex_n(p + i * 8, 8, &w) != 0)
			return -EINVAL;
		memcpy(a->bytes + i * 4, &w, 4);
	}
	if (parse_hex_n(p + words * 8 + 1, 4, &pt) != 0)
		return -EINVAL;
	*port = (uint16_t)pt;
	return 0;
}

#define NET_FIELDS	10	/* sl local rem st queues timer retr uid timeout inode */

static int
parse_net_line(const char *p, const char *end, int proto, int family,
    struct snap_socket *s)
{
	const char *tok[NET_FIELDS];
	size_t toklen[NET_FIELDS];
	const char *q;
	uint32_t st;
	int64_t inode;
	int n = 0;

	while (n < NET_FIELDS) {
		while (p < end && is_space(*p))
			p++;
		if (p >= end)
			return -EINVAL;
		tok[n] = p;
		while (p < end && !is_space(*p))
			p++;
		toklen[n] = (size_t)(p - tok[n]);
		n++;
	}
	memset(s, 0, sizeof(*s));
	s->proto = (uint8_t)proto;
	s->family = (uint8_t)family;
	s->pid = -1;
	if (toklen[0] < 2 || tok[0][toklen[0] - 1] != ':')
		return -EINVAL;
	if (parse_net_addr(tok[1], toklen[1], family, &s->local,
	    &s->local_port) != 0 ||
	    parse_net_addr(tok[2], toklen[2], family, &s->remote,
	    &s->remote_port) != 0)
		return -EINVAL;
	if (toklen[3] != 2 || parse_hex_n(tok[3], 2, &st) != 0)
		return -EINVAL;
	if (proto == SNAP_PROTO_TCP) {
		if (st < SNAP_STATE_ESTABLISHED || st >= SNAP_STATE_MAX)
			return -EINVAL;
		s->state = (uint8_t)st;
	} else {
		s->state = SNAP_STATE_NONE;
	}
	q = tok[9];
	if (parse_dec(&q, tok[9] + toklen[9], false, &inode) != 0 ||
	    q != tok[9] + toklen[9])
		return -EINVAL;
	s->inode = (uint64_t)inode;
	return 0;
}

int
procfs_parse_net(const char *buf, size_t len, int proto, int family,
    procfs_net_fn fn, void *arg)
{
	const char *p = buf, *end = buf + len, *nl, *eol;
	struct snap_socket s;
	bool header = true;
	int rc;

	if ((proto != SNAP_PROTO_TCP && proto != SNAP_PROTO_UDP) ||
	    (family != 4 && family != 6))
		return -EINVAL;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return -EINVAL;	/* the kernel ends every line: cut short */
		eol = nl;
		if (header) {
			/* The first line names the columns. */
			header = false;
		} else if (eol > p) {
			if (parse_net_line(p, eol, proto, family, &s) != 0)
				return -EINVAL;
			if ((rc = fn(arg, &s)) != 0)
				return rc;
		}
		p = nl + 1;
	}
	return 0;
}
