/* model_grad2.h — second-order passes: the parameter gradient of a function of a
 * model's input gradient (gradient penalties such as R1 and WGAN-GP). Part of the
 * model's API: core/model.h includes it.
 *
 * For a model f, an output gradient dout and a scalar P(g) of the input gradient
 * g = d<dout, f(x)>/dx:
 *
 *     gc_model_forward(m, x, n, train);
 *     gc_model_input_grad(m, dout, g);         g (n x in_size) += the input gradient
 *     ... the caller forms P(g) and v = dP/dg (n x in_size) ...
 *     gc_model_input_grad_backward(m, v);      grads += dP/d(parameters)
 *
 * The derivatives are exact: every layer has a second-order backward (linear, conv2d,
 * convt2d, batch norm in train and eval mode, relu, leaky relu, tanh, sigmoid,
 * reshape), and where a layer's input gradient depends on its input (batch norm's
 * statistics, tanh, sigmoid) that dependence is carried back through the layers below
 * by one more backward. Spectral norm's weights get gradients of their raw weights, as
 * in every backward. Nothing allocates after gc_model_grad2_enable; the passes split
 * over the model's pool as the first-order ones do (same bits for the same thread
 * count). */
#ifndef GC_MODEL_GRAD2_H
#define GC_MODEL_GRAD2_H

#include "core/error.h"

struct gc_model;

/* Allocates the blocks the passes need (two of the size of the activations); a clone
 * of such a model has them too. The model must be finalized. GC_ENOMEM; GC_EINVAL for
 * a model with a concat layer (the U-Net's skips: no second-order backward). */
int gc_model_grad2_enable(struct gc_model *m, struct gc_error *err);
/* 1 after gc_model_grad2_enable. */
int gc_model_grad2_enabled(const struct gc_model *m);

/* The backward of the last forward from dout (n x out_size) to the input, accumulated
 * into dinp (n x in_size), keeping every layer's output gradient for the pass below.
 * Parameter gradients are left alone. */
void gc_model_input_grad(struct gc_model *m, const float *dout, float *dinp);
/* Given ddinp = dP/d(dinp) for the dinp of the last gc_model_input_grad (with no
 * forward since), accumulates dP/d(parameters) into the gradients. */
void gc_model_input_grad_backward(struct gc_model *m, const float *ddinp);

#endif
