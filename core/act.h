/* act.h — elementwise activations over n floats.
 *
 * Forward may run in place (out == inp). Backward accumulates (+=) dinp from dout
 * and the forward's input (relu, leaky relu) or output (tanh, sigmoid). */
#ifndef GC_ACT_H
#define GC_ACT_H

#include <stddef.h>

void gc_relu_forward(float *out, const float *inp, size_t n);
void gc_relu_backward(float *dinp, const float *dout, const float *inp, size_t n);
void gc_leaky_relu_forward(float *out, const float *inp, size_t n, float slope);
void gc_leaky_relu_backward(float *dinp, const float *dout, const float *inp, size_t n,
                            float slope);
void gc_tanh_forward(float *out, const float *inp, size_t n);
void gc_tanh_backward(float *dinp, const float *dout, const float *out, size_t n);
void gc_sigmoid_forward(float *out, const float *inp, size_t n);
void gc_sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);

#endif
