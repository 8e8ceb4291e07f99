/* test_unet.c — the concat (skip) layer and the image-to-image networks: gradients of
 * a net with two skips (from a batch norm and from an activation) and of U-Nets of
 * both shapes (halving to 2x2, and stopped at an odd side with the 3x3 centre blocks)
 * against central finite differences, in train and eval mode and from a layer below a
 * skip; the PatchGAN's map; builder errors; a checkpoint of a model with skips; and
 * the U-Net's output, input gradient and parameter gradients against PyTorch
 * (tests/fixtures/unet_torch.bin, made by tests/fixtures/unet_torch.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/rng.h"
#include "core/unet.h"
#include "tests/unit/core/fd_check.h"

#define OK(x) assert_int_equal((x), 0)
/* the share of one-sided agreements allowed: a step in one weight moves every unit of
 * its channel in every sample, and with hundreds of relu units some sit within the step
 * of their kink; the PyTorch comparison below is the exact check */
#define KINKS 0.12

/* 2x8x8: conv 4 (4x4) [0] -> BN [1] -> leaky [2] -> conv 8 (2x2) [3] -> relu [4] ->
 * convT 4 (4x4) [5] -> BN [6] -> concat [1] [7] -> concat [2] [8] (12x4x4) -> relu [9]
 * -> convT 2 (8x8) [10] -> tanh [11] */
static struct gc_model *skipnet(int b, uint64_t seed)
{
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(b, 2, 8, 8, &err);
    assert_non_null(m);
    OK(gc_model_add_conv2d(m, 4, 4, 2, 1, 1, &err));
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err));
    OK(gc_model_add_leaky_relu(m, 0.2f, &err));
    OK(gc_model_add_conv2d(m, 8, 4, 2, 1, 1, &err));
    OK(gc_model_add_relu(m, &err));
    OK(gc_model_add_convt2d(m, 4, 4, 2, 1, 1, &err));
    OK(gc_model_add_batchnorm(m, 1e-5f, 0.1f, &err));
    OK(gc_model_add_concat(m, 1, &err));
    OK(gc_model_add_concat(m, 2, &err));
    OK(gc_model_add_relu(m, &err));
    OK(gc_model_add_convt2d(m, 2, 4, 2, 1, 1, &err));
    OK(gc_model_add_tanh(m, &err));
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    OK(gc_model_finalize(m, GC_INIT_DEFAULT, &rng, &err));
    int c, h, w;
    gc_model_layer_output(m, 8, &c, &h, &w);
    assert_true(c == 12 && h == 4 && w == 4);
    return m;
}

/* Weights of a size that keeps activations of order 1 (the DCGAN init's 0.02 without
 * batch norm shrinks them towards every relu's kink), generic BN parameters, and
 * running statistics away from (0, 1). */
static void shake(struct gc_model *m, uint64_t seed)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 9);
    for (int i = 0; i < gc_model_nlayers(m); i++) {
        enum gc_layer_kind k = gc_model_layer_kind(m, i);
        if (k == GC_LAYER_CONV2D || k == GC_LAYER_CONVT2D) {
            size_t n;
            int oc;
            float *w = gc_model_layer_weight(m, i, &n);
            gc_model_layer_output(m, i, &oc, NULL, NULL);
            float b = (float)sqrt(3.0 * oc / (double)n);
            gc_rng_fill_uniform(&r, w, n, -b, b);
        }
        if (k != GC_LAYER_BATCHNORM)
            continue;
        size_t n;
        float *g = gc_model_layer_weight(m, i, &n);
        gc_rng_fill_uniform(&r, g, n, 0.5f, 1.5f);
        float *b = gc_model_layer_bias(m, i, &n);
        gc_rng_fill_uniform(&r, b, n, -0.5f, 0.5f);
    }
    size_t in = gc_model_in_size(m);
    int nb = gc_model_max_batch(m);
    float *x = malloc((size_t)nb * in * sizeof *x);
    for (int k = 0; k < 4; k++) {
        gc_rng_fill_normal(&r, x, (size_t)nb * in, 0.3f, 1.5f);
        gc_model_forward(m, x, nb, 1);
    }
    free(x);
}

static void concat_gradients(void **s)
{
    (void)s;
    struct gc_model *m = skipnet(4, 1);
    shake(m, 1);
    fd_check_kinks(m, 3, gc_model_nlayers(m) - 1, 1, 21, KINKS);
    fd_check_kinks(m, 2, gc_model_nlayers(m) - 1, 0, 22, KINKS);
    /* from the second concat: its own skip and the first one's both reach down */
    fd_check_kinks(m, 3, 8, 1, 23, KINKS);
    /* from below the concats: their kept gradients of the last backward must not leak in */
    fd_check_kinks(m, 3, 5, 1, 24, KINKS);
    gc_model_destroy(m);
}

static void concat_copies_both_inputs(void **s)
{
    (void)s;
    struct gc_model *m = skipnet(2, 2);
    float x[2 * 128];
    struct gc_rng r;
    gc_rng_init(&r, 5, 0);
    gc_rng_fill_normal(&r, x, 256, 0, 1);
    gc_model_forward(m, x, 2, 1);
    const float *bn1 = gc_model_layer_output(m, 1, NULL, NULL, NULL);
    const float *lr2 = gc_model_layer_output(m, 2, NULL, NULL, NULL);
    const float *bn6 = gc_model_layer_output(m, 6, NULL, NULL, NULL);
    const float *cat = gc_model_layer_output(m, 8, NULL, NULL, NULL);
    for (int k = 0; k < 2; k++) {
        const float *ck = cat + (size_t)k * 192;
        assert_memory_equal(ck, bn6 + k * 64, 64 * sizeof(float));
        assert_memory_equal(ck + 64, bn1 + k * 64, 64 * sizeof(float));
        assert_memory_equal(ck + 128, lr2 + k * 64, 64 * sizeof(float));
    }
    gc_model_destroy(m);
}

static struct gc_model *unet(int b, int cin, int cout, int side, int width, int bn, uint64_t seed)
{
    struct gc_error err = {0};
    struct gc_rng rng;
    gc_rng_init(&rng, seed, 0);
    struct gc_model *m = gc_unet_create(b, cin, cout, side, width, bn, &rng, &err);
    if (!m)
        fail_msg("unet: %s", err.msg);
    return m;
}

static void unet_shapes(void **s)
{
    (void)s;
    assert_int_equal(gc_unet_depth(28), 2);
    assert_int_equal(gc_unet_depth(32), 4);
    assert_int_equal(gc_unet_depth(64), 5);
    assert_int_equal(gc_unet_depth(256), 7);
    assert_int_equal(gc_unet_depth(8), 2);
    assert_int_equal(gc_unet_depth(9), 0);
    int kinds[GC_LAYER_CONCAT + 1] = {0};
    struct gc_model *m = unet(2, 4, 3, 32, 4, 1, 1);
    for (int i = 0; i < gc_model_nlayers(m); i++)
        kinds[gc_model_layer_kind(m, i)]++;
    assert_int_equal(kinds[GC_LAYER_CONV2D], 4);
    assert_int_equal(kinds[GC_LAYER_CONVT2D], 4);
    assert_int_equal(kinds[GC_LAYER_CONCAT], 3);
    int c, h, w;
    gc_model_out_shape(m, &c, &h, &w);
    assert_true(c == 3 && h == 32 && w == 32);
    gc_model_destroy(m);
    /* 28 stops at 7x7 and adds the two 3x3 centre blocks */
    memset(kinds, 0, sizeof kinds);
    m = unet(2, 1, 1, 28, 4, 1, 1);
    for (int i = 0; i < gc_model_nlayers(m); i++)
        kinds[gc_model_layer_kind(m, i)]++;
    assert_int_equal(kinds[GC_LAYER_CONV2D], 4);
    assert_int_equal(kinds[GC_LAYER_CONCAT], 1);
    gc_model_out_shape(m, &c, &h, &w);
    assert_true(c == 1 && h == 28 && w == 28);
    gc_model_destroy(m);

    struct gc_error err = {0};
    struct gc_rng rng;
    gc_rng_init(&rng, 1, 0);
    assert_null(gc_unet_create(2, 1, 1, 9, 4, 1, &rng, &err));
    assert_int_equal(err.code, GC_EINVAL);
    assert_non_null(strstr(err.msg, "even"));
    /* the PatchGAN: one logit per patch, (S/4)^2 of them, (S/8)^2 from 128 on */
    m = gc_patchgan_create(2, 1, 3, 32, 4, 1, &rng, &err);
    assert_non_null(m);
    assert_int_equal(gc_model_in_size(m), 4 * 32 * 32);
    gc_model_out_shape(m, &c, &h, &w);
    assert_true(c == 1 && h == 8 && w == 8);
    gc_model_destroy(m);
    /* the largest png-dir side: seven halvings to 2x2, and a forward that runs */
    m = unet(1, 3, 3, 256, 2, 1, 1);
    float *x = calloc(3 * 256 * 256, sizeof *x);
    assert_non_null(x);
    const float *y = gc_model_forward(m, x, 1, 1);
    assert_true(isfinite(y[0]) && isfinite(y[3 * 256 * 256 - 1]));
    free(x);
    gc_model_destroy(m);
    m = gc_patchgan_create(1, 3, 3, 128, 2, 1, &rng, &err);
    assert_non_null(m);
    gc_model_out_shape(m, &c, &h, &w);
    assert_true(c == 1 && h == 16 && w == 16);
    gc_model_destroy(m);
}

static void unet_gradients(void **s)
{
    (void)s;
    /* halving to 2x2 with two skips */
    struct gc_model *m = unet(3, 2, 2, 8, 2, 1, 3);
    shake(m, 3);
    fd_check_kinks(m, 3, gc_model_nlayers(m) - 1, 1, 31, KINKS);
    fd_check_kinks(m, 2, gc_model_nlayers(m) - 1, 0, 32, KINKS);
    gc_model_destroy(m);
    /* stopped at 5x5, with the centre blocks; without batch norm (biases instead) */
    m = unet(1, 1, 1, 20, 2, 0, 4);
    shake(m, 4);
    fd_check_kinks(m, 1, gc_model_nlayers(m) - 1, 1, 33, KINKS);
    gc_model_destroy(m);
    /* the PatchGAN on a pair */
    struct gc_error err = {0};
    struct gc_rng rng;
    gc_rng_init(&rng, 5, 0);
    m = gc_patchgan_create(3, 1, 1, 8, 2, 1, &rng, &err);
    assert_non_null(m);
    shake(m, 5);
    fd_check_kinks(m, 3, gc_model_nlayers(m) - 1, 1, 34, KINKS);
    gc_model_destroy(m);
}

static void concat_errors(void **s)
{
    (void)s;
    struct gc_error err = {0};
    struct gc_model *m = gc_model_create(2, 1, 8, 8, &err);
    assert_non_null(m);
    assert_int_equal(gc_model_add_concat(m, 0, &err), GC_EINVAL); /* no layer yet */
    OK(gc_model_add_conv2d(m, 2, 4, 2, 1, 1, &err));
    OK(gc_model_add_conv2d(m, 2, 4, 2, 1, 1, &err));
    assert_int_equal(gc_model_add_concat(m, 0, &err), GC_EINVAL); /* 4x4 against 2x2 */
    assert_non_null(strstr(err.msg, "4x4"));
    assert_int_equal(gc_model_add_concat(m, 2, &err), GC_EINVAL); /* not below */
    assert_int_equal(gc_model_add_concat(m, -1, &err), GC_EINVAL);
    OK(gc_model_add_concat(m, 1, &err));
    assert_int_equal(gc_model_nlayers(m), 3);
    assert_string_equal(gc_model_kind_name(GC_LAYER_CONCAT), "concat");
    gc_model_destroy(m);
}

/* A checkpoint keeps which layer each skip takes: a model with the same shapes but
 * another source is another architecture. */
static void checkpoint_knows_the_skips(void **s)
{
    (void)s;
    struct gc_error err = {0};
    struct gc_model *a = skipnet(2, 6), *b = skipnet(2, 7);
    uint8_t *bytes;
    size_t len;
    OK(gc_model_serialize(a, &bytes, &len, &err));
    OK(gc_model_deserialize(b, bytes, len, &err));
    size_t na, nb;
    const float *pa = gc_model_params(a, &na), *pb = gc_model_params(b, &nb);
    assert_memory_equal(pa, pb, na * sizeof(float));
    /* the same layers with the skips swapped: the shapes differ at the first one */
    struct gc_model *c = gc_model_create(2, 2, 8, 8, &err);
    OK(gc_model_add_conv2d(c, 4, 4, 2, 1, 1, &err));
    OK(gc_model_add_batchnorm(c, 1e-5f, 0.1f, &err));
    OK(gc_model_add_leaky_relu(c, 0.2f, &err));
    OK(gc_model_add_conv2d(c, 8, 4, 2, 1, 1, &err));
    OK(gc_model_add_relu(c, &err));
    OK(gc_model_add_convt2d(c, 4, 4, 2, 1, 1, &err));
    OK(gc_model_add_batchnorm(c, 1e-5f, 0.1f, &err));
    OK(gc_model_add_concat(c, 2, &err));
    OK(gc_model_add_concat(c, 1, &err));
    OK(gc_model_add_relu(c, &err));
    OK(gc_model_add_convt2d(c, 2, 4, 2, 1, 1, &err));
    OK(gc_model_add_tanh(c, &err));
    struct gc_rng rng;
    gc_rng_init(&rng, 1, 0);
    OK(gc_model_finalize(c, GC_INIT_DEFAULT, &rng, &err));
    assert_int_equal(gc_model_deserialize(c, bytes, len, &err), GC_EINVAL);
    assert_non_null(strstr(err.msg, "layer 7"));
    free(bytes);
    gc_model_destroy(a);
    gc_model_destroy(b);
    gc_model_destroy(c);
}

/* ---- against PyTorch ---------------------------------------------------------------- */

#define FIXTURE_MAGIC 0x54554347u /* "GCUT" */
#define FIXTURE_VERSION 1u

static uint32_t rd_u32(FILE *f)
{
    uint8_t b[4];
    assert_int_equal(fread(b, 1, 4, f), 4);
    return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static float *rd_f32s(FILE *f, size_t *n)
{
    *n = rd_u32(f);
    float *v = malloc(*n * sizeof *v + 1);
    assert_non_null(v);
    assert_int_equal(fread(v, sizeof *v, *n, f), *n); /* little-endian, as the machine */
    return v;
}

/* Relative agreement of two vectors against the larger's scale. */
static void close_to(const float *got, const float *want, size_t n, double tol, const char *what)
{
    double scale = 1e-12;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol * scale))
            fail_msg("%s[%zu]: %.7g, PyTorch %.7g (scale %g)", what, i, got[i], want[i], scale);
}

static void unet_matches_pytorch(void **s)
{
    (void)s;
    FILE *f = fopen("tests/fixtures/unet_torch.bin", "rb"); /* tests run at the top */
    assert_non_null(f);
    assert_int_equal(rd_u32(f), FIXTURE_MAGIC);
    assert_int_equal(rd_u32(f), FIXTURE_VERSION);
    int ncase = (int)rd_u32(f);
    assert_true(ncase >= 2);
    for (int k = 0; k < ncase; k++) {
        int n = (int)rd_u32(f), cin = (int)rd_u32(f), cout = (int)rd_u32(f);
        int side = (int)rd_u32(f), width = (int)rd_u32(f);
        size_t np, nx, ny, nr, ndx, ng, nm;
        float *p = rd_f32s(f, &np), *x = rd_f32s(f, &nx), *y = rd_f32s(f, &ny);
        float *r = rd_f32s(f, &nr), *dx = rd_f32s(f, &ndx), *g = rd_f32s(f, &ng);
        float *ye = rd_f32s(f, &nm); /* eval mode after the train forward */
        struct gc_model *m = unet(n, cin, cout, side, width, 1, 1);
        size_t mp;
        float *params = gc_model_params(m, &mp);
        assert_int_equal(mp, np);
        assert_int_equal(nx, (size_t)n * gc_model_in_size(m));
        assert_int_equal(ny, (size_t)n * gc_model_out_size(m));
        memcpy(params, p, np * sizeof *p);
        gc_model_zero_grad(m);
        close_to(gc_model_forward(m, x, n, 1), y, ny, 2e-5, "output");
        float *dinp = calloc(nx, sizeof *dinp);
        gc_model_backward(m, r, dinp);
        close_to(dinp, dx, nx, 1e-4, "input gradient");
        close_to(gc_model_grads(m, &mp), g, ng, 1e-4, "parameter gradients");
        close_to(gc_model_forward(m, x, n, 0), ye, nm, 2e-5, "eval output");
        free(dinp);
        free(p), free(x), free(y), free(r), free(dx), free(g), free(ye);
        gc_model_destroy(m);
    }
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concat_gradients),     cmocka_unit_test(concat_copies_both_inputs),
        cmocka_unit_test(unet_shapes),          cmocka_unit_test(unet_gradients),
        cmocka_unit_test(concat_errors),        cmocka_unit_test(checkpoint_knows_the_skips),
        cmocka_unit_test(unet_matches_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
