/* test_eval.c — mode statistics on constructed point sets, FID against closed forms,
 * SWD identity and monotonicity, class coverage and classifier score. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/eval.h"
#include "core/rng.h"

/* The fid of two feature sets as a run computes it: both fitted, then compared. */
static int fid(const float *a, size_t na, const float *b, size_t nb, int d, double *out,
               struct gc_error *err)
{
    struct gc_gauss ga, gb;
    int rc = gc_gauss_fit(&ga, a, na, d, err);
    if (rc)
        return rc;
    rc = gc_gauss_fit(&gb, b, nb, d, err);
    if (!rc)
        rc = gc_frechet(&ga, &gb, out, err);
    gc_gauss_fini(&ga);
    gc_gauss_fini(&gb);
    return rc;
}

static void ring(float *c, int k)
{
    for (int i = 0; i < k; i++) {
        c[2 * i] = (float)cos(2 * M_PI * i / k);
        c[2 * i + 1] = (float)sin(2 * M_PI * i / k);
    }
}

static void modes_all_covered(void **state)
{
    (void)state;
    float c[16], pts[2 * 800];
    ring(c, 8);
    struct gc_rng r;
    gc_rng_init(&r, 1, 0);
    for (int i = 0; i < 800; i++) {
        int k = i % 8;
        pts[2 * i] = c[2 * k] + 0.01f * gc_rng_normal(&r);
        pts[2 * i + 1] = c[2 * k + 1] + 0.01f * gc_rng_normal(&r);
    }
    struct gc_mode_stats s;
    struct gc_error err = {0};
    assert_int_equal(gc_eval_modes(pts, 800, c, 8, 0.01f, &s, &err), 0);
    assert_int_equal(s.modes_covered, 8);
    /* a 2D Gaussian lies within 3 sigma with probability 1 - exp(-4.5) = 0.989 */
    assert_true(s.high_quality > 0.97 && s.high_quality <= 1.0);
    assert_true(s.reverse_kl < 0.01);
}

static void modes_collapse_to_one(void **state)
{
    (void)state;
    float c[16], pts[2 * 100];
    ring(c, 8);
    for (int i = 0; i < 100; i++) {
        pts[2 * i] = c[6] + 0.001f * (i % 3);
        pts[2 * i + 1] = c[7];
    }
    struct gc_mode_stats s;
    struct gc_error err = {0};
    assert_int_equal(gc_eval_modes(pts, 100, c, 8, 0.01f, &s, &err), 0);
    assert_int_equal(s.modes_covered, 1);
    assert_true(fabs(s.high_quality - 1.0) < 1e-12);
    assert_true(fabs(s.reverse_kl - log(8.0)) < 1e-6);
}

static void modes_half_and_far_points(void **state)
{
    (void)state;
    float c[16], pts[2 * 100];
    ring(c, 8);
    /* 40 points on modes 0 and 1 (20 each), 60 points at the origin: far from all */
    for (int i = 0; i < 100; i++) {
        int k = i < 20 ? 0 : 1;
        pts[2 * i] = i < 40 ? c[2 * k] : 0.0f;
        pts[2 * i + 1] = i < 40 ? c[2 * k + 1] : 0.0f;
    }
    struct gc_mode_stats s;
    struct gc_error err = {0};
    assert_int_equal(gc_eval_modes(pts, 100, c, 8, 0.01f, &s, &err), 0);
    assert_int_equal(s.modes_covered, 2);
    assert_true(fabs(s.high_quality - 0.4) < 1e-12);
    assert_true(fabs(s.reverse_kl - log(4.0)) < 1e-6); /* two equal modes of 8 */
    /* a point just outside 3 sigma does not count, just inside does */
    float edge[4] = {1.0f + 0.0301f, 0.0f, 1.0f + 0.0299f, 0.0f};
    assert_int_equal(gc_eval_modes(edge, 1, c, 8, 0.01f, &s, &err), 0);
    assert_int_equal(s.modes_covered, 0);
    assert_true(s.high_quality == 0.0);
    assert_true(fabs(s.reverse_kl - log(8.0)) < 1e-9);
    assert_int_equal(gc_eval_modes(edge + 2, 1, c, 8, 0.01f, &s, &err), 0);
    assert_int_equal(s.modes_covered, 1);
    float nan_pt[2] = {NAN, 0};
    assert_int_equal(gc_eval_modes(nan_pt, 1, c, 8, 0.01f, &s, &err), 0);
    assert_int_equal(s.modes_covered, 0);
    assert_int_equal(gc_eval_modes(pts, 0, c, 8, 0.01f, &s, &err), GC_EINVAL);
    assert_int_equal(gc_eval_modes(pts, 1, c, 8, 0.0f, &s, &err), GC_EINVAL);
}

/* n samples of N(mu, diag(sd^2)) in d dims. */
static float *gauss_set(struct gc_rng *r, size_t n, int d, const double *mu, const double *sd)
{
    float *x = malloc(sizeof(float) * n * d);
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            x[i * d + j] = (float)(mu[j] + sd[j] * gc_rng_normal(r));
    return x;
}

static void fid_identical_is_zero(void **state)
{
    (void)state;
    struct gc_rng r;
    gc_rng_init(&r, 5, 0);
    const int d = 16;
    double mu[16], sd[16];
    for (int j = 0; j < d; j++) {
        mu[j] = j * 0.1;
        sd[j] = 0.5 + 0.1 * j;
    }
    float *x = gauss_set(&r, 2000, d, mu, sd);
    double f = -1;
    struct gc_error err = {0};
    assert_int_equal(fid(x, 2000, x, 2000, d, &f, &err), 0);
    assert_true(f >= 0 && f < 1e-6);
    free(x);
}

static void fid_closed_forms(void **state)
{
    (void)state;
    /* With fitted moments, FID is exact in the empirical means and covariances. Build
     * sets whose empirical moments are known: b = a + shift gives the same covariance,
     * so FID = |shift|^2 exactly. */
    struct gc_rng r;
    gc_rng_init(&r, 9, 0);
    const int d = 8;
    const size_t n = 3000;
    double mu[8] = {0}, sd[8] = {1, 2, 0.5, 1, 1, 3, 1, 0.2};
    float *a = gauss_set(&r, n, d, mu, sd);
    float *b = malloc(sizeof(float) * n * d);
    double shift[8] = {1, -2, 0.5, 0, 0, 3, 0, 0}, want = 0;
    for (int j = 0; j < d; j++)
        want += shift[j] * shift[j];
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            b[i * d + j] = (float)(a[i * d + j] + shift[j]);
    double f;
    struct gc_error err = {0};
    assert_int_equal(fid(a, n, b, n, d, &f, &err), 0);
    assert_true(fabs(f - want) < 1e-3 * want);

    /* Scaling each coordinate j by s_j: C2 = S C1 S. For a diagonal C1 the trace term
     * is sum_j var_j (1 - s_j)^2; the set's empirical covariance is only nearly
     * diagonal, so compare against the closed form of the fitted Gaussians computed
     * coordinate by coordinate, with a tolerance for the off-diagonal sample noise. */
    double s[8] = {1, 2, 0.5, 1, 3, 1, 1, 0.25};
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            b[i * d + j] = (float)(a[i * d + j] * s[j]);
    struct gc_gauss ga;
    assert_int_equal(gc_gauss_fit(&ga, a, n, d, &err), 0);
    double closed = 0;
    for (int j = 0; j < d; j++) {
        double m1 = ga.mu[j], m2 = ga.mu[j] * s[j], v = ga.cov[j * d + j];
        closed += (m1 - m2) * (m1 - m2) + v * (1 - s[j]) * (1 - s[j]);
    }
    assert_int_equal(fid(a, n, b, n, d, &f, &err), 0);
    assert_true(fabs(f - closed) < 0.02 * closed);
    gc_gauss_fini(&ga);

    /* 1-D: FID = (m1 - m2)^2 + (s1 - s2)^2 exactly in the fitted moments */
    float *u = malloc(sizeof(float) * n), *v = malloc(sizeof(float) * n);
    double m1 = 0, m2 = 0, q1 = 0, q2 = 0;
    for (size_t i = 0; i < n; i++) {
        u[i] = gc_rng_normal(&r);
        v[i] = 3.0f + 2.0f * gc_rng_normal(&r);
        m1 += u[i];
        m2 += v[i];
    }
    m1 /= n;
    m2 /= n;
    for (size_t i = 0; i < n; i++) {
        q1 += (u[i] - m1) * (u[i] - m1);
        q2 += (v[i] - m2) * (v[i] - m2);
    }
    double s1 = sqrt(q1 / (n - 1)), s2 = sqrt(q2 / (n - 1));
    double want1 = (m1 - m2) * (m1 - m2) + (s1 - s2) * (s1 - s2);
    assert_int_equal(fid(u, n, v, n, 1, &f, &err), 0);
    assert_true(fabs(f - want1) < 1e-6 * want1 + 1e-9);
    free(u);
    free(v);
    free(a);
    free(b);
}

static void fid_full_covariance_rotation(void **state)
{
    (void)state;
    /* Rotating a set (an orthogonal map) leaves the covariance spectrum but changes the
     * covariance; for commuting covariances FID reduces to the diagonal form. A 2-D
     * set rotated by 90 degrees swaps the variances: FID = (s1 - s2)^2 * 2 (plus the
     * mean term, zero here up to sample noise) when the covariance is diagonal. */
    struct gc_rng r;
    gc_rng_init(&r, 11, 0);
    const size_t n = 20000;
    float *a = malloc(sizeof(float) * n * 2), *b = malloc(sizeof(float) * n * 2);
    for (size_t i = 0; i < n; i++) {
        a[2 * i] = 2.0f * gc_rng_normal(&r);
        a[2 * i + 1] = 0.5f * gc_rng_normal(&r);
        b[2 * i] = -a[2 * i + 1];
        b[2 * i + 1] = a[2 * i];
    }
    double f;
    struct gc_error err = {0};
    assert_int_equal(fid(a, n, b, n, 2, &f, &err), 0);
    double want = 2 * (2.0 - 0.5) * (2.0 - 0.5);
    assert_true(fabs(f - want) < 0.05 * want);
    assert_int_equal(fid(a, 1, a, 1, 2, &f, &err), GC_EINVAL);
    free(a);
    free(b);
}

static void swd_zero_and_monotone(void **state)
{
    (void)state;
    struct gc_rng r;
    gc_rng_init(&r, 2, 0);
    const size_t n = 500, dim = 64;
    float *a = malloc(sizeof(float) * n * dim), *b = malloc(sizeof(float) * n * dim);
    gc_rng_fill_uniform(&r, a, n * dim, -1.0f, 1.0f);
    double s0, prev = 0;
    struct gc_error err = {0};
    struct gc_rng pr;
    gc_rng_init(&pr, 7, 0);
    assert_int_equal(gc_swd(a, n, a, n, dim, GC_SWD_PROJECTIONS, &pr, &s0, &err), 0);
    assert_true(s0 == 0.0);
    /* shifting every pixel by t moves each projection by t * sum(u) */
    for (int step = 1; step <= 4; step++) {
        float t = 0.1f * step;
        for (size_t i = 0; i < n * dim; i++)
            b[i] = a[i] + t;
        double s;
        gc_rng_init(&pr, 7, 0);
        assert_int_equal(gc_swd(a, n, b, n, dim, GC_SWD_PROJECTIONS, &pr, &s, &err), 0);
        assert_true(s > prev);
        prev = s;
    }
    /* for one pure shift, swd = t * mean |sum u| ≈ t sqrt(2 / pi) sqrt(dim) / sqrt(dim) */
    assert_true(prev > 0.4 * 0.5 && prev < 0.4 * 1.1);
    /* different sizes: a set against its own first half is close to 0 */
    double half;
    assert_int_equal(gc_swd(a, n, a, n / 2, dim, 32, &pr, &half, &err), 0);
    assert_true(half < 0.1);
    assert_int_equal(gc_swd(a, 0, a, n, dim, 8, &pr, &half, &err), GC_EINVAL);
    free(a);
    free(b);
}

static void class_stats_cases(void **state)
{
    (void)state;
    const int k = 10;
    const size_t n = 1000;
    float *p = calloc(n * k, sizeof(float));
    /* confident and uniform over classes: coverage 10, score 10 */
    for (size_t i = 0; i < n; i++)
        p[i * k + i % k] = 1.0f;
    int cov;
    double score;
    struct gc_error err = {0};
    assert_int_equal(gc_class_stats(p, n, k, &cov, &score, &err), 0);
    assert_int_equal(cov, 10);
    assert_true(fabs(score - 10.0) < 1e-6);
    /* all the same class: coverage 1, score 1 */
    memset(p, 0, n * k * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i * k + 3] = 1.0f;
    assert_int_equal(gc_class_stats(p, n, k, &cov, &score, &err), 0);
    assert_int_equal(cov, 1);
    assert_true(fabs(score - 1.0) < 1e-9);
    /* uncertain predictions: score 1 whatever the argmax */
    for (size_t i = 0; i < n * k; i++)
        p[i] = 0.1f;
    assert_int_equal(gc_class_stats(p, n, k, &cov, &score, &err), 0);
    assert_true(fabs(score - 1.0) < 1e-5);
    /* 1% threshold: 9 of 1000 votes do not cover a class, 10 do */
    memset(p, 0, n * k * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i * k + (i < 9 ? 1 : i < 19 ? 2 : 0)] = 1.0f;
    assert_int_equal(gc_class_stats(p, n, k, &cov, &score, &err), 0);
    assert_int_equal(cov, 2);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modes_all_covered),         cmocka_unit_test(modes_collapse_to_one),
        cmocka_unit_test(modes_half_and_far_points), cmocka_unit_test(fid_identical_is_zero),
        cmocka_unit_test(fid_closed_forms),          cmocka_unit_test(fid_full_covariance_rotation),
        cmocka_unit_test(swd_zero_and_monotone),     cmocka_unit_test(class_stats_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
