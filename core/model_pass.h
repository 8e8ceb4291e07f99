/* model_pass.h — a model's forward and backward passes, and the pool they run on.
 * Part of the model's API: core/model.h includes it.
 *
 * Nothing here allocates but gc_model_set_pool. Shapes as in core/model.h: n samples
 * of the model's per-sample input and output sizes, n <= max_batch. */
#ifndef GC_MODEL_PASS_H
#define GC_MODEL_PASS_H

#include "core/error.h"

struct gc_comm;
struct gc_model;
struct gc_pool;

/* Runs the model's kernels on pool from now on (borrowed: it must outlive the model
 * or be replaced first; NULL runs them on the caller). The model's ping-pong gradients
 * and conv workspaces move into the pool's scratch, shared with every other model on
 * the pool (gc_pool_reserve; back into blocks of the model's own when it leaves the
 * pool), and each extra thread gets a gradient block. A clone shares its source's
 * pool. The model must be finalized. Each of the pool's threads calls gc_sgemm itself,
 * with OpenBLAS on one thread (gc_blas_init, core/blas.h). */
int gc_model_set_pool(struct gc_model *m, struct gc_pool *pool, struct gc_error *err);
/* Gives the pages of the model's scratch back to the system: the ping-pong gradient
 * buffers, the conv workspaces and the extra threads' gradient blocks, which no pass
 * leaves anything in for the next (the blocks are zero between passes, and zero is
 * what the pages read as when a pass touches them again). For the moments a passing
 * copy of the state needs the room: a trainer calls it before it serializes a
 * checkpoint, whose bytes would otherwise come on top of the scratch at the peak. */
void gc_model_release_scratch(struct gc_model *m);
/* Trains as one part of a batch split across the ranks of comm (borrowed; NULL or one
 * rank: alone). Every rank then runs the same forwards and backwards on equal parts
 * (n samples each), and a train forward and a backward through batch norm sum the
 * per-channel statistics across ranks (core/batchnorm.h), so each rank normalizes
 * with the whole batch's statistics. A failed sum is left in the communicator
 * (gc_comm_failed); the pass goes on with what it has. Eval forwards sum nothing.
 * Parameter gradients stay this rank's own: summing them is the caller's (one sum over
 * gc_model_grads). Allocates the sums' buffer; a clone shares the communicator. */
int gc_model_set_comm(struct gc_model *m, struct gc_comm *comm, struct gc_error *err);
/* Work (about a GEMM flop) below which a run of layers or a parameter update stays on
 * the caller; negative restores the default. Tests set 0 to split everything. */
void gc_model_set_split_threshold(struct gc_model *m, double cost);

/* With bf16 non-zero, every GEMM of the passes (linear and convolution layers, forward
 * and backward) rounds its inputs to bfloat16 and sums in float32 (core/blas.h
 * gc_gemm); parameters, gradients, activations and optimizer state stay float32.
 * Returns what will run: 1 only when asked and the CPU has AVX512-BF16, else 0
 * (float32). A clone keeps its source's precision. */
int gc_model_set_precision(struct gc_model *m, int bf16);

/* Forward of n samples (inp is n x in_size); train selects batch statistics for BN.
 * Returns the output (n x out_size), a view owned by the model, valid until the next
 * forward. */
const float *gc_model_forward(struct gc_model *m, const float *inp, int n, int train);
/* Backward of the last forward: accumulates parameter gradients and, when dinp is not
 * NULL, accumulates the gradient of the input into dinp (n x in_size). */
void gc_model_backward(struct gc_model *m, const float *dout, float *dinp);
/* The same, starting at the output of layer `layer` (0-based) with dout of that
 * layer's output size. */
void gc_model_backward_from(struct gc_model *m, int layer, const float *dout, float *dinp);
/* The same, forming only the gradients of the layer inputs: parameter gradients stay
 * as they are (a generator update needs only D's gradient with respect to its input,
 * and skips D's weight-gradient GEMMs, a tenth of a DCGAN step; feature matching
 * starts it at D's last hidden layer). */
void gc_model_backward_input(struct gc_model *m, int layer, const float *dout, float *dinp);
/* The backward of layers hi down to lo alone: the gradient of layer lo's input is
 * accumulated into dmid (n x that layer's input size), the parameter gradients of the
 * layers are formed when params is not 0. Followed by a backward from lo - 1 it is the
 * whole backward in two parts, so a caller can add a gradient of its own to the
 * output of layer lo - 1 in between (the projection discriminator adds its term's at
 * D's last features). */
void gc_model_backward_range(struct gc_model *m, int hi, int lo, const float *dout, float *dmid,
                             int params);

#endif
