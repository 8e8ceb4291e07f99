/* gan.c — the GAN engine: builds G(s) and D from a spec, trains them, and reports.
 *
 * One trainer owns everything a run needs: the models (K generators, one
 * discriminator, and a preallocated look-ahead copy of D for the unrolled GAN), the
 * dataset and its loader, two RNG streams (noise, label smoothing) and every batch
 * buffer. All buffers are allocated at create, so a training step allocates nothing.
 *
 * One "step" of the spec is d_steps discriminator updates followed by one generator
 * update (one per generator with MAD-GAN), each on a fresh real batch and fresh noise.
 *
 * DETERMINISM. The training state is: the models (parameters, optimizer moments and
 * step, BN running statistics), the noise and label RNG states, the loader position
 * and the step. A checkpoint holds exactly that, so a restored trainer continues bit
 * for bit (with the same thread count, since the models' sums over the batch are
 * split by threads). Evaluation and sample grids draw from RNGs derived from (seed, step) and run
 * G in eval mode, which touches no state that training reads, so turning them on or
 * off leaves the checkpoints unchanged.
 *
 * d_real / d_fake are mean sigmoid(D) for minimax and nonsaturating, the raw mean of
 * D's output for wasserstein, least-squares and hinge, and with MAD-GAN the mean
 * softmax probability of the "real" class. */
#include "core/gan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/classifier.h"
#include "core/data.h"
#include "core/eval.h"
#include "core/image.h"
#include "core/loss.h"
#include "core/model.h"
#include "core/pool.h"
#include "core/serial.h"

#define CKPT_MAGIC 0x50434347u /* "GCCP" little-endian */
#define CKPT_VERSION 1u
/* The generator weight average follows D as an optional last section (tag, K, then
 * per generator u64 n and n floats). Without ema nothing follows D, exactly as in the
 * checkpoints written before the average existed, so those still load. */
#define CKPT_EMA_TAG 0x31414d45u /* "EMA1" */

/* RNG streams of one seed; each purpose gets its own so that none disturbs another. */
enum {
    STREAM_INIT_D = 1,
    STREAM_LOADER = 2,
    STREAM_NOISE = 3,
    STREAM_LABEL = 4,
    STREAM_GENERATE = 5,
    STREAM_SWD = 6,
    STREAM_INIT_G = 16, /* + generator index */
};

#define SAMPLE_IMAGES 64 /* fixed noise set of the sample grid: 8 x 8 */
#define SAMPLE_COLS 8
#define SCATTER_SIZE 512           /* pixels of the 2D scatter plot */
#define EVAL_MAX_FLOATS (1u << 24) /* cap of real (and generated) floats kept for swd */
#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
#define LEAK 0.2f
#define MAX_WARN_LINES 16

struct gc_trainer {
    struct gc_spec spec;
    int threads;
    struct gc_pool *pool; /* t->threads threads, lent to every model */
    char cache_dir[GC_PATH_MAX];

    struct gc_dataset *data; /* NULL for image sets created with load_data = 0 */
    struct gc_loader *loader;
    int c, h, w;  /* per-sample shape */
    size_t dsize; /* floats per sample */
    int is2d;
    int K;            /* generators */
    int B;            /* batch size */
    int nout;         /* D outputs per sample: 1, a patch map, or K + 1 */
    int feat_layer;   /* D's last hidden layer (feature matching) */
    size_t feat_size; /* its floats per sample */

    struct gc_model *g[GC_MAX_GENERATORS];
    struct gc_model *d;
    struct gc_model *dcopy; /* the unrolled look-ahead copy, NULL when unrolled_steps = 0 */

    /* learning-rate schedule: every optimizer step of this training step runs at
     * lr_scale times the spec's rates (gc_spec_lr_scale of the step) */
    float lr_scale;
    /* generator weight average (tricks.ema): ema[k] holds the averaged parameters of
     * generator k (gc_model_params order); gsample is a model of G's shape that
     * generation loads with G_k's BN statistics and ema[k]. NULL without ema. */
    float *ema[GC_MAX_GENERATORS];
    struct gc_model *gsample;

    struct gc_rng rng_noise, rng_label;
    uint64_t fixed_seed; /* noise set of the sample grids */
    int64_t step;

    /* batch buffers, allocated once */
    float *real;   /* B x dsize */
    float *noise;  /* B x z */
    float *dfake;  /* B x dsize: gradient of G's output */
    float *dlog;   /* B x nout: gradient of D's output */
    float *probs;  /* B x nout (MAD-GAN softmax) */
    float *t_real; /* B x nout targets */
    float *t_zero, *t_one;
    int *labels;                  /* B */
    float *feat_real, *feat_fake; /* feat_size: batch means */
    float *dfeat;                 /* B x feat_size */
    float *samples;               /* the fixed sample set, n x dsize */
    int nsamples;

    /* the figures of the last step */
    double loss_d, loss_g, d_real, d_fake, gn_d, gn_g, wdist;
    uint64_t images; /* real samples consumed since the last log */
    double busy;     /* seconds spent in training steps since the last log */

    /* evaluation state, made at the first evaluation */
    struct gc_dataset *eval_data; /* fashion-mnist test split; else borrowed from data */
    float *eval_real, *eval_gen;
    size_t eval_n;
    struct gc_classifier *clf;
    struct gc_gauss real_gauss;
    int have_gauss;
    float *eval_feat, *eval_probs;

    const struct gc_train_hooks *hooks; /* during gc_trainer_run */
    char warn[MAX_WARN_LINES][256];
    int nwarn, warn_dropped;
};

/* ---- small helpers ----------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static double mean_raw(const float *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return n > 0 ? s / n : 0.0;
}

static void log_line(struct gc_trainer *t, const char *msg)
{
    if (t->hooks && t->hooks->log)
        t->hooks->log(t->hooks->ctx, msg);
}

/* Dataset warnings at create come before any hooks exist: keep them for run(). */
static void keep_warning(void *ctx, const char *msg)
{
    struct gc_trainer *t = ctx;
    if (t->hooks && t->hooks->log) {
        t->hooks->log(t->hooks->ctx, msg);
        return;
    }
    if (t->nwarn < MAX_WARN_LINES)
        snprintf(t->warn[t->nwarn++], sizeof t->warn[0], "%s", msg);
    else
        t->warn_dropped++;
}

static int is_binary_sigmoid(enum gc_loss l)
{
    return l == GC_LOSS_MINIMAX || l == GC_LOSS_NONSATURATING;
}

/* ---- architectures ------------------------------------------------------------------ */

/* DCGAN geometry: the number of up/down blocks and the start side for a square image. */
static int dcgan_blocks(int side, int *s0)
{
    switch (side) {
    case 28:
        *s0 = 7;
        return 2;
    case 32:
        *s0 = 4;
        return 3;
    case 64:
        *s0 = 4;
        return 4;
    default:
        return 0;
    }
}

/* The end of every model build: finalize and choose the optimizer after the layers
 * went in without error (rc), or destroy the half-built model. */
static struct gc_model *finish_model(struct gc_model *m, int rc, enum gc_init init,
                                     struct gc_rng *rng, const struct gc_optim_spec *opt,
                                     struct gc_error *err)
{
    if (!rc)
        rc = gc_model_finalize(m, init, rng, err);
    if (!rc)
        rc = gc_model_set_optim(m, opt, err);
    if (rc) {
        gc_model_destroy(m);
        return NULL;
    }
    return m;
}

static struct gc_model *build_g(const struct gc_trainer *t, struct gc_rng *rng,
                                struct gc_error *err)
{
    const struct gc_model_spec *ms = &t->spec.model;
    int bn = ms->batch_norm;
    struct gc_model *m = gc_model_create(t->B, ms->z_dim, 1, 1, err);
    if (!m)
        return NULL;
    int rc = 0;
    enum gc_init init = GC_INIT_DEFAULT;
    if (ms->arch == GC_ARCH_MLP) {
        for (int i = 0; i < ms->layers && !rc; i++) {
            rc = gc_model_add_linear(m, ms->hidden, 1, err);
            if (!rc && bn)
                rc = gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err);
            if (!rc)
                rc = gc_model_add_relu(m, err);
        }
        if (!rc)
            rc = gc_model_add_linear(m, (int)t->dsize, 1, err);
        if (!rc && !t->is2d) {
            rc = gc_model_add_tanh(m, err);
            if (!rc)
                rc = gc_model_add_reshape(m, t->c, t->h, t->w, err);
        }
    } else {
        /* linear z -> c0 x s0 x s0, then blocks of convT (4, 2, 1) halving the
         * channels, the last to the image channels with a bias and tanh */
        int s0 = 0;
        int nb = dcgan_blocks(t->h, &s0);
        int ch = ms->g_width << (nb - 1);
        init = GC_INIT_DCGAN;
        rc = gc_model_add_linear(m, ch * s0 * s0, !bn, err);
        if (!rc && bn)
            rc = gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err);
        if (!rc)
            rc = gc_model_add_relu(m, err);
        if (!rc)
            rc = gc_model_add_reshape(m, ch, s0, s0, err);
        for (int i = 0; i < nb - 1 && !rc; i++) {
            rc = gc_model_add_convt2d(m, ch / 2, 4, 2, 1, !bn, err);
            if (!rc && bn)
                rc = gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err);
            if (!rc)
                rc = gc_model_add_relu(m, err);
            ch /= 2;
        }
        if (!rc)
            rc = gc_model_add_convt2d(m, t->c, 4, 2, 1, 1, err);
        if (!rc)
            rc = gc_model_add_tanh(m, err);
    }
    return finish_model(m, rc, init, rng, &t->spec.opt_g, err);
}

static struct gc_model *build_d(const struct gc_trainer *t, struct gc_rng *rng,
                                struct gc_error *err)
{
    const struct gc_model_spec *ms = &t->spec.model;
    int bn = ms->batch_norm;
    int nlogits = t->K > 1 ? t->K + 1 : 1;
    struct gc_model *m = gc_model_create(t->B, t->c, t->h, t->w, err);
    if (!m)
        return NULL;
    int rc = 0;
    enum gc_init init = GC_INIT_DEFAULT;
    if (ms->arch == GC_ARCH_MLP) {
        for (int i = 0; i < ms->layers && !rc; i++) {
            rc = gc_model_add_linear(m, ms->hidden, 1, err);
            if (!rc)
                rc = gc_model_add_leaky_relu(m, LEAK, err);
        }
        if (!rc)
            rc = gc_model_add_linear(m, nlogits, 1, err);
    } else {
        int s0 = 0;
        int nb = dcgan_blocks(t->h, &s0);
        int ch = ms->d_width;
        init = GC_INIT_DCGAN;
        rc = gc_model_add_conv2d(m, ch, 4, 2, 1, 1, err);
        if (!rc)
            rc = gc_model_add_leaky_relu(m, LEAK, err);
        for (int i = 0; i < nb - 1 && !rc; i++) {
            rc = gc_model_add_conv2d(m, ch * 2, 4, 2, 1, !bn, err);
            if (!rc && bn)
                rc = gc_model_add_batchnorm(m, BN_EPS, BN_MOMENTUM, err);
            if (!rc)
                rc = gc_model_add_leaky_relu(m, LEAK, err);
            ch *= 2;
        }
        /* PatchGAN: one logit per position of the last feature map, each seeing its
         * receptive field; otherwise one logit per image */
        if (!rc && ms->patch)
            rc = gc_model_add_conv2d(m, 1, 3, 1, 1, 1, err);
        else if (!rc)
            rc = gc_model_add_linear(m, nlogits, 1, err);
    }
    return finish_model(m, rc, init, rng, &t->spec.opt_d, err);
}

/* Shape of one sample from the spec alone, or from the opened dataset. */
static int sample_shape(struct gc_trainer *t, struct gc_error *err)
{
    const struct gc_dataset_spec *ds = &t->spec.dataset;
    if (t->data) {
        gc_dataset_shape(t->data, &t->c, &t->h, &t->w);
    } else if (ds->kind == GC_DATA_FASHION_MNIST) {
        t->c = 1, t->h = 28, t->w = 28;
    } else if (ds->kind == GC_DATA_PNG_DIR) {
        t->c = ds->channels, t->h = ds->image_size, t->w = ds->image_size;
    } else {
        return gc_error_set(err, GC_EINVAL, "dataset: shape unknown without the data");
    }
    if (t->is2d) {
        t->c = 2, t->h = 1, t->w = 1;
    }
    t->dsize = (size_t)t->c * t->h * t->w;
    if (t->spec.model.arch == GC_ARCH_DCGAN) {
        int s0;
        if (t->h != t->w || !dcgan_blocks(t->h, &s0))
            return gc_error_set(err, GC_EINVAL,
                                "model.arch: dcgan takes 28x28, 32x32 or 64x64 images, not "
                                "%dx%d (use dataset.image_size 32 or 64, or arch mlp)",
                                t->w, t->h);
        if (t->c != 1 && t->c != 3)
            return gc_error_set(err, GC_EINVAL, "model.arch: dcgan takes 1 or 3 channels, not %d",
                                t->c);
    }
    return 0;
}

/* ---- create / destroy --------------------------------------------------------------- */

void gc_trainer_destroy(struct gc_trainer *t)
{
    if (!t)
        return;
    for (int k = 0; k < GC_MAX_GENERATORS; k++)
        gc_model_destroy(t->g[k]);
    gc_model_destroy(t->d);
    gc_model_destroy(t->dcopy);
    gc_pool_destroy(t->pool); /* after the models that borrow it */
    gc_loader_destroy(t->loader);
    if (t->eval_data != t->data)
        gc_dataset_destroy(t->eval_data);
    gc_dataset_destroy(t->data);
    gc_classifier_destroy(t->clf);
    if (t->have_gauss)
        gc_gauss_fini(&t->real_gauss);
    free(t->real);
    free(t->noise);
    free(t->dfake);
    free(t->dlog);
    free(t->probs);
    free(t->t_real);
    free(t->t_zero);
    free(t->t_one);
    free(t->labels);
    free(t->feat_real);
    free(t->feat_fake);
    free(t->dfeat);
    free(t->samples);
    free(t->eval_real);
    free(t->eval_gen);
    free(t->eval_feat);
    free(t->eval_probs);
    for (int k = 0; k < GC_MAX_GENERATORS; k++)
        free(t->ema[k]);
    gc_model_destroy(t->gsample);
    free(t);
}

/* The learning-rate schedule's start and the generator weight average's buffers. */
static int create_schedule_ema(struct gc_trainer *t, struct gc_error *err)
{
    size_t ng;
    gc_model_params(t->g[0], &ng);
    t->lr_scale = 1.0f;
    if (t->spec.tricks.ema > 0.0f) {
        t->gsample = gc_model_clone(t->g[0], err);
        if (!t->gsample)
            return gc_error_prefix(err, "ema");
        for (int k = 0; k < t->K; k++) {
            /* the average starts at G's initial weights (step 0) */
            t->ema[k] = malloc(ng * sizeof(float));
            if (!t->ema[k])
                return gc_error_set(err, GC_ENOMEM, "trainer: out of memory for ema");
            memcpy(t->ema[k], gc_model_params(t->g[k], &ng), ng * sizeof(float));
        }
    }
    return 0;
}

struct gc_trainer *gc_trainer_create(const struct gc_spec *spec, const struct gc_trainer_opts *opts,
                                     struct gc_error *err)
{
    struct gc_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        gc_error_set(err, GC_ENOMEM, "trainer: out of memory");
        return NULL;
    }
    t->spec = *spec;
    t->threads = opts && opts->threads > 0 ? opts->threads : 1;
    if (opts && opts->cache_dir)
        snprintf(t->cache_dir, sizeof t->cache_dir, "%s", opts->cache_dir);
    t->is2d = gc_dataset_is_2d(spec->dataset.kind);
    t->K = spec->tricks.generators > 1 ? spec->tricks.generators : 1;
    t->B = spec->train.batch_size;
    t->pool = gc_pool_create(t->threads, err);
    if (!t->pool)
        goto fail;

    int load = !opts || opts->load_data;
    /* Point sets cost nothing to open and give the modes the plots need; an idx
     * file's shape is only known from the file itself. */
    if (load || t->is2d || spec->dataset.kind == GC_DATA_IDX) {
        t->data = gc_dataset_open(&spec->dataset, keep_warning, t, err);
        if (!t->data)
            goto fail;
    }
    if (sample_shape(t, err))
        goto fail;

    uint64_t seed = spec->train.seed;
    struct gc_rng init;
    for (int k = 0; k < t->K; k++) {
        gc_rng_init(&init, seed, STREAM_INIT_G + (uint64_t)k);
        t->g[k] = build_g(t, &init, err);
        if (!t->g[k]) {
            gc_error_prefix(err, "generator");
            goto fail;
        }
    }
    gc_rng_init(&init, seed, STREAM_INIT_D);
    t->d = build_d(t, &init, err);
    if (!t->d) {
        gc_error_prefix(err, "discriminator");
        goto fail;
    }
    for (int k = 0; k < t->K; k++)
        if (gc_model_set_pool(t->g[k], t->pool, err))
            goto fail;
    if (gc_model_set_pool(t->d, t->pool, err))
        goto fail;
    if (spec->tricks.unrolled_steps > 0) {
        t->dcopy = gc_model_clone(t->d, err); /* shares D's pool */
        if (!t->dcopy)
            goto fail;
    }
    if (create_schedule_ema(t, err))
        goto fail;
    t->nout = (int)gc_model_out_size(t->d);
    t->feat_layer = gc_model_nlayers(t->d) - 2;
    {
        int fc, fh, fw;
        gc_model_layer_output(t->d, t->feat_layer, &fc, &fh, &fw);
        t->feat_size = (size_t)fc * fh * fw;
    }

    if (load) {
        t->loader = gc_loader_create(t->data, seed, STREAM_LOADER, err);
        if (!t->loader)
            goto fail;
    }
    gc_rng_init(&t->rng_noise, seed, STREAM_NOISE);
    gc_rng_init(&t->rng_label, seed, STREAM_LABEL);
    t->fixed_seed = mix64(seed ^ 0x5eed5a3b1e5ull);

    size_t B = (size_t)t->B, no = (size_t)t->nout;
    t->nsamples = t->is2d ? GC_EVAL_POINTS : SAMPLE_IMAGES;
    t->real = malloc(B * t->dsize * sizeof(float));
    t->noise = malloc(B * (size_t)spec->model.z_dim * sizeof(float));
    t->dfake = malloc(B * t->dsize * sizeof(float));
    t->dlog = malloc(B * no * sizeof(float));
    t->probs = malloc(B * no * sizeof(float));
    t->t_real = malloc(B * no * sizeof(float));
    t->t_zero = calloc(B * no, sizeof(float));
    t->t_one = malloc(B * no * sizeof(float));
    t->labels = malloc(B * sizeof(int));
    t->feat_real = malloc(t->feat_size * sizeof(float));
    t->feat_fake = malloc(t->feat_size * sizeof(float));
    t->dfeat = malloc(B * t->feat_size * sizeof(float));
    t->samples = malloc((size_t)t->nsamples * t->dsize * sizeof(float));
    if (!t->real || !t->noise || !t->dfake || !t->dlog || !t->probs || !t->t_real || !t->t_zero ||
        !t->t_one || !t->labels || !t->feat_real || !t->feat_fake || !t->dfeat || !t->samples) {
        gc_error_set(err, GC_ENOMEM, "trainer: out of memory for the batch buffers");
        goto fail;
    }
    for (size_t i = 0; i < B * no; i++)
        t->t_one[i] = 1.0f;
    return t;
fail:
    gc_trainer_destroy(t);
    return NULL;
}

/* ---- one training step -------------------------------------------------------------- */

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

static const float *fake_batch(struct gc_trainer *t, int k)
{
    gc_rng_fill_normal(&t->rng_noise, t->noise, (size_t)t->B * t->spec.model.z_dim, 0.0f, 1.0f);
    return gc_model_forward(t->g[k], t->noise, t->B, 1);
}

/* One update of discriminator d (the real one, or the look-ahead copy) on a fresh
 * real batch and fresh fakes; record keeps the figures of the real D's step. */
static void d_step(struct gc_trainer *t, struct gc_model *d, int record)
{
    int B = t->B, no = t->nout, n = B * no;
    size_t dl = (size_t)n * sizeof(float);
    gc_model_zero_grad(d);
    gc_loader_next(t->loader, (size_t)B, t->real, NULL);
    t->images += (uint64_t)B;

    double lr, lf = 0.0, sr, sf = 0.0;
    const float *out = gc_model_forward(d, t->real, B, 1);
    memset(t->dlog, 0, dl);
    if (t->K > 1) {
        /* MAD-GAN: class k = made by generator k, class K = real; the fake term is the
         * mean over generators so that K = 1 would be the usual two-term loss */
        for (int i = 0; i < B; i++)
            t->labels[i] = t->K;
        lr = gc_softmax_xent(t->dlog, out, t->labels, B, no, 1.0f, t->probs);
        sr = mean_real_prob(t->probs, B, no, t->K);
        gc_model_backward(d, t->dlog, NULL);
        for (int k = 0; k < t->K; k++) {
            const float *fake = fake_batch(t, k);
            out = gc_model_forward(d, fake, B, 1);
            memset(t->dlog, 0, dl);
            for (int i = 0; i < B; i++)
                t->labels[i] = k;
            lf += gc_softmax_xent(t->dlog, out, t->labels, B, no, 1.0f / t->K, t->probs) / t->K;
            sf += mean_real_prob(t->probs, B, no, t->K) / t->K;
            gc_model_backward(d, t->dlog, NULL);
        }
    } else {
        fill_real_targets(t);
        lr = d_loss_real(t, out, n);
        sr = d_stat(t, out, n);
        gc_model_backward(d, t->dlog, NULL);
        const float *fake = fake_batch(t, 0);
        out = gc_model_forward(d, fake, B, 1);
        memset(t->dlog, 0, dl);
        lf = d_loss_fake(t, out, n);
        sf = d_stat(t, out, n);
        gc_model_backward(d, t->dlog, NULL);
    }
    if (record) {
        t->loss_d = lr + lf;
        t->d_real = sr;
        t->d_fake = sf;
        /* for wasserstein lr = -mean D(x) and lf = mean D(G(z)) */
        t->wdist = -(lr + lf);
        t->gn_d = gc_model_grad_norm(d);
    }
    opt_step(t, d);
    if (t->spec.tricks.weight_clip > 0.0f)
        gc_model_clip(d, t->spec.tricks.weight_clip);
}

/* Batch mean of D's features at the feature layer for the last forward. */
static void feature_mean(struct gc_trainer *t, struct gc_model *d, float *mean)
{
    int c, h, w;
    const float *f = gc_model_layer_output(d, t->feat_layer, &c, &h, &w);
    size_t F = t->feat_size;
    for (size_t j = 0; j < F; j++) {
        double s = 0.0;
        for (int i = 0; i < t->B; i++)
            s += f[(size_t)i * F + j];
        mean[j] = (float)(s / t->B);
    }
}

/* One update of generator k against discriminator d; returns its loss. */
static double g_update(struct gc_trainer *t, int k, struct gc_model *d, double *gn2)
{
    int B = t->B, no = t->nout, n = B * no;
    struct gc_model *g = t->g[k];
    double loss;
    gc_model_zero_grad(g);
    if (t->spec.tricks.feature_matching) {
        gc_loader_next(t->loader, (size_t)B, t->real, NULL);
        t->images += (uint64_t)B;
        gc_model_forward(d, t->real, B, 1);
        feature_mean(t, d, t->feat_real);
    }
    const float *fake = fake_batch(t, k);
    const float *out = gc_model_forward(d, fake, B, 1);
    memset(t->dfake, 0, (size_t)B * t->dsize * sizeof(float));
    if (t->spec.tricks.feature_matching) {
        feature_mean(t, d, t->feat_fake);
        size_t F = t->feat_size;
        double s = 0.0;
        for (size_t j = 0; j < F; j++) {
            float diff = t->feat_fake[j] - t->feat_real[j];
            s += (double)diff * diff;
            /* d/df_ij of sum_j (mean_i f_ij - m_j)^2 is 2 (mean_j - m_j) / B */
            float gj = 2.0f * diff / (float)B;
            for (int i = 0; i < B; i++)
                t->dfeat[(size_t)i * F + j] = gj;
        }
        loss = s;
        gc_model_backward_input(d, t->feat_layer, t->dfeat, t->dfake);
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
        gc_model_backward_input(d, gc_model_nlayers(d) - 1, t->dlog, t->dfake);
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
static void g_step(struct gc_trainer *t)
{
    struct gc_model *d = t->d;
    if (t->dcopy) {
        /* same architecture, preallocated: cannot fail */
        gc_model_copy_state(t->dcopy, t->d, NULL);
        for (int i = 0; i < t->spec.tricks.unrolled_steps; i++)
            d_step(t, t->dcopy, 0);
        d = t->dcopy;
    }
    double loss = 0.0, gn2 = 0.0;
    for (int k = 0; k < t->K; k++)
        loss += g_update(t, k, d, &gn2);
    t->loss_g = loss / t->K;
    t->gn_g = sqrt(gn2);
}

static void train_step(struct gc_trainer *t)
{
    t->lr_scale = gc_spec_lr_scale(&t->spec, t->step);
    for (int i = 0; i < t->spec.train.d_steps; i++)
        d_step(t, t->d, i == t->spec.train.d_steps - 1);
    g_step(t);
}

/* ---- generation --------------------------------------------------------------------- */

int gc_trainer_generate(struct gc_trainer *t, int n, uint64_t seed, float *out,
                        struct gc_error *err)
{
    if (n < 0)
        return gc_error_set(err, GC_EINVAL, "generate: n must be >= 0");
    if (n == 0)
        return 0;
    int z = t->spec.model.z_dim;
    float *noise = malloc((size_t)n * z * sizeof(float));
    if (!noise)
        return gc_error_set(err, GC_ENOMEM, "generate: out of memory for %d samples", n);
    struct gc_rng r;
    gc_rng_init(&r, seed, STREAM_GENERATE);
    gc_rng_fill_normal(&r, noise, (size_t)n * z, 0.0f, 1.0f);
    /* sample i comes from generator i mod K; its noise is the i-th draw whatever K is */
    int K = t->K, B = t->B;
    for (int k = 0; k < K; k++) {
        int cnt = n > k ? (n - k + K - 1) / K : 0;
        /* the averaged weights with the trained G's BN running statistics */
        struct gc_model *g = t->g[k];
        if (t->gsample && cnt > 0) {
            size_t np;
            g = t->gsample;
            gc_model_copy_state(g, t->g[k], NULL); /* same shape: cannot fail */
            float *p = gc_model_params(g, &np);
            memcpy(p, t->ema[k], np * sizeof(float));
        }
        for (int done = 0; done < cnt;) {
            int m = cnt - done < B ? cnt - done : B;
            for (int j = 0; j < m; j++) {
                size_t i = (size_t)(done + j) * K + k;
                memcpy(t->noise + (size_t)j * z, noise + i * z, (size_t)z * sizeof(float));
            }
            const float *y = gc_model_forward(g, t->noise, m, 0);
            for (int j = 0; j < m; j++) {
                size_t i = (size_t)(done + j) * K + k;
                memcpy(out + i * t->dsize, y + (size_t)j * t->dsize, t->dsize * sizeof(float));
            }
            done += m;
        }
    }
    free(noise);
    return 0;
}

void gc_trainer_sample_shape(const struct gc_trainer *t, int *c, int *h, int *w)
{
    if (t->is2d) {
        *c = 1, *h = 1, *w = 2;
        return;
    }
    *c = t->c, *h = t->h, *w = t->w;
}

int64_t gc_trainer_step(const struct gc_trainer *t)
{
    return t->step;
}

int gc_trainer_encode_png(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err)
{
    if (n < 1)
        return gc_error_set(err, GC_EINVAL, "png: need at least one sample");
    if (t->is2d) {
        const float *centers = NULL;
        float sigma = 0.0f;
        int k = t->data ? gc_dataset_modes(t->data, &centers, &sigma) : 0;
        return gc_scatter_png(samples, n, centers, k, sigma, gc_scatter_range(centers, k),
                              SCATTER_SIZE, out, len, err);
    }
    int cols = n == SAMPLE_IMAGES ? SAMPLE_COLS : 0;
    return gc_image_grid_png(samples, n, t->c, t->h, t->w, cols, out, len, err);
}

int gc_trainer_encode_idx(const struct gc_trainer *t, const float *samples, int n, uint8_t **out,
                          size_t *len, struct gc_error *err)
{
    if (t->is2d)
        return gc_error_set(err, GC_EINVAL, "idx: %s is a set of 2D points, not images",
                            gc_dataset_name(t->spec.dataset.kind));
    if (n < 1)
        return gc_error_set(err, GC_EINVAL, "idx: need at least one sample");
    size_t total = (size_t)n * t->dsize;
    uint8_t *pix = malloc(total);
    if (!pix)
        return gc_error_set(err, GC_ENOMEM, "idx: out of memory");
    gc_image_to_u8(samples, total, pix);
    int rc = gc_idx_encode(pix, n, t->c, t->h, t->w, out, len, err);
    free(pix);
    return rc;
}

/* ---- checkpoints -------------------------------------------------------------------- */

/* A fingerprint of what fixes the shape of the state: data shape, models, optimizers. */
static uint64_t shape_fingerprint(const struct gc_trainer *t)
{
    const struct gc_spec *s = &t->spec;
    int64_t v[] = {s->dataset.kind,
                   t->c,
                   t->h,
                   t->w,
                   s->model.arch,
                   s->model.z_dim,
                   s->model.g_width,
                   s->model.d_width,
                   s->model.hidden,
                   s->model.layers,
                   s->model.batch_norm,
                   s->model.patch,
                   t->K,
                   s->opt_g.kind,
                   s->opt_d.kind};
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint64_t x = (uint64_t)v[i];
        for (int b = 0; b < 8; b++) {
            h ^= (x >> (8 * b)) & 0xff;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

int gc_trainer_checkpoint(struct gc_trainer *t, uint8_t **out, size_t *len, struct gc_error *err)
{
    struct gc_buf b;
    gc_buf_init(&b);
    uint8_t rs[GC_RNG_BYTES];
    gc_buf_put_u64(&b, shape_fingerprint(t));
    gc_buf_put_u64(&b, (uint64_t)t->step);
    gc_buf_put_u64(&b, t->fixed_seed);
    gc_rng_save(&t->rng_noise, rs);
    gc_buf_put(&b, rs, sizeof rs);
    gc_rng_save(&t->rng_label, rs);
    gc_buf_put(&b, rs, sizeof rs);
    gc_buf_put_u32(&b, t->loader ? 1u : 0u);
    if (t->loader)
        gc_loader_save(t->loader, &b);
    gc_buf_put_u32(&b, (uint32_t)t->K);
    int rc = 0;
    for (int k = 0; k < t->K && !rc; k++)
        rc = gc_model_save(t->g[k], &b);
    if (!rc)
        rc = gc_model_save(t->d, &b);
    if (!rc && t->gsample) {
        size_t n;
        gc_model_params(t->g[0], &n);
        gc_buf_put_u32(&b, CKPT_EMA_TAG);
        gc_buf_put_u32(&b, (uint32_t)t->K);
        for (int k = 0; k < t->K; k++) {
            gc_buf_put_u64(&b, (uint64_t)n);
            gc_buf_put_f32s(&b, t->ema[k], n);
        }
    }
    if (rc || b.oom) {
        gc_buf_fini(&b);
        return gc_error_set(err, GC_ENOMEM, "checkpoint: out of memory");
    }
    rc = gc_frame_seal(CKPT_MAGIC, CKPT_VERSION, b.data, b.len, out, len, err);
    gc_buf_fini(&b);
    return rc;
}

/* The weight-average section, when there is one. A checkpoint without it (written
 * before the average existed, or by a spec without ema) leaves the average at G's
 * weights: the state of step 0. A checkpoint with it under a spec without ema skips it,
 * so its trained generators still serve. */
static int restore_ema(struct gc_trainer *t, struct gc_reader *r, struct gc_error *err)
{
    size_t n;
    gc_model_params(t->g[0], &n);
    if (r->off == r->len) {
        for (int k = 0; k < t->K && t->gsample; k++)
            memcpy(t->ema[k], gc_model_params(t->g[k], &n), n * sizeof(float));
        return 0;
    }
    uint32_t tag, K;
    int rc;
    if ((rc = gc_reader_u32(r, &tag, err)) || (rc = gc_reader_u32(r, &K, err)))
        return gc_error_prefix(err, "checkpoint: ema");
    if (tag != CKPT_EMA_TAG)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: unknown section after the models");
    if (K != (uint32_t)t->K)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: ema of %u generators, this spec %d", K,
                            t->K);
    for (int k = 0; k < t->K; k++) {
        uint64_t m;
        if ((rc = gc_reader_u64(r, &m, err)))
            return gc_error_prefix(err, "checkpoint: ema");
        if (m != (uint64_t)n)
            return gc_error_set(err, GC_ECORRUPT,
                                "checkpoint: ema of generator %d has %llu "
                                "parameters, the model %zu",
                                k, (unsigned long long)m, n);
        if (t->gsample)
            rc = gc_reader_f32s(r, t->ema[k], n, err);
        else if (n > (r->len - r->off) / sizeof(float))
            rc = gc_error_set(err, GC_ECORRUPT, "ema section is short");
        else
            r->off += n * sizeof(float);
        if (rc)
            return gc_error_prefix(err, "checkpoint: ema");
    }
    return 0;
}

int gc_trainer_restore(struct gc_trainer *t, const uint8_t *bytes, size_t len, struct gc_error *err)
{
    const uint8_t *p;
    size_t plen;
    int rc = gc_frame_open("checkpoint", CKPT_MAGIC, CKPT_VERSION, bytes, len, &p, &plen, err);
    if (rc)
        return rc;
    struct gc_reader r;
    gc_reader_init(&r, p, plen);
    uint64_t fp, step, fixed;
    uint32_t has_loader, K;
    uint8_t rn[GC_RNG_BYTES], rl[GC_RNG_BYTES];
    if ((rc = gc_reader_u64(&r, &fp, err)))
        goto bad;
    if (fp != shape_fingerprint(t))
        return gc_error_set(err, GC_EINVAL,
                            "checkpoint: made for another model shape (dataset shape, "
                            "architecture, widths, generators or optimizers differ from this "
                            "spec)");
    if ((rc = gc_reader_u64(&r, &step, err)) || (rc = gc_reader_u64(&r, &fixed, err)) ||
        (rc = gc_reader_get(&r, rn, sizeof rn, err)) ||
        (rc = gc_reader_get(&r, rl, sizeof rl, err)) || (rc = gc_reader_u32(&r, &has_loader, err)))
        goto bad;
    if (step > (uint64_t)t->spec.train.steps)
        return gc_error_set(err, GC_EINVAL, "checkpoint: at step %llu, past this spec's %lld steps",
                            (unsigned long long)step, (long long)t->spec.train.steps);
    if (has_loader > 1)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: bad data position tag");
    if (has_loader && t->loader) {
        if ((rc = gc_loader_load(t->loader, &r, err)))
            goto bad;
    } else if (has_loader) {
        uint8_t skip[GC_LOADER_BYTES];
        if ((rc = gc_reader_get(&r, skip, sizeof skip, err)))
            goto bad;
    } else if (t->loader) {
        return gc_error_set(err, GC_EINVAL, "checkpoint: holds no data position to train on");
    }
    if ((rc = gc_reader_u32(&r, &K, err)))
        goto bad;
    if (K != (uint32_t)t->K)
        return gc_error_set(err, GC_EINVAL, "checkpoint: has %u generators, this spec %d", K, t->K);
    for (int k = 0; k < t->K; k++)
        if ((rc = gc_model_load(t->g[k], &r, err))) {
            gc_error_prefix(err, "checkpoint: generator %d", k);
            return rc;
        }
    if ((rc = gc_model_load(t->d, &r, err))) {
        gc_error_prefix(err, "checkpoint: discriminator");
        return rc;
    }
    if ((rc = restore_ema(t, &r, err)))
        return rc;
    if (r.off != r.len)
        return gc_error_set(err, GC_ECORRUPT, "checkpoint: %zu trailing bytes", r.len - r.off);
    t->step = (int64_t)step;
    t->fixed_seed = fixed;
    gc_rng_load(&t->rng_noise, rn);
    gc_rng_load(&t->rng_label, rl);
    return 0;
bad:
    return gc_error_prefix(err, "checkpoint");
}

/* ---- reporting ---------------------------------------------------------------------- */

static int emit_checkpoint(struct gc_trainer *t, struct gc_error *err)
{
    if (!t->hooks || !t->hooks->checkpoint)
        return 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = gc_trainer_checkpoint(t, &bytes, &len, err);
    if (!rc)
        rc = t->hooks->checkpoint(t->hooks->ctx, t->step, bytes, len, err);
    free(bytes);
    return rc;
}

static int emit_metrics(struct gc_trainer *t, struct gc_error *err)
{
    double ips = t->busy > 0.0 ? (double)t->images / t->busy : 0.0;
    struct gc_metric m[8] = {
        {"loss_d", t->loss_d}, {"loss_g", t->loss_g},     {"d_real", t->d_real},
        {"d_fake", t->d_fake}, {"grad_norm_d", t->gn_d},  {"grad_norm_g", t->gn_g},
        {"images_per_s", ips}, {"wasserstein", t->wdist},
    };
    int n = t->spec.loss == GC_LOSS_WASSERSTEIN ? 8 : 7;
    t->images = 0;
    t->busy = 0.0;
    if (!t->hooks || !t->hooks->metrics)
        return 0;
    return t->hooks->metrics(t->hooks->ctx, t->step, m, n, err);
}

static int emit_sample(struct gc_trainer *t, struct gc_error *err)
{
    if (!t->hooks || !t->hooks->sample)
        return 0;
    int rc = gc_trainer_generate(t, t->nsamples, t->fixed_seed, t->samples, err);
    uint8_t *png = NULL;
    size_t len = 0;
    if (!rc)
        rc = gc_trainer_encode_png(t, t->samples, t->nsamples, &png, &len, err);
    if (!rc)
        rc = t->hooks->sample(t->hooks->ctx, t->step, png, len, err);
    free(png);
    return rc;
}

static void warn_cb(void *ctx, const char *msg)
{
    log_line(ctx, msg);
}

/* The real side of the image evaluation, made once: the first eval_n images of the
 * evaluation set (fashion-mnist: the test split with the same classes), and for
 * labelled sets the classifier and the Gaussian of the real features. */
static int eval_prepare(struct gc_trainer *t, struct gc_error *err)
{
    if (t->eval_real)
        return 0;
    if (t->spec.dataset.kind == GC_DATA_FASHION_MNIST && !t->spec.dataset.test_split) {
        struct gc_dataset_spec ds = t->spec.dataset;
        ds.test_split = 1;
        t->eval_data = gc_dataset_open(&ds, warn_cb, t, err);
        if (!t->eval_data)
            return gc_error_prefix(err, "eval");
    } else {
        t->eval_data = t->data;
    }
    size_t n = gc_dataset_count(t->eval_data);
    if (n > GC_EVAL_IMAGES)
        n = GC_EVAL_IMAGES;
    /* large images: keep the memory of the swd sets bounded */
    if (n * t->dsize > EVAL_MAX_FLOATS)
        n = EVAL_MAX_FLOATS / t->dsize;
    if (n < 2)
        return gc_error_set(err, GC_EINVAL, "eval: the dataset has fewer than 2 images");
    t->eval_real = malloc(n * t->dsize * sizeof(float));
    t->eval_gen = malloc(n * t->dsize * sizeof(float));
    if (!t->eval_real || !t->eval_gen)
        return gc_error_set(err, GC_ENOMEM, "eval: out of memory for %zu images", n);
    int rc = gc_dataset_get(t->eval_data, 0, n, t->eval_real, NULL, err);
    if (rc) {
        free(t->eval_real);
        t->eval_real = NULL;
        return rc;
    }
    t->eval_n = n;
    if (gc_classifier_supported(t->eval_data)) {
        int trained = 0;
        log_line(t, "eval: loading the evaluation classifier");
        t->clf = gc_classifier_get(t->cache_dir[0] ? t->cache_dir : NULL, &t->spec.dataset,
                                   t->threads, warn_cb, t, &trained, err);
        if (!t->clf)
            return gc_error_prefix(err, "eval");
        if ((rc = gc_classifier_set_pool(t->clf, t->pool, err)))
            return rc;
        t->eval_feat = malloc(n * GC_CLASSIFIER_FEATURES * sizeof(float));
        t->eval_probs = malloc(n * GC_CLASSIFIER_CLASSES * sizeof(float));
        if (!t->eval_feat || !t->eval_probs)
            return gc_error_set(err, GC_ENOMEM, "eval: out of memory");
        if ((rc = gc_classifier_features(t->clf, t->eval_real, n, t->eval_feat, err)))
            return rc;
        if ((rc = gc_gauss_fit(&t->real_gauss, t->eval_feat, n, GC_CLASSIFIER_FEATURES, err)))
            return rc;
        t->have_gauss = 1;
    }
    return 0;
}

static int emit_eval(struct gc_trainer *t, struct gc_error *err)
{
    struct gc_metric m[4];
    int nm = 0, rc;
    uint64_t seed = mix64(t->spec.train.seed ^ mix64((uint64_t)t->step));
    if (t->is2d) {
        const float *centers;
        float sigma;
        int k = gc_dataset_modes(t->data, &centers, &sigma);
        struct gc_mode_stats st;
        if ((rc = gc_trainer_generate(t, GC_EVAL_POINTS, seed, t->samples, err)) ||
            (rc = gc_eval_modes(t->samples, GC_EVAL_POINTS, centers, k, sigma, &st, err)))
            return rc;
        m[nm++] = (struct gc_metric){"modes_covered", st.modes_covered};
        m[nm++] = (struct gc_metric){"high_quality", st.high_quality};
        m[nm++] = (struct gc_metric){"reverse_kl", st.reverse_kl};
    } else {
        if ((rc = eval_prepare(t, err)))
            return rc;
        size_t n = t->eval_n;
        if ((rc = gc_trainer_generate(t, (int)n, seed, t->eval_gen, err)))
            return rc;
        /* the same directions at every step, so the swd curve compares like with like */
        struct gc_rng pr;
        gc_rng_init(&pr, t->spec.train.seed, STREAM_SWD);
        double swd;
        if ((rc = gc_swd(t->eval_real, n, t->eval_gen, n, t->dsize, GC_SWD_PROJECTIONS, &pr, &swd,
                         err)))
            return rc;
        m[nm++] = (struct gc_metric){"swd", swd};
        if (t->clf) {
            struct gc_gauss gg;
            double fid;
            int cov;
            double score;
            if ((rc = gc_classifier_features(t->clf, t->eval_gen, n, t->eval_feat, err)) ||
                (rc = gc_gauss_fit(&gg, t->eval_feat, n, GC_CLASSIFIER_FEATURES, err)))
                return rc;
            rc = gc_frechet(&t->real_gauss, &gg, &fid, err);
            gc_gauss_fini(&gg);
            if (rc || (rc = gc_classifier_probs(t->clf, t->eval_gen, n, t->eval_probs, err)) ||
                (rc = gc_class_stats(t->eval_probs, n, GC_CLASSIFIER_CLASSES, &cov, &score, err)))
                return rc;
            m[nm++] = (struct gc_metric){"fid", fid};
            m[nm++] = (struct gc_metric){"class_coverage", cov};
            m[nm++] = (struct gc_metric){"classifier_score", score};
        }
    }
    if (!t->hooks || !t->hooks->eval)
        return 0;
    return t->hooks->eval(t->hooks->ctx, t->step, m, nm, err);
}

static int due(int64_t every, int64_t step, int64_t last)
{
    return every > 0 && (step % every == 0 || step == last);
}

/* ---- the loop ----------------------------------------------------------------------- */

int gc_trainer_run(struct gc_trainer *t, const struct gc_train_hooks *hooks, struct gc_error *err)
{
    static const struct gc_train_hooks none = {0};
    if (!t->loader)
        return gc_error_set(err, GC_ESTATE, "train: this trainer was created without its data");
    t->hooks = hooks ? hooks : &none;
    for (int i = 0; i < t->nwarn; i++)
        log_line(t, t->warn[i]);
    if (t->warn_dropped) {
        char line[96];
        snprintf(line, sizeof line, "data: %d more warnings not shown", t->warn_dropped);
        log_line(t, line);
    }
    t->nwarn = t->warn_dropped = 0;
    t->images = 0;
    t->busy = 0.0;

    const struct gc_every_spec *ev = &t->spec.every;
    int64_t last = t->spec.train.steps;
    int64_t ckpt_step = -1; /* step of the last checkpoint handed out by this call */
    int rc = 0;
    while (t->step < last) {
        int ctl = t->hooks->control ? t->hooks->control(t->hooks->ctx) : GC_CONTINUE;
        if (ctl == GC_STOP_CANCEL) {
            rc = gc_error_set(err, GC_ESTOPPED, "canceled at step %lld", (long long)t->step);
            goto out;
        }
        if (ctl == GC_STOP_PAUSE) {
            if (ckpt_step != t->step && (rc = emit_checkpoint(t, err)))
                goto out;
            rc = gc_error_set(err, GC_ESTOPPED, "paused at step %lld", (long long)t->step);
            goto out;
        }
        double t0 = now_s();
        train_step(t);
        t->busy += now_s() - t0;
        t->step++;
        const char *bad = !isfinite(t->loss_d) ? "loss_d" : !isfinite(t->loss_g) ? "loss_g" : NULL;
        if (bad) {
            double v = strcmp(bad, "loss_d") == 0 ? t->loss_d : t->loss_g;
            rc = gc_error_set(err, GC_ENUMERIC, "%s is %s at step %lld", bad,
                              isnan(v) ? "NaN" : "Inf", (long long)t->step);
            goto out;
        }
        if (due(ev->log, t->step, last) && (rc = emit_metrics(t, err)))
            goto out;
        if (due(ev->sample, t->step, last) && (rc = emit_sample(t, err)))
            goto out;
        if (due(ev->eval, t->step, last) && (rc = emit_eval(t, err)))
            goto out;
        if (due(ev->checkpoint, t->step, last)) {
            if ((rc = emit_checkpoint(t, err)))
                goto out;
            ckpt_step = t->step;
        }
    }
out:
    t->hooks = NULL;
    return rc;
}

/* ---- test access -------------------------------------------------------------------- */

struct gc_model *gc_trainer_test_model(struct gc_trainer *t, int which)
{
    if (which == GC_TEST_D)
        return t->d;
    if (which == GC_TEST_D_COPY)
        return t->dcopy;
    return which >= 0 && which < t->K ? t->g[which] : NULL;
}

const float *gc_trainer_test_real_targets(const struct gc_trainer *t, int *n)
{
    *n = t->B * t->nout;
    return t->t_real;
}

const float *gc_trainer_test_ema(const struct gc_trainer *t, int k, size_t *n)
{
    if (!t->gsample || k < 0 || k >= t->K)
        return NULL;
    gc_model_params(t->g[k], n);
    return t->ema[k];
}

int gc_trainer_test_g_step(struct gc_trainer *t, struct gc_error *err)
{
    if (!t->loader)
        return gc_error_set(err, GC_ESTATE, "train: this trainer was created without its data");
    g_step(t);
    return 0;
}
