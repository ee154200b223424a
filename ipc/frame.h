/*
 * Framing of the collector protocol (docs/protocol.md): a fixed 16-byte
 * little-endian header, then the payload.  Pure: no I/O, no allocation,
 * nothing logged.  Decoders are strict: every length is checked against
 * what remains, and anything unexpected is an error with a reason.
 *
 *	offset	size	field
 *	0	4	magic	 "PNET" (0x54454e50 read as little-endian u32)
 *	4	2	version	 protocol version of this frame
 *	6	2	type	 enum frame_type
 *	8	4	length	 payload bytes that follow
 *	12	4	reserved must be 0
 */
#ifndef PROCNET_IPC_FRAME_H
#define PROCNET_IPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAGIC		0x54454e50u	/* "PNET" on the wire */
#define FRAME_HEADER_SIZE	16u
/* Versions this build speaks; HELLO negotiates the highest common one. */
#define FRAME_VERSION_MIN	1u
#define FRAME_VERSION_MAX	2u

/* Largest payload anyone accepts (a SNAPSHOT). */
#define FRAME_MAX_PAYLOAD	(128u * 1024u * 1024u)
/* Largest payload the collector reads from a client: HELLO, SUBSCRIBE. */
#define FRAME_MAX_CONTROL	256u
#define FRAME_MAX_AGENT		64u	/* HELLO agent text, bytes */
#define FRAME_MAX_ERROR_TEXT	1024u	/* ERROR text, bytes */
/* Room for any frame other than a SNAPSHOT. */
#define FRAME_SMALL_MAX		(FRAME_HEADER_SIZE + 2u + FRAME_MAX_ERROR_TEXT)

enum frame_type {
	FRAME_NONE = 0,		/* never valid on the wire */
	FRAME_HELLO,
	FRAME_SUBSCRIBE,
	FRAME_SNAPSHOT,
	FRAME_ERROR,
	FRAME_TYPE_MAX
};

#define FRAME_SUB_UDP		0x1u	/* SUBSCRIBE flags */
#define FRAME_SUB_FLAGS		FRAME_SUB_UDP

/* Where and why a decode failed; filled by every decoder on error. */
struct frame_error {
	size_t offset;		/* byte offset into what was being decoded */
	char text[160];
};

struct frame_header {
	uint16_t version;
	uint16_t type;		/* enum frame_type */
	uint32_t length;
};

/* HELLO: the client sends the range it speaks; the server answers with
 * min == max == the chosen version, or an ERROR and a close. */
struct frame_hello {
	uint16_t min_version;
	uint16_t max_version;
	char agent[FRAME_MAX_AGENT + 1];	/* "procnet-webd/0.1.0", NUL-ended */
};

struct frame_subscribe {
	uint32_t interval_ms;	/* the server clamps it to 100 ms..60 s */
	bool udp;
};

const char *frame_type_name(unsigned type);	/* NULL when out of range */

/* Writes a header for a payload of len bytes. */
void frame_header_write(uint8_t out[FRAME_HEADER_SIZE], uint16_t version,
    enum frame_type type, uint32_t len);

/*
 * Checks one header: magic, reserved zero, known type, length within
 * max_payload, and version: a HELLO or ERROR may carry any version >= 1
 * (their layout never changes; that is what lets peers negotiate, and
 * what lets an ERROR sent before the agreement be read); every other frame
 * must carry exactly `version`.  len must be >= FRAME_HEADER_SIZE; extra bytes
 * are not looked at.  Returns 0, -EBADMSG (malformed), -EPROTO (version),
 * -EMSGSIZE (too long) or -ENODATA (truncated).
 */
int frame_header_read(const uint8_t *buf, size_t len, uint16_t version,
    uint32_t max_payload, struct frame_header *out, struct frame_error *err);

/* A whole frame in buf: header as above, then exactly length payload bytes
 * (fewer: -ENODATA, more: -EBADMSG for trailing bytes). */
int frame_read(const uint8_t *buf, size_t len, uint16_t version,
    uint32_t max_payload, struct frame_header *hdr, const uint8_t **payload,
    struct frame_error *err);

/*
 * Encoders write a complete frame (header + payload) into buf of cap bytes
 * (FRAME_SMALL_MAX always suffices) and set *len.  -ENOSPC when cap is too
 * small, -EINVAL for values the protocol cannot carry (text that is not
 * UTF-8 among them).
 */
int frame_encode_hello(const struct frame_hello *h, uint16_t version,
    uint8_t *buf, size_t cap, size_t *len);
int frame_encode_subscribe(const struct frame_subscribe *s, uint16_t version,
    uint8_t *buf, size_t cap, size_t *len);
/* text longer than FRAME_MAX_ERROR_TEXT is cut at a UTF-8 boundary. */
int frame_encode_error(const char *text, uint16_t version, uint8_t *buf,
    size_t cap, size_t *len);

/* Payload decoders: the payload only, exactly; -EBADMSG with a reason
 * (a string with a NUL byte or that is not UTF-8 among them). */
int frame_decode_hello(const uint8_t *p, size_t len, struct frame_hello *out,
    struct frame_error *err);
int frame_decode_subscribe(const uint8_t *p, size_t len,
    struct frame_subscribe *out, struct frame_error *err);
/* text gets at most cap-1 bytes, NUL-ended, never ending inside a
 * character. */
int frame_decode_error(const uint8_t *p, size_t len, char *text, size_t cap,
    struct frame_error *err);

/* Highest version both ranges hold, or -EPROTONOSUPPORT (also when a
 * range is empty: min > max). */
int frame_negotiate(uint16_t my_min, uint16_t my_max, uint16_t peer_min,
    uint16_t peer_max, uint16_t *chosen);

#endif
