/* test_eval_sets.c — KID, precision, recall, density and coverage against direct
 * implementations (every pairwise distance in double, radii by sorting, the same
 * subsets for KID), and on known distributions: identical sets, disjoint sets, a
 * subset, two samples of one Gaussian against a shifted one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/eval_sets.h"
#include "layer_check.h"

#define D 16

static float *gaussian(struct gc_rng *r, size_t n, float shift)
{
    float *x = lc_alloc(n * D);
    gc_rng_fill_normal(r, x, n * D, shift, 1.0f);
    return x;
}

static double dist2(const float *a, const float *b)
{
    double s = 0.0;
    for (int j = 0; j < D; j++) {
        double t = (double)a[j] - b[j];
        s += t * t;
    }
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the k-th smallest distance to the others, by sorting the whole row */
static void direct_radii(const float *x, size_t n, int k, double *r2)
{
    double *row = malloc(n * sizeof *row);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++)
            row[j] = dist2(x + i * D, x + j * D);
        qsort(row, n, sizeof *row, cmp_double);
        r2[i] = row[k]; /* row[0] is the feature itself */
    }
    free(row);
}

static struct gc_prdc direct_prdc(const float *real, size_t nr, const float *fake, size_t nf)
{
    double *rr = malloc(nr * sizeof *rr), *fr = malloc(nf * sizeof *fr);
    direct_radii(real, nr, GC_PRDC_K, rr);
    direct_radii(fake, nf, GC_PRDC_K, fr);
    size_t precise = 0, inside = 0, covered = 0, recalled = 0;
    for (size_t j = 0; j < nf; j++) {
        size_t balls = 0;
        for (size_t i = 0; i < nr; i++)
            balls += dist2(fake + j * D, real + i * D) < rr[i] * (1.0 - GC_PRDC_TIE);
        precise += balls > 0;
        inside += balls;
    }
    for (size_t i = 0; i < nr; i++) {
        int c = 0, r = 0;
        for (size_t j = 0; j < nf; j++) {
            double v = dist2(fake + j * D, real + i * D);
            c |= v < rr[i] * (1.0 - GC_PRDC_TIE);
            r |= v < fr[j] * (1.0 - GC_PRDC_TIE);
        }
        covered += c;
        recalled += r;
    }
    free(rr), free(fr);
    return (struct gc_prdc){(double)precise / nf, (double)recalled / nr,
                            (double)inside / (GC_PRDC_K * (double)nf), (double)covered / nr};
}

static struct gc_prdc ours(const float *real, size_t nr, const float *fake, size_t nf)
{
    struct gc_error err = {0};
    double *rr = malloc(nr * sizeof *rr);
    assert_int_equal(gc_knn_radii2(real, nr, D, GC_PRDC_K, rr, &err), 0);
    /* the radii themselves against the direct ones */
    double *want = malloc(nr * sizeof *want);
    direct_radii(real, nr, GC_PRDC_K, want);
    for (size_t i = 0; i < nr; i++)
        assert_true(fabs(rr[i] - want[i]) <= 1e-4 * want[i] + 1e-6);
    struct gc_prdc p;
    assert_int_equal(gc_prdc(real, rr, nr, fake, nf, D, &p, &err), 0);
    free(rr), free(want);
    return p;
}

/* Distances within float rounding of a radius may fall either way: one feature's worth
 * of difference is allowed. */
static void same_prdc(struct gc_prdc a, struct gc_prdc b, size_t nr, size_t nf)
{
    assert_true(fabs(a.precision - b.precision) <= 1.0 / nf + 1e-12);
    assert_true(fabs(a.recall - b.recall) <= 1.0 / nr + 1e-12);
    assert_true(fabs(a.density - b.density) <= 1.0 / (GC_PRDC_K * (double)nf) + 1e-12);
    assert_true(fabs(a.coverage - b.coverage) <= 1.0 / nr + 1e-12);
}

static void prdc_matches_direct(void **s)
{
    (void)s;
    struct gc_rng r;
    gc_rng_init(&r, 1, 0);
    /* overlapping Gaussians of other sizes: every figure strictly between 0 and 1 */
    size_t nr = 300, nf = 270;
    float *real = gaussian(&r, nr, 0.0f), *fake = gaussian(&r, nf, 0.4f);
    struct gc_prdc a = ours(real, nr, fake, nf), b = direct_prdc(real, nr, fake, nf);
    same_prdc(a, b, nr, nf);
    assert_true(a.precision > 0.05 && a.precision < 0.999);
    assert_true(a.recall > 0.05 && a.recall < 0.999);
    assert_true(a.coverage > 0.05 && a.coverage < 0.999);
    free(real), free(fake);
}

static void prdc_on_known_sets(void **s)
{
    (void)s;
    struct gc_rng r;
    gc_rng_init(&r, 2, 0);
    size_t n = 280;
    float *x = gaussian(&r, n, 0.0f);

    /* identical sets: every ball holds its own centre and k - 1 others (its k-th
     * neighbour lies on it), so density is 1 */
    struct gc_prdc p = ours(x, n, x, n);
    assert_true(p.precision == 1.0 && p.recall == 1.0 && p.coverage == 1.0);
    assert_true(fabs(p.density - 1.0) < 1e-12);
    same_prdc(p, direct_prdc(x, n, x, n), n, n);

    /* disjoint sets: nothing inside anything */
    float *far = gaussian(&r, n, 50.0f);
    p = ours(x, n, far, n);
    assert_true(p.precision == 0.0 && p.recall == 0.0 && p.density == 0.0 && p.coverage == 0.0);

    /* a subset: every generated feature is a real one (precision 1), half the real
     * balls hold their own centre at least (coverage >= 1/2), and recall is below 1:
     * the subset's balls are wider but miss some of the real points */
    size_t half = n / 2;
    p = ours(x, n, x, half);
    same_prdc(p, direct_prdc(x, n, x, half), n, half);
    assert_true(p.precision == 1.0);
    assert_true(p.coverage >= 0.5 && p.coverage < 1.0);
    assert_true(p.recall > 0.5 && p.recall < 1.0);
    free(x), free(far);
}

/* KID of the same subsets drawn the same way, the kernel in double. */
static void direct_kid(const float *a, size_t na, const float *b, size_t nb, int subsets, size_t m,
                       uint64_t seed, double *mean, double *std)
{
    struct gc_rng r;
    gc_rng_init(&r, seed, 0);
    uint32_t *pa = malloc(na * 4), *pb = malloc(nb * 4);
    for (size_t i = 0; i < na; i++)
        pa[i] = (uint32_t)i;
    for (size_t i = 0; i < nb; i++)
        pb[i] = (uint32_t)i;
    double *v = malloc(subsets * sizeof *v), sum = 0.0;
    for (int s = 0; s < subsets; s++) {
        for (int w = 0; w < 2; w++) {
            uint32_t *p = w ? pb : pa;
            size_t n = w ? nb : na;
            for (size_t i = 0; i < m; i++) {
                size_t j = i + (size_t)gc_rng_below(&r, (uint64_t)(n - i));
                uint32_t t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
        }
        double kaa = 0, kbb = 0, kab = 0;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < m; j++) {
                double dab = 0, daa = 0, dbb = 0;
                for (int t = 0; t < D; t++) {
                    dab += (double)a[pa[i] * D + t] * b[pb[j] * D + t];
                    daa += (double)a[pa[i] * D + t] * a[pa[j] * D + t];
                    dbb += (double)b[pb[i] * D + t] * b[pb[j] * D + t];
                }
                kab += pow(dab / D + 1.0, 3);
                if (i != j) {
                    kaa += pow(daa / D + 1.0, 3);
                    kbb += pow(dbb / D + 1.0, 3);
                }
            }
        double mm = (double)m;
        v[s] = (kaa + kbb) / (mm * (mm - 1)) - 2 * kab / (mm * mm);
        sum += v[s];
    }
    *mean = sum / subsets;
    double q = 0;
    for (int s = 0; s < subsets; s++)
        q += (v[s] - *mean) * (v[s] - *mean);
    *std = sqrt(q / subsets);
    free(pa), free(pb), free(v);
}

static void kid_matches_direct(void **s)
{
    (void)s;
    struct gc_rng r;
    gc_rng_init(&r, 3, 0);
    size_t na = 150, nb = 130, m = 60;
    float *a = gaussian(&r, na, 0.0f), *b = gaussian(&r, nb, 0.3f);
    struct gc_error err = {0};
    double mean, std, wmean, wstd;
    gc_rng_init(&r, 9, 0);
    assert_int_equal(gc_kid(a, na, b, nb, D, 7, m, &r, &mean, &std, &err), 0);
    direct_kid(a, na, b, nb, 7, m, 9, &wmean, &wstd);
    assert_true(fabs(mean - wmean) <= 1e-4 * fabs(wmean) + 1e-7);
    assert_true(fabs(std - wstd) <= 1e-3 * wstd + 1e-7);
    assert_true(mean > 0.0 && std > 0.0);
    free(a), free(b);
}

static void kid_on_known_sets(void **s)
{
    (void)s;
    struct gc_rng r;
    gc_rng_init(&r, 4, 0);
    size_t n = 400;
    float *a = gaussian(&r, n, 0.0f), *a2 = gaussian(&r, n, 0.0f), *far = gaussian(&r, n, 1.0f);
    struct gc_error err = {0};
    double same, same_sd, other, other_sd;
    /* two samples of one distribution: 0 within the spread of the estimate */
    assert_int_equal(gc_kid(a, n, a2, n, D, 20, 200, &r, &same, &same_sd, &err), 0);
    assert_int_equal(gc_kid(a, n, far, n, D, 20, 200, &r, &other, &other_sd, &err), 0);
    assert_true(fabs(same) < 3.0 * same_sd + 1e-3);
    assert_true(other > 20.0 * fabs(same) && other > 10.0 * other_sd);
    /* the subset size is capped at the smaller set; too small a set is refused */
    assert_int_equal(gc_kid(a, n, far, 50, D, 3, 1000, &r, &other, &other_sd, &err), 0);
    assert_int_equal(gc_kid(a, n, far, 1, D, 3, 1000, &r, &other, &other_sd, &err), GC_EINVAL);
    free(a), free(a2), free(far);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prdc_matches_direct),
        cmocka_unit_test(prdc_on_known_sets),
        cmocka_unit_test(kid_matches_direct),
        cmocka_unit_test(kid_on_known_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
