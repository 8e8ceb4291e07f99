/* optim.c — Adam, SGD with momentum, RMSprop, weight clipping and the gradient norm.
 *
 * The updates follow PyTorch's formulas term by term (see optim.h), in float, so a run
 * here and the same run there agree to rounding. The bias corrections of Adam are
 * computed once per step in double: beta^t for large t underflows gracefully. */
#include "core/optim.h"

#include <math.h>
#ifdef __AVX__
#include <immintrin.h>
#endif

void gc_adam_step(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                  float beta2, float eps, int64_t t)
{
    if (t < 1)
        t = 1;
    float bc1 = (float)(1.0 - pow((double)beta1, (double)t));
    float sbc2 = (float)sqrt(1.0 - pow((double)beta2, (double)t));
    float step = lr / bc1;
    size_t i = 0;
#ifdef __AVX__
    /* eight at a time with the scalar loop's operations in its order (no fused
     * multiply-add, exactly rounded sqrt and divide): the same bits, and the update
     * no longer a seventh of a ring8 step */
    const __m256 b1 = _mm256_set1_ps(beta1), c1 = _mm256_set1_ps(1.0f - beta1);
    const __m256 b2 = _mm256_set1_ps(beta2), c2 = _mm256_set1_ps(1.0f - beta2);
    const __m256 s2 = _mm256_set1_ps(sbc2), ep = _mm256_set1_ps(eps), st = _mm256_set1_ps(step);
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_loadu_ps(g + i);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
                                  _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), s2), ep);
        __m256 pi =
            _mm256_sub_ps(_mm256_loadu_ps(p + i), _mm256_div_ps(_mm256_mul_ps(st, mi), denom));
        _mm256_storeu_ps(p + i, pi);
    }
#endif
    for (; i < n; i++) {
        float gi = g[i];
        m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
        v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        float denom = sqrtf(v[i]) / sbc2 + eps;
        p[i] -= step * m[i] / denom;
    }
}

void gc_sgd_step(float *p, const float *g, float *vel, size_t n, float lr, float momentum)
{
    if (momentum == 0.0f || !vel) {
        for (size_t i = 0; i < n; i++)
            p[i] -= lr * g[i];
        return;
    }
    for (size_t i = 0; i < n; i++) {
        vel[i] = momentum * vel[i] + g[i];
        p[i] -= lr * vel[i];
    }
}

void gc_rmsprop_step(float *p, const float *g, float *sq, size_t n, float lr, float alpha,
                     float eps)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        sq[i] = alpha * sq[i] + (1.0f - alpha) * gi * gi;
        p[i] -= lr * gi / (sqrtf(sq[i]) + eps);
    }
}

void gc_clip(float *p, size_t n, float c)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] > c)
            p[i] = c;
        else if (p[i] < -c)
            p[i] = -c;
    }
}

float gc_l2_norm(const float *g, size_t n)
{
    return (float)sqrt(gc_sum_sq(g, n));
}

double gc_sum_sq(const float *g, size_t n)
{
    /* four independent sums: one chain of dependent double adds ran at their latency */
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += (double)g[i] * g[i];
        s1 += (double)g[i + 1] * g[i + 1];
        s2 += (double)g[i + 2] * g[i + 2];
        s3 += (double)g[i + 3] * g[i + 3];
    }
    for (; i < n; i++)
        s0 += (double)g[i] * g[i];
    return (s0 + s1) + (s2 + s3);
}
