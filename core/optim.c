/* optim.c — Adam, SGD with momentum, RMSprop, weight clipping and the gradient norm.
 *
 * The updates follow PyTorch's formulas term by term (see optim.h), in float, so a run
 * here and the same run there agree to rounding. The bias corrections of Adam are
 * computed once per step in double: beta^t for large t underflows gracefully. */
#include "core/optim.h"

#include <math.h>

void gc_adam_step(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                  float beta2, float eps, int64_t t)
{
    if (t < 1)
        t = 1;
    float bc1 = (float)(1.0 - pow((double)beta1, (double)t));
    float sbc2 = (float)sqrt(1.0 - pow((double)beta2, (double)t));
    float step = lr / bc1;
    for (size_t i = 0; i < n; i++) {
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
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return (float)sqrt(s);
}
