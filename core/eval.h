/* eval.h — how the evaluation figures are computed (their names: core/metrics.h).
 *
 * Pure functions over caller memory: no globals, no printing, any thread. Sums and
 * moments are accumulated in double.
 *
 * 2D sets (PacGAN protocol, normally on 2,500 generated points):
 *   every point goes to its nearest mode centre; it is "high quality" when its
 *   Euclidean distance to that centre is <= 3 sigma.
 *   modes_covered = number of modes with >= 1 high-quality point;
 *   high_quality  = (high-quality points) / n, in 0..1;
 *   reverse_kl    = KL(q || u) = sum_k q_k log(q_k K), natural log, where
 *                   q_k = (h_k + eps) / (H + K eps), h_k the high-quality points of
 *                   mode k, H their sum, u uniform over the K modes, eps = 1e-10
 *                   (empty modes then contribute ~0, as 0 log 0 = 0). 0 when every
 *                   mode has the same share; log K (~2.08 for ring8, ~3.22 for
 *                   grid25) when all high-quality points sit in one mode. With no
 *                   high-quality point at all it is defined as log K (nothing of the
 *                   mixture is reproduced).
 *
 * Image sets:
 *   fid   Fréchet distance between Gaussians fitted to two feature sets:
 *         ||mu1 - mu2||^2 + tr(C1) + tr(C2) - 2 tr sqrt(sqrt(C1) C2 sqrt(C1)),
 *         covariances unbiased (divided by n - 1); matrix square roots through LAPACK's
 *         dsyevd (eigenvalues below 0 from rounding are taken as 0).
 *   swd   sliced Wasserstein distance: both sets flattened to vectors of pixels in
 *         [-1, 1]; for each of P random unit directions (Gaussian, normalized, drawn
 *         from the given RNG) both sets are projected, sorted, and compared by the
 *         mean |difference| of matched quantiles (sets of different sizes are compared
 *         at m = min(n1, n2) quantiles: element floor((i + 0.5) n / m) of each sorted
 *         list); swd is the mean over directions. It is in the pixel units of
 *         [-1, 1] images; GC_SWD_PROJECTIONS = 128 directions is the default.
 *   class_coverage    number of classes that receive >= 1% of the argmax predictions.
 *   classifier_score  exp(mean_x KL(p(y|x) || p(y))), p(y) the mean of p(y|x) over
 *                     the set; 1 when every prediction is the same, up to K.
 *   class_accuracy    of a conditional generator: the share of samples the classifier
 *                     (2D sets: the nearest mode) gives the class they were asked for. */
#ifndef GC_EVAL_H
#define GC_EVAL_H

#include <stddef.h>

#include "core/error.h"
#include "core/rng.h"

#define GC_EVAL_POINTS 2500
#define GC_EVAL_IMAGES 5000
#define GC_SWD_PROJECTIONS 128

struct gc_mode_stats {
    int modes_covered;
    double high_quality;
    double reverse_kl;
};

/* pts is n x 2, centers k x 2. GC_EINVAL for n < 1, k < 1 or sigma <= 0. */
int gc_eval_modes(const float *pts, size_t n, const float *centers, int k, float sigma,
                  struct gc_mode_stats *out, struct gc_error *err);

/* A Gaussian fitted to n x d features: mean (d) and unbiased covariance (d x d), both
 * double, owned by the struct (gc_gauss_fini frees them). Fitting the real set once
 * saves the work at every evaluation. GC_EINVAL for n < 2. */
struct gc_gauss {
    int d;
    double *mu;
    double *cov;
};
int gc_gauss_fit(struct gc_gauss *g, const float *x, size_t n, int d, struct gc_error *err);
void gc_gauss_fini(struct gc_gauss *g);

/* Fréchet distance of two fitted Gaussians of the same d (GC_EINVAL otherwise;
 * GC_ENUMERIC if the eigensolver fails). */
int gc_frechet(const struct gc_gauss *a, const struct gc_gauss *b, double *out,
               struct gc_error *err);

/* Sliced Wasserstein distance of a (na x dim) and b (nb x dim) over nproj directions
 * drawn from rng (which advances). */
int gc_swd(const float *a, size_t na, const float *b, size_t nb, size_t dim, int nproj,
           struct gc_rng *rng, double *out, struct gc_error *err);

/* From class probabilities (n x k, rows summing to 1): coverage and score as above. */
int gc_class_stats(const float *probs, size_t n, int k, int *class_coverage,
                   double *classifier_score, struct gc_error *err);

/* class_accuracy of a conditional generator: the fraction of samples whose most
 * probable class (probs n x k; ties go to the lower class) is the class asked of it,
 * want[i] in 0..k-1. */
int gc_class_accuracy(const float *probs, size_t n, int k, const int *want, double *out,
                      struct gc_error *err);
/* The same for 2D points (n x 2), the nearest mode centre (k x 2) taken as the class
 * given; want[i] is a mode. */
int gc_mode_accuracy(const float *pts, size_t n, const float *centers, int k, const int *want,
                     double *out, struct gc_error *err);

#endif
