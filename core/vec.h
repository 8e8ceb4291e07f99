/* vec.h — dst += src over a row of floats, in vector lanes: the loop that col2im's runs
 * and a linear layer's bias-gradient column sums both make, inline where they call it.
 *
 * The build's -O2 leaves the plain loop scalar; eight floats at a time, then four (the
 * rows of 4x4 grids), then one. Each float gets the plain loop's one addition, so the
 * bits are the same. dst and src must not overlap. */
#ifndef GC_VEC_H
#define GC_VEC_H

#include <string.h>

static inline void gc_add_row(float *restrict dst, const float *restrict src, int n)
{
    typedef float v8f __attribute__((vector_size(32)));
    typedef float v4f __attribute__((vector_size(16)));
    int t = 0;
    for (; t + 8 <= n; t += 8) {
        v8f a, b;
        memcpy(&a, dst + t, sizeof a);
        memcpy(&b, src + t, sizeof b);
        a += b;
        memcpy(dst + t, &a, sizeof a);
    }
    for (; t + 4 <= n; t += 4) {
        v4f a, b;
        memcpy(&a, dst + t, sizeof a);
        memcpy(&b, src + t, sizeof b);
        a += b;
        memcpy(dst + t, &a, sizeof a);
    }
    for (; t < n; t++)
        dst[t] += src[t];
}

#endif
