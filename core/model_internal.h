/* model_internal.h — a model's insides, shared by the rooms of core/model.
 *
 * Internal to the model_*.c files (model.c, model_pass.c, model_update.c,
 * model_state.c, model_sn.c, model_grad2.c): only they include it. Everyone else sees
 * struct gc_model as the opaque handle of core/model.h. The layout of the blocks is
 * told in model.c's DESIGN, the threads in model_pass.c's, spectral normalization in
 * model_sn.c's and the second-order passes in model_grad2.c's. */
#ifndef GC_MODEL_INTERNAL_H
#define GC_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/comm.h"
#include "core/conv.h"
#include "core/gemm.h"
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
    float *dx;         /* NULL: not needed */
    int zero;          /* dx is a buffer to clear first (the kernels accumulate) */
    const float *init; /* with zero: dx starts as a copy of this instead of 0 (a gradient
                        * of the layer's input that reaches it by another way) */
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
    int sn;                        /* spectral normalization of the weight (model_sn.c) */
    size_t sn_off;                 /* into snuv: u (sn_rows), v (sn_cols), sigma */
    size_t wsn_off;                /* into wsn: the normalized weight (w_n floats) */
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
    int keep_acts; /* no activation runs in place (gc_model_keep_activations) */

    float *params, *grads, *moments;
    size_t nparams;
    float *acts;
    float *dacts; /* two buffers of dsize each; NULL on a pool (spool) */
    size_t dsize;
    float *ws; /* one conv workspace; NULL on a pool */
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

    int bf16; /* GEMMs on bfloat16 inputs (gc_model_set_precision); conv layers also carry
                 it in cv.bf16 */

    /* threads (see gc_model_set_pool) */
    struct gc_pool *pool;  /* borrowed; NULL runs everything on the caller */
    int nth;               /* threads of pool, 1 without one */
    double min_split;      /* GC_MODEL_MIN_SPLIT_COST unless a test changed it */
    struct gc_pool *spool; /* the pool of any thread count whose scratch (gc_pool_reserve)
                              holds dacts and each thread's ws; NULL: the model's own */
    double *tsum;          /* nth x GC_MODEL_TSUM_STRIDE: partial sums of grad_norm */
    struct gc_bplan *plan; /* nlayers: the buffers of each layer in the current backward */
    size_t npack;          /* on a pool of several threads: the room, after the ping-pong buffers in
                              its shared scratch, for the conv weights a split region packs ahead */
    struct gc_gemm_packed_a *wpk; /* nlayers: those weights, of the region running now */

    /* spectral normalization (model_sn.c); all NULL / 0 without it */
    int nsn;        /* layers with spectral norm */
    float *snuv;    /* per such layer u, v (state: saved, copied) and sigma */
    size_t nsnuv;   /* floats of snuv */
    float *wsn;     /* the normalized weights of the last forward */
    float *snstash; /* a backward's earlier gradients of those weights, same layout */
    size_t nwsn;    /* floats of wsn and snstash */
    double *snacc;  /* the power iteration's sums: the most columns of such a layer */

    /* second-order passes (model_grad2.c); NULL until gc_model_grad2_enable */
    float *keep; /* acts layout: every layer's output gradient of gc_model_input_grad */
    float *adj;  /* acts layout: dP/d(layer input) through the layers' backward */
    int btop;    /* the layer the current backward started at */

    /* ranks (see gc_model_set_comm): batch norm's statistics are summed across them */
    struct gc_comm *comm; /* borrowed; NULL or one rank: nothing is summed */
    double *bnsync;       /* 4 x the widest batch norm's channels: the sums in flight */
};

/* The weight a layer's kernels use: the normalized copy under spectral norm. */
static inline const float *gc_model_weight(const struct gc_model *m, const struct gc_layer *l)
{
    return l->sn ? m->wsn + l->wsn_off : m->params + l->w_off;
}

/* The input of layer i for the last forward (the model's input copy for layer 0). */
static inline const float *gc_model_layer_in(const struct gc_model *m, int i)
{
    return i == 0 ? m->acts : m->acts + m->layers[i - 1].act_off;
}

/* Offset into an acts-layout block of layer i's input. */
static inline size_t gc_model_in_off(const struct gc_model *m, int i)
{
    return i == 0 ? 0 : m->layers[i - 1].act_off;
}

/* The two ping-pong gradient buffers (2 x dsize floats): the pool's shared scratch on a
 * pool, the model's own without one. Nothing in them lasts from one pass to the next. */
static inline float *gc_model_dacts(const struct gc_model *m)
{
    return m->spool ? gc_pool_shared(m->spool) : m->dacts;
}

/* Thread ith's conv workspace (nws floats), likewise. */
static inline float *gc_model_thread_ws(const struct gc_model *m, int ith)
{
    return m->spool ? gc_pool_thread_scratch(m->spool, ith) : m->ws;
}

/* Thread ith's parameter gradients: the model's for thread 0, for the others a block of
 * the same layout that the models on the pool share (gc_pool_reserve_grads), added in
 * and cleared by gc_model_reduce_grads. */
static inline float *gc_model_thread_grads(const struct gc_model *m, int ith)
{
    return ith == 0 ? m->grads : gc_pool_thread_grads(m->pool, ith);
}

/* ---- shared by the passes (model_pass.c) --------------------------------------------- */

/* A backward from layer `layer` down: dout is that layer's output gradient; dinp (may
 * be NULL) accumulates the model input's; params forms the parameter gradients; keep
 * (acts layout, NULL: the ping-pong buffers) receives every layer's input gradient;
 * init (acts layout, NULL: none) holds gradients of layer inputs from elsewhere, which
 * layers with init_layer[i] set add to theirs (init_layer may be NULL: none). Spectral
 * norm's conversion of the gradients is the caller's (gc_model_sn_stash / unstash). */
struct gc_backward_opts {
    const float *dout;
    float *dinp;
    int params;
    float *keep;
    const float *init;
    const unsigned char *init_layer;
    int stop; /* the lowest layer of the pass (0: the whole model), whose input gradient
               * accumulates into dinp */
};
void gc_model_backward_run(struct gc_model *m, int layer, const struct gc_backward_opts *o);
/* Lays the activations out again with none in place, each layer's output kept
 * whole, as the second-order passes need (their keep and adj buffers hold one slot
 * per layer in that layout). The activations' contents are lost: call it before the
 * first forward. */
int gc_model_keep_activations(struct gc_model *m, struct gc_error *err);
/* About the floating point work of a layer on n samples (the split threshold's unit). */
double gc_model_layer_cost(const struct gc_layer *l, int n);
/* A batch norm's channels [*c0, *c1) for thread ith of nth. */
void gc_model_split_channels(const struct gc_layer *l, int ith, int nth, int *c0, int *c1);
/* fn(arg, ith, nth) on the pool when cost pays for a region, else fn(arg, 0, 1). */
void gc_model_dispatch(struct gc_model *m, gc_pool_fn fn, void *arg, double cost);
/* 1 when gc_model_dispatch would split work of this cost over threads. */
int gc_model_splits(const struct gc_model *m, double cost);
/* Adds the threads' private gradient blocks into grads[0, p_end) and clears them. */
void gc_model_reduce_grads(struct gc_model *m, size_t p_end);

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
