/* optim.h — optimizer steps over flat parameter blocks, as PyTorch computes them.
 *
 * adam:    m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *          p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)      (t >= 1)
 * sgd:     v = mu v + g; p -= lr v   (mu = 0: plain SGD)
 * rmsprop: s = a s + (1-a) g^2; p -= lr g / (sqrt(s) + eps) */
#ifndef GC_OPTIM_H
#define GC_OPTIM_H

#include <stddef.h>
#include <stdint.h>

void gc_adam_step(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                  float beta2, float eps, int64_t t);
void gc_sgd_step(float *p, const float *g, float *vel, size_t n, float lr, float momentum);
void gc_rmsprop_step(float *p, const float *g, float *sq, size_t n, float lr, float alpha,
                     float eps);
/* Clips every value to [-c, c]. */
void gc_clip(float *p, size_t n, float c);
/* sqrt(sum g^2), accumulated in double. */
float gc_l2_norm(const float *g, size_t n);
/* sum g^2 in double, the square of gc_l2_norm before rounding (threads that split a
 * norm add their parts). */
double gc_sum_sq(const float *g, size_t n);

#endif
