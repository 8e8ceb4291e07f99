/* eval_sets.h — evaluation figures that compare two sets of features sample by sample
 * (their names: core/metrics.h), on the evaluation classifier's features.
 *
 *   kid        Kernel inception distance (Binkowski et al. 2018): the unbiased estimate
 *              of MMD^2 with the kernel k(a, b) = (a.b / d + 1)^3,
 *                1/(m(m-1)) sum_{i!=j} k(x_i, x_j) + 1/(m(m-1)) sum_{i!=j} k(y_i, y_j)
 *                - 2/m^2 sum_{i,j} k(x_i, y_j),
 *              on m features drawn without replacement from each set, repeated over
 *              several subsets: kid is their mean, kid_std their standard deviation
 *              (over the subsets, divided by their count), as torch-fidelity reports.
 *   precision  the fraction of generated features within the k-NN ball of some real
 *              feature (the ball of x: radius the distance from x to its k-th nearest
 *              other real feature) — improved precision (Kynkaanniemi et al. 2019);
 *   recall     the fraction of real features within the k-NN ball of some generated
 *              feature (the balls of the generated set);
 *   density    1/(k M) sum over the M generated features of the number of real balls
 *              holding it (Naeem et al. 2020): about 1 when the sets match;
 *   coverage   the fraction of real balls holding at least one generated feature.
 * "Within" is strictly closer than the radius, and k = GC_PRDC_K for all four, as in
 * the reference implementation of Naeem et al. Distances are Euclidean, formed from
 * GEMMs in float and combined in double; a squared distance counts as closer when it
 * is below the squared radius by more than GC_PRDC_TIE of it, so that an exact tie (a
 * generated feature equal to a real one, lying on another's ball) is outside whatever
 * the GEMM's rounding, as the strict inequality has it.
 *
 * Pure functions over caller memory (they allocate their scratch), any thread. */
#ifndef GC_EVAL_SETS_H
#define GC_EVAL_SETS_H

#include <stddef.h>

#include "core/error.h"
#include "core/rng.h"

#define GC_KID_SUBSETS 100
#define GC_KID_SUBSET_SIZE 1000
#define GC_PRDC_K 5
#define GC_PRDC_TIE 1e-5

/* KID of a (na x d) against b (nb x d) over `subsets` subsets of m = min(size, na, nb)
 * features of each, drawn from rng (which advances). GC_EINVAL when m < 2. */
int gc_kid(const float *a, size_t na, const float *b, size_t nb, int d, int subsets, size_t size,
           struct gc_rng *rng, double *mean, double *std, struct gc_error *err);

/* The squared radius of each feature's k-NN ball in its own set (x is n x d, itself not
 * counted): r2[i] = the k-th smallest squared distance from x_i to the others.
 * GC_EINVAL when n <= k. */
int gc_knn_radii2(const float *x, size_t n, int d, int k, double *r2, struct gc_error *err);

struct gc_prdc {
    double precision, recall, density, coverage;
};

/* The four figures of fake (nf x d) against real (nr x d) with k = GC_PRDC_K, given the
 * real set's squared radii (gc_knn_radii2 with that k; the real set is often fixed, so
 * they are made once). */
int gc_prdc(const float *real, const double *real_r2, size_t nr, const float *fake, size_t nf,
            int d, struct gc_prdc *out, struct gc_error *err);

#endif
