/* model_grad2.c — the second-order passes of a model (see model_grad2.h).
 *
 * DESIGN. The input gradient is a chain of the layers' backwards run top down:
 * g_top = dout, g_{i-1} = B_i(g_i, x_i, w_i), g = g_{-1}, where g_i is layer i's
 * output gradient, x_i its input and w_i its weights. To differentiate P(g) the chain
 * is walked back the other way, bottom up, with v_i = dP/d(g_{i-1}) (starting at
 * v_0 = dP/dg). At layer i, B_i's second-order kernel (linear.h, conv.h, batchnorm.h,
 * act.h) gives
 *   - dP/d(g_i), the v of the layer above;
 *   - dP/dw_i through B_i, accumulated into the parameter gradients;
 *   - dP/dx_i through B_i: nonzero only where the backward depends on the input
 *     (batch norm in train mode, tanh, sigmoid). These land in adj, a block laid out
 *     like the activations, at layer i's input.
 * x_i depends on the parameters below it through the forward, so one more backward,
 * from the highest layer with an adj term down, carries adj into their gradients: a
 * layer's input gradient starts from its adj term instead of zero
 * (gc_model_backward_run's init).
 *
 * Buffers: keep (acts layout) holds every g_i of gc_model_input_grad, which runs the
 * ordinary backward with its input gradients written into their slots instead of the
 * ping-pong buffers; the bottom-up v's use the ping-pong buffers (dacts), which no
 * backward uses meanwhile.
 *
 * THREADS. One region per layer, split as the first-order passes split it: by samples
 * (parameter gradients of thread t > 0 into its private block, added in at the end),
 * a batch norm by channels. Spectral norm's conversion of the gradients wraps both
 * passes (model_sn.c). */
#include "core/model_grad2.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/act.h"
#include "core/batchnorm.h"
#include "core/linear.h"
#include "core/model_internal.h"

int gc_model_grad2_enable(struct gc_model *m, struct gc_error *err)
{
    if (!m->finalized)
        return gc_error_set(err, GC_ESTATE, "model: second-order passes need a finalized model");
    if (m->keep)
        return 0;
    int rc = gc_model_keep_activations(m, err);
    if (rc)
        return rc;
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].kind == GC_LAYER_CONCAT)
            return gc_error_set(err, GC_EINVAL,
                                "model: second-order passes have no concat layer (layer %d); "
                                "a discriminator has none",
                                i);
    size_t na = 0;
    for (int i = 0; i < m->nlayers; i++) {
        size_t end = m->layers[i].act_off + (size_t)m->max_batch * m->layers[i].out_size;
        na = end > na ? end : na;
    }
    float *keep = calloc(na, sizeof(float)), *adj = calloc(na, sizeof(float));
    if (!keep || !adj) {
        free(keep);
        free(adj);
        return gc_error_set(err, GC_ENOMEM, "model: out of memory for the second-order passes");
    }
    m->keep = keep;
    m->adj = adj;
    return 0;
}

int gc_model_grad2_enabled(const struct gc_model *m)
{
    return m->keep != NULL;
}

/* Layer i's output gradient of the last gc_model_input_grad. */
static const float *gout(const struct gc_model *m, int i)
{
    return m->keep + m->layers[i].act_off;
}

void gc_model_input_grad(struct gc_model *m, const float *dout, float *dinp)
{
    assert(m->keep && m->last_n >= 1);
    const int top = m->nlayers - 1;
    float *d = m->keep + m->layers[top].act_off;
    memcpy(d, dout, (size_t)m->last_n * m->layers[top].out_size * sizeof(float));
    struct gc_backward_opts o = {.dout = d, .dinp = dinp, .keep = m->keep};
    gc_model_backward_run(m, top, &o);
}

/* Whether layer i's input gradient depends on its input in the last forward. */
static int has_adj(const struct gc_model *m, int i)
{
    switch (m->layers[i].kind) {
    case GC_LAYER_BATCHNORM:
        return m->last_train;
    case GC_LAYER_TANH:
    case GC_LAYER_SIGMOID:
        return 1;
    default:
        return 0;
    }
}

/* Layer i of the bottom-up pass. */
struct up {
    struct gc_model *m;
    int i, n;
    const float *vin; /* dP/d(layer i's input gradient), n x in_size */
    float *vout;      /* dP/d(layer i's output gradient), n x out_size; NULL at the top */
    float *adj;       /* dP/d(layer i's input) through its backward; NULL: not wanted */
};

static void up_bn(const struct up *u, int ith, int nth)
{
    const struct gc_model *m = u->m;
    const struct gc_layer *l = &m->layers[u->i];
    int c0, c1;
    gc_model_split_channels(l, ith, nth, &c0, &c1);
    const float *x = gc_model_layer_in(m, u->i), *gamma = m->params + l->w_off;
    const float *st = m->bn + l->bn_off;
    float *dgamma = m->grads + l->w_off; /* channels are thread-disjoint */
    if (m->last_train)
        gc_batchnorm_backward2(u->vout, u->adj, dgamma, u->vin, gout(m, u->i), x, gamma,
                               st + 2 * l->c, st + 3 * l->c, u->n, l->c, l->h * l->w, c0, c1);
    else
        gc_batchnorm_eval_backward2(u->vout, dgamma, u->vin, gout(m, u->i), gamma, st + l->c,
                                    l->eps, u->n, l->c, l->h * l->w, c0, c1);
}

static void up_task(void *arg, int ith, int nth)
{
    const struct up *u = arg;
    const struct gc_model *m = u->m;
    const struct gc_layer *l = &m->layers[u->i];
    if (l->kind == GC_LAYER_BATCHNORM) {
        up_bn(u, ith, nth);
        return;
    }
    size_t s0, s1;
    gc_model_split((size_t)u->n, ith, nth, 1, &s0, &s1);
    if (s1 == s0)
        return;
    const int n = (int)(s1 - s0);
    const size_t cnt = (size_t)n * l->out_size;
    const float *vin = u->vin + s0 * l->in_size;
    float *vout = u->vout ? u->vout + s0 * l->out_size : NULL;
    float *adj = u->adj ? u->adj + s0 * l->in_size : NULL;
    const float *g = gout(m, u->i) + s0 * l->out_size;
    const float *x = gc_model_layer_in(m, u->i) + s0 * l->in_size;
    const float *y = m->acts + l->act_off + s0 * l->out_size;
    const float *w = gc_model_weight(m, l);
    float *dw = l->w_n ? gc_model_thread_grads(m, ith) + l->w_off : NULL;
    float *ws = gc_model_thread_ws(m, ith);
    switch (l->kind) {
    case GC_LAYER_LINEAR:
        gc_linear_backward2(vout, dw, vin, g, w, n, (int)l->in_size, l->oc);
        break;
    case GC_LAYER_CONV2D:
        gc_conv2d_backward2(&l->cv, n, vout, dw, vin, g, w, ws);
        break;
    case GC_LAYER_CONVT2D:
        gc_convt2d_backward2(&l->cv, n, vout, dw, vin, g, w, ws);
        break;
    case GC_LAYER_RELU:
        if (vout) {
            gc_relu_backward(vout, 0, vin, x, cnt); /* written: no zeroing first */
        }
        break;
    case GC_LAYER_LEAKY_RELU:
        if (vout) {
            gc_leaky_relu_backward(vout, 0, vin, x, cnt, l->slope);
        }
        break;
    case GC_LAYER_TANH:
        gc_tanh_backward2(vout, adj, vin, g, y, cnt);
        break;
    case GC_LAYER_SIGMOID:
        gc_sigmoid_backward2(vout, adj, vin, g, y, cnt);
        break;
    default: /* reshape passes v through; batch norm is up_bn's */
        break;
    }
}

void gc_model_input_grad_backward(struct gc_model *m, const float *ddinp)
{
    assert(m->keep && m->last_n >= 1);
    const int n = m->last_n, top = m->nlayers - 1;
    if (m->nsn)
        gc_model_sn_stash(m);
    unsigned char adj_at[256]; /* model.c caps the layers at 256 */
    assert(m->nlayers <= 256);
    float *buf0 = gc_model_dacts(m), *buf1 = buf0 + m->dsize;
    const float *v = ddinp;
    int spread = 0, high = 0; /* the highest layer above 0 with an adj term */
    for (int i = 0; i <= top; i++) {
        const struct gc_layer *l = &m->layers[i];
        adj_at[i] = (unsigned char)(i > 0 && has_adj(m, i));
        if (l->kind == GC_LAYER_RESHAPE)
            continue; /* the same values in another shape */
        struct up u = {.m = m, .i = i, .n = n, .vin = v};
        if (i < top)
            u.vout = v == buf0 ? buf1 : buf0;
        if (adj_at[i]) {
            u.adj = m->adj + gc_model_in_off(m, i);
            memset(u.adj, 0, (size_t)n * l->in_size * sizeof(float));
            high = i;
        }
        double cost = 2.0 * gc_model_layer_cost(l, n);
        gc_model_dispatch(m, up_task, &u, cost);
        if (l->kind != GC_LAYER_BATCHNORM && gc_model_splits(m, cost))
            spread = 1;
        v = u.vout;
    }
    if (high > 0) {
        /* the forward's share: adj at layer high's input is the output gradient of the
         * layer below, and every lower adj term joins on the way down */
        struct gc_backward_opts o = {.dout = m->adj + gc_model_in_off(m, high),
                                     .params = 1,
                                     .init = m->adj,
                                     .init_layer = adj_at};
        gc_model_backward_run(m, high - 1, &o);
    }
    if (spread)
        gc_model_reduce_grads(m, m->nparams);
    if (m->nsn)
        gc_model_sn_unstash(m);
}
