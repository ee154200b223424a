/*
 * Reverse-DNS messages (RFC 1035 section 4, RFC 3596 for ip6.arpa).
 * Names are compared in wire form, lower-cased, so "a.b" in one label can
 * never pass for two labels.  Compression pointers must point before
 * themselves, which is what makes every name walk end.
 */
#include "dnsmsg.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hex.h"

#define DNS_HEADER_SIZE		12u
#define DNS_WIRE_NAME_MAX	255u
#define DNS_TYPE_CNAME		5u
#define DNS_RCODE_NXDOMAIN	3u
/* RFC 2317 classless delegation answers PTR through a CNAME; more than a
 * few links is a loop or an attack. */
#define DNS_MAX_CNAME_HOPS	8
#define DNS_MAX_ANSWERS		64u

int
dnsmsg_reverse_name(const struct snap_addr *a, char *out)
{
	char *p = out;
	int i;

	if (a->family == 4) {
		for (i = 3; i >= 0; i--) {
			unsigned v = a->bytes[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = '.';
		}
		memcpy(p, "in-addr.arpa", sizeof("in-addr.arpa"));
		p += sizeof("in-addr.arpa") - 1;
	} else if (a->family == 6) {
		for (i = 15; i >= 0; i--) {
			*p++ = hex_digit(a->bytes[i]);
			*p++ = '.';
			*p++ = hex_digit(a->bytes[i] >> 4u);
			*p++ = '.';
		}
		memcpy(p, "ip6.arpa", sizeof("ip6.arpa"));
		p += sizeof("ip6.arpa") - 1;
	} else {
		return -EINVAL;
	}
	return (int)(p - out);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * Reads the name at *off into wire (uncompressed, lower-cased, ending in
 * the root label) and moves *off past it in the message.  Returns the wire
 * length or -EBADMSG.
 */
static int
read_name(const uint8_t *msg, size_t len, size_t *off, uint8_t *wire)
{
	size_t pos = *off, wlen = 0, end = 0;
	bool jumped = false;

	for (;;) {
		unsigned l;

		if (pos >= len)
			return -EBADMSG;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			/* Only backwards: a pointer can never revisit
			 * itself, so the walk ends. */
			if (target >= pos)
				return -EBADMSG;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if (l & 0xc0)		/* 0x40 / 0x80: obsolete label types */
			return -EBADMSG;
		if (pos + 1 + l > len || wlen + 1 + l > DNS_WIRE_NAME_MAX)
			return -EBADMSG;
		wire[wlen++] = (uint8_t)l;
		for (unsigned i = 0; i < l; i++) {
			uint8_t c = msg[pos + 1 + i];

			wire[wlen++] = (uint8_t)(c >= 'A' && c <= 'Z' ?
			    c + 32 : c);
		}
		pos += 1 + l;
		if (l == 0)
			break;
	}
	*off = jumped ? end : pos;
	return (int)wlen;
}

static bool
host_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/* Wire form to "a.b.c" when every label is host name material. */
static int
wire_to_text(const uint8_t *wire, char *out)
{
	size_t w = 0, o = 0;

	while (wire[w] != 0) {
		unsigned l = wire[w++];

		if (o != 0)
			out[o++] = '.';
		for (unsigned i = 0; i < l; i++, w++) {
			if (!host_char(wire[w]))
				return -EBADMSG;
			out[o++] = (char)wire[w];
		}
	}
	if (o == 0)		/* the root is no host's name */
		return -EBADMSG;
	out[o] = '\0';
	return 0;
}

static bool
same_name(const uint8_t *a, int alen, const uint8_t *b, int blen)
{
	return alen == blen && memcmp(a, b, (size_t)alen) == 0;
}

int
dnsmsg_ptr_answer(const uint8_t *msg, size_t len, char *out, uint32_t *ttl)
{
	uint8_t want[DNS_WIRE_NAME_MAX], owner[DNS_WIRE_NAME_MAX];
	uint8_t rname[DNS_WIRE_NAME_MAX];
	int wantlen, ownlen, rlen, hops = 0;
	unsigned flags, qd, an, rcode, i;
	size_t off = DNS_HEADER_SIZE;
	bool again;

	if (len < DNS_HEADER_SIZE)
		return -EBADMSG;
	flags = get16(msg + 2);
	qd = get16(msg + 4);
	an = get16(msg + 6);
	/* A response (QR), a standard query (opcode 0), not truncated. */
	if (!(flags & 0x8000) || (flags & 0x7800) || (flags & 0x0200))
		return -EBADMSG;
	if (qd != 1)
		return -EBADMSG;
	if ((wantlen = read_name(msg, len, &off, want)) < 0)
		return wantlen;
	if (len - off < 4 || get16(msg + off) != DNSMSG_TYPE_PTR ||
	    get16(msg + off + 2) != DNSMSG_CLASS_IN)
		return -EBADMSG;
	off += 4;
	rcode = flags & 0xf;
	if (rcode == DNS_RCODE_NXDOMAIN)
		return DNSMSG_NXDOMAIN;
	if (rcode != 0)
		return -EPROTO;
	if (an > DNS_MAX_ANSWERS)
		an = DNS_MAX_ANSWERS;

	/* Walk the answers, following CNAMEs from the question's name; the
	 * walk restarts after each CNAME since records may come in any
	 * order. */
	do {
		size_t p = off;

		again = false;
		for (i = 0; i < an; i++) {
			unsigned type, class_, rdlen;
			uint32_t t;
			size_t rd;

			if ((ownlen = read_name(msg, len, &p, owner)) < 0)
				return ownlen;
			if (len - p < 10)
				return -EBADMSG;
			type = get16(msg + p);
			class_ = get16(msg + p + 2);
			t = get32(msg + p + 4);
			rdlen = get16(msg + p + 8);
			p += 10;
			if (len - p < rdlen)
				return -EBADMSG;
			rd = p;
			p += rdlen;
			if (class_ != DNSMSG_CLASS_IN ||
			    !same_name(owner, ownlen, want, wantlen))
				continue;
			if (type != DNSMSG_TYPE_PTR && type != DNS_TYPE_CNAME)
				continue;
			/* The name inside rdata must end inside rdata. */
			{
				size_t q = rd;

				if ((rlen = read_name(msg, rd + rdlen, &q,
				    rname)) < 0 || q != rd + rdlen)
					return -EBADMSG;
			}
			if (type == DNS_TYPE_CNAME) {
				if (++hops > DNS_MAX_CNAME_HOPS)
					return -EBADMSG;
				memcpy(want, rname, (size_t)rlen);
				wantlen = rlen;
				again = true;
				break;
			}
			if (wire_to_text(rname, out) < 0)
				return -EBADMSG;
			/* RFC 2181 8: a TTL with the top bit set is 0. */
			*ttl = t & 0x80000000u ? 0 : t;
			return DNSMSG_ANSWER;
		}
	} while (again);
	return DNSMSG_NODATA;
}
