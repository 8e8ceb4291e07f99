/* model.h — a network: an ordered list of layers over one arena.
 *
 * Built by appending layers to an input shape (C,H,W per sample; a vector is (F,1,1)),
 * then finalized: parameters, gradients, optimizer moments and activations each live
 * in ONE contiguous block and every tensor is a view into it, so zeroing the grads is
 * one memset, a deep copy a few memcpy and a checkpoint one write per block.
 *
 * Shapes are per sample; every call works on a batch n <= max_batch given at create.
 * Builders validate shapes and return GC_EINVAL with a message ("conv2d: kernel 4 is
 * larger than the padded input 2x2"). Forward/backward assume a finalized model.
 *
 * This header is the whole API: building and views here, and it includes
 * model_pass.h (the pool, forward, backward), model_update.h (the optimizer's step,
 * zero_grad, clip, grad_norm) and model_state.h (copy, save, load, serialize).
 *
 * Threads: a model is used by one thread at a time. With a pool (gc_model_set_pool)
 * forward, backward, step, zero_grad, clip and grad_norm split their work across the
 * pool's threads; the results are the same bits for the same thread count, and agree
 * with one thread to rounding (sums over the batch are added in another order). No
 * globals. */
#ifndef GC_MODEL_H
#define GC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/model_pass.h"
#include "core/model_state.h"
#include "core/model_update.h"
#include "core/rng.h"
#include "core/spec.h"

struct gc_model;

/* Layer kinds; their values are written into checkpoints (model_state.h): append,
 * never renumber. */
enum gc_layer_kind {
    GC_LAYER_LINEAR,
    GC_LAYER_CONV2D,
    GC_LAYER_CONVT2D,
    GC_LAYER_BATCHNORM,
    GC_LAYER_RELU,
    GC_LAYER_LEAKY_RELU,
    GC_LAYER_TANH,
    GC_LAYER_SIGMOID,
    GC_LAYER_RESHAPE,
    GC_LAYER_CONCAT,
};

enum gc_init {
    GC_INIT_DEFAULT, /* PyTorch's defaults: weights and biases U(-1/sqrt(fan_in), +1/sqrt(fan_in))
                      */
    GC_INIT_DCGAN,   /* DCGAN paper: weights N(0, 0.02), BN gamma N(1, 0.02), biases 0 */
};

/* The caller owns the model. Returns NULL with err set on bad sizes or no memory. */
struct gc_model *gc_model_create(int max_batch, int c, int h, int w, struct gc_error *err);
void gc_model_destroy(struct gc_model *m);

/* Builders: append one layer after the last. A linear layer flattens its input. */
int gc_model_add_linear(struct gc_model *m, int out, int bias, struct gc_error *err);
int gc_model_add_conv2d(struct gc_model *m, int oc, int k, int stride, int pad, int bias,
                        struct gc_error *err);
int gc_model_add_convt2d(struct gc_model *m, int oc, int k, int stride, int pad, int bias,
                         struct gc_error *err);
/* Over (N) for a vector input (C,1,1), over (N,H,W) per channel otherwise. */
int gc_model_add_batchnorm(struct gc_model *m, float eps, float momentum, struct gc_error *err);
int gc_model_add_relu(struct gc_model *m, struct gc_error *err);
int gc_model_add_leaky_relu(struct gc_model *m, float slope, struct gc_error *err);
int gc_model_add_tanh(struct gc_model *m, struct gc_error *err);
int gc_model_add_sigmoid(struct gc_model *m, struct gc_error *err);
int gc_model_add_reshape(struct gc_model *m, int c, int h, int w, struct gc_error *err);
/* A skip connection: the output is the last layer's output (C1,H,W) followed along the
 * channels by the output of the earlier layer `src` (C2,H,W), so (C1 + C2,H,W). Its
 * backward splits the gradient: the first C1 channels go down to the last layer as
 * usual, the rest are added to the gradient of layer src's output when the backward
 * reaches it (the U-Net's encoder-decoder skips). src is a layer index below the new
 * layer's; GC_EINVAL when it is not, or when the sides differ. */
int gc_model_add_concat(struct gc_model *m, int src, struct gc_error *err);

/* Allocates the blocks and initializes the parameters from rng. */
int gc_model_finalize(struct gc_model *m, enum gc_init init, struct gc_rng *rng,
                      struct gc_error *err);
/* Chooses the optimizer (zeroes its moments, which finalize allocated; resets its step
 * count). */
int gc_model_set_optim(struct gc_model *m, const struct gc_optim_spec *o, struct gc_error *err);

/* Sizes and views. */
int gc_model_nlayers(const struct gc_model *m);
enum gc_layer_kind gc_model_layer_kind(const struct gc_model *m, int layer);
size_t gc_model_in_size(const struct gc_model *m);  /* floats per sample */
size_t gc_model_out_size(const struct gc_model *m); /* floats per sample */
void gc_model_out_shape(const struct gc_model *m, int *c, int *h, int *w);
/* Output of layer `layer` for the last forward (n x size), and its per-sample shape. */
const float *gc_model_layer_output(const struct gc_model *m, int layer, int *c, int *h, int *w);
float *gc_model_params(struct gc_model *m, size_t *n);
float *gc_model_grads(struct gc_model *m, size_t *n);
/* Views of one layer's weight and bias (NULL when it has none) and their sizes. */
float *gc_model_layer_weight(struct gc_model *m, int layer, size_t *n);
float *gc_model_layer_bias(struct gc_model *m, int layer, size_t *n);
float *gc_model_layer_dweight(struct gc_model *m, int layer, size_t *n);
float *gc_model_layer_dbias(struct gc_model *m, int layer, size_t *n);
int gc_model_max_batch(const struct gc_model *m);
/* The name of a layer kind in messages: "linear", "conv2d", ...; "unknown" otherwise. */
const char *gc_model_kind_name(enum gc_layer_kind k);

/* Deep copy: architecture, parameters, optimizer state, BN running stats, the pool
 * (shared), the learning-rate scale and the split threshold. */
struct gc_model *gc_model_clone(const struct gc_model *m, struct gc_error *err);

#endif
