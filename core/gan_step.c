/* gan_step.c — one training step: the discriminator and generator updates, their
 * losses (every spec loss, MAD-GAN's softmax, feature matching), label smoothing, the
 * unrolled look-ahead, the learning-rate scale, the generator weight average,
 * DiffAugment (real and fake batches augmented before D, G's gradient taken back
 * through the augmentation) and the gradient penalties (gan_penalty.c).
 *
 * d_real / d_fake are mean sigmoid(D) for minimax and nonsaturating, the raw mean of
 * D's output for wasserstein, least-squares and hinge, and with MAD-GAN the mean
 * softmax probability of the "real" class.
 *
 * RANKS (gan_internal.h). Each rank draws the whole batch's data order, noise and
 * label draws and trains on its part of b samples. Its losses are means over the
 * part, and their gradients are scaled by part = b/B, so that summing the parameter
 * gradients across ranks (once per network per update, one sum over the model's
 * gradient block, before the norm and the optimizer's step) gives the gradient of the
 * mean over the whole batch. Batch norm sums its statistics across ranks inside the
 * model (core/model_pass.h); feature matching sums its feature sums. The figures stay
 * this rank's part until gc_gan_share_figures turns them into the whole batch's. The
 * parameters, the optimizer states, the clipping and the weight average then move the
 * same on every rank. */
#include "core/gan_step.h"

#include <math.h>
#include <string.h>

#include "core/gan_cond.h"
#include "core/gan_internal.h"
#include "core/gan_penalty.h"
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
 * (shared by the logits of a patch map). The draws are the whole batch's; the part's
 * are kept. */
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
        if (i < t->b0 || i >= t->b0 + t->b)
            continue;
        for (int j = 0; j < per; j++)
            t->t_real[(i - t->b0) * per + j] = v;
    }
}

static float d_loss_real(struct gc_trainer *t, const float *out, int n)
{
    switch (t->spec.loss) {
    case GC_LOSS_WASSERSTEIN:
        return gc_wasserstein_mean(t->dlog, out, -1.0f, n, t->part);
    case GC_LOSS_LEAST_SQUARES:
        return gc_mse(t->dlog, out, t->t_real, n, t->part);
    case GC_LOSS_HINGE:
        return gc_hinge(t->dlog, out, 1.0f, n, t->part);
    default:
        return gc_bce_logits(t->dlog, out, t->t_real, n, t->part);
    }
}

static float d_loss_fake(struct gc_trainer *t, const float *out, int n)
{
    switch (t->spec.loss) {
    case GC_LOSS_WASSERSTEIN:
        return gc_wasserstein_mean(t->dlog, out, 1.0f, n, t->part);
    case GC_LOSS_LEAST_SQUARES:
        return gc_mse(t->dlog, out, t->t_zero, n, t->part);
    case GC_LOSS_HINGE:
        return gc_hinge(t->dlog, out, -1.0f, n, t->part);
    default:
        return gc_bce_logits(t->dlog, out, t->t_zero, n, t->part);
    }
}

static float g_loss(struct gc_trainer *t, const float *out, int n)
{
    switch (t->spec.loss) {
    case GC_LOSS_MINIMAX:
        /* log(1 - D(G(z))) = -bce(x, 0): descend on the negated cross-entropy */
        return -gc_bce_logits(t->dlog, out, t->t_zero, n, -t->part);
    case GC_LOSS_NONSATURATING:
        return gc_bce_logits(t->dlog, out, t->t_one, n, t->part);
    case GC_LOSS_LEAST_SQUARES:
        return gc_mse(t->dlog, out, t->t_one, n, t->part);
    default: /* wasserstein and hinge: -mean D(G(z)) */
        return gc_wasserstein_mean(t->dlog, out, -1.0f, n, t->part);
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

/* The gradient of the whole batch: every rank's part summed, in one call over the
 * model's gradient block. */
static void sum_grads(struct gc_trainer *t, struct gc_model *m)
{
    size_t n;
    float *g = gc_model_grads(m, &n);
    gc_comm_sum_f32(t->comm, g, n);
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

/* G_k on this rank's part of fresh noise (drawn for the whole batch), of classes y
 * (this part's) when conditional. */
static const float *fake_batch(struct gc_trainer *t, int k, const int *y)
{
    size_t z = (size_t)t->spec.model.z_dim;
    gc_rng_fill_normal(&t->rng_noise, t->noise, (size_t)t->B * z, 0.0f, 1.0f);
    return gc_gan_g_forward(t, t->g[k], t->noise + (size_t)t->b0 * z, y, t->b, 1);
}

/* This rank's part of the next real batch, and its classes into t->y when
 * conditional. */
static const int *real_batch(struct gc_trainer *t)
{
    int *y = t->nc ? t->y : NULL;
    gc_loader_next_part(t->loader, (size_t)t->B, (size_t)t->b0, (size_t)t->b, t->real, y);
    if (y)
        gc_gan_cond_map_labels(t, y, t->b);
    t->images += (uint64_t)t->B;
    return y;
}

/* The batch as D sees it: x itself, or with DiffAugment on, x augmented by a fresh
 * draw into out (whose draw t->aug keeps for a backward through it). */
static const float *for_d(struct gc_trainer *t, const float *x, float *out)
{
    if (!t->aug)
        return x;
    gc_augment_draw(&t->rng_aug, t->spec.tricks.diffaugment, t->b, t->h, t->w, t->aug);
    gc_augment_forward(t->aug, t->b, t->c, t->h, t->w, x, out);
    return out;
}

void gc_gan_d_finish(struct gc_trainer *t, struct gc_model *d, struct gc_model *emb, int record,
                     double lr, double lf, double sr, double sf, double gp)
{
    if (record && gp >= 0.0)
        t->gp = gp;
    if (record) {
        /* the loss D descends: the penalty's term (times every) included */
        t->loss_d = lr + lf + (gp >= 0.0 ? gp * t->spec.tricks.penalty.every : 0.0);
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
    int B = t->b, no = t->nout, n = B * no;
    size_t dl = (size_t)n * sizeof(float);
    gc_model_zero_grad(d);
    if (emb)
        gc_model_zero_grad(emb);
    const int *y = real_batch(t);
    const float *real = for_d(t, t->real, t->aug_real);
    int penalize = gc_gan_penalty_due(t, d);
    double gp = -1.0;

    double lr, lf = 0.0, sr, sf = 0.0;
    const float *out = gc_gan_d_forward(t, d, emb, real, y, B, 1);
    memset(t->dlog, 0, dl);
    if (t->K > 1) {
        /* MAD-GAN: class k = made by generator k, class K = real; the fake term is the
         * mean over generators so that K = 1 would be the usual two-term loss */
        for (int i = 0; i < B; i++)
            t->labels[i] = t->K;
        lr = gc_softmax_xent(t->dlog, out, t->labels, B, no, t->part, t->probs);
        sr = mean_real_prob(t->probs, B, no, t->K);
        gc_gan_d_backward(t, d, emb, t->dlog, NULL, 1);
        for (int k = 0; k < t->K; k++) {
            const float *fake = for_d(t, fake_batch(t, k, y), t->aug_fake);
            out = gc_gan_d_forward(t, d, emb, fake, y, B, 1);
            memset(t->dlog, 0, dl);
            for (int i = 0; i < B; i++)
                t->labels[i] = k;
            lf += gc_softmax_xent(t->dlog, out, t->labels, B, no, t->part / t->K, t->probs) / t->K;
            sf += mean_real_prob(t->probs, B, no, t->K) / t->K;
            gc_gan_d_backward(t, d, emb, t->dlog, NULL, 1);
        }
    } else {
        fill_real_targets(t);
        lr = d_loss_real(t, out, n);
        sr = d_stat(t, out, n);
        gc_gan_d_backward(t, d, emb, t->dlog, NULL, 1);
        if (penalize && t->spec.tricks.penalty.kind == GC_PENALTY_R1)
            gp = gc_gan_penalty_r1(t, d, B); /* on the real forward just made */
        const float *fake = for_d(t, fake_batch(t, 0, y), t->aug_fake);
        out = gc_gan_d_forward(t, d, emb, fake, y, B, 1);
        memset(t->dlog, 0, dl);
        lf = d_loss_fake(t, out, n);
        sf = d_stat(t, out, n);
        gc_gan_d_backward(t, d, emb, t->dlog, NULL, 1);
        if (penalize && t->spec.tricks.penalty.kind == GC_PENALTY_WGAN_GP)
            gp = gc_gan_penalty_wgan_gp(t, d, real, fake, B);
    }
    sum_grads(t, d);
    gc_gan_d_finish(t, d, emb, record, lr, lf, sr, sf, gp);
}

/* Sums of D's features at the feature layer over this rank's part of the last
 * forward: one sum (feat_size values) per class of y, or one for the part when y is
 * NULL; the count of each class into t->fm_count. */
static void feature_sums(struct gc_trainer *t, struct gc_model *d, const int *y, double *sum)
{
    int c, h, w;
    const float *f = gc_model_layer_output(d, t->feat_layer, &c, &h, &w);
    size_t F = t->feat_size;
    int groups = y ? t->nc : 1;
    memset(sum, 0, (size_t)groups * F * sizeof *sum);
    if (y) {
        memset(t->fm_count, 0, (size_t)t->nc * sizeof(int));
        for (int i = 0; i < t->b; i++)
            t->fm_count[y[i]]++;
    }
    for (int i = 0; i < t->b; i++) {
        double *s = sum + (size_t)(y ? y[i] : 0) * F;
        const float *fi = f + (size_t)i * F;
        for (size_t j = 0; j < F; j++)
            s[j] += fi[j];
    }
}

/* Feature matching's loss and its gradient at D's features (t->dfeat, this rank's
 * part) from the sums of the real and the fake batch in t->feat_sum (summed across the
 * ranks): the distance of the whole batch's means. Conditional runs match each class's
 * means, the fakes having the real batch's classes: sum_k (n_k / B) ||m_fake,k -
 * m_real,k||^2, whose gradient at a sample of class k is 2 (m_fake,k - m_real,k) / B,
 * as for one class. */
static double feature_matching_grad(struct gc_trainer *t, const int *y)
{
    size_t F = t->feat_size;
    int B = t->B, groups = y ? t->nc : 1;
    const double *sr = t->feat_sum, *sf = t->feat_sum + (size_t)groups * F;
    double loss = 0.0;
    for (int k = 0; k < groups; k++) {
        int cnt = y ? t->fm_count[k] : B;
        if (!cnt)
            continue;
        float *mr = t->feat_real + (size_t)k * F, *mf = t->feat_fake + (size_t)k * F;
        double s = 0.0;
        for (size_t j = 0; j < F; j++) {
            mr[j] = (float)(sr[(size_t)k * F + j] / cnt);
            mf[j] = (float)(sf[(size_t)k * F + j] / cnt);
            float diff = mf[j] - mr[j];
            s += (double)diff * diff;
            /* d/df_ij of sum_j (mean_i f_ij - m_j)^2 is 2 (mean_j - m_j) / B, B the
             * whole batch (the means are its) */
            float gj = 2.0f * diff / (float)t->B;
            for (int i = 0; i < t->b; i++)
                if (!y || y[i] == k)
                    t->dfeat[(size_t)i * F + j] = gj;
        }
        loss += y ? s * cnt / B : s;
    }
    return loss;
}

/* One update of generator k against discriminator d (with its class embedding emb).
 * Its loss goes to loss_g_part (a mean over this rank's part) or, with feature
 * matching, to loss_g_whole (the distance of the whole batch's feature means, the
 * same on every rank). */
static void g_update(struct gc_trainer *t, int k, struct gc_model *d, struct gc_model *emb,
                     double *gn2)
{
    int B = t->b, no = t->nout, n = B * no;
    struct gc_model *g = t->g[k];
    double loss;
    const int *y = NULL;
    gc_model_zero_grad(g);
    if (t->spec.tricks.feature_matching) {
        y = real_batch(t);
        gc_gan_d_forward(t, d, emb, for_d(t, t->real, t->aug_real), y, B, 1);
        feature_sums(t, d, y, t->feat_sum);
    } else if (t->nc) {
        gc_gan_draw_classes(t, B, t->y);
        y = t->y;
    }
    const float *fake = for_d(t, fake_batch(t, k, y), t->aug_fake);
    const float *out = gc_gan_d_forward(t, d, emb, fake, y, B, 1);
    /* D's input gradient: G's output gradient, or the augmented batch's first */
    float *dd = t->aug ? t->daug : t->dfake;
    memset(dd, 0, (size_t)B * t->dsize * sizeof(float));
    if (t->spec.tricks.feature_matching) {
        size_t G = y ? (size_t)t->nc : 1;
        feature_sums(t, d, y, t->feat_sum + G * t->feat_size);
        gc_comm_sum_f64(t->comm, t->feat_sum, 2 * G * t->feat_size);
        t->loss_g_whole += feature_matching_grad(t, y);
        gc_gan_d_backward_features(t, d, t->dfeat, dd);
    } else {
        memset(t->dlog, 0, (size_t)n * sizeof(float));
        if (t->K > 1) {
            if (t->spec.loss == GC_LOSS_MINIMAX) {
                /* minimize log p(class k | G_k(z)) = -xent(label k) */
                for (int i = 0; i < B; i++)
                    t->labels[i] = k;
                loss = -gc_softmax_xent(t->dlog, out, t->labels, B, no, -t->part, NULL);
            } else {
                for (int i = 0; i < B; i++)
                    t->labels[i] = t->K;
                loss = gc_softmax_xent(t->dlog, out, t->labels, B, no, t->part, NULL);
            }
        } else {
            loss = g_loss(t, out, n);
        }
        t->loss_g_part += loss;
        /* D's own gradients are not wanted here (its next step zeroes them) */
        gc_gan_d_backward(t, d, emb, t->dlog, dd, 0);
    }
    if (t->aug) {
        memset(t->dfake, 0, (size_t)B * t->dsize * sizeof(float));
        gc_augment_backward(t->aug, B, t->c, t->h, t->w, t->daug, t->dfake);
    }
    gc_model_backward(g, t->dfake, NULL);
    sum_grads(t, g);
    double gn = gc_model_grad_norm(g);
    *gn2 += gn * gn;
    opt_step(t, g);
    if (t->ema[k])
        ema_update(t, k);
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
    double gn2 = 0.0;
    t->loss_g_part = t->loss_g_whole = 0.0;
    for (int k = 0; k < t->K; k++)
        g_update(t, k, d, emb, &gn2);
    /* one of the two is 0: feature matching is on for every generator or for none */
    t->loss_g = (t->loss_g_part + t->loss_g_whole) / t->K;
    t->gn_g = sqrt(gn2);
}

void gc_gan_share_figures(struct gc_trainer *t, double *extra)
{
    if (t->nranks == 1)
        return;
    double v[5] = {t->loss_d, t->d_real, t->d_fake, t->loss_g_part, extra ? *extra : 0.0};
    gc_comm_sum_f64(t->comm, v, 5);
    double n = t->nranks;
    t->loss_d = v[0] / n;
    t->d_real = v[1] / n;
    t->d_fake = v[2] / n;
    t->wdist = -t->loss_d;
    t->loss_g = (v[3] / n + t->loss_g_whole) / t->K;
    if (extra)
        *extra = v[4];
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
