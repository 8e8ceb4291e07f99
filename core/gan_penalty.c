/* gan_penalty.c — R1 and WGAN-GP on a discriminator update (see gan_penalty.h).
 *
 * Both take g, the input gradient of the batch's summed critic values (D's outputs
 * seeded with 1 / outputs per sample), from gc_model_input_grad, form P and
 * v = dP/dg, and hand v to gc_model_input_grad_backward, which adds dP/d(parameters)
 * exactly. With batch norm in D the critic values of a batch depend on each other, so
 * g_n is the gradient of the batch's sum, as autograd.grad(D(x).sum(), x) gives. */
#include "core/gan_penalty.h"

#include <math.h>
#include <string.h>

#include "core/gan_internal.h"

int gc_gan_penalty_due(const struct gc_trainer *t, const struct gc_model *d)
{
    const struct gc_penalty_spec *p = &t->spec.tricks.penalty;
    return p->on && gc_model_step_count(d) % p->every == 0;
}

/* g = the input gradient of the batch's critic values for the last forward of d. */
static void input_grad(struct gc_trainer *t, struct gc_model *d, int n)
{
    size_t cnt = (size_t)n * t->dsize;
    float seed = 1.0f / (float)t->nout;
    for (size_t i = 0; i < (size_t)n * t->nout; i++)
        t->gp_dout[i] = seed;
    memset(t->gp_g, 0, cnt * sizeof(float));
    gc_model_input_grad(d, t->gp_dout, t->gp_g);
}

double gc_gan_penalty_r1(struct gc_trainer *t, struct gc_model *d, int n)
{
    const struct gc_penalty_spec *p = &t->spec.tricks.penalty;
    input_grad(t, d, n);
    size_t cnt = (size_t)n * t->dsize;
    double sq = 0.0;
    for (size_t i = 0; i < cnt; i++)
        sq += (double)t->gp_g[i] * t->gp_g[i];
    /* P = w/2 mean_n |g_n|^2: dP/dg = w g / n, times every */
    float k = p->weight * (float)p->every / (float)n;
    for (size_t i = 0; i < cnt; i++)
        t->gp_v[i] = k * t->gp_g[i];
    gc_model_input_grad_backward(d, t->gp_v);
    return 0.5 * p->weight * sq / n;
}

double gc_gan_penalty_wgan_gp(struct gc_trainer *t, struct gc_model *d, const float *real,
                              const float *fake, int n)
{
    const struct gc_penalty_spec *p = &t->spec.tricks.penalty;
    const size_t ds = t->dsize;
    for (int i = 0; i < n; i++) {
        float e = gc_rng_uniform(&t->rng_penalty);
        const float *a = real + i * ds, *b = fake + i * ds;
        float *x = t->gp_x + i * ds;
        for (size_t j = 0; j < ds; j++)
            x[j] = e * a[j] + (1.0f - e) * b[j];
    }
    gc_model_forward(d, t->gp_x, n, 1);
    input_grad(t, d, n);
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        const float *g = t->gp_g + i * ds;
        float *v = t->gp_v + i * ds;
        double sq = 0.0;
        for (size_t j = 0; j < ds; j++)
            sq += (double)g[j] * g[j];
        double norm = sqrt(sq);
        sum += (norm - 1.0) * (norm - 1.0);
        /* d/dg (|g| - 1)^2 = 2 (|g| - 1) g / |g|; 0 at g = 0, as PyTorch's norm */
        float k =
            norm > 0.0 ? (float)(2.0 * p->weight * p->every * (norm - 1.0) / (norm * n)) : 0.0f;
        for (size_t j = 0; j < ds; j++)
            v[j] = k * g[j];
    }
    gc_model_input_grad_backward(d, t->gp_v);
    return p->weight * sum / n;
}
