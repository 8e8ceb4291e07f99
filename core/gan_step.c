/* gan_step.c — one training step: the discriminator and generator updates, their
 * losses (every spec loss, MAD-GAN's softmax, feature matching), label smoothing, the
 * unrolled look-ahead, the learning-rate scale and the generator weight average.
 *
 * d_real / d_fake are mean sigmoid(D) for minimax and nonsaturating, the raw mean of
 * D's output for wasserstein, least-squares and hinge, and with MAD-GAN the mean
 * softmax probability of the "real" class. */
#include "core/gan_step.h"

#include <math.h>
#include <string.h>

#include "core/gan_cond.h"
#include "core/gan_internal.h"
#include "core/loss.h"

static double mean_raw(const float *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return n > 0 ? s / n : 0.0;
}

static int is_binary_sigmoid(enum gc_loss l)
{
    return l == GC_LOSS_MINIMAX || l == GC_LOSS_NONSATURATING;
}

/* Real targets of this D step: 1, a fixed value, or one uniform draw per sample
 * (shared by the logits of a patch map). */
static void fill_real_targets(struct gc_trainer *t)
{
    const struct gc_tricks_spec *tr = &t->spec.tricks;
    int per = t->nout;
    for (int i = 0; i < t->B; i++) {
        float v = 1.0f;
        if (tr->smoothing == GC_SMOOTH_FIXED)
            v = tr->smooth_lo;
        else if (tr->smoothing == GC_SMOOTH_RANGE)
            v = tr->smooth_lo + (tr->smooth_hi - tr->smooth_lo) * gc_rng_uniform(&t->rng_label);
        for (int j = 0; j < per; j++)
            t->t_real[i * per + j] = v;
    }
}

static float d_loss_real(struct gc_trainer *t, const float *out, int n)
{
    switch (t->spec.loss) {
    case GC_LOSS_WASSERSTEIN:
        return gc_wasserstein_mean(t->dlog, out, -1.0f, n, 1.0f);
    case GC_LOSS_LEAST_SQUARES:
        return gc_mse(t->dlog, out, t->t_real, n, 1.0f);
    case GC_LOSS_HINGE:
        return gc_hinge(t->dlog, out, 1.0f, n, 1.0f);
    default:
        return gc_bce_logits(t->dlog, out, t->t_real, n, 1.0f);
    }
}

static float d_loss_fake(struct gc_trainer *t, const float *out, int n)
{
    switch (t->spec.loss) {
    case GC_LOSS_WASSERSTEIN:
        return gc_wasserstein_mean(t->dlog, out, 1.0f, n, 1.0f);
    case GC_LOSS_LEAST_SQUARES:
        return gc_mse(t->dlog, out, t->t_zero, n, 1.0f);
    case GC_LOSS_HINGE:
        return gc_hinge(t->dlog, out, -1.0f, n, 1.0f);
    default:
        return gc_bce_logits(t->dlog, out, t->t_zero, n, 1.0f);
    }
}

static float g_loss(struct gc_trainer *t, const float *out, int n)
{
    switch (t->spec.loss) {
    case GC_LOSS_MINIMAX:
        /* log(1 - D(G(z))) = -bce(x, 0): descend on the negated cross-entropy */
        return -gc_bce_logits(t->dlog, out, t->t_zero, n, -1.0f);
    case GC_LOSS_NONSATURATING:
        return gc_bce_logits(t->dlog, out, t->t_one, n, 1.0f);
    case GC_LOSS_LEAST_SQUARES:
        return gc_mse(t->dlog, out, t->t_one, n, 1.0f);
    default: /* wasserstein and hinge: -mean D(G(z)) */
        return gc_wasserstein_mean(t->dlog, out, -1.0f, n, 1.0f);
    }
}

static double d_stat(struct gc_trainer *t, const float *out, int n)
{
    return is_binary_sigmoid(t->spec.loss) ? gc_mean_sigmoid(out, n) : mean_raw(out, n);
}

static double mean_real_prob(const float *probs, int n, int k, int cls)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += probs[(size_t)i * k + cls];
    return n > 0 ? s / n : 0.0;
}

/* One optimizer step of m at the scheduled rate. */
static void opt_step(struct gc_trainer *t, struct gc_model *m)
{
    gc_model_set_lr_scale(m, t->lr_scale);
    gc_model_step(m);
}

/* ema[k] = decay ema[k] + (1 - decay) G_k after G_k's step (Yazici et al. 2019). */
static void ema_update(struct gc_trainer *t, int k)
{
    size_t n;
    const float *p = gc_model_params(t->g[k], &n);
    float *a = t->ema[k];
    float b = t->spec.tricks.ema, c = 1.0f - b;
    for (size_t i = 0; i < n; i++)
        a[i] = b * a[i] + c * p[i];
}

/* A batch of generator k from fresh noise, of classes y when conditional. */
static const float *fake_batch(struct gc_trainer *t, int k, const int *y)
{
    gc_rng_fill_normal(&t->rng_noise, t->noise, (size_t)t->B * t->spec.model.z_dim, 0.0f, 1.0f);
    return gc_gan_g_forward(t, t->g[k], t->noise, y, t->B, 1);
}

/* The next real batch, and its classes into t->y when conditional. */
static const int *real_batch(struct gc_trainer *t)
{
    int *y = t->nc ? t->y : NULL;
    gc_loader_next(t->loader, (size_t)t->B, t->real, y);
    if (y)
        gc_gan_cond_map_labels(t, y, t->B);
    t->images += (uint64_t)t->B;
    return y;
}

void gc_gan_d_finish(struct gc_trainer *t, struct gc_model *d, struct gc_model *emb, int record,
                     double lr, double lf, double sr, double sf)
{
    if (record) {
        t->loss_d = lr + lf;
        t->d_real = sr;
        t->d_fake = sf;
        /* for wasserstein lr = -mean D(x) and lf = mean D(G(z)) */
        t->wdist = -(lr + lf);
        t->gn_d = gc_model_grad_norm(d);
        if (emb) {
            double ge = gc_model_grad_norm(emb);
            t->gn_d = sqrt(t->gn_d * t->gn_d + ge * ge);
        }
    }
    opt_step(t, d);
    if (emb)
        opt_step(t, emb);
    if (t->spec.tricks.weight_clip > 0.0f) {
        gc_model_clip(d, t->spec.tricks.weight_clip);
        if (emb)
            gc_model_clip(emb, t->spec.tricks.weight_clip);
    }
}

/* One update of discriminator d (the real one, or the look-ahead copy) and its class
 * embedding emb (projection; NULL otherwise) on a fresh real batch and fresh fakes of
 * the same classes; record keeps the figures of the real D's step. */
static void d_step(struct gc_trainer *t, struct gc_model *d, struct gc_model *emb, int record)
{
    int B = t->B, no = t->nout, n = B * no;
    size_t dl = (size_t)n * sizeof(float);
    gc_model_zero_grad(d);
    if (emb)
        gc_model_zero_grad(emb);
    const int *y = real_batch(t);

    double lr, lf = 0.0, sr, sf = 0.0;
    const float *out = gc_gan_d_forward(t, d, emb, t->real, y, B, 1);
    memset(t->dlog, 0, dl);
    if (t->K > 1) {
        /* MAD-GAN: class k = made by generator k, class K = real; the fake term is the
         * mean over generators so that K = 1 would be the usual two-term loss */
        for (int i = 0; i < B; i++)
            t->labels[i] = t->K;
        lr = gc_softmax_xent(t->dlog, out, t->labels, B, no, 1.0f, t->probs);
        sr = mean_real_prob(t->probs, B, no, t->K);
        gc_gan_d_backward(t, d, emb, t->dlog, NULL, 1);
        for (int k = 0; k < t->K; k++) {
            const float *fake = fake_batch(t, k, y);
            out = gc_gan_d_forward(t, d, emb, fake, y, B, 1);
            memset(t->dlog, 0, dl);
            for (int i = 0; i < B; i++)
                t->labels[i] = k;
            lf += gc_softmax_xent(t->dlog, out, t->labels, B, no, 1.0f / t->K, t->probs) / t->K;
            sf += mean_real_prob(t->probs, B, no, t->K) / t->K;
            gc_gan_d_backward(t, d, emb, t->dlog, NULL, 1);
        }
    } else {
        fill_real_targets(t);
        lr = d_loss_real(t, out, n);
        sr = d_stat(t, out, n);
        gc_gan_d_backward(t, d, emb, t->dlog, NULL, 1);
        const float *fake = fake_batch(t, 0, y);
        out = gc_gan_d_forward(t, d, emb, fake, y, B, 1);
        memset(t->dlog, 0, dl);
        lf = d_loss_fake(t, out, n);
        sf = d_stat(t, out, n);
        gc_gan_d_backward(t, d, emb, t->dlog, NULL, 1);
    }
    gc_gan_d_finish(t, d, emb, record, lr, lf, sr, sf);
}

/* Batch means of D's features at the feature layer for the last forward: one mean
 * (feat_size floats) per class of y, or one for the batch when y is NULL; the count of
 * each class into t->fm_count. */
static void feature_means(struct gc_trainer *t, struct gc_model *d, const int *y, float *mean)
{
    int c, h, w;
    const float *f = gc_model_layer_output(d, t->feat_layer, &c, &h, &w);
    size_t F = t->feat_size;
    if (!y) {
        for (size_t j = 0; j < F; j++) {
            double s = 0.0;
            for (int i = 0; i < t->B; i++)
                s += f[(size_t)i * F + j];
            mean[j] = (float)(s / t->B);
        }
        return;
    }
    memset(t->fm_count, 0, (size_t)t->nc * sizeof(int));
    for (int i = 0; i < t->B; i++)
        t->fm_count[y[i]]++;
    for (int k = 0; k < t->nc; k++) {
        if (!t->fm_count[k])
            continue;
        for (size_t j = 0; j < F; j++) {
            double s = 0.0;
            for (int i = 0; i < t->B; i++)
                if (y[i] == k)
                    s += f[(size_t)i * F + j];
            mean[(size_t)k * F + j] = (float)(s / t->fm_count[k]);
        }
    }
}

/* Feature matching's loss and its gradient at D's features (t->dfeat) from the means
 * of the real and the fake batch. Conditional runs match each class's means, the fakes
 * having the real batch's classes: sum_k (n_k / B) ||m_fake,k - m_real,k||^2, whose
 * gradient at a sample of class k is 2 (m_fake,k - m_real,k) / B, as for one class. */
static double feature_matching_grad(struct gc_trainer *t, const int *y)
{
    size_t F = t->feat_size;
    int B = t->B, groups = y ? t->nc : 1;
    double loss = 0.0;
    for (int k = 0; k < groups; k++) {
        int cnt = y ? t->fm_count[k] : B;
        if (!cnt)
            continue;
        const float *mr = t->feat_real + (size_t)k * F, *mf = t->feat_fake + (size_t)k * F;
        double s = 0.0;
        for (size_t j = 0; j < F; j++) {
            float diff = mf[j] - mr[j];
            s += (double)diff * diff;
            /* d/df_ij of sum_j (mean_i f_ij - m_j)^2 is 2 (mean_j - m_j) / B */
            float gj = 2.0f * diff / (float)B;
            for (int i = 0; i < B; i++)
                if (!y || y[i] == k)
                    t->dfeat[(size_t)i * F + j] = gj;
        }
        loss += y ? s * cnt / B : s;
    }
    return loss;
}

/* One update of generator k against discriminator d (with its class embedding emb);
 * returns its loss. */
static double g_update(struct gc_trainer *t, int k, struct gc_model *d, struct gc_model *emb,
                       double *gn2)
{
    int B = t->B, no = t->nout, n = B * no;
    struct gc_model *g = t->g[k];
    double loss;
    const int *y = NULL;
    gc_model_zero_grad(g);
    if (t->spec.tricks.feature_matching) {
        y = real_batch(t);
        gc_gan_d_forward(t, d, emb, t->real, y, B, 1);
        feature_means(t, d, y, t->feat_real);
    } else if (t->nc) {
        gc_gan_draw_classes(t, B, t->y);
        y = t->y;
    }
    const float *fake = fake_batch(t, k, y);
    const float *out = gc_gan_d_forward(t, d, emb, fake, y, B, 1);
    memset(t->dfake, 0, (size_t)B * t->dsize * sizeof(float));
    if (t->spec.tricks.feature_matching) {
        feature_means(t, d, y, t->feat_fake);
        loss = feature_matching_grad(t, y);
        gc_gan_d_backward_features(t, d, t->dfeat, t->dfake);
    } else {
        memset(t->dlog, 0, (size_t)n * sizeof(float));
        if (t->K > 1) {
            if (t->spec.loss == GC_LOSS_MINIMAX) {
                /* minimize log p(class k | G_k(z)) = -xent(label k) */
                for (int i = 0; i < B; i++)
                    t->labels[i] = k;
                loss = -gc_softmax_xent(t->dlog, out, t->labels, B, no, -1.0f, NULL);
            } else {
                for (int i = 0; i < B; i++)
                    t->labels[i] = t->K;
                loss = gc_softmax_xent(t->dlog, out, t->labels, B, no, 1.0f, NULL);
            }
        } else {
            loss = g_loss(t, out, n);
        }
        /* D's own gradients are not wanted here (its next step zeroes them) */
        gc_gan_d_backward(t, d, emb, t->dlog, t->dfake, 0);
    }
    gc_model_backward(g, t->dfake, NULL);
    double gn = gc_model_grad_norm(g);
    *gn2 += gn * gn;
    opt_step(t, g);
    if (t->ema[k])
        ema_update(t, k);
    return loss;
}

/* The generator half of a step: look ahead on the copy of D when unrolling, then
 * update every generator against it. */
void gc_gan_g_step(struct gc_trainer *t)
{
    struct gc_model *d = t->d, *emb = t->emb;
    if (t->dcopy) {
        /* same architecture, preallocated: cannot fail */
        gc_model_copy_state(t->dcopy, t->d, NULL);
        if (emb)
            gc_model_copy_state(t->emb_copy, t->emb, NULL);
        for (int i = 0; i < t->spec.tricks.unrolled_steps; i++)
            d_step(t, t->dcopy, t->emb_copy, 0);
        d = t->dcopy;
        emb = t->emb_copy;
    }
    double loss = 0.0, gn2 = 0.0;
    for (int k = 0; k < t->K; k++)
        loss += g_update(t, k, d, emb, &gn2);
    t->loss_g = loss / t->K;
    t->gn_g = sqrt(gn2);
}

void gc_gan_train_step(struct gc_trainer *t)
{
    /* the schedule, times the watchdog's halvings after rollbacks */
    t->lr_scale = gc_spec_lr_scale(&t->spec, t->step) * t->watch.lr_mult;
    for (int i = 0; i < t->spec.train.d_steps; i++)
        d_step(t, t->d, t->emb, i == t->spec.train.d_steps - 1);
    gc_gan_g_step(t);
}

/* ---- for the image-to-image step (gan_task.c) --------------------------------------- */

void gc_gan_fill_real_targets(struct gc_trainer *t)
{
    fill_real_targets(t);
}

float gc_gan_loss_d_real(struct gc_trainer *t, const float *out, int n)
{
    return d_loss_real(t, out, n);
}

float gc_gan_loss_d_fake(struct gc_trainer *t, const float *out, int n)
{
    return d_loss_fake(t, out, n);
}

float gc_gan_loss_g(struct gc_trainer *t, const float *out, int n)
{
    return g_loss(t, out, n);
}

double gc_gan_d_stat(struct gc_trainer *t, const float *out, int n)
{
    return d_stat(t, out, n);
}

void gc_gan_opt_step(struct gc_trainer *t, struct gc_model *m)
{
    opt_step(t, m);
}

void gc_gan_ema_update(struct gc_trainer *t, int k)
{
    ema_update(t, k);
}
