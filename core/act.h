/* act.h — elementwise activations over n floats.
 *
 * Forward may run in place (out == inp). Backward computes dinp from dout and the
 * forward's input (relu, leaky relu) or output (tanh, sigmoid), and adds it into dinp
 * (+=) when add, or writes it (=, 0 + the value: the bits adding into zeros gives) into
 * a dinp that need not be zeroed. */
#ifndef GC_ACT_H
#define GC_ACT_H

#include <stddef.h>

void gc_relu_forward(float *out, const float *inp, size_t n);
void gc_relu_backward(float *dinp, int add, const float *dout, const float *inp, size_t n);
void gc_leaky_relu_forward(float *out, const float *inp, size_t n, float slope);
void gc_leaky_relu_backward(float *dinp, int add, const float *dout, const float *inp, size_t n,
                            float slope);
void gc_tanh_forward(float *out, const float *inp, size_t n);
void gc_tanh_backward(float *dinp, int add, const float *dout, const float *out, size_t n);
void gc_sigmoid_forward(float *out, const float *inp, size_t n);
void gc_sigmoid_backward(float *dinp, int add, const float *dout, const float *out, size_t n);

/* Second-order passes (double backward) of tanh and sigmoid, whose input gradient
 * dinp = dout f'(x) depends on x through f'. Given ggx = dP/d(dinp) for a scalar P:
 * ggout = ggx f'(x) (dP/d(dout)) is WRITTEN and ggin += ggx dout f''(x) (dP/dx through
 * the backward) is accumulated; either may be NULL. out is the forward's output. The
 * relus need none: their ggout is their backward of ggx, and f'' is 0 almost
 * everywhere. */
void gc_tanh_backward2(float *ggout, float *ggin, const float *ggx, const float *dout,
                       const float *out, size_t n);
void gc_sigmoid_backward2(float *ggout, float *ggin, const float *ggx, const float *dout,
                          const float *out, size_t n);

#endif
