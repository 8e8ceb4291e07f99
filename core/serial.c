/* serial.c — little-endian byte buffers, readers and the checksummed frame of a checkpoint.
 *
 * Every multi-byte value is written byte by byte in little-endian order, so a checkpoint
 * written on one machine reads on any other. Floats travel as their IEEE-754 bit
 * patterns: a round trip is bit-exact, NaN payloads included. The CRC-32 is zlib's
 * (the polynomial of gzip and PNG), so a frame can be checked with standard tools. */
#include "core/serial.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* magic u32 | version u32 | length u64 | payload | crc u32 */
#define FRAME_HEAD 16
#define FRAME_TAIL 4

void gc_buf_init(struct gc_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}

void gc_buf_fini(struct gc_buf *b)
{
    free(b->data);
    gc_buf_init(b);
}

/* Makes room for n more bytes; on failure marks the buffer failed for good. */
static int buf_reserve(struct gc_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (n <= b->cap - b->len)
        return 0;
    if (n > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void gc_buf_put(struct gc_buf *b, const void *p, size_t n)
{
    if (n == 0 || buf_reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void gc_buf_put_u32(struct gc_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    gc_buf_put(b, x, 4);
}

void gc_buf_put_u64(struct gc_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    gc_buf_put(b, x, 8);
}

void gc_buf_put_f32s(struct gc_buf *b, const float *x, size_t n)
{
    if (n == 0 || n > SIZE_MAX / 4) {
        if (n)
            b->oom = 1;
        return;
    }
    if (buf_reserve(b, 4 * n) < 0)
        return;
    uint8_t *o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        o[4 * i + 0] = (uint8_t)u;
        o[4 * i + 1] = (uint8_t)(u >> 8);
        o[4 * i + 2] = (uint8_t)(u >> 16);
        o[4 * i + 3] = (uint8_t)(u >> 24);
    }
    b->len += 4 * n;
}

void gc_reader_init(struct gc_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
}

int gc_reader_get(struct gc_reader *r, void *out, size_t n, struct gc_error *err)
{
    if (n > r->len - r->off)
        return gc_error_set(err, GC_ECORRUPT, "truncated: %zu bytes wanted at offset %zu, %zu left",
                            n, r->off, r->len - r->off);
    if (n)
        memcpy(out, r->p + r->off, n);
    r->off += n;
    return 0;
}

static uint32_t le32(const uint8_t *x)
{
    return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

static uint64_t le64(const uint8_t *x)
{
    return (uint64_t)le32(x) | (uint64_t)le32(x + 4) << 32;
}

int gc_reader_u32(struct gc_reader *r, uint32_t *v, struct gc_error *err)
{
    uint8_t x[4] = {0};
    int rc = gc_reader_get(r, x, 4, err);
    if (rc < 0)
        return rc;
    *v = le32(x);
    return 0;
}

int gc_reader_u64(struct gc_reader *r, uint64_t *v, struct gc_error *err)
{
    uint8_t x[8] = {0};
    int rc = gc_reader_get(r, x, 8, err);
    if (rc < 0)
        return rc;
    *v = le64(x);
    return 0;
}

int gc_reader_f32s(struct gc_reader *r, float *x, size_t n, struct gc_error *err)
{
    if (n > (r->len - r->off) / 4)
        return gc_error_set(err, GC_ECORRUPT,
                            "truncated: %zu floats wanted at offset %zu, %zu bytes left", n, r->off,
                            r->len - r->off);
    const uint8_t *s = r->p + r->off;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = le32(s + 4 * i);
        memcpy(&x[i], &u, 4);
    }
    r->off += 4 * n;
    return 0;
}

uint32_t gc_crc32(const uint8_t *p, size_t n)
{
    /* zlib takes uInt lengths: feed large buffers in pieces */
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt part = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, part);
        p += part;
        n -= part;
    }
    return (uint32_t)c;
}

int gc_frame_seal(uint32_t magic, uint32_t version, const uint8_t *payload, size_t len,
                  uint8_t **out, size_t *out_len, struct gc_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (len > SIZE_MAX - FRAME_HEAD - FRAME_TAIL)
        return gc_error_set(err, GC_ETOOBIG, "frame: payload of %zu bytes is too large", len);
    struct gc_buf b;
    gc_buf_init(&b);
    if (buf_reserve(&b, FRAME_HEAD + len + FRAME_TAIL) < 0)
        return gc_error_set(err, GC_ENOMEM, "frame: out of memory for %zu bytes",
                            FRAME_HEAD + len + FRAME_TAIL);
    gc_frame_start(&b);
    gc_buf_put(&b, payload, len);
    return gc_frame_finish(&b, magic, version, out, out_len, err);
}

void gc_frame_start(struct gc_buf *b)
{
    static const uint8_t head[FRAME_HEAD];
    gc_buf_put(b, head, FRAME_HEAD);
}

int gc_frame_finish(struct gc_buf *b, uint32_t magic, uint32_t version, uint8_t **out,
                    size_t *out_len, struct gc_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!b->oom)
        buf_reserve(b, FRAME_TAIL);
    if (b->oom || b->len < FRAME_HEAD) {
        gc_buf_fini(b);
        return gc_error_set(err, GC_ENOMEM, "frame: out of memory");
    }
    uint64_t len = b->len - FRAME_HEAD;
    for (int i = 0; i < 4; i++) {
        b->data[i] = (uint8_t)(magic >> (8 * i));
        b->data[4 + i] = (uint8_t)(version >> (8 * i));
    }
    for (int i = 0; i < 8; i++)
        b->data[8 + i] = (uint8_t)(len >> (8 * i));
    gc_buf_put_u32(b, gc_crc32(b->data, b->len));
    *out = b->data;
    *out_len = b->len;
    gc_buf_init(b);
    return 0;
}

int gc_frame_open(const char *what, uint32_t magic, uint32_t version, const uint8_t *bytes,
                  size_t len, const uint8_t **payload, size_t *payload_len, struct gc_error *err)
{
    *payload = NULL;
    *payload_len = 0;
    if (len < 4)
        return gc_error_set(err, GC_ECORRUPT, "%s: truncated (%zu bytes, not even a magic number)",
                            what, len);
    uint32_t got_magic = le32(bytes);
    if (got_magic != magic)
        return gc_error_set(err, GC_ECORRUPT, "%s: bad magic (0x%08x, expected 0x%08x)", what,
                            got_magic, magic);
    if (len < FRAME_HEAD)
        return gc_error_set(err, GC_ECORRUPT, "%s: truncated (%zu bytes, header needs %d)", what,
                            len, FRAME_HEAD);
    uint32_t got_version = le32(bytes + 4);
    if (got_version != version)
        return gc_error_set(err, GC_ECORRUPT, "%s: format version %u, this build reads %u", what,
                            got_version, version);
    uint64_t plen = le64(bytes + 8);
    size_t avail = len - FRAME_HEAD;
    if (avail < FRAME_TAIL || plen > avail - FRAME_TAIL)
        return gc_error_set(err, GC_ECORRUPT,
                            "%s: truncated (%zu bytes, the header announces %llu)", what, len,
                            (unsigned long long)plen + FRAME_HEAD + FRAME_TAIL);
    if (plen != avail - FRAME_TAIL)
        return gc_error_set(err, GC_ECORRUPT, "%s: %llu trailing bytes after the frame", what,
                            (unsigned long long)(avail - FRAME_TAIL - plen));
    size_t body = FRAME_HEAD + (size_t)plen;
    uint32_t want = le32(bytes + body);
    uint32_t crc = gc_crc32(bytes, body);
    if (crc != want)
        return gc_error_set(err, GC_ECORRUPT, "%s: checksum mismatch (0x%08x, stored 0x%08x)", what,
                            crc, want);
    *payload = bytes + FRAME_HEAD;
    *payload_len = (size_t)plen;
    return 0;
}
