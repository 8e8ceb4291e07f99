/* test_loss.c — every loss against a plain double reference and its gradient against
 * central finite differences (in double, through the reference), plus the edge cases a
 * GAN meets: huge logits, smoothed targets, accumulation with a scale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/loss.h"
#include "core/rng.h"

#define N 7

/* references in double, written the naive way from the definitions */
static double ref_bce(const double *x, const double *t, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) {
        double p = 1.0 / (1.0 + exp(-x[i]));
        s += -(t[i] * log(p) + (1 - t[i]) * log(1 - p));
    }
    return s / n;
}

static double ref_mse(const double *x, const double *t, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (x[i] - t[i]) * (x[i] - t[i]);
    return s / n;
}

static double ref_wass(const double *x, double sign, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += sign * x[i];
    return s / n;
}

static double ref_hinge(const double *x, double sign, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += fmax(0.0, 1.0 - sign * x[i]);
    return s / n;
}

static double ref_xent(const double *x, const int *lab, int n, int k)
{
    double s = 0;
    for (int i = 0; i < n; i++) {
        double z = 0;
        for (int j = 0; j < k; j++)
            z += exp(x[i * k + j]);
        s += -log(exp(x[i * k + lab[i]]) / z);
    }
    return s / n;
}

enum which { BCE, MSE, WASS, HINGE };

static double ref(enum which w, const double *x, const double *t, double sign, int n)
{
    switch (w) {
    case BCE:
        return ref_bce(x, t, n);
    case MSE:
        return ref_mse(x, t, n);
    case WASS:
        return ref_wass(x, sign, n);
    case HINGE:
        return ref_hinge(x, sign, n);
    }
    return 0;
}

static float run(enum which w, float *dx, const float *x, const float *t, float sign, int n,
                 float scale)
{
    switch (w) {
    case BCE:
        return gc_bce_logits(dx, x, t, n, scale);
    case MSE:
        return gc_mse(dx, x, t, n, scale);
    case WASS:
        return gc_wasserstein_mean(dx, x, sign, n, scale);
    case HINGE:
        return gc_hinge(dx, x, sign, n, scale);
    }
    return 0;
}

/* value vs reference, gradient (scaled, accumulated onto a non-zero start) vs central
 * differences of the reference */
static void check_loss(enum which w, float sign)
{
    struct gc_rng r;
    gc_rng_init(&r, 7, (uint64_t)w);
    float x[N], t[N], dx[N];
    double xd[N], td[N];
    for (int i = 0; i < N; i++) {
        x[i] = 3.0f * (gc_rng_uniform(&r) - 0.5f);
        t[i] = gc_rng_uniform(&r);
        dx[i] = 0.25f;
        xd[i] = x[i];
        td[i] = t[i];
    }
    if (w == HINGE) {
        /* keep points away from the kink at sign*x = 1 */
        for (int i = 0; i < N; i++)
            if (fabs(1.0 - sign * xd[i]) < 0.05)
                x[i] = (float)(xd[i] += 0.2);
    }
    const float scale = 1.5f;
    float l = run(w, dx, x, t, sign, N, scale);
    assert_float_equal(l, ref(w, xd, td, sign, N), 1e-5);
    for (int i = 0; i < N; i++) {
        const double h = 1e-5;
        double keep = xd[i];
        xd[i] = keep + h;
        double lp = ref(w, xd, td, sign, N);
        xd[i] = keep - h;
        double lm = ref(w, xd, td, sign, N);
        xd[i] = keep;
        double g = scale * (lp - lm) / (2 * h);
        assert_float_equal(dx[i] - 0.25f, g, 1e-5);
    }
    /* dx NULL: the value alone */
    assert_true(run(w, NULL, x, t, sign, N, scale) == l);
}

static void bce_value_and_grad(void **s)
{
    (void)s;
    check_loss(BCE, 1);
}

static void mse_value_and_grad(void **s)
{
    (void)s;
    check_loss(MSE, 1);
}

static void wasserstein_value_and_grad(void **s)
{
    (void)s;
    check_loss(WASS, 1);
    check_loss(WASS, -1);
}

static void hinge_value_and_grad(void **s)
{
    (void)s;
    check_loss(HINGE, 1);
    check_loss(HINGE, -1);
}

static void bce_huge_logits_finite(void **s)
{
    (void)s;
    float x[4] = {1000.0f, -1000.0f, 1000.0f, -1000.0f};
    float t[4] = {1.0f, 0.0f, 0.0f, 1.0f};
    float dx[4] = {0};
    float l = gc_bce_logits(dx, x, t, 4, 1.0f);
    assert_true(isfinite(l));
    /* two right with certainty (loss 0), two wrong by 1000 each */
    assert_float_equal(l, 2000.0 / 4, 1e-3);
    for (int i = 0; i < 4; i++)
        assert_true(isfinite(dx[i]));
    assert_float_equal(dx[0], 0.0, 1e-7);
    assert_float_equal(dx[1], 0.0, 1e-7);
    assert_float_equal(dx[2], 0.25, 1e-7);
    assert_float_equal(dx[3], -0.25, 1e-7);
}

static void bce_smoothed_target(void **s)
{
    (void)s;
    /* target 0.9: the minimum is at sigmoid(x) = 0.9, x = log 9, with gradient 0 */
    float x[1] = {(float)log(9.0)};
    float t[1] = {0.9f};
    float dx[1] = {0};
    float l = gc_bce_logits(dx, x, t, 1, 1.0f);
    double want = -(0.9 * log(0.9) + 0.1 * log(0.1));
    assert_float_equal(l, want, 1e-6);
    assert_float_equal(dx[0], 0.0, 1e-6);
    /* label smoothing raises the loss of a confident right answer above 0 */
    float xc[1] = {20.0f};
    float lc = gc_bce_logits(NULL, xc, t, 1, 1.0f);
    assert_true(lc > 1.9f);
}

static void softmax_xent_k5(void **s)
{
    (void)s;
    enum { n = 3, k = 5 };
    struct gc_rng r;
    gc_rng_init(&r, 11, 0);
    float x[n * k], dx[n * k], probs[n * k];
    double xd[n * k];
    int lab[n] = {0, 4, 2};
    for (int i = 0; i < n * k; i++) {
        x[i] = 4.0f * (gc_rng_uniform(&r) - 0.5f);
        xd[i] = x[i];
        dx[i] = 0;
    }
    float l = gc_softmax_xent(dx, x, lab, n, k, 2.0f, probs);
    assert_float_equal(l, ref_xent(xd, lab, n, k), 1e-5);
    for (int i = 0; i < n; i++) {
        double sum = 0;
        for (int j = 0; j < k; j++)
            sum += probs[i * k + j];
        assert_float_equal(sum, 1.0, 1e-5);
    }
    for (int i = 0; i < n * k; i++) {
        const double h = 1e-5;
        double keep = xd[i];
        xd[i] = keep + h;
        double lp = ref_xent(xd, lab, n, k);
        xd[i] = keep - h;
        double lm = ref_xent(xd, lab, n, k);
        xd[i] = keep;
        assert_float_equal(dx[i], 2.0 * (lp - lm) / (2 * h), 1e-5);
    }
}

static void softmax_xent_huge_logits(void **s)
{
    (void)s;
    float x[5] = {1000.0f, 0.0f, -1000.0f, 999.0f, 5.0f};
    int lab[1] = {3};
    float dx[5] = {0};
    float l = gc_softmax_xent(dx, x, lab, 1, 5, 1.0f, NULL);
    assert_true(isfinite(l));
    assert_float_equal(l, log1p(exp(-1.0)) + 1.0, 1e-4);
    for (int i = 0; i < 5; i++)
        assert_true(isfinite(dx[i]));
}

static void mean_sigmoid_values(void **s)
{
    (void)s;
    float x[4] = {0.0f, 1000.0f, -1000.0f, 2.0f};
    double want = (0.5 + 1.0 + 0.0 + 1.0 / (1.0 + exp(-2.0))) / 4;
    assert_float_equal(gc_mean_sigmoid(x, 4), want, 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bce_value_and_grad),
        cmocka_unit_test(mse_value_and_grad),
        cmocka_unit_test(wasserstein_value_and_grad),
        cmocka_unit_test(hinge_value_and_grad),
        cmocka_unit_test(bce_huge_logits_finite),
        cmocka_unit_test(bce_smoothed_target),
        cmocka_unit_test(softmax_xent_k5),
        cmocka_unit_test(softmax_xent_huge_logits),
        cmocka_unit_test(mean_sigmoid_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
