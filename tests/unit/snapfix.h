/*
 * Test fixture shared by the graph tests: one socket into a snapshot
 * builder from text addresses.  Include after <cmocka.h>.
 */
#ifndef PROCNET_TESTS_SNAPFIX_H
#define PROCNET_TESTS_SNAPFIX_H

#include <string.h>

#include "snapshot.h"

/* pid < 0 means an owner we could not see, for the reason -pid.  ra NULL
 * leaves the remote end unset (a listener or an unconnected socket). */
static inline void
snapfix_sock(struct snapshot_builder *b, int proto, int state, int32_t pid,
    const char *la, uint16_t lp, const char *ra, uint16_t rp)
{
	struct snap_socket s;

	memset(&s, 0, sizeof(s));
	s.proto = (uint8_t)proto;
	s.state = (uint8_t)state;
	s.owner = pid >= 0 ? SNAP_OWNER_KNOWN : (uint8_t)-pid;
	s.pid = pid;
	assert_int_equal(snap_addr_parse(la, &s.local), 0);
	if (ra != NULL)
		assert_int_equal(snap_addr_parse(ra, &s.remote), 0);
	else
		s.remote.family = s.local.family;
	s.family = s.local.family;
	s.local_port = lp;
	s.remote_port = rp;
	assert_int_equal(snapshot_builder_add_socket(b, &s), 0);
}

#endif
