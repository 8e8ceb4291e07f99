/* spec.c — defaults, limits and names of the run spec (see spec.h). */
#include "core/spec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const dataset_names[] = {"fashion-mnist", "idx", "png-dir", "ring8", "grid25"};
static const char *const arch_names[] = {"mlp", "dcgan"};
static const char *const loss_names[] = {"minimax", "nonsaturating", "wasserstein",
                                         "least-squares", "hinge"};
static const char *const optim_names[] = {"adam", "sgd", "rmsprop"};
static const char *const decay_names[] = {"linear", "step"};

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int from_name(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

const char *gc_dataset_name(enum gc_dataset_kind k)
{
    return (int)k >= 0 && (int)k < NELEM(dataset_names) ? dataset_names[k] : "?";
}
const char *gc_arch_name(enum gc_arch a)
{
    return (int)a >= 0 && (int)a < NELEM(arch_names) ? arch_names[a] : "?";
}
const char *gc_loss_name(enum gc_loss l)
{
    return (int)l >= 0 && (int)l < NELEM(loss_names) ? loss_names[l] : "?";
}
const char *gc_optim_name(enum gc_optim_kind k)
{
    return (int)k >= 0 && (int)k < NELEM(optim_names) ? optim_names[k] : "?";
}
const char *gc_decay_shape_name(enum gc_decay_shape k)
{
    return (int)k >= 0 && (int)k < NELEM(decay_names) ? decay_names[k] : "?";
}
int gc_dataset_from_name(const char *s)
{
    return from_name(dataset_names, NELEM(dataset_names), s);
}
int gc_arch_from_name(const char *s)
{
    return from_name(arch_names, NELEM(arch_names), s);
}
int gc_loss_from_name(const char *s)
{
    return from_name(loss_names, NELEM(loss_names), s);
}
int gc_optim_from_name(const char *s)
{
    return from_name(optim_names, NELEM(optim_names), s);
}
int gc_decay_shape_from_name(const char *s)
{
    return from_name(decay_names, NELEM(decay_names), s);
}

float gc_spec_lr_scale(const struct gc_spec *s, int64_t step)
{
    const struct gc_lr_decay_spec *d = &s->train.lr_decay;
    int64_t n = s->train.steps;
    if (!d->on || n < 1)
        return 1.0f;
    int64_t s0 = llround((double)d->start * (double)n);
    if (s0 >= n)
        s0 = n - 1; /* the last step always runs at the final rate */
    if (step < s0)
        return 1.0f;
    if (d->shape == GC_DECAY_STEP || step + 1 >= n)
        return d->factor;
    double f = (double)(step + 1 - s0) / (double)(n - s0);
    return (float)(1.0 + ((double)d->factor - 1.0) * f);
}

int gc_dataset_is_2d(enum gc_dataset_kind k)
{
    return k == GC_DATA_RING8 || k == GC_DATA_GRID25;
}

void gc_spec_defaults(struct gc_spec *s, enum gc_dataset_kind data, enum gc_loss loss)
{
    memset(s, 0, sizeof *s);
    int is2d = gc_dataset_is_2d(data);

    s->dataset.kind = data;
    s->dataset.test_split = 0;
    s->dataset.classes = 0;
    if (data == GC_DATA_PNG_DIR) {
        s->dataset.image_size = 32;
        s->dataset.channels = 3;
    }

    s->model.arch = is2d ? GC_ARCH_MLP : GC_ARCH_DCGAN;
    s->model.z_dim = 100;
    s->model.g_width = 64;
    s->model.d_width = 64;
    s->model.hidden = 128;
    s->model.layers = 2;
    s->model.batch_norm = 1;
    s->model.patch = 0;

    s->loss = loss;
    s->train.steps = 5000;
    s->train.batch_size = 64;
    s->train.d_steps = loss == GC_LOSS_WASSERSTEIN ? 5 : 1;
    s->train.seed = 1;
    s->train.lr_decay = (struct gc_lr_decay_spec){0, 0.5f, 0.01f, GC_DECAY_LINEAR};

    struct gc_optim_spec o = {GC_OPTIM_ADAM, 2e-4f, 0.5f, 0.999f, 1e-8f};
    if (loss == GC_LOSS_WASSERSTEIN)
        o = (struct gc_optim_spec){GC_OPTIM_RMSPROP, 5e-5f, 0.0f, 0.99f, 1e-8f};
    s->opt_g = o;
    s->opt_d = o;

    if (is2d) {
        /* The 2D mixtures (tuned with bench/quality.c; PacGAN's setup used 400-unit
         * MLPs, batch 100, Adam 1e-4, far more steps than a default run can afford):
         * - layers 4: a deeper G cuts the noise into separate clusters faster; with 2
         *   hidden layers most samples stay on the arcs between modes.
         * - z_dim 16: the 2D map needs no 100-d noise; a smaller input trains faster.
         * - batch_size about 10 points of each mode: 100 on the ring (PacGAN's batch,
         *   12.5 a mode), 250 on the grid (10 a mode). At 100 grid MAD-GAN (5 seeds)
         *   covered 23.2 +/- 1.1 modes at 94.4% high quality, 22-25 by seed; at 250,
         *   25.0 +/- 0.0 at 96.4% (every seed 25). Neither a wider network (hidden
         *   256, seed 1: 21 modes against 23), a later decay (start 0.75, seeds 1-3:
         *   23, 17, 23) nor twice the steps (seeds 1 and 4: 22 and 24) did it, and 500
         *   was no better (seed 1: 23). With 4 points of a mode in a batch, D's view
         *   of every mode, and so its push towards an empty one, is noisier. The ring
         *   keeps 100: at 250 the unrolled GAN lost modes (seed 1: 5 of 8 against 8)
         *   and the plain GAN gained none (7.0 +/- 0.7 against 7.2). The other entries
         *   were measured at batch 100.
         * - batch_norm off: batch norm in G is what kept the high-quality share low.
         *   Its batch statistics (100 samples) jitter by a few percent from batch to
         *   batch, and G's output moves with them by more than a mode's width (3 sigma
         *   is 0.03 on the ring). Ring, seed 1, 5,000 steps, with BN: median distance
         *   to the nearest mode 2.7 sigma, 56% high quality; batch 400 (half the
         *   jitter): 1.8 sigma, 76%; without BN: 1.2 sigma (what a Gaussian gives:
         *   1.18) and 84%. Sampling with batch statistics (24%) or running statistics
         *   re-estimated for the final G (40%) was worse, so the running statistics
         *   were not the culprit. Without BN a plain GAN drops more modes (PacGAN's
         *   plain GAN does too: 6.3 of 8) and MAD-GAN's generators take fewer modes
         *   each, but the unrolled GAN covers all 8 with an even histogram.
         * - lr 1e-3 (Adam, beta1 0.5) on both sets: without BN's rescaling G starts
         *   with outputs near 0 and at 1e-4 or 3e-4 it had not left them after 5,000
         *   steps (0 modes); 5e-4 worked on the ring but slower; beta1 0.9 was
         *   unstable at 1e-3.
         * - lr_decay {start 0.5, factor 0.01, linear}: at a constant 1e-3 the
         *   high-quality share oscillated instead of settling (ring, unrolled, seed 1:
         *   86% at 5,000 steps, 71% at 10,000). Decaying both rates over the second
         *   half lets the points settle on the modes. Seeds 1-2 at 5,000 steps, without
         *   -> with the decay: ring unrolled 86.6% (5 seeds) -> 90.3%, ring plain GAN
         *   71.0% (5 seeds) -> 90.9%, grid MAD-GAN (10,000 steps) 77.5% (5 seeds) ->
         *   92.1%. Where the decay starts mattered little (ring unrolled, 10,000 steps,
         *   seed 1: start 0.25 93.2%, 0.5 93.8%; factor 0.1 instead of 0.01: 94.0%).
         * - steps 20,000 on both sets: with the decay the share still grows with the
         *   length of the run, as G's map between the modes gets steeper (ring
         *   unrolled, seeds 1-2: 90.3% at 5,000, 94.4% at 10,000, 96.7% at 20,000;
         *   grid MAD-GAN: 92.1% / 23.0 modes at 10,000, 96.5% / 23.5 at 20,000). A
         *   default ring run of the plain GAN takes about 25 s on one core.
         * - no ema: averaging G's weights did not help here (ring unrolled, 5,000
         *   steps, seeds 1-2: 88.1% / 92.5% without, 87.8% / 92.2% with 0.99, seed 1
         *   76.9% with 0.999, whose ~1,000-step window still spans the decay). */
        s->model.layers = 4;
        s->model.z_dim = 16;
        s->model.batch_norm = 0;
        s->train.batch_size = data == GC_DATA_GRID25 ? 250 : 100;
        s->train.steps = 20000;
        s->train.lr_decay.on = 1;
        if (loss != GC_LOSS_WASSERSTEIN) {
            s->opt_g.lr = 1e-3f;
            s->opt_d.lr = 1e-3f;
        }
    }

    s->tricks.smoothing = GC_SMOOTH_NONE;
    s->tricks.generators = 1;
    s->tricks.weight_clip = loss == GC_LOSS_WASSERSTEIN ? 0.01f : 0.0f;

    s->every.log = 10;
    s->every.sample = 200;
    s->every.checkpoint = 1000;
    s->every.eval = 1000;

    snprintf(s->name, sizeof s->name, "%s-%s", gc_dataset_name(data), gc_loss_name(loss));
}

#define RANGE(field, v, lo, hi)                                                                    \
    do {                                                                                           \
        if ((v) < (lo) || (v) > (hi))                                                              \
            return gc_error_set(err, GC_EINVAL, "%s: must be between %lld and %lld", field,        \
                                (long long)(lo), (long long)(hi));                                 \
    } while (0)

static int check_optim(const char *who, const struct gc_optim_spec *o, struct gc_error *err)
{
    char f[32];
    if (!(o->lr > 0.0f && o->lr <= 10.0f) || !isfinite(o->lr)) {
        snprintf(f, sizeof f, "optimizer.%s.lr", who);
        return gc_error_set(err, GC_EINVAL, "%s: must be a number in (0, 10]", f);
    }
    if (!(o->beta1 >= 0.0f && o->beta1 < 1.0f)) {
        snprintf(f, sizeof f, "optimizer.%s.beta1", who);
        return gc_error_set(err, GC_EINVAL, "%s: must be in [0, 1)", f);
    }
    if (!(o->beta2 >= 0.0f && o->beta2 < 1.0f)) {
        snprintf(f, sizeof f, "optimizer.%s.beta2", who);
        return gc_error_set(err, GC_EINVAL, "%s: must be in [0, 1)", f);
    }
    if (!(o->eps > 0.0f && o->eps < 1.0f)) {
        snprintf(f, sizeof f, "optimizer.%s.eps", who);
        return gc_error_set(err, GC_EINVAL, "%s: must be in (0, 1)", f);
    }
    return 0;
}

int gc_spec_check(const struct gc_spec *s, struct gc_error *err)
{
    size_t nl = strlen(s->name);
    if (nl < 1 || nl > GC_MAX_NAME)
        return gc_error_set(err, GC_EINVAL, "name: must be 1 to %d characters", GC_MAX_NAME);
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)s->name[i];
        if (c < 0x20 || c == 0x7f)
            return gc_error_set(err, GC_EINVAL, "name: must be printable characters");
    }

    const struct gc_dataset_spec *d = &s->dataset;
    int is2d = gc_dataset_is_2d(d->kind);
    if ((int)d->kind < 0 || (int)d->kind > GC_DATA_GRID25)
        return gc_error_set(err, GC_EINVAL, "dataset.name: unknown dataset");
    if (d->classes && d->kind != GC_DATA_FASHION_MNIST)
        return gc_error_set(err, GC_EINVAL, "dataset.classes: only fashion-mnist has classes");
    if (d->classes & ~0x3ffu)
        return gc_error_set(err, GC_EINVAL, "dataset.classes: classes are 0 to 9");
    if (d->test_split && d->kind != GC_DATA_FASHION_MNIST)
        return gc_error_set(err, GC_EINVAL, "dataset.split: only fashion-mnist has splits");
    if ((d->kind == GC_DATA_IDX || d->kind == GC_DATA_PNG_DIR) && !d->path[0])
        return gc_error_set(err, GC_EINVAL, "dataset.path: required for %s",
                            gc_dataset_name(d->kind));
    if (is2d && d->path[0])
        return gc_error_set(err, GC_EINVAL, "dataset.path: %s is generated and takes no path",
                            gc_dataset_name(d->kind));
    if (d->kind == GC_DATA_PNG_DIR) {
        RANGE("dataset.image_size", d->image_size, GC_MIN_IMAGE, GC_MAX_IMAGE);
        if (d->channels != 1 && d->channels != 3)
            return gc_error_set(err, GC_EINVAL, "dataset.channels: must be 1 or 3");
    } else {
        if (d->image_size)
            return gc_error_set(err, GC_EINVAL, "dataset.image_size: only png-dir is resized");
        if (d->channels)
            return gc_error_set(err, GC_EINVAL, "dataset.channels: only png-dir is converted");
    }

    const struct gc_model_spec *m = &s->model;
    if ((int)m->arch < 0 || (int)m->arch > GC_ARCH_DCGAN)
        return gc_error_set(err, GC_EINVAL, "model.arch: unknown architecture");
    if (is2d && m->arch != GC_ARCH_MLP)
        return gc_error_set(err, GC_EINVAL, "model.arch: 2D point sets train with mlp");
    if (!is2d && m->arch == GC_ARCH_MLP && d->kind == GC_DATA_PNG_DIR && d->image_size > 64)
        return gc_error_set(err, GC_EINVAL, "model.arch: mlp takes images up to 64x64");
    RANGE("model.z_dim", m->z_dim, 1, GC_MAX_Z);
    RANGE("model.g_width", m->g_width, 1, GC_MAX_WIDTH);
    RANGE("model.d_width", m->d_width, 1, GC_MAX_WIDTH);
    RANGE("model.hidden", m->hidden, 1, GC_MAX_WIDTH * 4);
    RANGE("model.layers", m->layers, 1, GC_MAX_LAYERS);
    if (m->patch && m->arch != GC_ARCH_DCGAN)
        return gc_error_set(err, GC_EINVAL, "model.patch: a PatchGAN discriminator needs arch dcgan");

    if ((int)s->loss < 0 || (int)s->loss > GC_LOSS_HINGE)
        return gc_error_set(err, GC_EINVAL, "loss: unknown loss");

    RANGE("train.steps", s->train.steps, 1, GC_MAX_STEPS);
    RANGE("train.batch_size", s->train.batch_size, 1, GC_MAX_BATCH);
    RANGE("train.d_steps", s->train.d_steps, 1, GC_MAX_D_STEPS);
    if (s->train.seed > GC_MAX_SEED)
        return gc_error_set(err, GC_EINVAL, "train.seed: must be between 0 and %llu",
                            (unsigned long long)GC_MAX_SEED);

    const struct gc_lr_decay_spec *ld = &s->train.lr_decay;
    if (ld->on) {
        if (!(ld->start >= 0.0f && ld->start < 1.0f))
            return gc_error_set(err, GC_EINVAL, "train.lr_decay.start: must be in [0, 1)");
        if (!(ld->factor > 0.0f && ld->factor <= 1.0f))
            return gc_error_set(err, GC_EINVAL, "train.lr_decay.factor: must be in (0, 1]");
        if ((int)ld->shape < 0 || (int)ld->shape > GC_DECAY_STEP)
            return gc_error_set(err, GC_EINVAL, "train.lr_decay.shape: must be linear or step");
    }

    int rc;
    if ((rc = check_optim("g", &s->opt_g, err)) || (rc = check_optim("d", &s->opt_d, err)))
        return rc;

    const struct gc_tricks_spec *t = &s->tricks;
    if (t->smoothing != GC_SMOOTH_NONE) {
        if (!(t->smooth_lo > 0.0f && t->smooth_lo <= t->smooth_hi && t->smooth_hi <= 1.0f))
            return gc_error_set(err, GC_EINVAL,
                                "tricks.label_smoothing: real labels must satisfy 0 < lo <= hi <= 1");
        if (s->loss != GC_LOSS_MINIMAX && s->loss != GC_LOSS_NONSATURATING &&
            s->loss != GC_LOSS_LEAST_SQUARES)
            return gc_error_set(err, GC_EINVAL,
                                "tricks.label_smoothing: applies to minimax, nonsaturating and "
                                "least-squares losses, not %s",
                                gc_loss_name(s->loss));
    }
    RANGE("tricks.unrolled_steps", t->unrolled_steps, 0, GC_MAX_UNROLL);
    RANGE("tricks.generators", t->generators, 1, GC_MAX_GENERATORS);
    if (t->generators > 1) {
        if (s->loss != GC_LOSS_MINIMAX && s->loss != GC_LOSS_NONSATURATING)
            return gc_error_set(err, GC_EINVAL,
                                "tricks.generators: MAD-GAN trains a (K+1)-way softmax "
                                "discriminator; use loss nonsaturating or minimax, not %s",
                                gc_loss_name(s->loss));
        if (m->patch)
            return gc_error_set(err, GC_EINVAL,
                                "tricks.generators: MAD-GAN and a PatchGAN discriminator cannot "
                                "be combined");
        if (t->unrolled_steps)
            return gc_error_set(err, GC_EINVAL,
                                "tricks.generators: MAD-GAN and unrolled_steps cannot be combined");
    }
    if (t->weight_clip < 0.0f || t->weight_clip > 10.0f || !isfinite(t->weight_clip))
        return gc_error_set(err, GC_EINVAL, "tricks.weight_clip: must be in (0, 10]");

    if (!(t->ema == 0.0f || (t->ema > 0.0f && t->ema < 1.0f)))
        return gc_error_set(err, GC_EINVAL, "tricks.ema: must be a decay in (0, 1), e.g. 0.999");

    RANGE("every.log", s->every.log, 0, GC_MAX_STEPS);
    RANGE("every.sample", s->every.sample, 0, GC_MAX_STEPS);
    RANGE("every.checkpoint", s->every.checkpoint, 0, GC_MAX_STEPS);
    RANGE("every.eval", s->every.eval, 0, GC_MAX_STEPS);
    return 0;
}
