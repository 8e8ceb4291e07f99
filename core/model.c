/* model.c — a network as an ordered list of layers over a few contiguous blocks: its
 * building (create, the layer builders, finalize, the optimizer's choice, clone) and
 * the views of its sizes and tensors. The passes are in model_pass.c, the optimizer's
 * updates in model_update.c, copying and saving the state in model_state.c; the
 * struct they share is in model_internal.h.
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
 *   ws       one conv workspace, as large as the largest conv layer needs
 *            (dacts and ws are the model's until it runs on a pool, whose scratch
 *            then holds them and one ws per thread, shared with the pool's other
 *            models; each extra thread also has a gradient block: see THREADS and
 *            SCRATCH in model_pass.c); they carry nothing from one pass to the next,
 *            and gc_model_release_scratch gives their pages back
 *   bn       per BN layer: running mean, running var, saved mean, saved invstd (C each)
 *   snuv, wsn, snstash  spectral norm's vectors and normalized weights (model_sn.c)
 *   keep, adj  the second-order passes' gradients (model_grad2.c), at their request
 *   dskip    per concat layer, the gradient of the part that came from its source
 *            layer, kept until the backward reaches that layer (the ping-pong buffers
 *            are reused on the way down)
 * Forward, backward and step allocate nothing. The input is copied into acts because a
 * caller's input (often another model's output) may change before the backward. */
#include "core/model.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/model_internal.h"

#define MAX_MODEL_LAYERS 256

const char *gc_model_kind_name(enum gc_layer_kind k)
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
    case GC_LAYER_CONCAT:
        return "concat";
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
    if ((size_t)c * h * w * (size_t)max_batch > GC_MODEL_MAX_BLOCK_FLOATS / 2) {
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
    m->min_split = GC_MODEL_MIN_SPLIT_COST;
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
    gc_free64(m->params);
    gc_free64(m->grads);
    gc_free64(m->moments);
    gc_free64(m->acts);
    gc_free64(m->dacts);
    gc_free64(m->ws);
    gc_free64(m->bn);
    gc_free64(m->dskip);
    free(m->tsum);
    free(m->plan);
    free(m->wpk);
    free(m->bnsync);
    free(m->snuv);
    free(m->wsn);
    free(m->snstash);
    free(m->snacc);
    free(m->keep);
    free(m->adj);
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
        const struct gc_layer *l = &m->layers[m->nlayers - 1];
        *c = l->oc;
        *h = l->oh;
        *w = l->ow;
    }
}

/* *out: a zeroed layer reading the current shape, not yet appended (push_layer does
 * that once its arguments are checked). Fails when the model is closed or full. */
static int new_layer(struct gc_model *m, enum gc_layer_kind kind, struct gc_layer **out,
                     struct gc_error *err)
{
    *out = NULL;
    if (m->finalized)
        return gc_error_set(err, GC_ESTATE, "%s: the model is already finalized",
                            gc_model_kind_name(kind));
    if (m->nlayers >= MAX_MODEL_LAYERS)
        return gc_error_set(err, GC_EINVAL, "%s: more than %d layers", gc_model_kind_name(kind),
                            MAX_MODEL_LAYERS);
    if (m->nlayers == m->cap) {
        int cap = m->cap ? 2 * m->cap : 8;
        struct gc_layer *p = realloc(m->layers, (size_t)cap * sizeof *p);
        if (!p)
            return gc_error_set(err, GC_ENOMEM, "%s: out of memory", gc_model_kind_name(kind));
        m->layers = p;
        m->cap = cap;
    }
    struct gc_layer *l = &m->layers[m->nlayers];
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
static int push_layer(struct gc_model *m, struct gc_layer *l, struct gc_error *err)
{
    l->out_size = (size_t)l->oc * l->oh * l->ow;
    if (l->out_size * (size_t)m->max_batch > GC_MODEL_MAX_BLOCK_FLOATS / 4)
        return gc_error_set(err, GC_ETOOBIG, "%s: output %dx%dx%d times batch %d is too large",
                            gc_model_kind_name(l->kind), l->oc, l->oh, l->ow, m->max_batch);
    if ((l->w_n + l->b_n) > GC_MODEL_MAX_BLOCK_FLOATS / 4)
        return gc_error_set(err, GC_ETOOBIG, "%s: too many parameters (%zu)",
                            gc_model_kind_name(l->kind), l->w_n + l->b_n);
    m->nlayers++;
    return 0;
}

int gc_model_add_linear(struct gc_model *m, int out, int bias, struct gc_error *err)
{
    struct gc_layer *l;
    int rc0 = new_layer(m, GC_LAYER_LINEAR, &l, err);
    if (rc0 < 0)
        return rc0;
    if (out < 1)
        return gc_error_set(err, GC_EINVAL, "linear: output size %d < 1", out);
    if (l->in_size > INT32_MAX || (size_t)out * l->in_size > GC_MODEL_MAX_BLOCK_FLOATS / 4)
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
    struct gc_layer *l;
    int rc0 = new_layer(m, kind, &l, err);
    if (rc0 < 0)
        return rc0;
    const char *name = gc_model_kind_name(kind);
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
    if (gc_conv_workspace(&l->cv) > GC_MODEL_MAX_BLOCK_FLOATS / 2)
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
    struct gc_layer *l;
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
    struct gc_layer *l;
    int rc0 = new_layer(m, kind, &l, err);
    if (rc0 < 0)
        return rc0;
    if (!isfinite(slope))
        return gc_error_set(err, GC_EINVAL, "%s: slope is not finite", gc_model_kind_name(kind));
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
    struct gc_layer *l;
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

int gc_model_add_concat(struct gc_model *m, int src, struct gc_error *err)
{
    struct gc_layer *l;
    int rc0 = new_layer(m, GC_LAYER_CONCAT, &l, err);
    if (rc0 < 0)
        return rc0;
    if (src < 0 || src >= m->nlayers)
        return gc_error_set(err, GC_EINVAL, "concat: source layer %d is not below layer %d", src,
                            m->nlayers);
    const struct gc_layer *s = &m->layers[src];
    if (s->oh != l->h || s->ow != l->w)
        return gc_error_set(err, GC_EINVAL,
                            "concat: layer %d is %dx%d, the input to join it is %dx%d", src, s->ow,
                            s->oh, l->w, l->h);
    l->src = src;
    l->oc = l->c + s->oc;
    return push_layer(m, l, err);
}

/* Whether activation layer i writes its output over its input: when that input is the
 * output of a linear, convolution or batch-norm layer that no concat takes, which no backward reads
 * (each layer's backward reads its own input), and the activation's backward can work from its
 * output (relu and leaky relu with a positive slope keep the sign of their input; tanh and sigmoid
 * use their output anyway). A third of a DCGAN's activations. */
static int in_place(const struct gc_model *m, int i)
{
    const struct gc_layer *l = &m->layers[i];
    if (i == 0 || m->keep_acts)
        return 0;
    enum gc_layer_kind before = m->layers[i - 1].kind;
    if (before != GC_LAYER_LINEAR && before != GC_LAYER_CONV2D && before != GC_LAYER_CONVT2D &&
        before != GC_LAYER_BATCHNORM)
        return 0;
    for (int j = i + 1; j < m->nlayers; j++) /* a concat above reads that input as it was */
        if (m->layers[j].kind == GC_LAYER_CONCAT && m->layers[j].src == i - 1)
            return 0;
    return l->kind == GC_LAYER_RELU || l->kind == GC_LAYER_TANH || l->kind == GC_LAYER_SIGMOID ||
           (l->kind == GC_LAYER_LEAKY_RELU && l->slope > 0.0f);
}

/* Layer i's place in the activation block, given the end *na of what is laid out and
 * the place prev_off of layer i-1: a place of its own, or that one (a reshape, an
 * activation in place). */
static size_t place_act(struct gc_model *m, int i, size_t *na, size_t prev_off)
{
    struct gc_layer *l = &m->layers[i];
    if (l->kind == GC_LAYER_RESHAPE || in_place(m, i))
        return l->act_off = prev_off;
    l->act_off = *na;
    *na += (size_t)m->max_batch * l->out_size;
    return l->act_off;
}

int gc_model_keep_activations(struct gc_model *m, struct gc_error *err)
{
    if (m->keep_acts)
        return 0;
    m->keep_acts = 1;
    size_t na = (size_t)m->max_batch * m->c * m->h * m->w, prev_off = 0;
    for (int i = 0; i < m->nlayers; i++)
        prev_off = place_act(m, i, &na, prev_off);
    if (na > GC_MODEL_MAX_BLOCK_FLOATS)
        return gc_error_set(err, GC_ETOOBIG, "model: too large (%zu activations)", na);
    float *acts = gc_zalloc64(na, sizeof(float));
    if (!acts)
        return gc_error_set(err, GC_ENOMEM, "model: out of memory for %zu activations", na);
    gc_free64(m->acts);
    m->acts = acts;
    return 0;
}

/* Lays out the blocks of a model whose layers are all added, and allocates them zeroed.
 * Shared by finalize and clone. */
static int alloc_blocks(struct gc_model *m, struct gc_error *err)
{
    size_t np = 0, nbn = 0, nws = 0, dmax = 0, nskip = 0;
    size_t na = (size_t)m->max_batch * m->c * m->h * m->w; /* the input copy */
    size_t prev_off = 0;
    for (int i = 0; i < m->nlayers; i++) {
        struct gc_layer *l = &m->layers[i];
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
        l->skip_src = 0;
        if (l->kind == GC_LAYER_CONCAT) {
            l->skip_off = nskip;
            nskip += (size_t)m->max_batch * m->layers[l->src].out_size;
        }
        prev_off = place_act(m, i, &na, prev_off);
        size_t d = (size_t)m->max_batch * (l->in_size > l->out_size ? l->in_size : l->out_size);
        dmax = d > dmax ? d : dmax;
        if (np > GC_MODEL_MAX_BLOCK_FLOATS || na > GC_MODEL_MAX_BLOCK_FLOATS ||
            nskip > GC_MODEL_MAX_BLOCK_FLOATS)
            return gc_error_set(err, GC_ETOOBIG,
                                "model: too large (%zu parameters, %zu "
                                "activations at layer %d)",
                                np, na, i);
    }
    m->nparams = np;
    m->nbn = nbn;
    m->nws = nws;
    m->dsize = dmax;
    m->nskip = nskip;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_CONCAT)
            m->layers[m->layers[i].src].skip_src = 1;
    /* calloc(0) may return NULL: ask for at least one float */
    m->params = gc_zalloc64(np ? np : 1, sizeof(float));
    m->grads = gc_zalloc64(np ? np : 1, sizeof(float));
    m->moments = gc_zalloc64(np ? 2 * np : 1, sizeof(float));
    m->acts = gc_zalloc64(na, sizeof(float));
    m->dacts = gc_zalloc64(2 * dmax, sizeof(float));
    m->ws = gc_zalloc64(nws ? nws : 1, sizeof(float));
    m->bn = gc_zalloc64(nbn ? nbn : 1, sizeof(float));
    m->dskip = gc_zalloc64(nskip ? nskip : 1, sizeof(float));
    m->plan = calloc((size_t)m->nlayers, sizeof *m->plan);
    m->wpk = calloc((size_t)m->nlayers, sizeof *m->wpk);
    if (!m->params || !m->grads || !m->moments || !m->acts || !m->dacts || !m->ws || !m->bn ||
        !m->dskip || !m->plan || !m->wpk)
        return gc_error_set(err, GC_ENOMEM,
                            "model: out of memory for %zu parameters and %zu "
                            "activations",
                            np, na);
    for (int i = 0; i < m->nlayers; i++) {
        const struct gc_layer *l = &m->layers[i];
        if (l->kind == GC_LAYER_BATCHNORM) /* running var starts at 1 */
            for (int j = 0; j < l->c; j++)
                m->bn[l->bn_off + (size_t)l->c + j] = 1.0f;
    }
    int rc = gc_model_sn_alloc(m, err);
    if (rc < 0)
        return rc;
    m->finalized = 1;
    return 0;
}

static size_t fan_in(const struct gc_layer *l)
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
        const struct gc_layer *l = &m->layers[i];
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
    /* after every weight, so that a model without spectral norm draws what it did */
    gc_model_sn_init(m, rng);
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
    const struct gc_layer *l = &m->layers[layer];
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
    c->keep_acts = m->keep_acts; /* the same layout as the source */
    if (alloc_blocks(c, err) < 0 || gc_model_copy_state(c, m, err) < 0 ||
        (m->spool && gc_model_set_pool(c, m->spool, err) < 0) ||
        (m->comm && gc_model_set_comm(c, m->comm, err) < 0) ||
        (m->keep && gc_model_grad2_enable(c, err) < 0)) {
        gc_model_destroy(c);
        return NULL;
    }
    c->min_split = m->min_split;
    c->lr_scale = m->lr_scale;
    c->bf16 = m->bf16; /* the layers' cv.bf16 came with them */
    return c;
}
