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

/*
 * Encodes s.  On success *buf (malloc'd, caller frees) holds *len bytes.
 * -ENOMEM, or -E2BIG when the result would pass FRAME_MAX_PAYLOAD.
 */
int codec_encode_snapshot(const struct snapshot *s, uint8_t **buf,
    size_t *len);

/* Same, but *buf is a whole SNAPSHOT frame: header for `version` first. */
int codec_encode_snapshot_frame(const struct snapshot *s, uint16_t version,
    uint8_t **buf, size_t *len);

/*
 * Decodes exactly len bytes into a new snapshot (one reference in *out).
 * Strict: every count, length and index is checked against what remains
 * and against SNAP_MAX_*; bad enums, unsorted pids, strings with NUL bytes
 * and trailing bytes are errors.  Returns 0, -EBADMSG with err filled, or
 * -ENOMEM.  *out is written only on success.
 */
int codec_decode_snapshot(const uint8_t *buf, size_t len,
    struct snapshot **out, struct frame_error *err);

#endif
