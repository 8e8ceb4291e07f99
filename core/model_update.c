/* model_update.c — the passes over a model's parameters: the optimizer's step at the
 * scheduled rate, zeroing the gradients, clipping the weights and the gradient norm,
 * each split by parameter range across the model's pool when there are enough
 * parameters to pay for it (THREADS in model_pass.c). */
#include "core/model_update.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "core/model_internal.h"
#include "core/optim.h"

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
    gc_model_split(m->nparams, ith, nth, 16, &b, &e);
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
        m->tsum[(size_t)ith * GC_MODEL_TSUM_STRIDE] = gc_sum_sq(g, len);
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
    /* layer_cost units per parameter: Adam ~1 ns, the others a memory pass or two.
     * Zeroing inside a step is no cheap memset: on the 64x64 DCGAN's G (3.6M
     * parameters) it took 3.8 ms, 1.05 ns a parameter (a second zeroing right after,
     * 0.25 ms); on the 28x28 reference G, 0.25 ms for 0.77M (0.33 ns), which stays
     * on the caller */
    static const double unit[] = {
        [OP_ZERO] = 25.0, [OP_STEP] = 50.0, [OP_CLIP] = 20.0, [OP_SUMSQ] = 15.0};
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
        s += m->tsum[(size_t)t * GC_MODEL_TSUM_STRIDE];
    return (float)sqrt(s);
}

void gc_model_clip(struct gc_model *m, float c)
{
    run_range(m, OP_CLIP, c);
}

long long gc_model_step_count(const struct gc_model *m)
{
    return (long long)m->step;
}
