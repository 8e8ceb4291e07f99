/* serial.h — little-endian byte buffers for checkpoints.
 *
 * A gc_buf grows as it is written; after an allocation failure it stays failed
 * (b->oom) and later writes do nothing, so a writer checks once at the end.
 * A gc_reader reads from borrowed bytes and fails with GC_ECORRUPT on a short read.
 * Framing: gc_frame_seal wraps a payload as
 *   magic u32 | version u32 | payload length u64 | payload | CRC-32 of all before u32
 * and gc_frame_open checks each part and names the one that is wrong. */
#ifndef GC_SERIAL_H
#define GC_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct gc_buf {
    uint8_t *data;
    size_t len, cap;
    int oom;
};

void gc_buf_init(struct gc_buf *b);
void gc_buf_fini(struct gc_buf *b);
void gc_buf_put(struct gc_buf *b, const void *p, size_t n);
void gc_buf_put_u32(struct gc_buf *b, uint32_t v);
void gc_buf_put_u64(struct gc_buf *b, uint64_t v);
void gc_buf_put_f32s(struct gc_buf *b, const float *x, size_t n);

struct gc_reader {
    const uint8_t *p;
    size_t len, off;
};

void gc_reader_init(struct gc_reader *r, const uint8_t *p, size_t len);
int gc_reader_get(struct gc_reader *r, void *out, size_t n, struct gc_error *err);
int gc_reader_u32(struct gc_reader *r, uint32_t *v, struct gc_error *err);
int gc_reader_u64(struct gc_reader *r, uint64_t *v, struct gc_error *err);
int gc_reader_f32s(struct gc_reader *r, float *x, size_t n, struct gc_error *err);

uint32_t gc_crc32(const uint8_t *p, size_t n);

/* Writes the frame of payload into *out (malloc'ed, caller frees). */
int gc_frame_seal(uint32_t magic, uint32_t version, const uint8_t *payload, size_t len,
                  uint8_t **out, size_t *out_len, struct gc_error *err);
/* The same frame built in place, for payloads too big to hold twice (a checkpoint):
 * gc_frame_start puts the header's room into an empty b, the caller puts the payload
 * after it, and gc_frame_finish fills the header, appends the CRC and hands b's bytes
 * over to *out (the caller frees them; b is left empty). GC_ENOMEM, with b freed, when
 * b ran out of memory on the way. */
void gc_frame_start(struct gc_buf *b);
int gc_frame_finish(struct gc_buf *b, uint32_t magic, uint32_t version, uint8_t **out,
                    size_t *out_len, struct gc_error *err);
/* Checks magic, version, size and checksum of a frame; on success *payload points
 * into bytes (borrowed). `what` names the thing in messages ("checkpoint"). */
int gc_frame_open(const char *what, uint32_t magic, uint32_t version, const uint8_t *bytes,
                  size_t len, const uint8_t **payload, size_t *payload_len, struct gc_error *err);

#endif
