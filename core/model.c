/* model.c — a network as an ordered list of layers over a few contiguous blocks.
 *
 * DESIGN. Builders only record shapes. gc_model_finalize lays every tensor out as an
 * offset into one of these blocks, allocated once:
 *   params   weights and biases of every layer, in layer order (BN: gamma, beta)
 *   grads    the same layout
 *   moments  two vectors of nparams: Adam's m and v; SGD's velocity and RMSprop's
 *            square average use the first. Allocated with the model, so that
 *            gc_model_set_optim and gc_model_copy_state never allocate.
 *   acts     a copy of the input, then the output of every layer for max_batch
 *            (a reshape's output is a view of its input, it has no storage)
 *   dacts    two ping-pong gradient buffers, each as large as the largest activation
 *   ws       one conv workspace, as large as the largest conv layer needs (and one
 *            more per extra thread of a pool, with a gradient block: see THREADS)
 *   bn       per BN layer: running mean, running var, saved mean, saved invstd (C each)
 * Forward, backward and step allocate nothing. The input is copied into acts because a
 * caller's input (often another model's output) may change before the backward.
 *
 * Backward walks the layers down from the start layer; each layer's input gradient
 * goes into the ping-pong buffer the current gradient is not in (zeroed first, since
 * the kernels accumulate), and layer 0 accumulates straight into the caller's dinp.
 *
 * THREADS. With a pool of nth threads (gc_model_set_pool), each pass is a few
 * fork-join regions, and every kernel is the one-thread kernel on a slice:
 *   - a run of layers between batch norms is one region split by samples (thread
 *     ith takes samples [n*ith/nth, n*(ith+1)/nth) of every layer of the run: they
 *     depend only on its own samples of the layer before). In the backward a run is
 *     also cut where a layer would write a ping-pong buffer as rows of another size
 *     than a layer above read it (see same_rows);
 *   - a batch norm is a region split by channels (its statistics need every sample);
 *   - the parameter gradients of sample-split layers: thread 0 accumulates into
 *     grads, thread t > 0 into its own block tgrads[t - 1] of the same layout; at
 *     the end of the backward one region adds the blocks into grads in thread order,
 *     split by parameter range, and clears them. BN's dgamma and dbeta are channel
 *     disjoint and go straight into grads;
 *   - step, zero_grad, clip and grad_norm split the parameters by range (grad_norm
 *     adds per-thread sums in thread order).
 * So the bits depend on the thread count only, never on timing, and one thread runs
 * the same code as before there were threads. Work below min_split (see
 * MIN_SPLIT_COST) runs on the caller: a region is worth a few microseconds only on
 * a quiet machine. Each thread has its own conv workspace (ws for thread 0, tws).
 *
 * Checkpoint section (gc_model_save), all little-endian:
 *   u32 "GCMS" | u32 nlayers | per layer 11 u32: kind, c, h, w, oc, oh, ow, k, stride,
 *   pad, bias | u32 has_optim | u32 optim kind | f32 lr, beta1, beta2, eps | u64 step |
 *   u64 nparams | params | u32 moment vectors (0..2) | moments | u64 bn floats |
 *   per BN layer running mean (C), running var (C)
 * gc_model_serialize frames it with GC_MODEL_MAGIC and GC_MODEL_VERSION (model.h). */
#include "core/model.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/act.h"
#include "core/batchnorm.h"
#include "core/conv.h"
#include "core/linear.h"
#include "core/optim.h"
#include "core/pool.h"

#define MAX_MODEL_LAYERS 256
/* Bound on any one block in floats: far below SIZE_MAX and int overflow in kernels. */
#define MAX_BLOCK_FLOATS ((size_t)1 << 31)
#define SECTION_TAG 0x534d4347u /* "GCMS" */
#define FP_FIELDS 11
/* Work (layer_cost units: about one flop of a GEMM, ~0.02 ns on one core) below which
 * a layer, a run of layers or an update over the parameters stays on the calling
 * thread. A region costs a few microseconds on a quiet machine, but on a shared one
 * every region also waits for the slower thread: on 2 cores with 3 other busy
 * processes, splitting the ring8 MLP's ~50 us Adam, zero_grad and norm passes made
 * its step 2.5x slower, while runs of layers of ~100 us and more (4e6 units) still
 * ran 1.5x faster on 2 threads than on 1. */
#define MIN_SPLIT_COST 3e7
#define TSUM_STRIDE 8 /* doubles: one cache line per thread's partial sum */

/* Where a layer's backward reads its output gradient and writes its input gradient. */
struct bplan {
    const float *d;
    float *dx; /* NULL: not needed */
    int zero;  /* dx is a ping-pong buffer to clear first (the kernels accumulate) */
};

struct layer {
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
};

struct gc_model {
    int max_batch;
    int c, h, w;
    struct layer *layers;
    int nlayers, cap;
    int finalized;

    float *params, *grads, *moments;
    size_t nparams;
    float *acts;
    size_t nacts;
    float *dacts; /* two buffers of dsize each */
    size_t dsize;
    float *ws;
    size_t nws;
    float *bn;
    size_t nbn;

    int last_n, last_train;
    int has_optim;
    struct gc_optim_spec optim;
    float lr_scale; /* times optim.lr for the next steps (a schedule); not checkpointed */
    int64_t step;

    /* threads (see gc_model_set_pool) */
    struct gc_pool *pool; /* borrowed; NULL runs everything on the caller */
    int nth;              /* threads of pool, 1 without one */
    double min_split;     /* MIN_SPLIT_COST unless a test changed it */
    float *tgrads;        /* (nth - 1) x nparams: gradients of threads 1.. of a backward */
    float *tws;           /* (nth - 1) x nws: conv workspaces of threads 1.. */
    double *tsum;         /* nth x TSUM_STRIDE: partial sums of grad_norm */
    struct bplan *plan;   /* nlayers: the buffers of each layer in the current backward */
};

static const char *kind_name(enum gc_layer_kind k)
{
    switch (k) {
    case GC_LAYER_LINEAR:
        return "linear";
    case GC_LAYER_CONV2D:
        return "conv2d";
    case GC_LAYER_CONVT2D:
        return "convt2d";
    case GC_LAYER_BATCHNORM:
        return "batchnorm";
    case GC_LAYER_RELU:
        return "relu";
    case GC_LAYER_LEAKY_RELU:
        return "leaky_relu";
    case GC_LAYER_TANH:
        return "tanh";
    case GC_LAYER_SIGMOID:
        return "sigmoid";
    case GC_LAYER_RESHAPE:
        return "reshape";
    }
    return "unknown";
}

struct gc_model *gc_model_create(int max_batch, int c, int h, int w, struct gc_error *err)
{
    if (max_batch < 1 || c < 1 || h < 1 || w < 1) {
        gc_error_set(err, GC_EINVAL, "model: sizes must be positive (batch %d, input %dx%dx%d)",
                     max_batch, c, h, w);
        return NULL;
    }
    if ((size_t)c * h * w * (size_t)max_batch > MAX_BLOCK_FLOATS / 2) {
        gc_error_set(err, GC_ETOOBIG, "model: input %dx%dx%d times batch %d is too large", c, h, w,
                     max_batch);
        return NULL;
    }
    struct gc_model *m = calloc(1, sizeof *m);
    if (!m) {
        gc_error_set(err, GC_ENOMEM, "model: out of memory");
        return NULL;
    }
    m->max_batch = max_batch;
    m->nth = 1;
    m->min_split = MIN_SPLIT_COST;
    m->lr_scale = 1.0f;
    m->c = c;
    m->h = h;
    m->w = w;
    return m;
}

void gc_model_destroy(struct gc_model *m)
{
    if (!m)
        return;
    free(m->layers);
    free(m->params);
    free(m->grads);
    free(m->moments);
    free(m->acts);
    free(m->dacts);
    free(m->ws);
    free(m->bn);
    free(m->tgrads);
    free(m->tws);
    free(m->tsum);
    free(m->plan);
    free(m);
}

/* The shape the next layer receives. */
static void cur_shape(const struct gc_model *m, int *c, int *h, int *w)
{
    if (m->nlayers == 0) {
        *c = m->c;
        *h = m->h;
        *w = m->w;
    } else {
        const struct layer *l = &m->layers[m->nlayers - 1];
        *c = l->oc;
        *h = l->oh;
        *w = l->ow;
    }
}

/* *out: a zeroed layer reading the current shape, not yet appended (push_layer does
 * that once its arguments are checked). Fails when the model is closed or full. */
static int new_layer(struct gc_model *m, enum gc_layer_kind kind, struct layer **out,
                     struct gc_error *err)
{
    *out = NULL;
    if (m->finalized)
        return gc_error_set(err, GC_ESTATE, "%s: the model is already finalized", kind_name(kind));
    if (m->nlayers >= MAX_MODEL_LAYERS)
        return gc_error_set(err, GC_EINVAL, "%s: more than %d layers", kind_name(kind),
                            MAX_MODEL_LAYERS);
    if (m->nlayers == m->cap) {
        int cap = m->cap ? 2 * m->cap : 8;
        struct layer *p = realloc(m->layers, (size_t)cap * sizeof *p);
        if (!p)
            return gc_error_set(err, GC_ENOMEM, "%s: out of memory", kind_name(kind));
        m->layers = p;
        m->cap = cap;
    }
    struct layer *l = &m->layers[m->nlayers];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    cur_shape(m, &l->c, &l->h, &l->w);
    l->in_size = (size_t)l->c * l->h * l->w;
    l->oc = l->c;
    l->oh = l->h;
    l->ow = l->w;
    *out = l;
    return 0;
}

/* Checks the output of l fits and appends it. */
static int push_layer(struct gc_model *m, struct layer *l, struct gc_error *err)
{
    l->out_size = (size_t)l->oc * l->oh * l->ow;
    if (l->out_size * (size_t)m->max_batch > MAX_BLOCK_FLOATS / 4)
        return gc_error_set(err, GC_ETOOBIG, "%s: output %dx%dx%d times batch %d is too large",
                            kind_name(l->kind), l->oc, l->oh, l->ow, m->max_batch);
    if ((l->w_n + l->b_n) > MAX_BLOCK_FLOATS / 4)
        return gc_error_set(err, GC_ETOOBIG, "%s: too many parameters (%zu)", kind_name(l->kind),
                            l->w_n + l->b_n);
    m->nlayers++;
    return 0;
}

int gc_model_add_linear(struct gc_model *m, int out, int bias, struct gc_error *err)
{
    struct layer *l;
    int rc0 = new_layer(m, GC_LAYER_LINEAR, &l, err);
    if (rc0 < 0)
        return rc0;
    if (out < 1)
        return gc_error_set(err, GC_EINVAL, "linear: output size %d < 1", out);
    if (l->in_size > INT32_MAX || (size_t)out * l->in_size > MAX_BLOCK_FLOATS / 4)
        return gc_error_set(err, GC_ETOOBIG, "linear: %zu x %d weights are too many", l->in_size,
                            out);
    l->bias = bias != 0;
    l->oc = out;
    l->oh = l->ow = 1;
    l->w_n = (size_t)out * l->in_size;
    l->b_n = l->bias ? (size_t)out : 0;
    return push_layer(m, l, err);
}

static int add_conv(struct gc_model *m, enum gc_layer_kind kind, int oc, int k, int stride, int pad,
                    int bias, struct gc_error *err)
{
    struct layer *l;
    int rc0 = new_layer(m, kind, &l, err);
    if (rc0 < 0)
        return rc0;
    const char *name = kind_name(kind);
    if (kind == GC_LAYER_CONV2D && k >= 1 && pad >= 0 && pad < k &&
        ((int64_t)l->h + 2 * (int64_t)pad < k || (int64_t)l->w + 2 * (int64_t)pad < k))
        return gc_error_set(err, GC_EINVAL, "%s: kernel %d is larger than the padded input %dx%d",
                            name, k, l->h + 2 * pad, l->w + 2 * pad);
    int rc = kind == GC_LAYER_CONV2D
                 ? gc_conv2d_init(&l->cv, m->max_batch, l->c, l->h, l->w, oc, k, stride, pad, err)
                 : gc_convt2d_init(&l->cv, m->max_batch, l->c, l->h, l->w, oc, k, stride, pad, err);
    if (rc < 0)
        return rc;
    l->k = k;
    l->stride = stride;
    l->pad = pad;
    l->bias = bias != 0;
    l->oc = oc;
    l->oh = l->cv.oh;
    l->ow = l->cv.ow;
    l->w_n = (size_t)l->c * oc * k * k;
    l->b_n = l->bias ? (size_t)oc : 0;
    if (gc_conv_workspace(&l->cv) > MAX_BLOCK_FLOATS / 2)
        return gc_error_set(err, GC_ETOOBIG, "%s: workspace for batch %d is too large", name,
                            m->max_batch);
    return push_layer(m, l, err);
}

int gc_model_add_conv2d(struct gc_model *m, int oc, int k, int stride, int pad, int bias,
                        struct gc_error *err)
{
    return add_conv(m, GC_LAYER_CONV2D, oc, k, stride, pad, bias, err);
}

int gc_model_add_convt2d(struct gc_model *m, int oc, int k, int stride, int pad, int bias,
                         struct gc_error *err)
{
    return add_conv(m, GC_LAYER_CONVT2D, oc, k, stride, pad, bias, err);
}

int gc_model_add_batchnorm(struct gc_model *m, float eps, float momentum, struct gc_error *err)
{
    struct layer *l;
    int rc0 = new_layer(m, GC_LAYER_BATCHNORM, &l, err);
    if (rc0 < 0)
        return rc0;
    if (!(eps > 0.0f) || !isfinite(eps))
        return gc_error_set(err, GC_EINVAL, "batchnorm: eps %g must be positive", (double)eps);
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return gc_error_set(err, GC_EINVAL, "batchnorm: momentum %g outside [0, 1]",
                            (double)momentum);
    l->eps = eps;
    l->momentum = momentum;
    l->w_n = l->b_n = (size_t)l->c;
    l->bias = 1;
    return push_layer(m, l, err);
}

static int add_act(struct gc_model *m, enum gc_layer_kind kind, float slope, struct gc_error *err)
{
    struct layer *l;
    int rc0 = new_layer(m, kind, &l, err);
    if (rc0 < 0)
        return rc0;
    if (!isfinite(slope))
        return gc_error_set(err, GC_EINVAL, "%s: slope is not finite", kind_name(kind));
    l->slope = slope;
    return push_layer(m, l, err);
}

int gc_model_add_relu(struct gc_model *m, struct gc_error *err)
{
    return add_act(m, GC_LAYER_RELU, 0.0f, err);
}

int gc_model_add_leaky_relu(struct gc_model *m, float slope, struct gc_error *err)
{
    return add_act(m, GC_LAYER_LEAKY_RELU, slope, err);
}

int gc_model_add_tanh(struct gc_model *m, struct gc_error *err)
{
    return add_act(m, GC_LAYER_TANH, 0.0f, err);
}

int gc_model_add_sigmoid(struct gc_model *m, struct gc_error *err)
{
    return add_act(m, GC_LAYER_SIGMOID, 0.0f, err);
}

int gc_model_add_reshape(struct gc_model *m, int c, int h, int w, struct gc_error *err)
{
    struct layer *l;
    int rc0 = new_layer(m, GC_LAYER_RESHAPE, &l, err);
    if (rc0 < 0)
        return rc0;
    if (c < 1 || h < 1 || w < 1)
        return gc_error_set(err, GC_EINVAL, "reshape: sizes must be positive (%dx%dx%d)", c, h, w);
    if ((size_t)c * h * w != l->in_size)
        return gc_error_set(err, GC_EINVAL,
                            "reshape: %dx%dx%d holds %zu values, the input %dx%dx%d "
                            "holds %zu",
                            c, h, w, (size_t)c * h * w, l->c, l->h, l->w, l->in_size);
    l->oc = c;
    l->oh = h;
    l->ow = w;
    return push_layer(m, l, err);
}

/* Lays out the blocks of a model whose layers are all added, and allocates them zeroed.
 * Shared by finalize and clone. */
static int alloc_blocks(struct gc_model *m, struct gc_error *err)
{
    size_t np = 0, nbn = 0, nws = 0, dmax = 0;
    size_t na = (size_t)m->max_batch * m->c * m->h * m->w; /* the input copy */
    size_t prev_off = 0;
    for (int i = 0; i < m->nlayers; i++) {
        struct layer *l = &m->layers[i];
        l->w_off = np;
        np += l->w_n;
        l->b_off = np;
        np += l->b_n;
        if (l->kind == GC_LAYER_BATCHNORM) {
            l->bn_off = nbn;
            nbn += 4 * (size_t)l->c;
        }
        if (l->kind == GC_LAYER_CONV2D || l->kind == GC_LAYER_CONVT2D) {
            size_t s = gc_conv_workspace(&l->cv);
            nws = s > nws ? s : nws;
        }
        if (l->kind == GC_LAYER_RESHAPE) {
            l->act_off = prev_off;
        } else {
            l->act_off = na;
            na += (size_t)m->max_batch * l->out_size;
        }
        prev_off = l->act_off;
        size_t d = (size_t)m->max_batch * (l->in_size > l->out_size ? l->in_size : l->out_size);
        dmax = d > dmax ? d : dmax;
        if (np > MAX_BLOCK_FLOATS || na > MAX_BLOCK_FLOATS)
            return gc_error_set(err, GC_ETOOBIG,
                                "model: too large (%zu parameters, %zu "
                                "activations at layer %d)",
                                np, na, i);
    }
    m->nparams = np;
    m->nacts = na;
    m->nbn = nbn;
    m->nws = nws;
    m->dsize = dmax;
    /* calloc(0) may return NULL: ask for at least one float */
    m->params = calloc(np ? np : 1, sizeof(float));
    m->grads = calloc(np ? np : 1, sizeof(float));
    m->moments = calloc(np ? 2 * np : 1, sizeof(float));
    m->acts = calloc(na, sizeof(float));
    m->dacts = calloc(2 * dmax, sizeof(float));
    m->ws = calloc(nws ? nws : 1, sizeof(float));
    m->bn = calloc(nbn ? nbn : 1, sizeof(float));
    m->plan = calloc((size_t)m->nlayers, sizeof *m->plan);
    if (!m->params || !m->grads || !m->moments || !m->acts || !m->dacts || !m->ws || !m->bn ||
        !m->plan)
        return gc_error_set(err, GC_ENOMEM,
                            "model: out of memory for %zu parameters and %zu "
                            "activations",
                            np, na);
    for (int i = 0; i < m->nlayers; i++) {
        const struct layer *l = &m->layers[i];
        if (l->kind == GC_LAYER_BATCHNORM) /* running var starts at 1 */
            for (int j = 0; j < l->c; j++)
                m->bn[l->bn_off + (size_t)l->c + j] = 1.0f;
    }
    m->finalized = 1;
    return 0;
}

static size_t fan_in(const struct layer *l)
{
    switch (l->kind) {
    case GC_LAYER_LINEAR:
        return l->in_size;
    case GC_LAYER_CONV2D:
        return (size_t)l->c * l->k * l->k;
    case GC_LAYER_CONVT2D: /* PyTorch takes dim 1 of the (C,OC,K,K) weight */
        return (size_t)l->oc * l->k * l->k;
    default:
        return 1;
    }
}

int gc_model_finalize(struct gc_model *m, enum gc_init init, struct gc_rng *rng,
                      struct gc_error *err)
{
    if (m->finalized)
        return gc_error_set(err, GC_ESTATE, "model: already finalized");
    if (m->nlayers == 0)
        return gc_error_set(err, GC_EINVAL, "model: no layers");
    if (init != GC_INIT_DEFAULT && init != GC_INIT_DCGAN)
        return gc_error_set(err, GC_EINVAL, "model: unknown initialization %d", (int)init);
    int rc = alloc_blocks(m, err);
    if (rc < 0) {
        m->finalized = 0;
        return rc;
    }
    for (int i = 0; i < m->nlayers; i++) {
        const struct layer *l = &m->layers[i];
        float *w = m->params + l->w_off, *b = m->params + l->b_off;
        if (l->kind == GC_LAYER_BATCHNORM) {
            if (init == GC_INIT_DCGAN)
                gc_rng_fill_normal(rng, w, l->w_n, 1.0f, 0.02f);
            else
                for (size_t j = 0; j < l->w_n; j++)
                    w[j] = 1.0f;
            memset(b, 0, l->b_n * sizeof *b); /* beta */
        } else if (l->w_n) {
            if (init == GC_INIT_DCGAN) {
                gc_rng_fill_normal(rng, w, l->w_n, 0.0f, 0.02f);
                memset(b, 0, l->b_n * sizeof *b);
            } else {
                float bound = (float)(1.0 / sqrt((double)fan_in(l)));
                gc_rng_fill_uniform(rng, w, l->w_n, -bound, bound);
                gc_rng_fill_uniform(rng, b, l->b_n, -bound, bound);
            }
        }
    }
    return 0;
}

int gc_model_set_optim(struct gc_model *m, const struct gc_optim_spec *o, struct gc_error *err)
{
    if (!m->finalized)
        return gc_error_set(err, GC_ESTATE, "optimizer: the model is not finalized");
    if (o->kind != GC_OPTIM_ADAM && o->kind != GC_OPTIM_SGD && o->kind != GC_OPTIM_RMSPROP)
        return gc_error_set(err, GC_EINVAL, "optimizer: unknown kind %d", (int)o->kind);
    if (!(o->lr > 0.0f) || !isfinite(o->lr))
        return gc_error_set(err, GC_EINVAL, "optimizer: learning rate %g must be positive",
                            (double)o->lr);
    if (o->kind == GC_OPTIM_ADAM &&
        !(o->beta1 >= 0.0f && o->beta1 < 1.0f && o->beta2 >= 0.0f && o->beta2 < 1.0f))
        return gc_error_set(err, GC_EINVAL, "adam: betas (%g, %g) outside [0, 1)", (double)o->beta1,
                            (double)o->beta2);
    if (o->kind == GC_OPTIM_SGD && !(o->beta1 >= 0.0f && o->beta1 < 1.0f))
        return gc_error_set(err, GC_EINVAL, "sgd: momentum %g outside [0, 1)", (double)o->beta1);
    if (o->kind == GC_OPTIM_RMSPROP && !(o->beta2 >= 0.0f && o->beta2 < 1.0f))
        return gc_error_set(err, GC_EINVAL, "rmsprop: alpha %g outside [0, 1)", (double)o->beta2);
    if (o->kind != GC_OPTIM_SGD && !(o->eps >= 0.0f))
        return gc_error_set(err, GC_EINVAL, "optimizer: eps %g must not be negative",
                            (double)o->eps);
    m->optim = *o;
    m->has_optim = 1;
    m->step = 0;
    memset(m->moments, 0, 2 * m->nparams * sizeof(float));
    return 0;
}

static const float *layer_in(const struct gc_model *m, int i)
{
    return i == 0 ? m->acts : m->acts + m->layers[i - 1].act_off;
}

/* ---- threads ------------------------------------------------------------------------ */

int gc_model_set_pool(struct gc_model *m, struct gc_pool *pool, struct gc_error *err)
{
    if (!m->finalized)
        return gc_error_set(err, GC_ESTATE, "model: pool for a model not finalized");
    int nth = gc_pool_threads(pool);
    float *tg = NULL, *tw = NULL;
    double *ts = NULL;
    if (nth > 1) {
        size_t extra = (size_t)nth - 1;
        tg = calloc(extra * m->nparams + 1, sizeof(float));
        tw = calloc(extra * m->nws + 1, sizeof(float));
        ts = calloc((size_t)nth * TSUM_STRIDE, sizeof(double));
        if (!tg || !tw || !ts) {
            free(tg);
            free(tw);
            free(ts);
            return gc_error_set(err, GC_ENOMEM, "model: out of memory for %d threads", nth);
        }
    }
    free(m->tgrads);
    free(m->tws);
    free(m->tsum);
    m->tgrads = tg;
    m->tws = tw;
    m->tsum = ts;
    m->pool = nth > 1 ? pool : NULL;
    m->nth = nth;
    return 0;
}

void gc_model_set_split_threshold(struct gc_model *m, double cost)
{
    m->min_split = cost < 0.0 ? MIN_SPLIT_COST : cost;
}

/* [*b, *e): the share of thread ith of nth in [0, total), boundaries rounded down to a
 * multiple of align (so that threads do not write the same cache line). */
static void split(size_t total, int ith, int nth, size_t align, size_t *b, size_t *e)
{
    size_t lo = total * (size_t)ith / (size_t)nth, hi = total * (size_t)(ith + 1) / (size_t)nth;
    *b = ith == 0 ? 0 : lo / align * align;
    *e = ith == nth - 1 ? total : hi / align * align;
}

/* BN channels of thread ith: whole 16-float runs of a feature row (S = 1). */
static void split_channels(const struct layer *l, int ith, int nth, int *c0, int *c1)
{
    size_t b, e;
    split((size_t)l->c, ith, nth, l->h * l->w == 1 ? 16 : 1, &b, &e);
    *c0 = (int)b;
    *c1 = (int)e;
}

/* Work of a layer on n samples, in floating point operations or floats touched:
 * enough to tell a layer worth a parallel region from one that is not. */
static double layer_cost(const struct layer *l, int n)
{
    switch (l->kind) {
    case GC_LAYER_LINEAR:
        return 2.0 * n * (double)l->w_n;
    case GC_LAYER_CONV2D:
        return 2.0 * n * (double)l->w_n * l->oh * l->ow;
    case GC_LAYER_CONVT2D:
        return 2.0 * n * (double)l->w_n * l->h * l->w;
    case GC_LAYER_BATCHNORM: /* passes in double: ~0.4 ns a float */
        return 20.0 * n * (double)l->in_size;
    case GC_LAYER_TANH:
    case GC_LAYER_SIGMOID:
        return 30.0 * n * (double)l->out_size;
    case GC_LAYER_RELU:
    case GC_LAYER_LEAKY_RELU:
        return 6.0 * n * (double)l->out_size;
    case GC_LAYER_RESHAPE:
        break;
    }
    return 0.0;
}

/* Layers [lo, hi] of one parallel region (or of one inline call). */
struct job {
    struct gc_model *m;
    int lo, hi;
    int n;
    int train;  /* forward */
    int params; /* backward: form the parameter gradients */
    float *dinp;
    size_t p_end; /* reduce_task: the parameters [0, p_end) */
};

/* Runs j on the pool when its work pays for a region, else on the caller. */
static void dispatch(struct gc_model *m, gc_pool_fn fn, struct job *j, double cost)
{
    if (m->nth > 1 && cost >= m->min_split)
        gc_pool_run(m->pool, fn, j);
    else
        fn(j, 0, 1);
}

static float *thread_ws(const struct gc_model *m, int ith)
{
    return ith == 0 ? m->ws : m->tws + (size_t)(ith - 1) * m->nws;
}

static float *thread_grads(const struct gc_model *m, int ith)
{
    return ith == 0 ? m->grads : m->tgrads + (size_t)(ith - 1) * m->nparams;
}

/* ---- forward ------------------------------------------------------------------------ */

/* Layer i on samples [s0, s0 + n): the same kernels over fewer rows. */
static void forward_samples(struct gc_model *m, int i, int s0, int n, float *ws)
{
    const struct layer *l = &m->layers[i];
    const float *x = layer_in(m, i) + (size_t)s0 * l->in_size;
    float *y = m->acts + l->act_off + (size_t)s0 * l->out_size;
    const float *w = m->params + l->w_off;
    const float *b = l->b_n ? m->params + l->b_off : NULL;
    size_t cnt = (size_t)n * l->out_size;
    switch (l->kind) {
    case GC_LAYER_LINEAR:
        gc_linear_forward(y, x, w, b, n, (int)l->in_size, l->oc);
        break;
    case GC_LAYER_CONV2D:
        gc_conv2d_forward(&l->cv, n, y, x, w, b, ws);
        break;
    case GC_LAYER_CONVT2D:
        gc_convt2d_forward(&l->cv, n, y, x, w, b, ws);
        break;
    case GC_LAYER_RELU:
        gc_relu_forward(y, x, cnt);
        break;
    case GC_LAYER_LEAKY_RELU:
        gc_leaky_relu_forward(y, x, cnt, l->slope);
        break;
    case GC_LAYER_TANH:
        gc_tanh_forward(y, x, cnt);
        break;
    case GC_LAYER_SIGMOID:
        gc_sigmoid_forward(y, x, cnt);
        break;
    case GC_LAYER_BATCHNORM: /* by channels, see forward_task */
    case GC_LAYER_RESHAPE:   /* a view of its input */
        break;
    }
}

/* A BN layer by channels, or a run of other layers by samples: a sample's rows of
 * every layer of the run depend only on its rows of the layer before. */
static void forward_task(void *arg, int ith, int nth)
{
    struct job *j = arg;
    struct gc_model *m = j->m;
    const struct layer *l = &m->layers[j->lo];
    if (l->kind == GC_LAYER_BATCHNORM) {
        int c0, c1;
        split_channels(l, ith, nth, &c0, &c1);
        float *s = m->bn + l->bn_off;
        const float *w = m->params + l->w_off, *b = m->params + l->b_off;
        gc_batchnorm_forward_range(m->acts + l->act_off, layer_in(m, j->lo), w, b, s, s + l->c,
                                   s + 2 * l->c, s + 3 * l->c, j->n, l->c, l->h * l->w, l->eps,
                                   l->momentum, j->train, c0, c1);
        return;
    }
    size_t s0, s1;
    split((size_t)j->n, ith, nth, 1, &s0, &s1);
    if (s1 == s0)
        return;
    float *ws = thread_ws(m, ith);
    for (int i = j->lo; i <= j->hi; i++)
        forward_samples(m, i, (int)s0, (int)(s1 - s0), ws);
}

const float *gc_model_forward(struct gc_model *m, const float *inp, int n, int train)
{
    assert(m->finalized && n >= 1 && n <= m->max_batch);
    memcpy(m->acts, inp, (size_t)n * gc_model_in_size(m) * sizeof(float));
    struct job j = {.m = m, .n = n, .train = train};
    for (int i = 0; i < m->nlayers;) {
        double cost = layer_cost(&m->layers[i], n);
        int hi = i;
        if (m->layers[i].kind != GC_LAYER_BATCHNORM)
            while (hi + 1 < m->nlayers && m->layers[hi + 1].kind != GC_LAYER_BATCHNORM)
                cost += layer_cost(&m->layers[++hi], n);
        j.lo = i;
        j.hi = hi;
        dispatch(m, forward_task, &j, cost);
        i = hi + 1;
    }
    m->last_n = n;
    m->last_train = train != 0;
    return m->acts + m->layers[m->nlayers - 1].act_off;
}

/* ---- backward ----------------------------------------------------------------------- */

/* BN backward after an eval forward, channels [c0, c1): a fixed affine map per
 * channel. */
static void batchnorm_eval_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                                    const float *inp, const float *gamma, const float *rmean,
                                    const float *rvar, int n, int c, int s, float eps, int c0,
                                    int c1)
{
    for (int ch = c0; ch < c1; ch++) {
        float invstd = (float)(1.0 / sqrt((double)rvar[ch] + eps));
        double dg = 0.0, db = 0.0;
        for (int i = 0; i < n; i++) {
            size_t o = ((size_t)i * c + ch) * s;
            for (int j = 0; j < s; j++) {
                dg += (double)dout[o + j] * (inp[o + j] - rmean[ch]) * invstd;
                db += dout[o + j];
                if (dinp)
                    dinp[o + j] += dout[o + j] * gamma[ch] * invstd;
            }
        }
        if (dgamma)
            dgamma[ch] += (float)dg;
        if (dbeta)
            dbeta[ch] += (float)db;
    }
}

/* BN layer i by channels: dgamma and dbeta of a channel belong to one thread, so
 * they go straight into the model's gradients. */
static void backward_bn(struct gc_model *m, int i, int n, int params, int ith, int nth)
{
    const struct layer *l = &m->layers[i];
    const struct bplan *pl = &m->plan[i];
    int c0, c1;
    split_channels(l, ith, nth, &c0, &c1);
    const int sp = l->h * l->w;
    float *dx = pl->dx;
    if (dx && pl->zero)
        for (int k = 0; k < n; k++)
            memset(dx + ((size_t)k * l->c + c0) * sp, 0, (size_t)(c1 - c0) * sp * sizeof *dx);
    float *dw = params ? m->grads + l->w_off : NULL;
    float *db = params ? m->grads + l->b_off : NULL;
    const float *x = layer_in(m, i), *w = m->params + l->w_off;
    const float *s = m->bn + l->bn_off;
    if (m->last_train)
        gc_batchnorm_backward_range(dx, dw, db, pl->d, x, w, s + 2 * l->c, s + 3 * l->c, n, l->c,
                                    sp, c0, c1);
    else if (dw || dx)
        batchnorm_eval_backward(dx, dw, db, pl->d, x, w, s, s + l->c, n, l->c, sp, l->eps, c0, c1);
}

/* Layer i on samples [s0, s0 + n); parameter gradients go to grads (the model's for
 * thread 0, a private block of the same layout for the others), or nowhere when NULL. */
static void backward_samples(struct gc_model *m, int i, int s0, int n, float *grads, float *dinp,
                             float *ws)
{
    const struct layer *l = &m->layers[i];
    const struct bplan *pl = &m->plan[i];
    const float *d = pl->d + (size_t)s0 * l->out_size;
    size_t cnt = (size_t)n * l->out_size;
    if (l->kind == GC_LAYER_RESHAPE) {
        /* the same values in another shape: the gradient passes through */
        if (i == 0 && dinp)
            for (size_t k = 0; k < cnt; k++)
                dinp[(size_t)s0 * l->in_size + k] += d[k];
        return;
    }
    const float *x = layer_in(m, i) + (size_t)s0 * l->in_size;
    const float *y = m->acts + l->act_off + (size_t)s0 * l->out_size;
    const float *w = m->params + l->w_off;
    float *dw = grads ? grads + l->w_off : NULL;
    float *db = grads && l->b_n ? grads + l->b_off : NULL;
    float *dx = pl->dx ? pl->dx + (size_t)s0 * l->in_size : NULL;
    if (dx && pl->zero)
        memset(dx, 0, (size_t)n * l->in_size * sizeof *dx);
    switch (l->kind) {
    case GC_LAYER_LINEAR:
        gc_linear_backward(dx, dw, db, d, x, w, n, (int)l->in_size, l->oc);
        break;
    case GC_LAYER_CONV2D:
        gc_conv2d_backward(&l->cv, n, dx, dw, db, d, x, w, ws);
        break;
    case GC_LAYER_CONVT2D:
        gc_convt2d_backward(&l->cv, n, dx, dw, db, d, x, w, ws);
        break;
    case GC_LAYER_RELU:
        if (dx)
            gc_relu_backward(dx, d, x, cnt);
        break;
    case GC_LAYER_LEAKY_RELU:
        if (dx)
            gc_leaky_relu_backward(dx, d, x, cnt, l->slope);
        break;
    case GC_LAYER_TANH:
        if (dx)
            gc_tanh_backward(dx, d, y, cnt);
        break;
    case GC_LAYER_SIGMOID:
        if (dx)
            gc_sigmoid_backward(dx, d, y, cnt);
        break;
    case GC_LAYER_BATCHNORM:
    case GC_LAYER_RESHAPE:
        break;
    }
}

/* Layers hi down to lo: a BN layer by channels, or a run of other layers by samples. */
static void backward_task(void *arg, int ith, int nth)
{
    struct job *j = arg;
    struct gc_model *m = j->m;
    if (m->layers[j->hi].kind == GC_LAYER_BATCHNORM) {
        backward_bn(m, j->hi, j->n, j->params, ith, nth);
        return;
    }
    size_t s0, s1;
    split((size_t)j->n, ith, nth, 1, &s0, &s1);
    if (s1 == s0)
        return;
    float *grads = j->params ? thread_grads(m, ith) : NULL;
    float *ws = thread_ws(m, ith);
    for (int i = j->hi; i >= j->lo; i--)
        backward_samples(m, i, (int)s0, (int)(s1 - s0), grads, j->dinp, ws);
}

/* grads[0, p_end) += the private blocks of threads 1.., in thread order (the same sum
 * for a given thread count), which are cleared for the next backward. */
static void reduce_task(void *arg, int ith, int nth)
{
    struct job *j = arg;
    struct gc_model *m = j->m;
    size_t b, e;
    split(j->p_end, ith, nth, 16, &b, &e);
    for (int t = 1; t < m->nth; t++) {
        float *tg = thread_grads(m, t);
        for (size_t k = b; k < e; k++)
            m->grads[k] += tg[k];
        memset(tg + b, 0, (e - b) * sizeof *tg);
    }
}

/* Whether layer i can join a sample-split run of layers above it whose use of the two
 * ping-pong buffers is in stride[] (floats per sample; 0: unused so far), and if so
 * records its own use. Thread t owns samples [s0, s1) of every layer of a run, that
 * is floats [s0 * stride, s1 * stride) of a buffer: when one layer reads a buffer
 * as rows of one size and a later layer writes it as rows of another, thread t's
 * writes could land on rows another thread has yet to read. Such a layer starts a
 * new region instead. */
static int same_rows(const struct gc_model *m, int i, size_t stride[2])
{
    const struct layer *l = &m->layers[i];
    const struct bplan *pl = &m->plan[i];
    const float *bufs[2] = {m->dacts, m->dacts + m->dsize};
    size_t want[2] = {stride[0], stride[1]};
    for (int b = 0; b < 2; b++) {
        size_t use = 0;
        if (pl->d == bufs[b])
            use = l->out_size;
        if (pl->dx == bufs[b]) {
            if (use && use != l->in_size)
                return 0;
            use = l->in_size;
        }
        if (use && want[b] && want[b] != use)
            return 0;
        if (use)
            want[b] = use;
    }
    stride[0] = want[0];
    stride[1] = want[1];
    return 1;
}

/* The backward from `layer` down; params 0 leaves the parameter gradients alone.
 *
 * The caller first lays out which buffer each layer reads and writes (each layer's
 * input gradient goes into the ping-pong buffer the current gradient is not in, and
 * layer 0 accumulates into dinp), then runs the layers in regions as the forward. */
static void backward(struct gc_model *m, int layer, const float *dout, float *dinp, int params)
{
    assert(m->finalized && m->last_n >= 1 && layer >= 0 && layer < m->nlayers);
    const int n = m->last_n;
    const float *d = dout;
    float *buf0 = m->dacts, *buf1 = m->dacts + m->dsize;
    for (int i = layer; i >= 0; i--) {
        struct bplan *pl = &m->plan[i];
        pl->d = d;
        if (m->layers[i].kind == GC_LAYER_RESHAPE) {
            pl->dx = NULL;
            pl->zero = 0;
            continue; /* d passes through */
        }
        pl->zero = i > 0;
        pl->dx = i == 0 ? dinp : d == buf0 ? buf1 : buf0;
        d = pl->dx;
    }
    struct job j = {.m = m, .n = n, .params = params, .dinp = dinp};
    int spread = 0; /* a region formed parameter gradients in the private blocks */
    for (int i = layer; i >= 0;) {
        double cost = 2.0 * layer_cost(&m->layers[i], n);
        int lo = i;
        if (m->layers[i].kind != GC_LAYER_BATCHNORM) {
            size_t stride[2] = {0, 0};
            same_rows(m, lo, stride);
            while (lo - 1 >= 0 && m->layers[lo - 1].kind != GC_LAYER_BATCHNORM &&
                   same_rows(m, lo - 1, stride))
                cost += 2.0 * layer_cost(&m->layers[--lo], n);
        }
        j.lo = lo;
        j.hi = i;
        dispatch(m, backward_task, &j, cost);
        if (m->nth > 1 && cost >= m->min_split && m->layers[i].kind != GC_LAYER_BATCHNORM)
            spread = 1;
        i = lo - 1;
    }
    if (params && spread) {
        const struct layer *l = &m->layers[layer];
        j.p_end = l->b_off + l->b_n;
        dispatch(m, reduce_task, &j, (double)j.p_end * (m->nth - 1) * 10.0);
    }
}

void gc_model_backward_from(struct gc_model *m, int layer, const float *dout, float *dinp)
{
    backward(m, layer, dout, dinp, 1);
}

void gc_model_backward_input(struct gc_model *m, int layer, const float *dout, float *dinp)
{
    backward(m, layer, dout, dinp, 0);
}

void gc_model_backward(struct gc_model *m, const float *dout, float *dinp)
{
    gc_model_backward_from(m, m->nlayers - 1, dout, dinp);
}

/* ---- updates over the parameters, split by range ------------------------------------- */

enum range_op { OP_ZERO, OP_STEP, OP_CLIP, OP_SUMSQ };

struct range_job {
    struct gc_model *m;
    enum range_op op;
    float clip;
};

static void range_task(void *arg, int ith, int nth)
{
    struct range_job *r = arg;
    struct gc_model *m = r->m;
    size_t b, e;
    split(m->nparams, ith, nth, 16, &b, &e);
    size_t len = e - b;
    float *p = m->params + b, *g = m->grads + b;
    switch (r->op) {
    case OP_ZERO:
        memset(g, 0, len * sizeof *g);
        break;
    case OP_CLIP:
        gc_clip(p, len, r->clip);
        break;
    case OP_SUMSQ:
        m->tsum[(size_t)ith * TSUM_STRIDE] = gc_sum_sq(g, len);
        break;
    case OP_STEP: {
        const struct gc_optim_spec *o = &m->optim;
        float *mv = m->moments + b, *vv = m->moments + m->nparams + b;
        float lr = o->lr * m->lr_scale;
        switch (o->kind) {
        case GC_OPTIM_ADAM:
            gc_adam_step(p, g, mv, vv, len, lr, o->beta1, o->beta2, o->eps, m->step);
            break;
        case GC_OPTIM_SGD:
            gc_sgd_step(p, g, mv, len, lr, o->beta1);
            break;
        case GC_OPTIM_RMSPROP:
            gc_rmsprop_step(p, g, mv, len, lr, o->beta2, o->eps);
            break;
        }
        break;
    }
    }
}

/* Runs op over the parameters, split across the pool when there are enough of them;
 * returns the number of parts. */
static int run_range(struct gc_model *m, enum range_op op, float clip)
{
    /* layer_cost units per parameter: Adam ~1 ns, the others a memory pass or two */
    static const double unit[] = {
        [OP_ZERO] = 5.0, [OP_STEP] = 50.0, [OP_CLIP] = 20.0, [OP_SUMSQ] = 15.0};
    struct range_job r = {.m = m, .op = op, .clip = clip};
    if (m->nth > 1 && (double)m->nparams * unit[op] >= m->min_split) {
        gc_pool_run(m->pool, range_task, &r);
        return m->nth;
    }
    range_task(&r, 0, 1);
    return 1;
}

void gc_model_zero_grad(struct gc_model *m)
{
    run_range(m, OP_ZERO, 0.0f);
}

void gc_model_set_lr_scale(struct gc_model *m, float scale)
{
    assert(scale > 0.0f);
    m->lr_scale = scale;
}

void gc_model_step(struct gc_model *m)
{
    assert(m->finalized && m->has_optim);
    m->step++;
    run_range(m, OP_STEP, 0.0f);
}

float gc_model_grad_norm(const struct gc_model *m)
{
    /* the partial sums go to m->tsum, scratch that is not the model's state */
    struct gc_model *mm = (struct gc_model *)m;
    if (m->nth == 1)
        return gc_l2_norm(m->grads, m->nparams);
    int parts = run_range(mm, OP_SUMSQ, 0.0f);
    double s = 0.0;
    for (int t = 0; t < parts; t++)
        s += m->tsum[(size_t)t * TSUM_STRIDE];
    return (float)sqrt(s);
}

void gc_model_clip(struct gc_model *m, float c)
{
    run_range(m, OP_CLIP, c);
}

int gc_model_nlayers(const struct gc_model *m)
{
    return m->nlayers;
}

enum gc_layer_kind gc_model_layer_kind(const struct gc_model *m, int layer)
{
    assert(layer >= 0 && layer < m->nlayers);
    return m->layers[layer].kind;
}

size_t gc_model_in_size(const struct gc_model *m)
{
    return (size_t)m->c * m->h * m->w;
}

size_t gc_model_out_size(const struct gc_model *m)
{
    return m->nlayers ? m->layers[m->nlayers - 1].out_size : gc_model_in_size(m);
}

void gc_model_out_shape(const struct gc_model *m, int *c, int *h, int *w)
{
    cur_shape(m, c, h, w);
}

const float *gc_model_layer_output(const struct gc_model *m, int layer, int *c, int *h, int *w)
{
    assert(m->finalized && layer >= 0 && layer < m->nlayers);
    const struct layer *l = &m->layers[layer];
    if (c)
        *c = l->oc;
    if (h)
        *h = l->oh;
    if (w)
        *w = l->ow;
    return m->acts + l->act_off;
}

float *gc_model_params(struct gc_model *m, size_t *n)
{
    *n = m->nparams;
    return m->params;
}

float *gc_model_grads(struct gc_model *m, size_t *n)
{
    *n = m->nparams;
    return m->grads;
}

static float *view(float *block, size_t off, size_t len, size_t *n)
{
    if (n)
        *n = len;
    return len ? block + off : NULL;
}

float *gc_model_layer_weight(struct gc_model *m, int layer, size_t *n)
{
    assert(m->finalized && layer >= 0 && layer < m->nlayers);
    return view(m->params, m->layers[layer].w_off, m->layers[layer].w_n, n);
}

float *gc_model_layer_bias(struct gc_model *m, int layer, size_t *n)
{
    assert(m->finalized && layer >= 0 && layer < m->nlayers);
    return view(m->params, m->layers[layer].b_off, m->layers[layer].b_n, n);
}

float *gc_model_layer_dweight(struct gc_model *m, int layer, size_t *n)
{
    assert(m->finalized && layer >= 0 && layer < m->nlayers);
    return view(m->grads, m->layers[layer].w_off, m->layers[layer].w_n, n);
}

float *gc_model_layer_dbias(struct gc_model *m, int layer, size_t *n)
{
    assert(m->finalized && layer >= 0 && layer < m->nlayers);
    return view(m->grads, m->layers[layer].b_off, m->layers[layer].b_n, n);
}

int gc_model_max_batch(const struct gc_model *m)
{
    return m->max_batch;
}

/* The fields of a layer that make two architectures the same. */
static void fingerprint(const struct layer *l, uint32_t f[FP_FIELDS])
{
    f[0] = (uint32_t)l->kind;
    f[1] = (uint32_t)l->c;
    f[2] = (uint32_t)l->h;
    f[3] = (uint32_t)l->w;
    f[4] = (uint32_t)l->oc;
    f[5] = (uint32_t)l->oh;
    f[6] = (uint32_t)l->ow;
    f[7] = (uint32_t)l->k;
    f[8] = (uint32_t)l->stride;
    f[9] = (uint32_t)l->pad;
    f[10] = (uint32_t)l->bias;
}

static void describe(const uint32_t f[FP_FIELDS], char *s, size_t len)
{
    const char *name = f[0] <= GC_LAYER_RESHAPE ? kind_name((enum gc_layer_kind)f[0]) : "?";
    snprintf(s, len, "%s %ux%ux%u -> %ux%ux%u", name, f[1], f[2], f[3], f[4], f[5], f[6]);
}

/* 0 when the layers of a and b match; else GC_EINVAL naming the first difference. */
static int same_arch(const struct gc_model *a, const struct gc_model *b, struct gc_error *err)
{
    if (a->nlayers != b->nlayers || a->c != b->c || a->h != b->h || a->w != b->w)
        return gc_error_set(err, GC_EINVAL,
                            "model: other architecture (%d layers on %dx%dx%d, "
                            "this model has %d on %dx%dx%d)",
                            b->nlayers, b->c, b->h, b->w, a->nlayers, a->c, a->h, a->w);
    for (int i = 0; i < a->nlayers; i++) {
        uint32_t fa[FP_FIELDS], fb[FP_FIELDS];
        fingerprint(&a->layers[i], fa);
        fingerprint(&b->layers[i], fb);
        if (memcmp(fa, fb, sizeof fa) != 0) {
            char sa[96], sb[96];
            describe(fa, sa, sizeof sa);
            describe(fb, sb, sizeof sb);
            return gc_error_set(err, GC_EINVAL,
                                "model: other architecture at layer %d (%s, this "
                                "model has %s)",
                                i, sb, sa);
        }
    }
    return 0;
}

int gc_model_copy_state(struct gc_model *dst, const struct gc_model *src, struct gc_error *err)
{
    if (!dst->finalized || !src->finalized)
        return gc_error_set(err, GC_ESTATE, "model: copy between models not finalized");
    int rc = same_arch(dst, src, err);
    if (rc < 0)
        return rc;
    if (dst == src)
        return 0;
    memcpy(dst->params, src->params, src->nparams * sizeof(float));
    memcpy(dst->moments, src->moments, 2 * src->nparams * sizeof(float));
    memcpy(dst->bn, src->bn, src->nbn * sizeof(float));
    dst->has_optim = src->has_optim;
    dst->optim = src->optim;
    dst->step = src->step;
    return 0;
}

struct gc_model *gc_model_clone(const struct gc_model *m, struct gc_error *err)
{
    if (!m->finalized) {
        gc_error_set(err, GC_ESTATE, "model: clone of a model not finalized");
        return NULL;
    }
    struct gc_model *c = gc_model_create(m->max_batch, m->c, m->h, m->w, err);
    if (!c)
        return NULL;
    c->layers = malloc((size_t)m->nlayers * sizeof *c->layers);
    if (!c->layers) {
        gc_error_set(err, GC_ENOMEM, "model: out of memory");
        gc_model_destroy(c);
        return NULL;
    }
    memcpy(c->layers, m->layers, (size_t)m->nlayers * sizeof *c->layers);
    c->nlayers = c->cap = m->nlayers;
    if (alloc_blocks(c, err) < 0 || gc_model_copy_state(c, m, err) < 0 ||
        (m->pool && gc_model_set_pool(c, m->pool, err) < 0)) {
        gc_model_destroy(c);
        return NULL;
    }
    c->min_split = m->min_split;
    c->lr_scale = m->lr_scale;
    return c;
}

static uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float x;
    memcpy(&x, &u, 4);
    return x;
}

static int n_moments(const struct gc_model *m)
{
    if (!m->has_optim)
        return 0;
    return m->optim.kind == GC_OPTIM_ADAM ? 2 : 1;
}

int gc_model_save(const struct gc_model *m, struct gc_buf *b)
{
    assert(m->finalized);
    gc_buf_put_u32(b, SECTION_TAG);
    gc_buf_put_u32(b, (uint32_t)m->nlayers);
    for (int i = 0; i < m->nlayers; i++) {
        uint32_t f[FP_FIELDS];
        fingerprint(&m->layers[i], f);
        for (int j = 0; j < FP_FIELDS; j++)
            gc_buf_put_u32(b, f[j]);
    }
    gc_buf_put_u32(b, (uint32_t)m->has_optim);
    gc_buf_put_u32(b, (uint32_t)m->optim.kind);
    gc_buf_put_u32(b, f32_bits(m->optim.lr));
    gc_buf_put_u32(b, f32_bits(m->optim.beta1));
    gc_buf_put_u32(b, f32_bits(m->optim.beta2));
    gc_buf_put_u32(b, f32_bits(m->optim.eps));
    gc_buf_put_u64(b, (uint64_t)m->step);
    gc_buf_put_u64(b, (uint64_t)m->nparams);
    gc_buf_put_f32s(b, m->params, m->nparams);
    int nm = n_moments(m);
    gc_buf_put_u32(b, (uint32_t)nm);
    gc_buf_put_f32s(b, m->moments, (size_t)nm * m->nparams);
    size_t nrun = 0;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_BATCHNORM)
            nrun += 2 * (size_t)m->layers[i].c;
    gc_buf_put_u64(b, (uint64_t)nrun);
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_BATCHNORM)
            gc_buf_put_f32s(b, m->bn + m->layers[i].bn_off, 2 * (size_t)m->layers[i].c);
    return b->oom ? GC_ENOMEM : 0;
}

/* Checks everything it can before it writes: the architecture, the counts, and that
 * the reader holds all the bytes they announce. A rejected state leaves the model as
 * it was. */
int gc_model_load(struct gc_model *m, struct gc_reader *r, struct gc_error *err)
{
    struct gc_error local;
    if (!err) /* the codes of reader errors are needed below */
        err = &local;
    if (!m->finalized)
        return gc_error_set(err, GC_ESTATE, "model: load into a model not finalized");
    uint32_t tag, nl, u;
    int rc;
    if ((rc = gc_reader_u32(r, &tag, err)) < 0)
        return gc_error_prefix(err, "model");
    if (tag != SECTION_TAG)
        return gc_error_set(err, GC_ECORRUPT, "model: not a model section (tag 0x%08x)", tag);
    if ((rc = gc_reader_u32(r, &nl, err)) < 0)
        return gc_error_prefix(err, "model");
    if (nl != (uint32_t)m->nlayers)
        return gc_error_set(err, GC_EINVAL,
                            "model: other architecture (%u layers saved, this "
                            "model has %d)",
                            nl, m->nlayers);
    for (int i = 0; i < m->nlayers; i++) {
        uint32_t fs[FP_FIELDS], fm[FP_FIELDS];
        for (int j = 0; j < FP_FIELDS; j++)
            if ((rc = gc_reader_u32(r, &fs[j], err)) < 0)
                return gc_error_prefix(err, "model");
        fingerprint(&m->layers[i], fm);
        if (memcmp(fs, fm, sizeof fs) != 0) {
            char ss[96], sm[96];
            describe(fs, ss, sizeof ss);
            describe(fm, sm, sizeof sm);
            return gc_error_set(err, GC_EINVAL,
                                "model: other architecture at layer %d (saved %s, "
                                "this model has %s)",
                                i, ss, sm);
        }
    }
    uint32_t has_optim, kind, lr, b1, b2, eps;
    uint64_t step, np, nrun;
    if (gc_reader_u32(r, &has_optim, err) < 0 || gc_reader_u32(r, &kind, err) < 0 ||
        gc_reader_u32(r, &lr, err) < 0 || gc_reader_u32(r, &b1, err) < 0 ||
        gc_reader_u32(r, &b2, err) < 0 || gc_reader_u32(r, &eps, err) < 0 ||
        gc_reader_u64(r, &step, err) < 0 || gc_reader_u64(r, &np, err) < 0)
        return gc_error_prefix(err, "model");
    if (has_optim > 1 || kind > GC_OPTIM_RMSPROP || step > INT64_MAX)
        return gc_error_set(err, GC_ECORRUPT, "model: bad optimizer state");
    if (np != m->nparams)
        return gc_error_set(err, GC_ECORRUPT,
                            "model: %llu parameters saved, the architecture has "
                            "%zu",
                            (unsigned long long)np, m->nparams);
    struct gc_optim_spec o = {.kind = (enum gc_optim_kind)kind,
                              .lr = bits_f32(lr),
                              .beta1 = bits_f32(b1),
                              .beta2 = bits_f32(b2),
                              .eps = bits_f32(eps)};
    int want = !has_optim ? 0 : o.kind == GC_OPTIM_ADAM ? 2 : 1;
    size_t want_run = 0;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_BATCHNORM)
            want_run += 2 * (size_t)m->layers[i].c;
    /* the rest has a known size: params, u32, moments, u64, running stats */
    size_t rest = 4 * (m->nparams + (size_t)want * m->nparams + want_run) + 4 + 8;
    if (r->len - r->off < rest)
        return gc_error_set(err, GC_ECORRUPT,
                            "model: truncated (%zu bytes of state left, %zu "
                            "needed)",
                            r->len - r->off, rest);
    /* from here on no read can fail; the counts are checked on a copy of the reader */
    struct gc_reader peek = *r;
    peek.off += 4 * m->nparams;
    gc_reader_u32(&peek, &u, err);
    if (u != (uint32_t)want)
        return gc_error_set(err, GC_ECORRUPT,
                            "model: %u moment vectors saved, the optimizer "
                            "has %d",
                            u, want);
    peek.off += 4 * (size_t)want * m->nparams;
    gc_reader_u64(&peek, &nrun, err);
    if (nrun != want_run)
        return gc_error_set(err, GC_ECORRUPT,
                            "model: %llu batchnorm statistics saved, the "
                            "architecture has %zu",
                            (unsigned long long)nrun, want_run);
    gc_reader_f32s(r, m->params, m->nparams, err);
    gc_reader_u32(r, &u, err);
    memset(m->moments, 0, 2 * m->nparams * sizeof(float));
    gc_reader_f32s(r, m->moments, (size_t)want * m->nparams, err);
    gc_reader_u64(r, &nrun, err);
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_BATCHNORM)
            gc_reader_f32s(r, m->bn + m->layers[i].bn_off, 2 * (size_t)m->layers[i].c, err);
    m->has_optim = (int)has_optim;
    m->optim = o;
    m->step = (int64_t)step;
    return 0;
}

int gc_model_serialize(const struct gc_model *m, uint8_t **out, size_t *len, struct gc_error *err)
{
    struct gc_buf b;
    gc_buf_init(&b);
    if (gc_model_save(m, &b) < 0) {
        gc_buf_fini(&b);
        *out = NULL;
        *len = 0;
        return gc_error_set(err, GC_ENOMEM, "model: out of memory while saving");
    }
    int rc = gc_frame_seal(GC_MODEL_MAGIC, GC_MODEL_VERSION, b.data, b.len, out, len, err);
    gc_buf_fini(&b);
    return rc;
}

int gc_model_deserialize(struct gc_model *m, const uint8_t *bytes, size_t len, struct gc_error *err)
{
    const uint8_t *p;
    size_t plen;
    int rc = gc_frame_open("model", GC_MODEL_MAGIC, GC_MODEL_VERSION, bytes, len, &p, &plen, err);
    if (rc < 0)
        return rc;
    struct gc_reader r;
    gc_reader_init(&r, p, plen);
    rc = gc_model_load(m, &r, err);
    if (rc < 0)
        return rc;
    if (r.off != r.len)
        return gc_error_set(err, GC_ECORRUPT, "model: %zu unread bytes after the state",
                            r.len - r.off);
    return 0;
}
