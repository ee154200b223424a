/* Socket addresses as text (addrfmt.h). */
#include "addrfmt.h"

#include <string.h>

size_t
addrfmt_addr(const struct snap_addr *a, char *out)
{
	char *p = out;

	if (a->family != 4) {
		snap_addr_format(a, out);
		return strlen(out);
	}
	for (int i = 0; i < 4; i++) {
		unsigned v = a->bytes[i];

		if (i > 0)
			*p++ = '.';
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
	}
	*p = '\0';
	return (size_t)(p - out);
}

size_t
addrfmt_endpoint(const struct snap_addr *a, uint16_t port, char *out)
{
	char tmp[6];
	size_t n = 0, i = sizeof(tmp);

	if (a->family == 6)
		out[n++] = '[';
	n += addrfmt_addr(a, out + n);
	if (a->family == 6)
		out[n++] = ']';
	out[n++] = ':';
	do {
		tmp[--i] = (char)('0' + port % 10);
		port /= 10;
	} while (port != 0);
	memcpy(out + n, tmp + i, sizeof(tmp) - i);
	n += sizeof(tmp) - i;
	out[n] = '\0';
	return n;
}

void
addrfmt_canon(const struct snap_addr *in, struct snap_addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(out, 0, sizeof(*out));
	if (in->family == 6 && memcmp(in->bytes, mapped, 12) == 0) {
		out->family = 4;
		memcpy(out->bytes, in->bytes + 12, 4);
	} else if (in->family == 4) {
		out->family = 4;
		memcpy(out->bytes, in->bytes, 4);
	} else {
		out->family = 6;
		memcpy(out->bytes, in->bytes, 16);
	}
}
