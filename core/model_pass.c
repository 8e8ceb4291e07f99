/* model_pass.c — a model's forward and backward passes, and how they are cut into
 * fork-join regions over the model's pool.
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
 *     grads, thread t > 0 into its block of the same layout (the pool's, shared by
 *     the models on it: gc_pool_reserve_grads); at the end of the backward one
 *     region adds the blocks into grads in thread order, split by parameter range,
 *     and clears them. BN's dgamma and dbeta are channel
 *     disjoint and go straight into grads;
 *   - step, zero_grad, clip and grad_norm split the parameters by range (grad_norm
 *     adds per-thread sums in thread order; model_update.c);
 *   - before a sample-split region with convolutions, a region packs their weights as
 *     the region's GEMMs take them, each thread a share of each, into the pool's
 *     scratch (pack_ahead): the threads then read one packed copy instead of each
 *     packing its own. The same packed bits either way.
 * So the bits depend on the thread count only, never on timing, and one thread runs
 * the same code as before there were threads. Work below min_split (see
 * GC_MODEL_MIN_SPLIT_COST) runs on the caller: a region is worth a few microseconds
 * only on a quiet machine. Each thread has its own conv workspace.
 *
 * SCRATCH. On a pool, the ping-pong gradient buffers (then the weights packed ahead)
 * and the threads' conv workspaces are the pool's scratch (gc_pool_reserve), shared by
 * every model on it: one caller at a time runs a pool, so a trainer's G and D, never
 * running at once, share one set instead of holding two (4.6 MB of ganctld train's
 * peak on the reference DCGAN at 2 threads). Nothing in them lasts from one pass to
 * the next; a model off any pool has its own. The threads' gradient blocks are shared
 * too: each backward leaves them all zero.
 *
 * RANKS. With a communicator of several ranks (gc_model_set_comm), a batch norm of a
 * train forward is two regions split by channels with a sum across ranks between
 * them on the calling thread: this rank's per-channel sums, then the normalization
 * with the whole batch's; a backward through it likewise (its sum dy and sum
 * dy * xhat). Only the calling thread talks to the communicator. */
#include "core/model_pass.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/act.h"
#include "core/batchnorm.h"
#include "core/blas.h"
#include "core/linear.h"
#include "core/mem.h"
#include "core/model_internal.h"

/* ---- threads ------------------------------------------------------------------------ */

/* Words a packed weight's room takes: whole cache lines. */
static size_t pack_words(const struct gc_layer *l, enum gc_conv_use use)
{
    return (gc_conv_pack_words(&l->cv, use) + 15) & ~(size_t)15;
}

static int is_conv(const struct gc_layer *l)
{
    return l->kind == GC_LAYER_CONV2D || l->kind == GC_LAYER_CONVT2D;
}

/* The room the weights packed ahead for one region take at most: a region runs layers
 * between two batch norms, each conv among them packed for one use. */
static size_t pack_room(const struct gc_model *m)
{
    size_t most = 0, run = 0;
    for (int i = 0; i < m->nlayers; i++) {
        const struct gc_layer *l = &m->layers[i];
        if (l->kind == GC_LAYER_BATCHNORM)
            run = 0;
        if (is_conv(l)) {
            size_t f = pack_words(l, GC_CONV_FORWARD), d = pack_words(l, GC_CONV_DINP);
            run += f > d ? f : d;
        }
        most = run > most ? run : most;
    }
    return most;
}

int gc_model_set_pool(struct gc_model *m, struct gc_pool *pool, struct gc_error *err)
{
    if (!m->finalized)
        return gc_error_set(err, GC_ESTATE, "model: pool for a model not finalized");
    int nth = gc_pool_threads(pool);
    float *own_d = NULL, *own_ws = NULL;
    double *ts = NULL;
    const size_t npack = nth > 1 ? pack_room(m) : 0;
    if (pool && (gc_pool_reserve(pool, 2 * m->dsize + npack, m->nws ? m->nws : 1, err) ||
                 gc_pool_reserve_grads(pool, m->nparams, err)))
        return GC_ENOMEM;
    const int own = !pool && !m->dacts; /* off a pool: the scratch is the model's own again */
    if (own) {
        own_d = gc_zalloc64(2 * m->dsize, sizeof(float));
        own_ws = gc_zalloc64(m->nws ? m->nws : 1, sizeof(float));
    }
    if (nth > 1)
        ts = calloc((size_t)nth * GC_MODEL_TSUM_STRIDE, sizeof(double));
    if ((nth > 1 && !ts) || (own && (!own_d || !own_ws))) {
        free(ts);
        gc_free64(own_d);
        gc_free64(own_ws);
        return gc_error_set(err, GC_ENOMEM, "model: out of memory for %s%d threads",
                            pool ? "" : "its scratch and ", nth);
    }
    if (pool) {
        gc_free64(m->dacts);
        gc_free64(m->ws);
        m->dacts = m->ws = NULL;
    } else if (own) {
        m->dacts = own_d;
        m->ws = own_ws;
    }
    free(m->tsum);
    m->tsum = ts;
    m->npack = npack;
    m->spool = pool;
    m->pool = nth > 1 ? pool : NULL;
    m->nth = nth;
    return 0;
}

void gc_model_release_scratch(struct gc_model *m)
{
    if (m->spool) {
        gc_pool_release_scratch(m->spool);
    } else {
        gc_pool_release_pages(m->dacts, 2 * m->dsize * sizeof(float));
        gc_pool_release_pages(m->ws, m->nws * sizeof(float));
    }
}

int gc_model_set_precision(struct gc_model *m, int bf16)
{
    m->bf16 = bf16 && gc_gemm_bf16_available();
    for (int i = 0; i < m->nlayers; i++)
        m->layers[i].cv.bf16 = m->bf16;
    return m->bf16;
}

int gc_model_set_comm(struct gc_model *m, struct gc_comm *comm, struct gc_error *err)
{
    if (!m->finalized)
        return gc_error_set(err, GC_ESTATE, "model: communicator for a model not finalized");
    double *buf = NULL;
    if (gc_comm_size(comm) > 1) {
        int widest = 0;
        for (int i = 0; i < m->nlayers; i++)
            if (m->layers[i].kind == GC_LAYER_BATCHNORM && m->layers[i].c > widest)
                widest = m->layers[i].c;
        buf = calloc(4 * (size_t)widest + 1, sizeof *buf);
        if (!buf)
            return gc_error_set(err, GC_ENOMEM, "model: out of memory for batch norm sums");
    }
    free(m->bnsync);
    m->bnsync = buf;
    m->comm = buf ? comm : NULL;
    return 0;
}

void gc_model_set_split_threshold(struct gc_model *m, double cost)
{
    m->min_split = cost < 0.0 ? GC_MODEL_MIN_SPLIT_COST : cost;
}

/* BN channels of thread ith: whole 16-float runs of a feature row (S = 1). */
void gc_model_split_channels(const struct gc_layer *l, int ith, int nth, int *c0, int *c1)
{
    size_t b, e;
    gc_model_split((size_t)l->c, ith, nth, l->h * l->w == 1 ? 16 : 1, &b, &e);
    *c0 = (int)b;
    *c1 = (int)e;
}

/* Work of a layer on n samples, in floating point operations or floats touched:
 * enough to tell a layer worth a parallel region from one that is not. */
double gc_model_layer_cost(const struct gc_layer *l, int n)
{
    switch (l->kind) {
    case GC_LAYER_LINEAR:
        return 2.0 * n * (double)l->w_n;
    case GC_LAYER_CONV2D:
        return 2.0 * n * (double)l->w_n * l->oh * l->ow;
    case GC_LAYER_CONVT2D:
        return 2.0 * n * (double)l->w_n * l->h * l->w;
    case GC_LAYER_BATCHNORM:
        /* passes in double, on activations just written: the 64x64 DCGAN's took
         * 1.5-1.8 ns a float forward inside a step (0.65-0.96 alone and cold), ~80
         * units; at 20 its 8192- and 16384-feature layers ran on one thread */
        return 80.0 * n * (double)l->in_size;
    case GC_LAYER_TANH:
    case GC_LAYER_SIGMOID:
        return 30.0 * n * (double)l->out_size;
    case GC_LAYER_RELU:
    case GC_LAYER_LEAKY_RELU:
        return 6.0 * n * (double)l->out_size;
    case GC_LAYER_CONCAT: /* copies */
        return 4.0 * n * (double)l->out_size;
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
    int train;    /* forward */
    int params;   /* backward: form the parameter gradients */
    int stop;     /* backward: the lowest layer of the pass, whose input gradient is dinp */
    int phase;    /* a synchronized batch norm: 1 this rank's sums, 2 the rest from the
                   * summed ones (m->bnsync); 0 the whole layer alone */
    double total; /* phase 2: the values of a channel over every rank's samples */
    float *dinp;
    size_t p_end; /* reduce_task: the parameters [0, p_end) */
    int packed;   /* the region's conv weights are in m->wpk (pack_ahead) */
    enum gc_conv_use use;
};

int gc_model_splits(const struct gc_model *m, double cost)
{
    return m->nth > 1 && cost >= m->min_split;
}

/* Runs fn on the pool when its work pays for a region, else on the caller. */
void gc_model_dispatch(struct gc_model *m, gc_pool_fn fn, void *arg, double cost)
{
    if (gc_model_splits(m, cost))
        gc_pool_run(m->pool, fn, arg);
    else
        fn(arg, 0, 1);
}

/* A batch norm across ranks (layer l, job j of a forward or a backward): this rank's
 * per-channel sums (phase 1), their sum across the ranks on the calling thread, then
 * the rest from the summed ones (phase 2). The backward keeps this rank's own sums, for
 * dgamma and dbeta, behind the summed ones (keep_own). */
static void synced_bn(struct gc_model *m, const struct gc_layer *l, gc_pool_fn fn, struct job *j,
                      double cost, int keep_own)
{
    size_t c2 = 2 * (size_t)l->c;
    j->phase = 1;
    gc_model_dispatch(m, fn, j, cost / 2);
    if (keep_own)
        memcpy(m->bnsync, m->bnsync + c2, c2 * sizeof *m->bnsync);
    gc_comm_sum_f64(m->comm, m->bnsync, c2);
    j->phase = 2;
    j->total = (double)j->n * l->h * l->w * gc_comm_size(m->comm);
    gc_model_dispatch(m, fn, j, cost / 2);
    j->phase = 0;
}

/* ---- weights packed ahead ----------------------------------------------------------- */

/* Whether layer i's weight is packed ahead for use: every conv's forward but a conv2d's
 * with a bias (which packs the two as one operand), and the input gradient of every
 * conv that forms one in this backward. */
static int packs(const struct gc_model *m, int i, enum gc_conv_use use)
{
    const struct gc_layer *l = &m->layers[i];
    if (!is_conv(l))
        return 0;
    if (use == GC_CONV_FORWARD)
        return !(l->kind == GC_LAYER_CONV2D && l->b_n);
    return m->plan[i].dx != NULL;
}

/* Each thread packs its part of the weights of layers [lo, hi], one after the other
 * in the room after the ping-pong buffers; thread 0 records what they make, and
 * nothing for the other layers (a record from an earlier region would point at room
 * this one overwrote). */
static void pack_task(void *arg, int ith, int nth)
{
    struct job *j = arg;
    struct gc_model *m = j->m;
    float *room = gc_model_dacts(m) + 2 * m->dsize;
    size_t used = 0;
    for (int i = j->lo; i <= j->hi; i++) {
        struct gc_gemm_packed_a out = {0};
        if (packs(m, i, j->use)) {
            const struct gc_layer *l = &m->layers[i];
            /* pack_room fits every region; should one not fit, its layers pack their own */
            const size_t cap = used < m->npack ? m->npack - used : 0;
            gc_conv_pack_weight(&l->cv, j->use, gc_model_weight(m, l), room + used, cap, ith, nth,
                                &out);
            used += pack_words(l, j->use);
        }
        if (ith == 0)
            m->wpk[i] = out;
    }
}

/* Before a region that splits layers [lo, hi] by samples: their conv weights packed
 * once, by all the threads, in a region of their own. Each thread used to pack each
 * weight for itself: the same work nth times over, which does not shrink as threads
 * are added (with two threads, 14 and 18 ms of the 64x64 DCGAN's 620 and 1010 ms of
 * CPU a step in bf16 and float32), and nth copies in the caches. Packed ahead, that
 * step ran 4-5% faster on 2 threads and peaked 6-8 MB lower. Returns whether it did;
 * the region that follows is then split (the caller asks only when it will be). */
static int pack_ahead(struct gc_model *m, struct job *j, enum gc_conv_use use)
{
    int any = 0;
    for (int i = j->lo; m->npack && i <= j->hi && !any; i++)
        any = packs(m, i, use);
    if (any) {
        j->use = use;
        gc_pool_run(m->pool, pack_task, j);
    }
    return any;
}

/* ---- forward ------------------------------------------------------------------------ */

/* Layer i on samples [s0, s0 + n): the same kernels over fewer rows. */
static void forward_samples(struct gc_model *m, int i, int s0, int n, int packed, float *ws)
{
    const struct gc_layer *l = &m->layers[i];
    const float *x = gc_model_layer_in(m, i) + (size_t)s0 * l->in_size;
    float *y = m->acts + l->act_off + (size_t)s0 * l->out_size;
    const float *w = gc_model_weight(m, l);
    const float *b = l->b_n ? m->params + l->b_off : NULL;
    size_t cnt = (size_t)n * l->out_size;
    switch (l->kind) {
    case GC_LAYER_LINEAR:
        gc_linear_forward(y, x, w, b, n, (int)l->in_size, l->oc, m->bf16);
        break;
    case GC_LAYER_CONV2D:
    case GC_LAYER_CONVT2D:
        gc_conv_forward_packed(&l->cv, n, y, x, w, b, packed ? &m->wpk[i] : NULL, ws);
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
    case GC_LAYER_CONCAT: {
        const struct gc_layer *sl = &m->layers[l->src];
        const float *xs = m->acts + sl->act_off + (size_t)s0 * sl->out_size;
        for (int k = 0; k < n; k++) {
            float *yk = y + (size_t)k * l->out_size;
            memcpy(yk, x + (size_t)k * l->in_size, l->in_size * sizeof *y);
            memcpy(yk + l->in_size, xs + (size_t)k * sl->out_size, sl->out_size * sizeof *y);
        }
        break;
    }
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
    const struct gc_layer *l = &m->layers[j->lo];
    if (l->kind == GC_LAYER_BATCHNORM) {
        int c0, c1;
        gc_model_split_channels(l, ith, nth, &c0, &c1);
        float *s = m->bn + l->bn_off;
        const float *w = m->params + l->w_off, *b = m->params + l->b_off;
        const float *x = gc_model_layer_in(m, j->lo);
        const int sp = l->h * l->w;
        if (j->phase == 1)
            gc_batchnorm_sums(x, j->n, l->c, sp, c0, c1, m->bnsync, m->bnsync + l->c);
        else if (j->phase == 2)
            gc_batchnorm_forward_sums(m->acts + l->act_off, x, w, b, s, s + l->c, s + 2 * l->c,
                                      s + 3 * l->c, m->bnsync, m->bnsync + l->c, j->total, j->n,
                                      l->c, sp, l->eps, l->momentum, c0, c1);
        else
            gc_batchnorm_forward(m->acts + l->act_off, x, w, b, s, s + l->c, s + 2 * l->c,
                                 s + 3 * l->c, j->n, l->c, sp, l->eps, l->momentum, j->train, c0,
                                 c1);
        return;
    }
    size_t s0, s1;
    gc_model_split((size_t)j->n, ith, nth, 1, &s0, &s1);
    if (s1 == s0)
        return;
    float *ws = gc_model_thread_ws(m, ith);
    for (int i = j->lo; i <= j->hi; i++)
        forward_samples(m, i, (int)s0, (int)(s1 - s0), j->packed, ws);
}

const float *gc_model_forward(struct gc_model *m, const float *inp, int n, int train)
{
    assert(m->finalized && n >= 1 && n <= m->max_batch);
    if (m->nsn)
        gc_model_sn_refresh(m, train);
    memcpy(m->acts, inp, (size_t)n * gc_model_in_size(m) * sizeof(float));
    struct job j = {.m = m, .n = n, .train = train};
    for (int i = 0; i < m->nlayers;) {
        double cost = gc_model_layer_cost(&m->layers[i], n);
        int hi = i;
        if (m->layers[i].kind != GC_LAYER_BATCHNORM)
            while (hi + 1 < m->nlayers && m->layers[hi + 1].kind != GC_LAYER_BATCHNORM)
                cost += gc_model_layer_cost(&m->layers[++hi], n);
        j.lo = i;
        j.hi = hi;
        j.packed = m->layers[i].kind != GC_LAYER_BATCHNORM && gc_model_splits(m, cost) &&
                   pack_ahead(m, &j, GC_CONV_FORWARD);
        if (m->comm && train && m->layers[i].kind == GC_LAYER_BATCHNORM)
            synced_bn(m, &m->layers[i], forward_task, &j, cost, 0);
        else
            gc_model_dispatch(m, forward_task, &j, cost);
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

/* Layer i is the source of a skip: adds the gradients the concat layers of this
 * backward kept for it (dskip) into its output gradient, samples [s0, s0 + n) and
 * channels [c0, c1). That gradient is a ping-pong buffer the layer above filled: a
 * concat above i sits between i and the start of the backward, so the start's dout is
 * never it. */
static void add_skips(struct gc_model *m, int i, int s0, int n, int c0, int c1)
{
    const struct gc_layer *l = &m->layers[i];
    float *d = (float *)m->plan[i].d;
    const size_t sp = (size_t)l->oh * l->ow, off = (size_t)c0 * sp, len = (size_t)(c1 - c0) * sp;
    for (int c = i + 1; c <= m->btop; c++) {
        const struct gc_layer *cl = &m->layers[c];
        if (cl->kind != GC_LAYER_CONCAT || cl->src != i)
            continue;
        const float *g = m->dskip + cl->skip_off;
        for (int k = s0; k < s0 + n; k++) {
            float *dk = d + (size_t)k * l->out_size + off;
            const float *gk = g + (size_t)k * l->out_size + off;
            for (size_t j = 0; j < len; j++)
                dk[j] += gk[j];
        }
    }
}

/* BN layer i by channels: dgamma and dbeta of a channel belong to one thread, so
 * they go straight into the model's gradients. */
static void backward_bn(struct gc_model *m, int i, const struct job *j, int ith, int nth)
{
    const int n = j->n, params = j->params;
    const struct gc_layer *l = &m->layers[i];
    const struct gc_bplan *pl = &m->plan[i];
    int c0, c1;
    gc_model_split_channels(l, ith, nth, &c0, &c1);
    if (l->skip_src)
        add_skips(m, i, 0, n, c0, c1);
    const int sp = l->h * l->w;
    float *dx = pl->dx;
    /* a train backward writes a dx that would start at zero instead of adding to it */
    const int writes = m->last_train && pl->zero && !pl->init;
    for (int k = 0; dx && pl->zero && !writes && j->phase != 1 && k < n; k++) {
        size_t o = ((size_t)k * l->c + c0) * sp, cnt = (size_t)(c1 - c0) * sp;
        if (pl->init)
            memcpy(dx + o, pl->init + o, cnt * sizeof *dx);
        else
            memset(dx + o, 0, cnt * sizeof *dx);
    }
    float *dw = params ? m->grads + l->w_off : NULL;
    float *db = params ? m->grads + l->b_off : NULL;
    const float *x = gc_model_layer_in(m, i), *w = m->params + l->w_off;
    const float *s = m->bn + l->bn_off;
    double *own = m->bnsync + 2 * (size_t)l->c; /* this rank's sums; the summed below it */
    if (m->last_train && j->phase == 1)
        gc_batchnorm_backward_sums(pl->d, x, s + 2 * l->c, s + 3 * l->c, n, l->c, sp, c0, c1, own,
                                   own + l->c);
    else if (m->last_train && j->phase == 2)
        gc_batchnorm_backward_from_sums(dx, !writes, dw, db, pl->d, x, w, s + 2 * l->c,
                                        s + 3 * l->c, own, own + l->c, m->bnsync, m->bnsync + l->c,
                                        j->total, n, l->c, sp, c0, c1);
    else if (m->last_train)
        gc_batchnorm_backward(dx, !writes, dw, db, pl->d, x, w, s + 2 * l->c, s + 3 * l->c, n, l->c,
                              sp, c0, c1);
    else if (dw || dx)
        batchnorm_eval_backward(dx, dw, db, pl->d, x, w, s, s + l->c, n, l->c, sp, l->eps, c0, c1);
}

/* Layer i on samples [s0, s0 + n); parameter gradients go to grads (the model's for
 * thread 0, a private block of the same layout for the others), or nowhere when NULL. */
static void backward_samples(struct gc_model *m, int i, int stop, int s0, int n, float *grads,
                             float *dinp, int packed, float *ws)
{
    const struct gc_layer *l = &m->layers[i];
    const struct gc_bplan *pl = &m->plan[i];
    if (l->skip_src)
        add_skips(m, i, s0, n, 0, l->oc);
    const float *d = pl->d + (size_t)s0 * l->out_size;
    size_t cnt = (size_t)n * l->out_size;
    if (l->kind == GC_LAYER_RESHAPE) {
        /* the same values in another shape: the gradient passes through */
        if (i == stop && dinp)
            for (size_t k = 0; k < cnt; k++)
                dinp[(size_t)s0 * l->in_size + k] += d[k];
        return;
    }
    const float *x = gc_model_layer_in(m, i) + (size_t)s0 * l->in_size;
    const float *y = m->acts + l->act_off + (size_t)s0 * l->out_size;
    const float *w = gc_model_weight(m, l);
    float *dw = grads ? grads + l->w_off : NULL;
    float *db = grads && l->b_n ? grads + l->b_off : NULL;
    float *dx = pl->dx ? pl->dx + (size_t)s0 * l->in_size : NULL;
    /* the convolutions and activations write a dx that would start at zero instead of
     * adding to it */
    const int writes = l->kind == GC_LAYER_CONV2D || l->kind == GC_LAYER_CONVT2D ||
                       l->kind == GC_LAYER_RELU || l->kind == GC_LAYER_LEAKY_RELU ||
                       l->kind == GC_LAYER_TANH || l->kind == GC_LAYER_SIGMOID;
    const int add_dx = !(pl->zero && !pl->init && writes);
    if (dx && pl->zero && pl->init)
        memcpy(dx, pl->init + (size_t)s0 * l->in_size, (size_t)n * l->in_size * sizeof *dx);
    else if (dx && pl->zero && add_dx)
        memset(dx, 0, (size_t)n * l->in_size * sizeof *dx);
    switch (l->kind) {
    case GC_LAYER_LINEAR:
        gc_linear_backward(dx, dw, db, d, x, w, n, (int)l->in_size, l->oc, m->bf16);
        break;
    case GC_LAYER_CONV2D:
    case GC_LAYER_CONVT2D:
        gc_conv_backward_packed(&l->cv, n, dx, add_dx, dw, db, d, x, w, packed ? &m->wpk[i] : NULL,
                                ws);
        break;
    case GC_LAYER_RELU:
        if (dx)
            gc_relu_backward(dx, add_dx, d, x, cnt);
        break;
    case GC_LAYER_LEAKY_RELU:
        if (dx)
            gc_leaky_relu_backward(dx, add_dx, d, x, cnt, l->slope);
        break;
    case GC_LAYER_TANH:
        if (dx)
            gc_tanh_backward(dx, add_dx, d, y, cnt);
        break;
    case GC_LAYER_SIGMOID:
        if (dx)
            gc_sigmoid_backward(dx, add_dx, d, y, cnt);
        break;
    case GC_LAYER_CONCAT: {
        /* the first channels came from the layer below, the rest from src, whose
         * share waits in dskip until the backward reaches src */
        size_t ns = l->out_size - l->in_size;
        float *g = m->dskip + l->skip_off + (size_t)s0 * ns;
        for (int k = 0; k < n; k++) {
            const float *dk = d + (size_t)k * l->out_size;
            if (dx)
                for (size_t j = 0; j < l->in_size; j++)
                    dx[(size_t)k * l->in_size + j] += dk[j];
            memcpy(g + (size_t)k * ns, dk + l->in_size, ns * sizeof *g);
        }
        break;
    }
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
        backward_bn(m, j->hi, j, ith, nth);
        return;
    }
    size_t s0, s1;
    gc_model_split((size_t)j->n, ith, nth, 1, &s0, &s1);
    if (s1 == s0)
        return;
    float *grads = j->params ? gc_model_thread_grads(m, ith) : NULL;
    float *ws = gc_model_thread_ws(m, ith);
    for (int i = j->hi; i >= j->lo; i--)
        backward_samples(m, i, j->stop, (int)s0, (int)(s1 - s0), grads, j->dinp, j->packed, ws);
}

/* grads[0, p_end) += the private blocks of threads 1.., in thread order (the same sum
 * for a given thread count), which are cleared for the next backward. */
static void reduce_task(void *arg, int ith, int nth)
{
    struct job *j = arg;
    struct gc_model *m = j->m;
    size_t b, e;
    gc_model_split(j->p_end, ith, nth, 16, &b, &e);
    for (int t = 1; t < m->nth; t++) {
        float *tg = gc_model_thread_grads(m, t);
        for (size_t k = b; k < e; k++)
            m->grads[k] += tg[k];
        memset(tg + b, 0, (e - b) * sizeof *tg);
    }
}

void gc_model_reduce_grads(struct gc_model *m, size_t p_end)
{
    if (m->nth < 2)
        return;
    struct job j = {.m = m, .p_end = p_end};
    /* a float read twice and written twice: on the caller, the 64x64 DCGAN's D (2.77M
     * parameters) took 1.1-1.4 ms inside a step, 20 units a float */
    gc_model_dispatch(m, reduce_task, &j, (double)p_end * (m->nth - 1) * 20.0);
}

/* Whether layer i, above the backward's stop, writes its input gradient over its output
 * gradient d: an activation (each element of dx from the same element of d), with d a
 * ping-pong buffer (never the caller's dout) and dx not starting from init. Its dx then
 * has d's rows, so it joins the run of the layer above instead of starting a region of
 * its own: D's leaky ReLU under a stride-2 convolution would otherwise write the other
 * buffer in rows of another size than the convolution reads it (see same_rows), and
 * ran alone on the caller (0.6 and 1.2 ms a backward on the 64x64 DCGAN, below the
 * split threshold). Same arithmetic, same bits. */
static int in_place(const struct gc_model *m, int i, const float *d, const float *buf0,
                    const float *buf1)
{
    const struct gc_layer *l = &m->layers[i];
    const int act = l->kind == GC_LAYER_RELU || l->kind == GC_LAYER_LEAKY_RELU ||
                    l->kind == GC_LAYER_TANH || l->kind == GC_LAYER_SIGMOID;
    return act && !m->plan[i].init && (d == buf0 || d == buf1);
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
    const struct gc_layer *l = &m->layers[i];
    const struct gc_bplan *pl = &m->plan[i];
    const float *dacts = gc_model_dacts(m), *bufs[2] = {dacts, dacts + m->dsize};
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

/* The backward from `layer` down to o->stop (see struct gc_backward_opts).
 *
 * First it lays out which buffer each layer reads and writes (each layer's input
 * gradient goes into the ping-pong buffer the current gradient is not in, an
 * activation's over its own output gradient (in_place), or into its slot of keep, and
 * layer stop accumulates into dinp), then runs the layers in regions as the forward. */
void gc_model_backward_run(struct gc_model *m, int layer, const struct gc_backward_opts *o)
{
    const int stop = o->stop;
    assert(m->finalized && m->last_n >= 1 && stop >= 0 && layer >= stop && layer < m->nlayers);
    const int n = m->last_n, params = o->params;
    float *dinp = o->dinp;
    const float *d = o->dout;
    float *buf0 = gc_model_dacts(m), *buf1 = buf0 + m->dsize;
    m->btop = layer;
    for (int i = layer; i >= stop; i--) {
        struct gc_bplan *pl = &m->plan[i];
        pl->d = d;
        pl->init = NULL;
        if (m->layers[i].kind == GC_LAYER_RESHAPE) {
            pl->dx = NULL;
            pl->zero = 0;
            continue; /* d passes through */
        }
        pl->zero = i > stop;
        if (i > stop && o->init && o->init_layer && o->init_layer[i])
            pl->init = o->init + gc_model_in_off(m, i);
        if (i == stop)
            pl->dx = dinp;
        else if (o->keep)
            pl->dx = o->keep + gc_model_in_off(m, i);
        else if (in_place(m, i, d, buf0, buf1))
            pl->dx = (float *)d;
        else
            pl->dx = d == buf0 ? buf1 : buf0;
        d = pl->dx;
    }
    struct job j = {.m = m, .n = n, .params = params, .stop = stop, .dinp = dinp};
    int spread = 0; /* a region formed parameter gradients in the private blocks */
    for (int i = layer; i >= stop;) {
        double cost = 2.0 * gc_model_layer_cost(&m->layers[i], n);
        int lo = i;
        if (m->layers[i].kind != GC_LAYER_BATCHNORM) {
            size_t stride[2] = {0, 0};
            same_rows(m, lo, stride);
            while (lo - 1 >= stop && m->layers[lo - 1].kind != GC_LAYER_BATCHNORM &&
                   same_rows(m, lo - 1, stride))
                cost += 2.0 * gc_model_layer_cost(&m->layers[--lo], n);
        }
        j.lo = lo;
        j.hi = i;
        j.packed = m->layers[i].kind != GC_LAYER_BATCHNORM && gc_model_splits(m, cost) &&
                   pack_ahead(m, &j, GC_CONV_DINP);
        if (m->comm && m->last_train && m->layers[i].kind == GC_LAYER_BATCHNORM)
            synced_bn(m, &m->layers[i], backward_task, &j, cost, 1);
        else
            gc_model_dispatch(m, backward_task, &j, cost);
        if (gc_model_splits(m, cost) && m->layers[i].kind != GC_LAYER_BATCHNORM)
            spread = 1;
        i = lo - 1;
    }
    if (params && spread) {
        const struct gc_layer *l = &m->layers[layer];
        gc_model_reduce_grads(m, l->b_off + l->b_n);
    }
}

void gc_model_backward_from(struct gc_model *m, int layer, const float *dout, float *dinp)
{
    struct gc_backward_opts o = {.dout = dout, .dinp = dinp, .params = 1};
    if (m->nsn)
        gc_model_sn_stash(m);
    gc_model_backward_run(m, layer, &o);
    if (m->nsn)
        gc_model_sn_unstash(m);
}

void gc_model_backward_input(struct gc_model *m, int layer, const float *dout, float *dinp)
{
    struct gc_backward_opts o = {.dout = dout, .dinp = dinp};
    gc_model_backward_run(m, layer, &o);
}

void gc_model_backward_range(struct gc_model *m, int hi, int lo, const float *dout, float *dmid,
                             int params)
{
    struct gc_backward_opts o = {.dout = dout, .dinp = dmid, .params = params, .stop = lo};
    if (params && m->nsn)
        gc_model_sn_stash(m);
    gc_model_backward_run(m, hi, &o);
    if (params && m->nsn)
        gc_model_sn_unstash(m);
}

void gc_model_backward(struct gc_model *m, const float *dout, float *dinp)
{
    gc_model_backward_from(m, m->nlayers - 1, dout, dinp);
}
