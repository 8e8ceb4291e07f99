/* layer_check.h — helpers shared by the layer tests: random tensors, float-vs-double
 * comparison with a readable failure, and the gradient tolerance.
 *
 * The layer tests check every forward against a plain double-precision reference
 * written in the test and every backward against central finite differences of that
 * reference over the scalar loss sum(out * r) for a fixed random r, so dout = r. */
#ifndef LAYER_CHECK_H
#define LAYER_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

static inline float *lc_alloc(size_t n)
{
    /* exact sizes (at least one float) so that ASan sees any overrun */
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p)
        abort();
    return p;
}

static inline float *lc_random(struct gc_rng *r, size_t n)
{
    float *p = lc_alloc(n);
    gc_rng_fill_uniform(r, p, n, -1.0f, 1.0f);
    return p;
}

static inline float *lc_zeros(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p)
        abort();
    return p;
}

/* Number of elements where |got - want| > atol + rtol |want|; prints the first. */
static inline int lc_mismatches(const char *what, const float *got, const double *want, size_t n,
                                double atol, double rtol)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= atol + rtol * fabs(want[i]))) {
            if (!bad)
                fprintf(stderr, "%s[%zu]: got %.7g want %.7g\n", what, i, (double)got[i], want[i]);
            bad++;
        }
    }
    return bad;
}

/* x rounded to the nearest bfloat16, ties to even (x finite), as the bf16 GEMMs round
 * their inputs: the reference of a bf16 layer is the float32 layer on rounded inputs. */
static inline float lc_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* A copy of x[0..n) rounded to bfloat16. */
static inline float *lc_bf16_copy(const float *x, size_t n)
{
    float *p = lc_alloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = lc_bf16(x[i]);
    return p;
}

/* Tolerance of a float gradient against a double finite difference: float sums of a
 * few hundred terms of size ~1 carry errors around 1e-5..1e-4. */
#define LC_GRAD_ATOL 2e-4
#define LC_GRAD_RTOL 1e-3
#define LC_FD_STEP 1e-3

#endif
