/* eval.c — mode coverage, FID, sliced Wasserstein distance and classifier statistics.
 *
 * FID needs the trace of a matrix square root. Both covariances are symmetric positive
 * semi-definite, so instead of a general sqrtm we use LAPACK's symmetric eigensolver
 * (dsyevd_, exported by OpenBLAS) twice: S = sqrt(C1) from the eigenpairs of C1, then
 * the eigenvalues of the symmetric M = S C2 S, whose square roots sum to
 * tr sqrt(C1 C2). The d x d products are small (d = 128) and done in double by hand.
 * The SWD projections are one GEMM per set through core/blas.h. */
#include "core/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"

/* LAPACK (Fortran calling convention; trailing hidden lengths of the string args). */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);

#define KL_EPS 1e-10

/* The mode centre (k x 2) nearest to (x, y), its squared distance into *d2 (inf for a
 * NaN point, which then goes to mode 0). */
static int nearest_mode(double x, double y, const float *centers, int k, double *d2)
{
    int best = 0;
    double bd = INFINITY;
    for (int m = 0; m < k; m++) {
        double dx = x - centers[2 * m], dy = y - centers[2 * m + 1];
        double d = dx * dx + dy * dy;
        if (d < bd) {
            bd = d;
            best = m;
        }
    }
    *d2 = bd;
    return best;
}

int gc_eval_modes(const float *pts, size_t n, const float *centers, int k, float sigma,
                  struct gc_mode_stats *out, struct gc_error *err)
{
    if (n < 1 || k < 1 || !(sigma > 0))
        return gc_error_set(err, GC_EINVAL, "eval_modes: need points, modes and sigma > 0");
    size_t *hist = calloc((size_t)k, sizeof(size_t));
    if (!hist)
        return gc_error_set(err, GC_ENOMEM, "eval_modes: out of memory");
    double lim = 9.0 * (double)sigma * sigma;
    size_t good = 0;
    for (size_t i = 0; i < n; i++) {
        double bd;
        int best = nearest_mode(pts[2 * i], pts[2 * i + 1], centers, k, &bd);
        /* a NaN point has bd = inf and never counts */
        if (bd <= lim) {
            hist[best]++;
            good++;
        }
    }
    int covered = 0;
    for (int m = 0; m < k; m++)
        covered += hist[m] > 0;
    double kl = log((double)k);
    if (good > 0) {
        kl = 0;
        double denom = (double)good + k * KL_EPS;
        for (int m = 0; m < k; m++) {
            double q = (hist[m] + KL_EPS) / denom;
            kl += q * log(q * k);
        }
        if (kl < 0)
            kl = 0; /* rounding of a perfectly even histogram */
    }
    free(hist);
    out->modes_covered = covered;
    out->high_quality = (double)good / (double)n;
    out->reverse_kl = kl;
    return 0;
}

void gc_gauss_fini(struct gc_gauss *g)
{
    if (!g)
        return;
    free(g->mu);
    free(g->cov);
    g->mu = g->cov = NULL;
    g->d = 0;
}

int gc_gauss_fit(struct gc_gauss *g, const float *x, size_t n, int d, struct gc_error *err)
{
    memset(g, 0, sizeof(*g));
    if (n < 2 || d < 1)
        return gc_error_set(err, GC_EINVAL, "gauss_fit: need n >= 2 samples and d >= 1");
    g->d = d;
    g->mu = calloc((size_t)d, sizeof(double));
    g->cov = calloc((size_t)d * d, sizeof(double));
    double *row = malloc((size_t)d * sizeof(double));
    if (!g->mu || !g->cov || !row) {
        free(row);
        gc_gauss_fini(g);
        return gc_error_set(err, GC_ENOMEM, "gauss_fit: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            g->mu[j] += x[i * d + j];
    for (int j = 0; j < d; j++)
        g->mu[j] /= (double)n;
    /* centred two-pass sums: no cancellation from subtracting n mu mu^T at the end */
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            row[j] = x[i * d + j] - g->mu[j];
        for (int a = 0; a < d; a++) {
            double ra = row[a];
            double *c = g->cov + (size_t)a * d;
            for (int b = a; b < d; b++)
                c[b] += ra * row[b];
        }
    }
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) {
            double v = g->cov[(size_t)a * d + b] / (double)(n - 1);
            g->cov[(size_t)a * d + b] = v;
            g->cov[(size_t)b * d + a] = v;
        }
    free(row);
    return 0;
}

/* Eigenpairs of the symmetric d x d matrix a: on return w holds the eigenvalues in
 * ascending order and row j of a (row-major) the unit eigenvector of w[j], because
 * LAPACK writes the vectors as columns of a column-major matrix. */
static int sym_eig(double *a, int d, double *w, struct gc_error *err)
{
    int info = 0, lwork = -1, liwork = -1, iq;
    double wq;
    dsyevd_("V", "U", &d, a, &d, w, &wq, &lwork, &iq, &liwork, &info, 1, 1);
    if (info != 0)
        return gc_error_set(err, GC_ENUMERIC, "dsyevd workspace query failed (info %d)", info);
    lwork = (int)wq;
    liwork = iq;
    double *work = malloc((size_t)lwork * sizeof(double));
    int *iwork = malloc((size_t)liwork * sizeof(int));
    if (!work || !iwork) {
        free(work);
        free(iwork);
        return gc_error_set(err, GC_ENOMEM, "dsyevd: out of memory");
    }
    dsyevd_("V", "U", &d, a, &d, w, work, &lwork, iwork, &liwork, &info, 1, 1);
    free(work);
    free(iwork);
    if (info != 0)
        return gc_error_set(err, GC_ENUMERIC, "dsyevd did not converge (info %d)", info);
    return 0;
}

int gc_frechet(const struct gc_gauss *a, const struct gc_gauss *b, double *out,
               struct gc_error *err)
{
    if (a->d != b->d || a->d < 1)
        return gc_error_set(err, GC_EINVAL, "frechet: dimensions %d and %d differ", a->d, b->d);
    int d = a->d;
    size_t dd = (size_t)d * d;
    double *v = malloc(dd * sizeof(double));
    double *s = malloc(dd * sizeof(double));
    double *t = malloc(dd * sizeof(double));
    double *w = malloc((size_t)d * sizeof(double));
    int rc = 0;
    if (!v || !s || !t || !w) {
        rc = gc_error_set(err, GC_ENOMEM, "frechet: out of memory");
        goto out;
    }
    memcpy(v, a->cov, dd * sizeof(double));
    if ((rc = sym_eig(v, d, w, err)))
        goto out;
    for (int j = 0; j < d; j++)
        w[j] = w[j] > 0 ? sqrt(w[j]) : 0;
    /* S = sum_j sqrt(l_j) v_j v_j^T */
    memset(s, 0, dd * sizeof(double));
    for (int j = 0; j < d; j++) {
        const double *vj = v + (size_t)j * d;
        if (w[j] == 0)
            continue;
        for (int p = 0; p < d; p++) {
            double f = w[j] * vj[p];
            for (int q = 0; q < d; q++)
                s[(size_t)p * d + q] += f * vj[q];
        }
    }
    /* t = S C2, then v = t S = S C2 S */
    for (int p = 0; p < d; p++)
        for (int q = 0; q < d; q++) {
            double acc = 0;
            for (int r = 0; r < d; r++)
                acc += s[(size_t)p * d + r] * b->cov[(size_t)r * d + q];
            t[(size_t)p * d + q] = acc;
        }
    for (int p = 0; p < d; p++)
        for (int q = 0; q < d; q++) {
            double acc = 0;
            for (int r = 0; r < d; r++)
                acc += t[(size_t)p * d + r] * s[(size_t)r * d + q];
            v[(size_t)p * d + q] = acc;
        }
    for (int p = 0; p < d; p++)
        for (int q = p + 1; q < d; q++) {
            double m = 0.5 * (v[(size_t)p * d + q] + v[(size_t)q * d + p]);
            v[(size_t)p * d + q] = v[(size_t)q * d + p] = m;
        }
    if ((rc = sym_eig(v, d, w, err)))
        goto out;
    double tr_sqrt = 0, tr1 = 0, tr2 = 0, dmu = 0;
    for (int j = 0; j < d; j++) {
        tr_sqrt += w[j] > 0 ? sqrt(w[j]) : 0;
        tr1 += a->cov[(size_t)j * d + j];
        tr2 += b->cov[(size_t)j * d + j];
        double e = a->mu[j] - b->mu[j];
        dmu += e * e;
    }
    double f = dmu + tr1 + tr2 - 2.0 * tr_sqrt;
    *out = f < 0 ? 0 : f; /* tiny negatives from rounding when the sets are equal */
out:
    free(v);
    free(s);
    free(t);
    free(w);
    return rc;
}

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

int gc_swd(const float *a, size_t na, const float *b, size_t nb, size_t dim, int nproj,
           struct gc_rng *rng, double *out, struct gc_error *err)
{
    if (na < 1 || nb < 1 || dim < 1 || nproj < 1)
        return gc_error_set(err, GC_EINVAL, "swd: empty sets or no projections");
    if (na > (size_t)1 << 30 || nb > (size_t)1 << 30 || dim > (size_t)1 << 30)
        return gc_error_set(err, GC_ETOOBIG, "swd: sets too large");
    float *dir = malloc(sizeof(float) * dim * nproj);
    float *pa = malloc(sizeof(float) * na * nproj);
    float *pb = malloc(sizeof(float) * nb * nproj);
    if (!dir || !pa || !pb) {
        free(dir);
        free(pa);
        free(pb);
        return gc_error_set(err, GC_ENOMEM, "swd: out of memory");
    }
    for (int p = 0; p < nproj; p++) {
        float *u = dir + (size_t)p * dim;
        double norm;
        do {
            gc_rng_fill_normal(rng, u, dim, 0.0f, 1.0f);
            norm = 0;
            for (size_t i = 0; i < dim; i++)
                norm += (double)u[i] * u[i];
        } while (norm == 0);
        float inv = (float)(1.0 / sqrt(norm));
        for (size_t i = 0; i < dim; i++)
            u[i] *= inv;
    }
    /* pa (nproj x na) = dir (nproj x dim) a^T: one row per direction, ready to sort */
    gc_sgemm(0, 1, nproj, (int)na, (int)dim, 1.0f, dir, (int)dim, a, (int)dim, 0.0f, pa, (int)na);
    gc_sgemm(0, 1, nproj, (int)nb, (int)dim, 1.0f, dir, (int)dim, b, (int)dim, 0.0f, pb, (int)nb);
    size_t m = na < nb ? na : nb;
    double total = 0;
    for (int p = 0; p < nproj; p++) {
        float *ra = pa + (size_t)p * na, *rb = pb + (size_t)p * nb;
        qsort(ra, na, sizeof(float), cmp_float);
        qsort(rb, nb, sizeof(float), cmp_float);
        double s = 0;
        for (size_t i = 0; i < m; i++) {
            size_t ia = (size_t)(((double)i + 0.5) * na / m);
            size_t ib = (size_t)(((double)i + 0.5) * nb / m);
            s += fabs((double)ra[ia] - rb[ib]);
        }
        total += s / m;
    }
    free(dir);
    free(pa);
    free(pb);
    *out = total / nproj;
    return 0;
}

int gc_class_stats(const float *probs, size_t n, int k, int *class_coverage,
                   double *classifier_score, struct gc_error *err)
{
    if (n < 1 || k < 1)
        return gc_error_set(err, GC_EINVAL, "class_stats: need samples and classes");
    double *py = calloc((size_t)k, sizeof(double));
    size_t *votes = calloc((size_t)k, sizeof(size_t));
    if (!py || !votes) {
        free(py);
        free(votes);
        return gc_error_set(err, GC_ENOMEM, "class_stats: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * k;
        int best = 0;
        for (int j = 0; j < k; j++) {
            py[j] += p[j];
            if (p[j] > p[best])
                best = j;
        }
        votes[best]++;
    }
    int cov = 0;
    for (int j = 0; j < k; j++) {
        py[j] /= (double)n;
        cov += (double)votes[j] >= 0.01 * (double)n;
    }
    double kl = 0;
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * k;
        for (int j = 0; j < k; j++)
            if (p[j] > 0 && py[j] > 0)
                kl += p[j] * log(p[j] / py[j]);
    }
    free(py);
    free(votes);
    *class_coverage = cov;
    *classifier_score = exp(kl / (double)n);
    return 0;
}

int gc_class_accuracy(const float *probs, size_t n, int k, const int *want, double *out,
                      struct gc_error *err)
{
    if (n < 1 || k < 1)
        return gc_error_set(err, GC_EINVAL, "class_accuracy: need samples and classes");
    size_t right = 0;
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (p[j] > p[best])
                best = j;
        right += best == want[i];
    }
    *out = (double)right / (double)n;
    return 0;
}

int gc_mode_accuracy(const float *pts, size_t n, const float *centers, int k, const int *want,
                     double *out, struct gc_error *err)
{
    if (n < 1 || k < 1)
        return gc_error_set(err, GC_EINVAL, "class_accuracy: need points and modes");
    size_t right = 0;
    for (size_t i = 0; i < n; i++) {
        double d2;
        right +=
            nearest_mode(pts[2 * i], pts[2 * i + 1], centers, k, &d2) == want[i] && isfinite(d2);
    }
    *out = (double)right / (double)n;
    return 0;
}
