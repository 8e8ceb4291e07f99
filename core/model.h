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
#include "core/rng.h"
#include "core/serial.h"
#include "core/spec.h"

struct gc_model;
struct gc_pool;

/* gc_model_serialize's frame: magic "GCMD" (little-endian bytes 'G','C','M','D') and
 * the format version this build reads and writes. */
#define GC_MODEL_MAGIC 0x444d4347u
#define GC_MODEL_VERSION 1u

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
};

enum gc_init {
    GC_INIT_DEFAULT, /* PyTorch's defaults: weights and biases U(-1/sqrt(fan_in), +1/sqrt(fan_in)) */
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

/* Allocates the blocks and initializes the parameters from rng. */
int gc_model_finalize(struct gc_model *m, enum gc_init init, struct gc_rng *rng,
                      struct gc_error *err);
/* Chooses the optimizer (allocates its moments, zeroed; resets its step count). */
int gc_model_set_optim(struct gc_model *m, const struct gc_optim_spec *o, struct gc_error *err);

/* Runs the model's kernels on pool from now on (borrowed: it must outlive the model
 * or be replaced first; NULL runs them on the caller). Allocates a gradient block and
 * conv workspace per extra thread. A clone shares its source's pool. The model must
 * be finalized. With more than one thread, each thread calls gc_sgemm itself:
 * OpenBLAS should then run on one thread (gc_blas_set_threads(1)). */
int gc_model_set_pool(struct gc_model *m, struct gc_pool *pool, struct gc_error *err);
/* Work (about a GEMM flop) below which a run of layers or a parameter update stays on
 * the caller; negative restores the default. Tests set 0 to split everything. */
void gc_model_set_split_threshold(struct gc_model *m, double cost);

/* Forward of n samples (inp is n x in_size); train selects batch statistics for BN.
 * Returns the output (n x out_size), a view owned by the model, valid until the next
 * forward. */
const float *gc_model_forward(struct gc_model *m, const float *inp, int n, int train);
/* Backward of the last forward: accumulates parameter gradients and, when dinp is not
 * NULL, accumulates the gradient of the input into dinp (n x in_size). */
void gc_model_backward(struct gc_model *m, const float *dout, float *dinp);
/* The same, starting at the output of layer `layer` (0-based) with dout of that
 * layer's output size: feature matching takes G's loss at D's last hidden layer. */
void gc_model_backward_from(struct gc_model *m, int layer, const float *dout, float *dinp);
/* The same, forming only the gradients of the layer inputs: parameter gradients stay
 * as they are (a generator update needs only D's gradient with respect to its input,
 * and skips D's weight-gradient GEMMs, a tenth of a DCGAN step). */
void gc_model_backward_input(struct gc_model *m, int layer, const float *dout, float *dinp);

void gc_model_zero_grad(struct gc_model *m);
/* One optimizer step over all parameters with the current gradients. */
void gc_model_step(struct gc_model *m);
/* The steps that follow use the optimizer's learning rate times scale (> 0; 1 after
 * create): a learning-rate schedule. Not part of the saved state (the caller sets it
 * from its step count), nor of copy_state; clone copies it. */
void gc_model_set_lr_scale(struct gc_model *m, float scale);
/* L2 norm of all gradients. */
float gc_model_grad_norm(const struct gc_model *m);
/* Clips every parameter to [-c, c] (WGAN weight clipping). */
void gc_model_clip(struct gc_model *m, float c);

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

/* Deep copy: architecture, parameters, optimizer state, BN running stats. */
struct gc_model *gc_model_clone(const struct gc_model *m, struct gc_error *err);
/* Copies parameters, optimizer state and BN running stats between two models of the
 * same architecture without allocating (the unrolled GAN's look-ahead copy of D). */
int gc_model_copy_state(struct gc_model *dst, const struct gc_model *src, struct gc_error *err);

/* Appends / reads the model's state (a fingerprint of the architecture, parameters,
 * optimizer moments and step, BN running stats) as one section of a serial buffer.
 * Load rejects a state of another architecture. */
int gc_model_save(const struct gc_model *m, struct gc_buf *b);
int gc_model_load(struct gc_model *m, struct gc_reader *r, struct gc_error *err);
/* A stand-alone buffer: magic, format version, length, the state, CRC-32. */
int gc_model_serialize(const struct gc_model *m, uint8_t **out, size_t *len, struct gc_error *err);
int gc_model_deserialize(struct gc_model *m, const uint8_t *bytes, size_t len,
                         struct gc_error *err);

#endif
