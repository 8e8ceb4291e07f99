/* test_serial.c — byte buffers, readers, CRC-32 and frames: round trips are bit-exact,
 * and every kind of damage is caught and named. (The model's checkpoint round trip is
 * in test_model.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/serial.h"

static void buf_round_trip(void **s)
{
    (void)s;
    struct gc_buf b;
    gc_buf_init(&b);
    float f[4] = {1.5f, -0.0f, NAN, 1e-42f};
    gc_buf_put_u32(&b, 0xdeadbeefu);
    gc_buf_put_u64(&b, 0x0123456789abcdefULL);
    gc_buf_put_f32s(&b, f, 4);
    for (int i = 0; i < 1000; i++) /* forces growth */
        gc_buf_put(&b, "xyz", 3);
    assert_false(b.oom);
    assert_int_equal(b.len, 4 + 8 + 16 + 3000);
    /* little-endian on the wire */
    assert_int_equal(b.data[0], 0xef);
    assert_int_equal(b.data[3], 0xde);
    assert_int_equal(b.data[4], 0xef);
    assert_int_equal(b.data[11], 0x01);

    struct gc_reader r;
    struct gc_error err = {0};
    gc_reader_init(&r, b.data, b.len);
    uint32_t u;
    uint64_t v;
    float g[4];
    assert_int_equal(gc_reader_u32(&r, &u, &err), 0);
    assert_int_equal(gc_reader_u64(&r, &v, &err), 0);
    assert_int_equal(gc_reader_f32s(&r, g, 4, &err), 0);
    assert_int_equal(u, 0xdeadbeefu);
    assert_true(v == 0x0123456789abcdefULL);
    assert_memory_equal(f, g, sizeof f); /* bit-exact, NaN and -0 included */
    char x[3];
    for (int i = 0; i < 1000; i++)
        assert_int_equal(gc_reader_get(&r, x, 3, &err), 0);
    assert_int_equal(r.off, r.len);
    /* a short read fails and says so */
    assert_int_equal(gc_reader_u32(&r, &u, &err), GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "truncated"));
    gc_buf_fini(&b);
    gc_buf_fini(&b); /* fini twice is harmless */
}

static void reader_short_floats(void **s)
{
    (void)s;
    uint8_t bytes[7] = {0};
    struct gc_reader r;
    struct gc_error err = {0};
    float f[2];
    gc_reader_init(&r, bytes, sizeof bytes);
    assert_int_equal(gc_reader_f32s(&r, f, 2, &err), GC_ECORRUPT);
    assert_int_equal(r.off, 0);
    assert_int_equal(gc_reader_f32s(&r, f, 1, &err), 0);
    assert_int_equal(r.off, 4);
}

static void crc32_known(void **s)
{
    (void)s;
    /* the standard check value of CRC-32 (IEEE) */
    assert_int_equal(gc_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
    assert_int_equal(gc_crc32((const uint8_t *)"", 0), 0);
}

#define MAGIC 0x54534554u /* "TEST" */

static void frame(uint8_t **out, size_t *len)
{
    uint8_t payload[100];
    for (int i = 0; i < 100; i++)
        payload[i] = (uint8_t)(i * 7);
    struct gc_error err = {0};
    assert_int_equal(gc_frame_seal(MAGIC, 1, payload, sizeof payload, out, len, &err), 0);
    assert_int_equal(*len, 16 + 100 + 4);
}

static void frame_round_trip(void **s)
{
    (void)s;
    uint8_t *f;
    size_t len;
    frame(&f, &len);
    const uint8_t *p;
    size_t plen;
    struct gc_error err = {0};
    assert_int_equal(gc_frame_open("checkpoint", MAGIC, 1, f, len, &p, &plen, &err), 0);
    assert_int_equal(plen, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], (uint8_t)(i * 7));
    free(f);
}

static void expect_fail(const uint8_t *f, size_t len, uint32_t version, const char *msg)
{
    const uint8_t *p = (const uint8_t *)"x";
    size_t plen = 1;
    struct gc_error err = {0};
    assert_int_equal(gc_frame_open("checkpoint", MAGIC, version, f, len, &p, &plen, &err),
                     GC_ECORRUPT);
    assert_int_equal(err.code, GC_ECORRUPT);
    if (!strstr(err.msg, msg))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
    assert_null(p);
}

static void frame_damage_named(void **s)
{
    (void)s;
    uint8_t *f;
    size_t len;
    frame(&f, &len);
    /* every single flipped byte in the payload or checksum is caught */
    for (size_t i = 16; i < len; i++) {
        f[i] ^= 0x10;
        expect_fail(f, len, 1, "checkpoint: checksum mismatch");
        f[i] ^= 0x10;
    }
    f[0] ^= 1;
    expect_fail(f, len, 1, "checkpoint: bad magic");
    f[0] ^= 1;
    expect_fail(f, len, 3, "checkpoint: format version 1, this build reads 3");
    for (size_t cut = 0; cut < len; cut += 7)
        expect_fail(f, cut, 1, cut < 4 ? "checkpoint: truncated" : "checkpoint: truncated");
    expect_fail(f, len - 1, 1, "checkpoint: truncated (");
    /* a length field that lies */
    f[8] = 0xff;
    expect_fail(f, len, 1, "checkpoint: truncated");
    f[8] = 50;
    expect_fail(f, len, 1, "trailing bytes");
    free(f);
}

static void frame_empty_payload(void **s)
{
    (void)s;
    uint8_t *f;
    size_t len;
    struct gc_error err = {0};
    assert_int_equal(gc_frame_seal(MAGIC, 2, NULL, 0, &f, &len, &err), 0);
    const uint8_t *p;
    size_t plen = 9;
    assert_int_equal(gc_frame_open("x", MAGIC, 2, f, len, &p, &plen, &err), 0);
    assert_int_equal(plen, 0);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_round_trip),     cmocka_unit_test(reader_short_floats),
        cmocka_unit_test(crc32_known),        cmocka_unit_test(frame_round_trip),
        cmocka_unit_test(frame_damage_named), cmocka_unit_test(frame_empty_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
