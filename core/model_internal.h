/* model_internal.h — a model's insides, shared by the rooms of core/model.
 *
 * Internal to the model_*.c files (model.c, model_pass.c, model_update.c,
 * model_state.c): only they include it. Everyone else sees struct gc_model as the
 * opaque handle of core/model.h. The layout of the blocks is told in model.c's
 * DESIGN, the threads in model_pass.c's. */
#ifndef GC_MODEL_INTERNAL_H
#define GC_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/conv.h"
#include "core/model.h"
#include "core/pool.h"
#include "core/spec.h"

/* Bound on any one block in floats: far below SIZE_MAX and int overflow in kernels. */
#define GC_MODEL_MAX_BLOCK_FLOATS ((size_t)1 << 31)
/* Work (layer_cost units: about one flop of a GEMM, ~0.02 ns on one core) below which
 * a layer, a run of layers or an update over the parameters stays on the calling
 * thread. A region costs a few microseconds on a quiet machine, but on a shared one
 * every region also waits for the slower thread: on 2 cores with 3 other busy
 * processes, splitting the ring8 MLP's ~50 us Adam, zero_grad and norm passes made
 * its step 2.5x slower, while runs of layers of ~100 us and more (4e6 units) still
 * ran 1.5x faster on 2 threads than on 1. */
#define GC_MODEL_MIN_SPLIT_COST 3e7
#define GC_MODEL_TSUM_STRIDE 8 /* doubles: one cache line per thread's partial sum */

/* Where a layer's backward reads its output gradient and writes its input gradient. */
struct gc_bplan {
    const float *d;
    float *dx; /* NULL: not needed */
    int zero;  /* dx is a ping-pong buffer to clear first (the kernels accumulate) */
};

struct gc_layer {
    enum gc_layer_kind kind;
    int c, h, w;    /* input shape per sample */
    int oc, oh, ow; /* output shape per sample */
    size_t in_size, out_size;
    int k, stride, pad, bias;
    float eps, momentum, slope;
    struct gc_conv cv;
    size_t w_off, w_n, b_off, b_n; /* into params / grads */
    size_t bn_off;                 /* into bn */
    size_t act_off;                /* output, into acts */
    int src;                       /* concat: the layer whose output follows the last one's */
    size_t skip_off;               /* concat: its part of the gradient for src, into dskip */
    int skip_src;                  /* 1 when a concat above takes this layer's output */
};

struct gc_model {
    int max_batch;
    int c, h, w;
    struct gc_layer *layers;
    int nlayers, cap;
    int finalized;

    float *params, *grads, *moments;
    size_t nparams;
    float *acts;
    float *dacts; /* two buffers of dsize each */
    size_t dsize;
    float *ws;
    size_t nws;
    float *dskip; /* per concat layer: the gradient of its src's part (max_batch rows) */
    size_t nskip;
    float *bn;
    size_t nbn;

    int last_n, last_train;
    int has_optim;
    struct gc_optim_spec optim;
    float lr_scale; /* times optim.lr for the next steps (a schedule); not checkpointed */
    int64_t step;

    /* threads (see gc_model_set_pool) */
    struct gc_pool *pool;  /* borrowed; NULL runs everything on the caller */
    int nth;               /* threads of pool, 1 without one */
    double min_split;      /* GC_MODEL_MIN_SPLIT_COST unless a test changed it */
    float *tgrads;         /* (nth - 1) x nparams: gradients of threads 1.. of a backward */
    float *tws;            /* (nth - 1) x nws: conv workspaces of threads 1.. */
    double *tsum;          /* nth x GC_MODEL_TSUM_STRIDE: partial sums of grad_norm */
    struct gc_bplan *plan; /* nlayers: the buffers of each layer in the current backward */
    int btop;              /* the layer the current backward started at */
};

/* [*b, *e): the share of thread ith of nth in [0, total), boundaries rounded down to a
 * multiple of align (so that threads do not write the same cache line). */
static inline void gc_model_split(size_t total, int ith, int nth, size_t align, size_t *b,
                                  size_t *e)
{
    size_t lo = total * (size_t)ith / (size_t)nth, hi = total * (size_t)(ith + 1) / (size_t)nth;
    *b = ith == 0 ? 0 : lo / align * align;
    *e = ith == nth - 1 ? total : hi / align * align;
}

#endif
