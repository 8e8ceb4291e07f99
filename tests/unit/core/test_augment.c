/* test_augment.c — DiffAugment: the forward against a direct transcription of the
 * reference implementation (three color steps with their own means, a zero-padded
 * gather with clamped indices, a mask stamped through clamped indices), the backward
 * as the exact transpose (<A x, y> = <x, Aᵀ y>), and the ranges of the draws. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/augment.h"
#include "layer_check.h"

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The reference's steps, one sample, in double. */
static void reference(const struct gc_augment *a, int c, int h, int w, const float *x, double *y)
{
    size_t hw = (size_t)h * w, sz = (size_t)c * hw;
    double *t = malloc(sz * sizeof *t), *u = malloc(sz * sizeof *u);
    for (size_t k = 0; k < sz; k++) /* rand_brightness */
        t[k] = x[k] + a->brightness;
    for (size_t p = 0; p < hw; p++) { /* rand_saturation: mean over dim 1 */
        double m = 0.0;
        for (int ch = 0; ch < c; ch++)
            m += t[ch * hw + p];
        m /= c;
        for (int ch = 0; ch < c; ch++)
            t[ch * hw + p] = (t[ch * hw + p] - m) * a->saturation + m;
    }
    double m = 0.0; /* rand_contrast: mean over dims 1, 2, 3 */
    for (size_t k = 0; k < sz; k++)
        m += t[k];
    m /= (double)sz;
    for (size_t k = 0; k < sz; k++)
        t[k] = (t[k] - m) * a->contrast + m;
    /* rand_translation: pad by 1, gather at clamp(i + t + 1, 0, side + 1) */
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                int pi = clampi(i + a->ty + 1, 0, h + 1), pj = clampi(j + a->tx + 1, 0, w + 1);
                int pad = pi == 0 || pi == h + 1 || pj == 0 || pj == w + 1;
                u[ch * hw + (size_t)i * w + j] =
                    pad ? 0.0 : t[ch * hw + (size_t)(pi - 1) * w + (pj - 1)];
            }
    /* rand_cutout: a mask of ones, zeroed at clamped grid indices */
    char *mask = malloc(hw);
    memset(mask, 1, hw);
    for (int gi = 0; a->cut_h && gi < a->cut_h; gi++)
        for (int gj = 0; gj < a->cut_w; gj++) {
            int i = clampi(gi + a->cy - a->cut_h / 2, 0, h - 1);
            int j = clampi(gj + a->cx - a->cut_w / 2, 0, w - 1);
            mask[(size_t)i * w + j] = 0;
        }
    for (int ch = 0; ch < c; ch++)
        for (size_t p = 0; p < hw; p++)
            y[ch * hw + p] = u[ch * hw + p] * mask[p];
    free(t), free(u), free(mask);
}

static void forward_matches_reference(void **s)
{
    (void)s;
    struct gc_rng r;
    gc_rng_init(&r, 1, 0);
    const int shapes[][3] = {{1, 28, 28}, {3, 9, 7}, {3, 32, 32}};
    for (int k = 0; k < 3; k++) {
        int c = shapes[k][0], h = shapes[k][1], w = shapes[k][2], n = 6;
        size_t sz = (size_t)c * h * w;
        float *x = lc_random(&r, n * sz), *y = lc_alloc(n * sz);
        double *want = malloc(sz * sizeof *want);
        for (unsigned policy = 0; policy <= GC_AUG_ALL; policy++) {
            struct gc_augment a[6];
            gc_augment_draw(&r, policy, n, h, w, a);
            gc_augment_forward(a, n, c, h, w, x, y);
            for (int i = 0; i < n; i++) {
                reference(&a[i], c, h, w, x + i * sz, want);
                assert_int_equal(lc_mismatches("augment", y + i * sz, want, sz, 1e-5, 1e-5), 0);
            }
            if (policy == 0)
                assert_memory_equal(x, y, n * sz * sizeof *x);
        }
        free(x), free(y), free(want);
    }
}

static void backward_is_the_transpose(void **s)
{
    (void)s;
    struct gc_rng r;
    gc_rng_init(&r, 2, 0);
    const int c = 3, h = 10, w = 12, n = 5;
    size_t sz = (size_t)c * h * w;
    float *x = lc_random(&r, n * sz), *y = lc_random(&r, n * sz);
    float *ax = lc_alloc(n * sz), *aty = lc_alloc(n * sz);
    for (unsigned policy = 0; policy <= GC_AUG_ALL; policy++) {
        struct gc_augment a[5];
        gc_augment_draw(&r, policy, n, h, w, a);
        /* brightness makes the map affine: its linear part is f(x) - f(0) */
        gc_augment_forward(a, n, c, h, w, x, ax);
        for (size_t k = 0; k < n * sz; k++)
            aty[k] = 0.0f;
        float *f0 = lc_alloc(n * sz);
        gc_augment_forward(a, n, c, h, w, aty, f0);
        for (size_t k = 0; k < n * sz; k++) {
            ax[k] -= f0[k];
            aty[k] = 1.0f; /* the backward accumulates */
        }
        free(f0);
        gc_augment_backward(a, n, c, h, w, y, aty);
        double l = 0.0, rr = 0.0, scale = 0.0;
        for (size_t k = 0; k < n * sz; k++) {
            l += (double)ax[k] * y[k];
            rr += (double)x[k] * (aty[k] - 1.0);
            scale += fabs((double)ax[k] * y[k]);
        }
        if (fabs(l - rr) > 1e-5 * scale)
            fail_msg("policy %u: <Ax, y> %g, <x, Aty> %g", policy, l, rr);
    }
    free(x), free(y), free(ax), free(aty);
}

static void draws_stay_in_range(void **s)
{
    (void)s;
    struct gc_rng r;
    gc_rng_init(&r, 3, 0);
    enum { N = 4000 };
    static struct gc_augment a[N];
    gc_augment_draw(&r, GC_AUG_ALL, N, 28, 28, a);
    int seen_t[9] = {0}, seen_c[29] = {0};
    double bsum = 0.0;
    for (int i = 0; i < N; i++) {
        assert_true(a[i].brightness >= -0.5f && a[i].brightness < 0.5f);
        assert_true(a[i].saturation >= 0.0f && a[i].saturation < 2.0f);
        assert_true(a[i].contrast >= 0.5f && a[i].contrast < 1.5f);
        assert_true(a[i].ty >= -4 && a[i].ty <= 4 && a[i].tx >= -4 && a[i].tx <= 4);
        assert_true(a[i].cut_h == 14 && a[i].cut_w == 14);
        assert_true(a[i].cy >= 0 && a[i].cy <= 28 && a[i].cx >= 0 && a[i].cx <= 28);
        seen_t[a[i].tx + 4]++;
        seen_c[a[i].cy]++;
        bsum += a[i].brightness;
    }
    for (int k = 0; k < 9; k++)
        assert_true(seen_t[k] > N / 9 / 2); /* every shift of -4..4 */
    for (int k = 0; k < 29; k++)
        assert_true(seen_c[k] > 0); /* every centre of 0..28 (side 14 is even) */
    assert_true(fabs(bsum / N) < 0.03);
    /* a policy without color or cutout leaves those parts at the identity */
    gc_augment_draw(&r, GC_AUG_TRANSLATION, 3, 9, 9, a);
    for (int i = 0; i < 3; i++) {
        assert_true(a[i].brightness == 0.0f && a[i].saturation == 1.0f && a[i].contrast == 1.0f);
        assert_int_equal(a[i].cut_h, 0);
        assert_true(a[i].ty >= -1 && a[i].ty <= 1); /* round(9 / 8) = 1 */
    }
    /* odd cutout side: round(9 / 2) = 5, centres 0..8 */
    gc_augment_draw(&r, GC_AUG_CUTOUT, N, 9, 9, a);
    for (int i = 0; i < N; i++)
        assert_true(a[i].cut_h == 5 && a[i].cy >= 0 && a[i].cy <= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_matches_reference),
        cmocka_unit_test(backward_is_the_transpose),
        cmocka_unit_test(draws_stay_in_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
