/*
 * A snapshot as bytes and back: the SNAPSHOT payload of docs/protocol.md.
 * Compact binary with interned strings (each distinct string is sent once,
 * processes refer to it by index).  Pure: no I/O, nothing logged.
 */
#ifndef PROCNET_IPC_CODEC_H
#define PROCNET_IPC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "snapshot.h"

/* Snapshot encodings this build has: one per protocol version. */
#define CODEC_VERSION_MIN	1u	/* cmdline joined; no v2 fields */
#define CODEC_VERSION_MAX	2u	/* argv, details, TCP info, events */

/*
 * Encodes s for protocol `version` (fields the version lacks are left
 * out).  On success *buf (malloc'd, caller frees) holds *len bytes.
 * -ENOMEM, -E2BIG when the result would pass FRAME_MAX_PAYLOAD (or the
 * string table its limit), -EINVAL for a version not in CODEC_VERSION_*.
 */
int codec_encode_snapshot(const struct snapshot *s, uint16_t version,
    uint8_t **buf, size_t *len);

/* Same, but *buf is a whole SNAPSHOT frame: header for `version` first. */
int codec_encode_snapshot_frame(const struct snapshot *s, uint16_t version,
    uint8_t **buf, size_t *len);

/*
 * Decodes exactly len bytes of protocol `version` into a new snapshot (one
 * reference in *out).  Strict: every count, length and index is checked
 * against what remains and against SNAP_MAX_*; bad enums and flags,
 * unsorted pids, strings with NUL bytes, anything but the canonical
 * encoding and trailing bytes are errors.  A version-1 payload gives
 * cmdline and no argv.  Returns 0, -EBADMSG with err filled (also for a
 * version not in CODEC_VERSION_*), or -ENOMEM.  *out is written only on
 * success.
 */
int codec_decode_snapshot(const uint8_t *buf, size_t len, uint16_t version,
    struct snapshot **out, struct frame_error *err);

#endif
