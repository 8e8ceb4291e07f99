/* eval_sets.c — KID and the k-NN manifold figures (see eval_sets.h).
 *
 * Both work on inner products of two sets, taken a block of rows at a time with one
 * GEMM each (ROWS x the other set), so memory stays at ROWS x n floats however large
 * the sets are. Squared distances are |a|^2 + |b|^2 - 2 a.b with the norms in double,
 * clamped at 0. The k-NN radii keep the k + 1 smallest of each row (the row's own 0
 * among them) by insertion. One pass over the fake x real block answers all four
 * manifold questions: whether the fake is inside some real ball (precision) and how
 * many (density), and for each real whether some fake is inside its ball (coverage)
 * and whether it is inside some fake's ball (recall). */
#include "core/eval_sets.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"

#define ROWS 256

static double *sq_norms(const float *x, size_t n, int d)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    for (size_t i = 0; s && i < n; i++) {
        double t = 0.0;
        for (int j = 0; j < d; j++)
            t += (double)x[i * d + j] * x[i * d + j];
        s[i] = t;
    }
    return s;
}

int gc_knn_radii2(const float *x, size_t n, int d, int k, double *r2, struct gc_error *err)
{
    if (k < 1 || n <= (size_t)k || d < 1)
        return gc_error_set(err, GC_EINVAL, "knn: need more than k = %d features, got %zu", k, n);
    double *nx = sq_norms(x, n, d);
    float *g = malloc((size_t)ROWS * n * sizeof *g);
    double *best = malloc((size_t)(k + 1) * sizeof *best);
    if (!nx || !g || !best) {
        free(nx), free(g), free(best);
        return gc_error_set(err, GC_ENOMEM, "knn: out of memory for %zu features", n);
    }
    for (size_t r0 = 0; r0 < n; r0 += ROWS) {
        int rows = (int)(n - r0 < ROWS ? n - r0 : ROWS);
        gc_sgemm(0, 1, rows, (int)n, d, 1.0f, x + r0 * d, d, x, d, 0.0f, g, (int)n);
        for (int i = 0; i < rows; i++) {
            int have = 0; /* best[0..have) ascending */
            for (size_t j = 0; j < n; j++) {
                double v = nx[r0 + i] + nx[j] - 2.0 * g[(size_t)i * n + j];
                v = v > 0.0 ? v : 0.0;
                if (have == k + 1 && v >= best[k])
                    continue;
                int p = have < k + 1 ? have++ : k;
                while (p > 0 && best[p - 1] > v) {
                    best[p] = best[p - 1];
                    p--;
                }
                best[p] = v;
            }
            r2[r0 + i] = best[k]; /* the k-th other: best[0] is the feature itself */
        }
    }
    free(nx), free(g), free(best);
    return 0;
}

int gc_prdc(const float *real, const double *real_r2, size_t nr, const float *fake, size_t nf,
            int d, struct gc_prdc *out, struct gc_error *err)
{
    if (nr <= GC_PRDC_K || nf <= GC_PRDC_K)
        return gc_error_set(err, GC_EINVAL, "prdc: need more than %d features in each set",
                            GC_PRDC_K);
    double *fake_r2 = malloc(nf * sizeof *fake_r2);
    double *nr2 = sq_norms(real, nr, d), *nf2 = sq_norms(fake, nf, d);
    float *g = malloc((size_t)ROWS * nr * sizeof *g);
    unsigned char *covered = calloc(nr, 1), *recalled = calloc(nr, 1);
    int rc = 0;
    if (!fake_r2 || !nr2 || !nf2 || !g || !covered || !recalled) {
        rc = gc_error_set(err, GC_ENOMEM, "prdc: out of memory for %zu + %zu features", nr, nf);
        goto out;
    }
    if ((rc = gc_knn_radii2(fake, nf, d, GC_PRDC_K, fake_r2, err)))
        goto out;
    size_t precise = 0, inside = 0;
    for (size_t f0 = 0; f0 < nf; f0 += ROWS) {
        int rows = (int)(nf - f0 < ROWS ? nf - f0 : ROWS);
        gc_sgemm(0, 1, rows, (int)nr, d, 1.0f, fake + f0 * d, d, real, d, 0.0f, g, (int)nr);
        for (int j = 0; j < rows; j++) {
            size_t balls = 0;
            for (size_t i = 0; i < nr; i++) {
                double v = nf2[f0 + j] + nr2[i] - 2.0 * g[(size_t)j * nr + i];
                v = v > 0.0 ? v : 0.0;
                if (v < real_r2[i] * (1.0 - GC_PRDC_TIE)) {
                    balls++;
                    covered[i] = 1;
                }
                if (v < fake_r2[f0 + j] * (1.0 - GC_PRDC_TIE))
                    recalled[i] = 1;
            }
            precise += balls > 0;
            inside += balls;
        }
    }
    size_t ncov = 0, nrec = 0;
    for (size_t i = 0; i < nr; i++) {
        ncov += covered[i];
        nrec += recalled[i];
    }
    out->precision = (double)precise / (double)nf;
    out->recall = (double)nrec / (double)nr;
    out->density = (double)inside / ((double)GC_PRDC_K * (double)nf);
    out->coverage = (double)ncov / (double)nr;
out:
    free(fake_r2), free(nr2), free(nf2), free(g), free(covered), free(recalled);
    return rc;
}

/* idx[0..m) = m distinct indices of [0, n), a partial Fisher-Yates shuffle of perm. */
static void draw(struct gc_rng *rng, uint32_t *perm, size_t n, size_t m)
{
    for (size_t i = 0; i < m; i++) {
        size_t j = i + (size_t)gc_rng_below(rng, (uint64_t)(n - i));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* Sum of (g / d + 1)^3 over an m x m block; without the diagonal when offdiag. */
static double kernel_sum(const float *g, size_t m, int d, int offdiag)
{
    double s = 0.0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            if (offdiag && i == j)
                continue;
            double v = (double)g[i * m + j] / d + 1.0;
            s += v * v * v;
        }
    return s;
}

int gc_kid(const float *a, size_t na, const float *b, size_t nb, int d, int subsets, size_t size,
           struct gc_rng *rng, double *mean, double *std, struct gc_error *err)
{
    size_t m = size < na ? size : na;
    m = m < nb ? m : nb;
    if (m < 2 || subsets < 1 || d < 1)
        return gc_error_set(err, GC_EINVAL, "kid: need at least 2 features in each set");
    uint32_t *pa = malloc(na * sizeof *pa), *pb = malloc(nb * sizeof *pb);
    float *xa = malloc(m * d * sizeof *xa), *xb = malloc(m * d * sizeof *xb);
    float *g = malloc(m * m * sizeof *g);
    double *mmd = malloc((size_t)subsets * sizeof *mmd);
    int rc = 0;
    if (!pa || !pb || !xa || !xb || !g || !mmd) {
        rc = gc_error_set(err, GC_ENOMEM, "kid: out of memory for subsets of %zu", m);
        goto out;
    }
    for (size_t i = 0; i < na; i++)
        pa[i] = (uint32_t)i;
    for (size_t i = 0; i < nb; i++)
        pb[i] = (uint32_t)i;
    double sum = 0.0;
    for (int s = 0; s < subsets; s++) {
        draw(rng, pa, na, m);
        draw(rng, pb, nb, m);
        for (size_t i = 0; i < m; i++) {
            memcpy(xa + i * d, a + (size_t)pa[i] * d, (size_t)d * sizeof *xa);
            memcpy(xb + i * d, b + (size_t)pb[i] * d, (size_t)d * sizeof *xb);
        }
        const int mi = (int)m;
        gc_sgemm(0, 1, mi, mi, d, 1.0f, xa, d, xa, d, 0.0f, g, mi);
        double kaa = kernel_sum(g, m, d, 1);
        gc_sgemm(0, 1, mi, mi, d, 1.0f, xb, d, xb, d, 0.0f, g, mi);
        double kbb = kernel_sum(g, m, d, 1);
        gc_sgemm(0, 1, mi, mi, d, 1.0f, xa, d, xb, d, 0.0f, g, mi);
        double kab = kernel_sum(g, m, d, 0);
        double mm = (double)m;
        mmd[s] = (kaa + kbb) / (mm * (mm - 1.0)) - 2.0 * kab / (mm * mm);
        sum += mmd[s];
    }
    *mean = sum / subsets;
    double q = 0.0;
    for (int s = 0; s < subsets; s++)
        q += (mmd[s] - *mean) * (mmd[s] - *mean);
    *std = sqrt(q / subsets);
out:
    free(pa), free(pb), free(xa), free(xb), free(g), free(mmd);
    return rc;
}
