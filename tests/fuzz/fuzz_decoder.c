/*
 * libFuzzer target for everything that decodes bytes from the other side
 * of the collector socket: the frame header, HELLO, SUBSCRIBE, ERROR and
 * the SNAPSHOT codec.  The input is tried both as a whole frame (of the
 * version its header names) and as a bare snapshot payload of every
 * version, so the fuzzer reaches the codec without first having to
 * discover a valid header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_snapshot(const uint8_t *p, size_t len, uint16_t version)
{
	struct snapshot *s = NULL;
	struct frame_error err;
	uint8_t *again;
	size_t alen;

	if (codec_decode_snapshot(p, len, version, &s, &err) != 0)
		return;
	/* What decodes encodes back to the very same bytes: the decoder
	 * accepts only the canonical form (shortest varints, strings in
	 * first-use order, sorted pids, zero reserved bytes). */
	if (codec_encode_snapshot(s, version, &again, &alen) == 0) {
		if (alen != len || memcmp(again, p, len) != 0)
			__builtin_trap();
		free(again);
	}
	snapshot_unref(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_header h;
	struct frame_error err;
	struct frame_hello hello;
	struct frame_subscribe sub;
	const uint8_t *payload;
	char text[FRAME_MAX_ERROR_TEXT + 1];
	uint16_t version = size >= 6 ? (uint16_t)(data[4] | data[5] << 8) : 1;

	if (frame_read(data, size, version, FRAME_MAX_PAYLOAD, &h, &payload,
	    &err) == 0) {
		switch (h.type) {
		case FRAME_HELLO:
			frame_decode_hello(payload, h.length, &hello, &err);
			break;
		case FRAME_SUBSCRIBE:
			frame_decode_subscribe(payload, h.length, &sub, &err);
			break;
		case FRAME_ERROR:
			frame_decode_error(payload, h.length, text,
			    sizeof(text), &err);
			break;
		case FRAME_SNAPSHOT:
			check_snapshot(payload, h.length, h.version);
			break;
		}
	}
	for (uint16_t v = CODEC_VERSION_MIN; v <= CODEC_VERSION_MAX; v++)
		check_snapshot(data, size, v);
	return 0;
}
