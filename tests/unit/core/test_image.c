/* test_image.c — PNG decoding of every colour type and depth, scale + crop, the PNG,
 * grid, scatter and IDX encoders round-tripping through the decoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/image.h"
#include "core/rng.h"
#include "tests/unit/core/png_fixture.h"

/* Decodes the fixture and checks size and channel count. */
static void decode_ok(const uint8_t *png, size_t len, int w, int h, int c, struct gc_picture *p)
{
    struct gc_error err = {0};
    assert_non_null(png);
    int rc = gc_png_decode(png, len, p, &err);
    if (rc)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(p->w, w);
    assert_int_equal(p->h, h);
    assert_int_equal(p->c, c);
}

static void gray_8_and_low_depths(void **state)
{
    (void)state;
    const int w = 7, h = 3;
    uint16_t s[21];
    for (int depth = 1; depth <= 8; depth *= 2) {
        int maxv = (1 << depth) - 1;
        for (int i = 0; i < w * h; i++)
            s[i] = (uint16_t)((i * 5) % (maxv + 1));
        size_t len;
        uint8_t *png = fx_png(w, h, PNG_COLOR_TYPE_GRAY, depth, s, NULL, 0, NULL, &len);
        struct gc_picture p;
        decode_ok(png, len, w, h, 1, &p);
        for (int i = 0; i < w * h; i++)
            assert_int_equal(p.pix[i], s[i] * 255 / maxv); /* low depths scale to 0..255 */
        gc_picture_fini(&p);
        free(png);
    }
}

static void sixteen_bit_scales_to_eight(void **state)
{
    (void)state;
    const int types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                         PNG_COLOR_TYPE_RGB_ALPHA};
    for (int t = 0; t < 4; t++) {
        int c = fx_channels(types[t]);
        const int w = 5, h = 4;
        uint16_t s[5 * 4 * 4];
        for (int i = 0; i < w * h * c; i++)
            s[i] = (uint16_t)(i * 3001 % 65536);
        size_t len;
        uint8_t *png = fx_png(w, h, types[t], 16, s, NULL, 0, NULL, &len);
        struct gc_picture p;
        decode_ok(png, len, w, h, c, &p);
        for (int i = 0; i < w * h * c; i++)
            assert_true(fabs(p.pix[i] - s[i] / 257.0) <= 0.5 + 1e-9);
        gc_picture_fini(&p);
        free(png);
    }
}

static void eight_bit_color_types_exact(void **state)
{
    (void)state;
    const int types[] = {PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    for (int t = 0; t < 3; t++) {
        int c = fx_channels(types[t]);
        const int w = 6, h = 5;
        uint16_t s[6 * 5 * 4];
        for (int i = 0; i < w * h * c; i++)
            s[i] = (uint16_t)(i * 37 % 256);
        size_t len;
        uint8_t *png = fx_png(w, h, types[t], 8, s, NULL, 0, NULL, &len);
        struct gc_picture p;
        decode_ok(png, len, w, h, c, &p);
        for (int i = 0; i < w * h * c; i++)
            assert_int_equal(p.pix[i], s[i]);
        gc_picture_fini(&p);
        free(png);
    }
}

static void palette_with_and_without_alpha(void **state)
{
    (void)state;
    const uint8_t plte[4 * 3] = {10, 20, 30, 200, 100, 0, 0, 0, 255, 255, 255, 255};
    const uint8_t trns[4] = {255, 128, 0, 255};
    const int w = 9, h = 2;
    uint16_t s[18];
    for (int i = 0; i < w * h; i++)
        s[i] = (uint16_t)(i % 4);
    for (int depth = 2; depth <= 8; depth *= 2)
        for (int alpha = 0; alpha < 2; alpha++) {
            size_t len;
            uint8_t *png =
                fx_png(w, h, PNG_COLOR_TYPE_PALETTE, depth, s, plte, 4, alpha ? trns : NULL, &len);
            struct gc_picture p;
            int c = alpha ? 4 : 3;
            decode_ok(png, len, w, h, c, &p);
            for (int i = 0; i < w * h; i++) {
                for (int ch = 0; ch < 3; ch++)
                    assert_int_equal(p.pix[i * c + ch], plte[3 * s[i] + ch]);
                if (alpha)
                    assert_int_equal(p.pix[i * c + 3], trns[s[i]]);
            }
            gc_picture_fini(&p);
            free(png);
        }
}

static void interlaced_png(void **state)
{
    (void)state;
    const int w = 11, h = 9;
    uint16_t s[11 * 9 * 3];
    for (int i = 0; i < w * h * 3; i++)
        s[i] = (uint16_t)(i * 29 % 256);
    size_t len;
    uint8_t *png = fx_png_ex(w, h, PNG_COLOR_TYPE_RGB, 8, s, NULL, 0, NULL, 1, &len);
    struct gc_picture p;
    decode_ok(png, len, w, h, 3, &p);
    for (int i = 0; i < w * h * 3; i++)
        assert_int_equal(p.pix[i], s[i]);
    gc_picture_fini(&p);
    free(png);
}

static void corrupt_and_truncated_png(void **state)
{
    (void)state;
    uint16_t s[64];
    for (int i = 0; i < 64; i++)
        s[i] = (uint16_t)(i * 4);
    size_t len;
    uint8_t *png = fx_png(8, 8, PNG_COLOR_TYPE_GRAY, 8, s, NULL, 0, NULL, &len);
    struct gc_picture p;
    struct gc_error err = {0};
    assert_int_equal(gc_png_decode(png, len / 2, &p, &err), GC_ECORRUPT);
    assert_null(p.pix);
    assert_int_equal(gc_png_decode(png, 5, &p, &err), GC_ECORRUPT);
    uint8_t junk[100];
    memset(junk, 0xab, sizeof(junk));
    assert_int_equal(gc_png_decode(junk, sizeof(junk), &p, &err), GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "PNG"));
    /* a flipped byte in the image data fails its CRC */
    png[len - 20] ^= 0x55;
    int rc = gc_png_decode(png, len, &p, &err);
    assert_int_equal(rc, GC_ECORRUPT);
    free(png);
}

static struct gc_picture make_rgb(int w, int h, int c)
{
    struct gc_picture p = {w, h, c, calloc((size_t)w * h * c, 1)};
    return p;
}

static void fit_downscale_crops_center(void **state)
{
    (void)state;
    /* 40 wide, 20 high gray ramp value = x: the shorter side 20 -> 10, so the scaled
     * width is 20 and the crop keeps scaled columns 5..14, each the mean of source
     * columns 2X and 2X+1 */
    struct gc_picture p = make_rgb(40, 20, 1);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 40; x++)
            p.pix[y * 40 + x] = (uint8_t)(x * 5);
    uint8_t out[10 * 10];
    struct gc_error err = {0};
    assert_int_equal(gc_picture_fit(&p, 10, 1, out, &err), 0);
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 10; x++) {
            double want = 5.0 * (2 * (x + 5) + 0.5);
            assert_true(fabs(out[y * 10 + x] - want) <= 0.51);
        }
    gc_picture_fini(&p);

    /* tall image: crop in y */
    p = make_rgb(12, 36, 3);
    for (int y = 0; y < 36; y++)
        for (int x = 0; x < 12; x++)
            p.pix[(y * 12 + x) * 3] = (uint8_t)(y < 12 ? 0 : y < 24 ? 100 : 200);
    uint8_t o3[3 * 4 * 4];
    assert_int_equal(gc_picture_fit(&p, 4, 3, o3, &err), 0);
    /* scaled 4 x 12, crop rows 4..7 of 12 = source rows 12..23: the middle band */
    for (int i = 0; i < 16; i++) {
        assert_int_equal(o3[i], 100);
        assert_int_equal(o3[16 + i], 0);
    }
    gc_picture_fini(&p);
}

static void fit_upscale_bilinear(void **state)
{
    (void)state;
    struct gc_picture p = make_rgb(4, 4, 1);
    for (int i = 0; i < 16; i++)
        p.pix[i] = (uint8_t)((i % 4) * 60);
    uint8_t out[16 * 16];
    struct gc_error err = {0};
    assert_int_equal(gc_picture_fit(&p, 16, 1, out, &err), 0);
    for (int y = 0; y < 16; y++) {
        assert_int_equal(out[y * 16], 0);
        assert_int_equal(out[y * 16 + 15], 180);
        for (int x = 1; x < 16; x++)
            assert_true(out[y * 16 + x] >= out[y * 16 + x - 1]); /* monotone ramp */
    }
    /* every row identical: the source does not vary in y */
    for (int y = 1; y < 16; y++)
        assert_memory_equal(out, out + y * 16, 16);
    gc_picture_fini(&p);
}

static void fit_converts_channels_and_alpha(void **state)
{
    (void)state;
    struct gc_picture p = make_rgb(2, 2, 4);
    for (int i = 0; i < 4; i++) {
        p.pix[4 * i] = 200;
        p.pix[4 * i + 1] = 100;
        p.pix[4 * i + 2] = 50;
        p.pix[4 * i + 3] = 255;
    }
    p.pix[3] = 0; /* one transparent pixel */
    uint8_t g[4], rgb[12];
    struct gc_error err = {0};
    assert_int_equal(gc_picture_fit(&p, 2, 1, g, &err), 0);
    int luma = (int)lround(0.299 * 200 + 0.587 * 100 + 0.114 * 50);
    assert_int_equal(g[0], 0);
    assert_int_equal(g[1], luma);
    assert_int_equal(gc_picture_fit(&p, 2, 3, rgb, &err), 0);
    assert_int_equal(rgb[1], 200);
    assert_int_equal(rgb[4 + 1], 100);
    assert_int_equal(rgb[8 + 1], 50);
    assert_int_equal(rgb[0], 0);
    assert_int_equal(gc_picture_fit(&p, 2, 2, rgb, &err), GC_EINVAL);
    gc_picture_fini(&p);
    /* gray to 3 channels replicates */
    p = make_rgb(3, 3, 1);
    memset(p.pix, 77, 9);
    uint8_t o[27];
    assert_int_equal(gc_picture_fit(&p, 3, 3, o, &err), 0);
    for (int i = 0; i < 27; i++)
        assert_int_equal(o[i], 77);
    gc_picture_fini(&p);
}

static void png_encode_round_trip(void **state)
{
    (void)state;
    struct gc_rng r;
    gc_rng_init(&r, 3, 0);
    for (int c = 1; c <= 4; c++) {
        int w = 13, h = 7;
        uint8_t pix[13 * 7 * 4];
        for (int i = 0; i < w * h * c; i++)
            pix[i] = (uint8_t)gc_rng_below(&r, 256);
        uint8_t *png;
        size_t len;
        struct gc_error err = {0};
        assert_int_equal(gc_png_encode(pix, w, h, c, &png, &len, &err), 0);
        struct gc_picture p;
        decode_ok(png, len, w, h, c, &p);
        assert_memory_equal(p.pix, pix, (size_t)w * h * c);
        gc_picture_fini(&p);
        free(png);
    }
    uint8_t *png;
    size_t len;
    uint8_t one = 0;
    struct gc_error err = {0};
    assert_int_equal(gc_png_encode(&one, 1, 1, 5, &png, &len, &err), GC_EINVAL);
}

static void to_u8_mapping(void **state)
{
    (void)state;
    float x[6] = {-1.0f, 1.0f, 0.0f, -7.0f, 3.0f, NAN};
    uint8_t o[6];
    gc_image_to_u8(x, 6, o);
    assert_int_equal(o[0], 0);
    assert_int_equal(o[1], 255);
    assert_int_equal(o[2], 128);
    assert_int_equal(o[3], 0);
    assert_int_equal(o[4], 255);
    assert_int_equal(o[5], 0);
    /* every byte survives byte -> [-1,1] -> byte */
    for (int v = 0; v < 256; v++) {
        float f = v / 127.5f - 1.0f;
        uint8_t b;
        gc_image_to_u8(&f, 1, &b);
        assert_int_equal(b, v);
    }
}

static void grid_layout(void **state)
{
    (void)state;
    const int n = 5, c = 3, h = 4, w = 6;
    float x[5 * 3 * 4 * 6];
    for (int i = 0; i < n * c * h * w; i++)
        x[i] = (float)((i % 17) / 8.0 - 1.0);
    uint8_t *png;
    size_t len;
    struct gc_error err = {0};
    assert_int_equal(gc_image_grid_png(x, n, c, h, w, 0, &png, &len, &err), 0);
    /* ceil(sqrt(5)) = 3 columns, 2 rows, 2-pixel gaps */
    int W = 3 * (w + 2) + 2, H = 2 * (h + 2) + 2;
    struct gc_picture p;
    decode_ok(png, len, W, H, 3, &p);
    uint8_t want[3 * 4 * 6];
    for (int i = 0; i < n; i++) {
        gc_image_to_u8(x + i * c * h * w, (size_t)c * h * w, want);
        int x0 = 2 + (i % 3) * (w + 2), y0 = 2 + (i / 3) * (h + 2);
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                    assert_int_equal(p.pix[((y0 + y) * W + x0 + xx) * 3 + ch],
                                     want[(ch * h + y) * w + xx]);
    }
    assert_int_equal(p.pix[0], 64);                   /* gap */
    assert_int_equal(p.pix[(H - 1) * W * 3 - 3], 64); /* the empty sixth cell */
    gc_picture_fini(&p);
    free(png);
    /* one channel gives a gray PNG */
    assert_int_equal(gc_image_grid_png(x, 2, 1, h, w, 2, &png, &len, &err), 0);
    decode_ok(png, len, 2 * (w + 2) + 2, h + 4, 1, &p);
    gc_picture_fini(&p);
    free(png);
    assert_int_equal(gc_image_grid_png(x, 2, 2, h, w, 2, &png, &len, &err), GC_EINVAL);
}

static void scatter_draws_modes_and_points(void **state)
{
    (void)state;
    const float centers[4] = {1, 0, -1, 0};
    const float pts[2] = {0.0f, 1.0f};
    float range = gc_scatter_range(centers, 2);
    assert_true(range == 1.5f);
    uint8_t *png;
    size_t len;
    struct gc_error err = {0};
    assert_int_equal(gc_scatter_png(pts, 1, centers, 2, 0.05f, range, 512, &png, &len, &err), 0);
    struct gc_picture p;
    decode_ok(png, len, 512, 512, 3, &p);
    double scale = 511 / 3.0;
    /* the point (0, 1) is a blue dot */
    long px = lround(1.5 * scale), py = lround(0.5 * scale);
    const uint8_t *d = p.pix + (py * 512 + px) * 3;
    assert_true(d[2] > 150 && d[0] < 100);
    /* the ring of mode (1, 0) at radius 3 sigma is red on its right edge */
    double r = 3 * 0.05 * scale;
    long rx = lround((1 + 1.5) * scale + r), ry = lround(1.5 * scale);
    const uint8_t *q = p.pix + (ry * 512 + rx) * 3;
    assert_true(q[0] > 150 && q[1] < 100 && q[2] < 100);
    /* inside the ring stays background (one row up: the x axis runs through it) */
    const uint8_t *cc = p.pix + ((ry - 3) * 512 + lround(2.5 * scale)) * 3;
    assert_int_equal(cc[1], 255);
    gc_picture_fini(&p);
    free(png);
    const float grid_c[2] = {4, -4};
    assert_true(gc_scatter_range(grid_c, 1) == 6.0f);
}

static void idx_round_trip(void **state)
{
    (void)state;
    /* planar (n, c, h, w) in, IDX out; c = 3 is stored interleaved n x h x w x c */
    const int n = 2, c = 3, h = 2, w = 3;
    uint8_t pix[2 * 3 * 2 * 3];
    for (int i = 0; i < n * c * h * w; i++)
        pix[i] = (uint8_t)i;
    uint8_t *b;
    size_t len;
    struct gc_error err = {0};
    assert_int_equal(gc_idx_encode(pix, n, c, h, w, &b, &len, &err), 0);
    assert_int_equal(len, 4 + 16 + (size_t)n * c * h * w);
    assert_int_equal(b[2], 0x08);
    assert_int_equal(b[3], 4);
    int nd;
    uint32_t dims[4];
    const uint8_t *data;
    assert_int_equal(gc_idx_decode(b, len, &nd, dims, &data, &err), 0);
    assert_int_equal(nd, 4);
    assert_int_equal(dims[0], 2);
    assert_int_equal(dims[1], 2);
    assert_int_equal(dims[2], 3);
    assert_int_equal(dims[3], 3);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                    assert_int_equal(data[((i * h + y) * w + x) * c + ch],
                                     pix[((i * c + ch) * h + y) * w + x]);
    free(b);
    assert_int_equal(gc_idx_encode(pix, 3, 1, 2, 3, &b, &len, &err), 0);
    assert_int_equal(b[3], 3);
    assert_int_equal(gc_idx_decode(b, len, &nd, dims, &data, &err), 0);
    assert_int_equal(nd, 3);
    assert_memory_equal(data, pix, 18);
    free(b);
}

static void idx_decode_errors(void **state)
{
    (void)state;
    uint8_t pix[12] = {0};
    uint8_t *b;
    size_t len;
    struct gc_error err = {0};
    int nd;
    uint32_t dims[4];
    const uint8_t *data;
    assert_int_equal(gc_idx_encode(pix, 1, 1, 3, 4, &b, &len, &err), 0);
    assert_int_equal(gc_idx_decode(b, len - 1, &nd, dims, &data, &err), GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "header says"));
    assert_int_equal(gc_idx_decode(b, 10, &nd, dims, &data, &err), GC_ECORRUPT);
    assert_int_equal(gc_idx_decode(b, 2, &nd, dims, &data, &err), GC_ECORRUPT);
    uint8_t *longer = calloc(len + 1, 1);
    memcpy(longer, b, len);
    assert_int_equal(gc_idx_decode(longer, len + 1, &nd, dims, &data, &err), GC_ECORRUPT);
    free(longer);
    b[2] = 0x0d; /* float data is not images of bytes */
    assert_int_equal(gc_idx_decode(b, len, &nd, dims, &data, &err), GC_ECORRUPT);
    assert_non_null(strstr(err.msg, "magic"));
    b[2] = 0x08;
    b[11] = 0; /* height 0 */
    assert_int_equal(gc_idx_decode(b, len, &nd, dims, &data, &err), GC_ECORRUPT);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gray_8_and_low_depths),
        cmocka_unit_test(sixteen_bit_scales_to_eight),
        cmocka_unit_test(eight_bit_color_types_exact),
        cmocka_unit_test(palette_with_and_without_alpha),
        cmocka_unit_test(interlaced_png),
        cmocka_unit_test(corrupt_and_truncated_png),
        cmocka_unit_test(fit_downscale_crops_center),
        cmocka_unit_test(fit_upscale_bilinear),
        cmocka_unit_test(fit_converts_channels_and_alpha),
        cmocka_unit_test(png_encode_round_trip),
        cmocka_unit_test(to_u8_mapping),
        cmocka_unit_test(grid_layout),
        cmocka_unit_test(scatter_draws_modes_and_points),
        cmocka_unit_test(idx_round_trip),
        cmocka_unit_test(idx_decode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
