/* spec.c — defaults, limits, names and the check of the run spec (see spec.h), and
 * the list of field errors the check fills. */
#include "core/spec.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/spec_fields.h"

const char *const gc_dataset_names[GC_DATA_GRID25 + 1] = {"fashion-mnist", "idx", "png-dir",
                                                          "ring8", "grid25"};
const char *const gc_arch_names[GC_ARCH_UNET + 1] = {"mlp", "dcgan", "unet"};
const char *const gc_task_names[GC_TASK_PAIRED + 1] = {"super-resolution", "inpainting", "edges",
                                                       "colorize", "paired"};
const char *const gc_mask_names[GC_MASK_RANDOM + 1] = {"center", "random"};
const char *const gc_loss_names[GC_LOSS_HINGE + 1] = {"minimax", "nonsaturating", "wasserstein",
                                                      "least-squares", "hinge"};
const char *const gc_optim_names[GC_OPTIM_RMSPROP + 1] = {"adam", "sgd", "rmsprop"};
const char *const gc_decay_shape_names[GC_DECAY_STEP + 1] = {"linear", "step"};
const char *const gc_precision_names[GC_PRECISION_BF16 + 1] = {"float32", "bf16"};
const char *const gc_preset_names[GC_PRESET_LSGAN + 1] = {"dcgan", "wgan-gp", "sngan", "lsgan"};
const char *const gc_penalty_names[GC_PENALTY_R1 + 1] = {"wgan-gp", "r1"};
const char *const gc_augment_names[3] = {"color", "translation", "cutout"};
const char *const gc_conditioning_names[GC_COND_CONCAT + 1] = {"projection", "concat"};
const char *const gc_watch_action_names[GC_WATCH_ROLLBACK + 1] = {"off", "alert", "rollback"};

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

static const char *to_name(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : "?";
}

const char *gc_dataset_name(enum gc_dataset_kind k)
{
    return to_name(gc_dataset_names, NELEM(gc_dataset_names), (int)k);
}
const char *gc_arch_name(enum gc_arch a)
{
    return to_name(gc_arch_names, NELEM(gc_arch_names), (int)a);
}
const char *gc_loss_name(enum gc_loss l)
{
    return to_name(gc_loss_names, NELEM(gc_loss_names), (int)l);
}
const char *gc_optim_name(enum gc_optim_kind k)
{
    return to_name(gc_optim_names, NELEM(gc_optim_names), (int)k);
}
const char *gc_decay_shape_name(enum gc_decay_shape k)
{
    return to_name(gc_decay_shape_names, NELEM(gc_decay_shape_names), (int)k);
}
const char *gc_preset_name(enum gc_preset p)
{
    return to_name(gc_preset_names, NELEM(gc_preset_names), (int)p);
}

const char *gc_conditioning_name(enum gc_conditioning k)
{
    return to_name(gc_conditioning_names, NELEM(gc_conditioning_names), (int)k);
}
const char *gc_task_name(enum gc_task_kind k)
{
    return to_name(gc_task_names, NELEM(gc_task_names), (int)k);
}
int gc_task_from_name(const char *s)
{
    return from_name(gc_task_names, NELEM(gc_task_names), s);
}
const char *gc_precision_name(enum gc_precision p)
{
    return to_name(gc_precision_names, NELEM(gc_precision_names), (int)p);
}
int gc_dataset_from_name(const char *s)
{
    return from_name(gc_dataset_names, NELEM(gc_dataset_names), s);
}
int gc_arch_from_name(const char *s)
{
    return from_name(gc_arch_names, NELEM(gc_arch_names), s);
}
int gc_loss_from_name(const char *s)
{
    return from_name(gc_loss_names, NELEM(gc_loss_names), s);
}
int gc_optim_from_name(const char *s)
{
    return from_name(gc_optim_names, NELEM(gc_optim_names), s);
}
int gc_decay_shape_from_name(const char *s)
{
    return from_name(gc_decay_shape_names, NELEM(gc_decay_shape_names), s);
}
int gc_precision_from_name(const char *s)
{
    return from_name(gc_precision_names, NELEM(gc_precision_names), s);
}
int gc_preset_from_name(const char *s)
{
    return from_name(gc_preset_names, NELEM(gc_preset_names), s);
}
int gc_conditioning_from_name(const char *s)
{
    return from_name(gc_conditioning_names, NELEM(gc_conditioning_names), s);
}

/* ---- field errors ---------------------------------------------------------------- */

/* After a cut at the end of the buffer, drops the bytes of a character the cut split. */
static void trim_split_char(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--; /* continuation bytes */
    if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
        return; /* ends in ASCII or whole continuation run without its lead byte */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (n - (i - 1) < need)
        s[i - 1] = '\0';
}

void gc_field_errors_init(struct gc_field_errors *fe)
{
    fe->n = 0;
    fe->dropped = 0;
}

static int vadd(struct gc_field_errors *fe, const char *field, const char *fmt, va_list ap)
{
    if (fe->n >= GC_MAX_FIELD_ERRORS) {
        fe->dropped++;
        return GC_EINVAL;
    }
    struct gc_field_error *e = &fe->e[fe->n++];
    if (snprintf(e->field, sizeof e->field, "%s", field) >= (int)sizeof e->field)
        trim_split_char(e->field);
    if (vsnprintf(e->message, sizeof e->message, fmt, ap) >= (int)sizeof e->message)
        trim_split_char(e->message);
    return GC_EINVAL;
}

int gc_field_errors_add(struct gc_field_errors *fe, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(fe, field, fmt, ap);
    va_end(ap);
    return GC_EINVAL;
}

int gc_field_errors_find(const struct gc_field_errors *fe, const char *field)
{
    for (int i = 0; i < fe->n; i++)
        if (strcmp(fe->e[i].field, field) == 0)
            return i;
    return -1;
}

int gc_field_errors_summary(const struct gc_field_errors *fe, struct gc_error *err)
{
    if (fe->n == 0)
        return 0;
    const struct gc_field_error *e = &fe->e[0];
    const char *sep = e->field[0] ? ": " : "";
    int more = fe->n - 1 + fe->dropped;
    if (more > 0)
        return gc_error_set(err, GC_EINVAL, "%s%s%s (and %d more)", e->field, sep, e->message,
                            more);
    return gc_error_set(err, GC_EINVAL, "%s%s%s", e->field, sep, e->message);
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
    s->preset = GC_PRESET_NONE;

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
    s->model.spectral_norm = 0;
    s->model.d_batch_norm = -1;
    s->model.conditional = 0;
    s->model.conditioning = GC_COND_PROJECTION;

    s->loss = loss;
    s->train.steps = 5000;
    s->train.batch_size = 64;
    s->train.d_steps = loss == GC_LOSS_WASSERSTEIN ? 5 : 1;
    s->train.seed = 1;
    s->train.lr_decay = (struct gc_lr_decay_spec){0, 0.5f, 0.01f, GC_DECAY_LINEAR};
    s->train.precision = GC_PRECISION_FLOAT32;
    s->train.ranks = 1;

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
    /* off; what naming one of its fields gives: the WGAN-GP paper's lambda 10 at
     * every D update */
    s->tricks.penalty = (struct gc_penalty_spec){0, GC_PENALTY_WGAN_GP, 10.0f, 1};

    s->tricks.l1_weight = 100.0f; /* pix2pix's lambda; used by task runs only */

    s->task = (struct gc_task_spec){.on = 0, .kind = GC_TASK_SUPER_RESOLUTION, .factor = 4};

    /* The watchdog alerts by default; its thresholds only fire on what no healthy run
     * shows (docs/spec.md: watch): a loss past 1000 or a NaN, a gradient 1000x its early
     * level, D(x) > 0.98 with D(G(z)) < 0.02 for 100 steps in a row, a watched
     * evaluation figure 25% worse than its best twice in a row. */
    s->watch = (struct gc_watch_spec){
        .action = GC_WATCH_ALERT,
        .max_rollbacks = 3,
        .window = 100,
        .loss_max = 1000.0f,
        .grad_factor = 1000.0f,
        .d_margin = 0.02f,
        .vanish_factor = 1e-3f,
        .eval_patience = 2,
        .eval_worsen = 0.25f,
        .warmup = 0.1f,
    };

    s->every.log = 10;
    s->every.sample = 200;
    s->every.checkpoint = 1000;
    s->every.eval = 1000;

    snprintf(s->name, sizeof s->name, "%s-%s", gc_dataset_name(data), gc_loss_name(loss));
}

/* The presets: what each paper trained with.
 * - dcgan: Radford et al. 2016, Adam 2e-4 with beta1 0.5, one D step.
 * - lsgan: Mao et al. 2017, the least-squares loss (a = 0, b = c = 1) with DCGAN's Adam.
 * - wgan-gp: Gulrajani et al. 2017, Algorithm 1: lambda 10, five critic steps, Adam
 *   1e-4 with betas (0, 0.9), no weight clipping and no batch norm in the critic (the
 *   penalty is per sample, batch statistics would tie the samples together).
 * - sngan: Miyato et al. 2018, spectral norm on every layer of D and the hinge loss,
 *   with the two time-scale rates of Zhang et al. 2019 (SAGAN: G 1e-4, D 4e-4, Adam
 *   betas (0, 0.9), one D step); D without batch norm, as in both papers. */
enum gc_loss gc_preset_loss(enum gc_preset p)
{
    switch (p) {
    case GC_PRESET_WGAN_GP:
        return GC_LOSS_WASSERSTEIN;
    case GC_PRESET_SNGAN:
        return GC_LOSS_HINGE;
    case GC_PRESET_LSGAN:
        return GC_LOSS_LEAST_SQUARES;
    default:
        return GC_LOSS_NONSATURATING;
    }
}

void gc_spec_defaults_for(struct gc_spec *s, enum gc_dataset_kind data, int loss, int preset)
{
    enum gc_preset p =
        preset >= 0 && preset <= GC_PRESET_LSGAN ? (enum gc_preset)preset : GC_PRESET_NONE;
    enum gc_loss l = loss >= 0 && loss <= GC_LOSS_HINGE ? (enum gc_loss)loss : gc_preset_loss(p);
    gc_spec_defaults(s, data, l);
    if (p == GC_PRESET_NONE)
        return;
    s->preset = p;
    const struct gc_optim_spec dcgan = {GC_OPTIM_ADAM, 2e-4f, 0.5f, 0.999f, 1e-8f};
    const struct gc_optim_spec gp = {GC_OPTIM_ADAM, 1e-4f, 0.0f, 0.9f, 1e-8f};
    s->opt_g = s->opt_d = dcgan;
    s->train.d_steps = 1;
    s->tricks.weight_clip = 0.0f;
    switch (p) {
    case GC_PRESET_WGAN_GP:
        s->opt_g = s->opt_d = gp;
        s->train.d_steps = 5;
        s->tricks.penalty = (struct gc_penalty_spec){1, GC_PENALTY_WGAN_GP, 10.0f, 1};
        s->model.d_batch_norm = 0;
        break;
    case GC_PRESET_SNGAN:
        s->opt_g = s->opt_d = gp;
        s->opt_d.lr = 4e-4f;
        s->model.spectral_norm = 1;
        s->model.d_batch_norm = 0;
        break;
    default: /* dcgan, lsgan */
        break;
    }
    snprintf(s->name, sizeof s->name, "%s-%s", gc_dataset_name(data), gc_preset_name(p));
}

void gc_spec_task_defaults(struct gc_spec *s, const struct gc_task_spec *task)
{
    s->task = *task;
    if (!task->on)
        return;
    /* pix2pix (Isola et al. 2017): a U-Net G, a PatchGAN D on (input, output), Adam 2e-4
     * with beta1 0.5 (the image defaults already), lambda 100 (tricks.l1_weight). Its
     * batch of 1 and widths of 64 suit a GPU at 256x256; on a CPU at 28 to 64 pixels a
     * batch of 16 and widths of 32 keep a step near 50 ms on two cores (Fashion-MNIST
     * x4 super-resolution), so the 2,000 steps of a default run take minutes; the
     * README's table (bench/task_table.py) is what 500 of them reach. Evaluations every 500
     * steps: a task's evaluation translates 500 held-out images. */
    s->model.arch = GC_ARCH_UNET;
    s->model.patch = 1;
    s->model.g_width = 32;
    s->model.d_width = 32;
    s->train.batch_size = 16;
    s->train.steps = 2000;
    s->every.eval = 500;
}

/* ---- the check ------------------------------------------------------------------- */

/* One run of gc_spec_check: the list it fills, and whether anything failed (a
 * problem the list has no room for still fails the spec). */
struct check {
    struct gc_field_errors *fe; /* NULL: only the verdict */
    int bad;
};

/* Records a problem of field unless the field has one already: the first one found
 * says why, the limits before the rules that tie the field to others. */
static void fail(struct check *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct check *c, const char *field, const char *fmt, ...)
{
    c->bad = 1;
    if (!c->fe || gc_field_errors_find(c->fe, field) >= 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vadd(c->fe, field, fmt, ap);
    va_end(ap);
}

static const void *at(const struct gc_spec *s, const struct gc_spec_field *f)
{
    return (const char *)s + f->offset;
}

/* 1 when a section holding f is turned off (train.lr_decay null): its fields then keep
 * values that mean nothing. */
static int section_off(const struct gc_spec *s, const struct gc_spec_field *f)
{
    char path[GC_FIELD_PATH_MAX];
    snprintf(path, sizeof path, "%s", f->path);
    char *dot;
    while ((dot = strrchr(path, '.'))) {
        *dot = '\0';
        const struct gc_spec_field *p = gc_spec_field_find(path);
        if (p && p->type == GC_FIELD_OBJECT && p->null == GC_NULL_OFF && !*(const int *)at(s, p))
            return 1;
    }
    return 0;
}

static void fail_enum(struct check *c, const struct gc_spec_field *f)
{
    if (f->range_msg) {
        fail(c, f->path, "%s", f->range_msg);
        return;
    }
    char list[256];
    gc_spec_field_names(f, list, sizeof list);
    fail(c, f->path, "must be one of: %s", list);
}

/* The limits a row of core/spec_fields.c gives its field. */
static void check_limits(struct check *c, const struct gc_spec *s, const struct gc_spec_field *f)
{
    const void *v = at(s, f);
    int ranged = f->min != 0 || f->max != 0;
    int64_t i;
    switch (f->type) {
    case GC_FIELD_INT:
        i = *(const int *)v;
        if (f->null == GC_NULL_OFF && i == 0)
            return; /* off */
        break;
    case GC_FIELD_INT64:
        i = *(const int64_t *)v;
        break;
    case GC_FIELD_U64: {
        uint64_t u = *(const uint64_t *)v;
        if (ranged && (u < (uint64_t)f->min || u > (uint64_t)f->max))
            fail(c, f->path, "must be between %lld and %lld", (long long)f->min, (long long)f->max);
        return;
    }
    case GC_FIELD_FLOAT: {
        float x = *(const float *)v;
        if ((f->null == GC_NULL_OFF && x == 0.0f) || f->fmin == f->fmax)
            return; /* off, or no limits */
        int lo = f->flags & GC_FIELD_MIN_OPEN ? x > f->fmin : x >= f->fmin;
        int hi = f->flags & GC_FIELD_MAX_OPEN ? x < f->fmax : x <= f->fmax;
        if (lo && hi) /* false for NaN */
            return;
        if (f->range_msg)
            fail(c, f->path, "%s", f->range_msg);
        else
            fail(c, f->path, "must be in %c%g, %g%c", f->flags & GC_FIELD_MIN_OPEN ? '(' : '[',
                 f->fmin, f->fmax, f->flags & GC_FIELD_MAX_OPEN ? ')' : ']');
        return;
    }
    case GC_FIELD_ENUM: {
        int k = *(const int *)v;
        if ((k < 0 && !(f->null == GC_NULL_DEFAULT && k == -1)) || k >= f->n_names)
            fail_enum(c, f);
        return;
    }
    case GC_FIELD_FLAGS: {
        unsigned bits = *(const unsigned *)v;
        if (bits >> f->n_names)
            fail_enum(c, f);
        return;
    }
    case GC_FIELD_STRING: {
        const char *str = v;
        size_t n = strnlen(str, f->size);
        if (ranged && (n < (size_t)f->min || n > (size_t)f->max)) {
            fail(c, f->path, "must be %lld to %lld characters", (long long)f->min,
                 (long long)f->max);
            return;
        }
        for (size_t k = 0; k < n; k++) {
            unsigned char ch = (unsigned char)str[k];
            if (ch < 0x20 || ch == 0x7f) {
                fail(c, f->path, "must be printable characters");
                return;
            }
        }
        return;
    }
    default:
        return; /* sections, booleans and the special shapes: see check_rules */
    }
    if (ranged && (i < f->min || i > f->max)) {
        if (f->range_msg)
            fail(c, f->path, "%s", f->range_msg);
        else
            fail(c, f->path, "must be between %lld and %lld", (long long)f->min, (long long)f->max);
    }
}

/* The rules of image-to-image runs (task) and of the unet architecture they train. */
static void check_task_rules(struct check *c, const struct gc_spec *s)
{
    const struct gc_task_spec *t = &s->task;
    const struct gc_dataset_spec *d = &s->dataset;
    if (!t->on) {
        if (s->model.arch == GC_ARCH_UNET)
            fail(c, "model.arch", "unet translates images: give a task (docs/spec.md, task)");
        return;
    }
    if (gc_dataset_is_2d(d->kind)) {
        fail(c, "task", "%s is a set of 2D points, not images", gc_dataset_name(d->kind));
        return;
    }
    if (s->model.arch != GC_ARCH_UNET)
        fail(c, "model.arch", "image-to-image tasks train a unet generator, not %s",
             gc_arch_name(s->model.arch));
    if (!s->model.patch)
        fail(c, "model.patch",
             "image-to-image tasks judge (input, output) pairs with a PatchGAN: must be true");
    if (t->kind == GC_TASK_SUPER_RESOLUTION && t->factor != 2 && t->factor != 4)
        fail(c, "task.factor", "must be 2 or 4");
    int side = d->kind == GC_DATA_FASHION_MNIST ? 28
               : d->kind == GC_DATA_PNG_DIR     ? d->image_size
                                                : 0;
    if (side && (side % 2 || side < 8))
        fail(c, "dataset.image_size", "a unet needs an even side of at least 8, not %d", side);
    else if (side && t->kind == GC_TASK_SUPER_RESOLUTION && t->factor > 0 && side % t->factor)
        fail(c, "task.factor", "the image side %d is not a multiple of %d", side, t->factor);
    if (t->kind == GC_TASK_COLORIZE && !(d->kind == GC_DATA_PNG_DIR && d->channels == 3))
        fail(c, "task.kind", "colorize needs a colour set: png-dir with channels 3 (%s is gray)",
             gc_dataset_name(d->kind));
    if (t->kind == GC_TASK_PAIRED) {
        if (d->kind != GC_DATA_PNG_DIR)
            fail(c, "dataset.name", "paired reads two png-dir folders, not %s",
                 gc_dataset_name(d->kind));
        if (!t->source_path[0])
            fail(c, "task.source_path", "required for paired: the folder of input images");
    } else if (t->source_path[0]) {
        fail(c, "task.source_path", "only paired reads a folder of inputs");
    }
    if (s->tricks.generators > 1)
        fail(c, "tricks.generators", "MAD-GAN has no image-to-image form; use 1 with a task");
    if (s->tricks.feature_matching)
        fail(c, "tricks.feature_matching",
             "image-to-image runs match their target with tricks.l1_weight instead");
    /* the toolkit's D-side tricks act on the unconditional D step and D's builder; the
     * task's conditional PatchGAN step has none of them */
    if (s->tricks.penalty.on)
        fail(c, "tricks.gradient_penalty", "image-to-image runs take no gradient penalty");
    if (s->tricks.diffaugment)
        fail(c, "tricks.diffaugment", "image-to-image runs take no DiffAugment");
    if (s->model.spectral_norm)
        fail(c, "model.spectral_norm", "the image-to-image PatchGAN has no spectral norm");
    if (s->model.conditional)
        fail(c, "model.conditional",
             "a task's generator is given its input image, not noise and a class: must be "
             "false with a task");
}

/* What the table cannot say: fields that depend on the dataset, the loss or each
 * other. Each problem is reported at the field a user would change. */
static void check_rules(struct check *c, const struct gc_spec *s)
{
    const struct gc_dataset_spec *d = &s->dataset;
    int is2d = gc_dataset_is_2d(d->kind);
    if (d->classes && d->kind != GC_DATA_FASHION_MNIST)
        fail(c, "dataset.classes", "only fashion-mnist has classes");
    if (d->classes & ~0x3ffu)
        fail(c, "dataset.classes", "classes are 0 to 9");
    if (d->test_split && d->kind != GC_DATA_FASHION_MNIST)
        fail(c, "dataset.split", "only fashion-mnist has splits");
    if ((d->kind == GC_DATA_IDX || d->kind == GC_DATA_PNG_DIR) && !d->path[0])
        fail(c, "dataset.path", "required for %s", gc_dataset_name(d->kind));
    if (is2d && d->path[0])
        fail(c, "dataset.path", "%s is generated and takes no path", gc_dataset_name(d->kind));
    if (d->labels_path[0] && d->kind != GC_DATA_IDX)
        fail(c, "dataset.labels_path",
             "only idx takes a labels file (fashion-mnist has its own, png-dir takes its "
             "classes from its subfolders)");
    if (s->model.conditional && d->kind == GC_DATA_IDX && !d->labels_path[0])
        fail(c, "dataset.labels_path",
             "a conditional idx run needs its labels: an IDX1 file with one label per image");
    if (d->kind == GC_DATA_PNG_DIR) {
        if (d->image_size < GC_MIN_IMAGE || d->image_size > GC_MAX_IMAGE)
            fail(c, "dataset.image_size", "must be between %d and %d", GC_MIN_IMAGE, GC_MAX_IMAGE);
        if (d->channels != 1 && d->channels != 3)
            fail(c, "dataset.channels", "must be 1 or 3");
    } else {
        if (d->image_size)
            fail(c, "dataset.image_size", "only png-dir is resized");
        if (d->channels)
            fail(c, "dataset.channels", "only png-dir is converted");
    }

    const struct gc_model_spec *m = &s->model;
    if (is2d && m->arch != GC_ARCH_MLP)
        fail(c, "model.arch", "2D point sets train with mlp");
    if (!is2d && m->arch == GC_ARCH_MLP && d->kind == GC_DATA_PNG_DIR && d->image_size > 64)
        fail(c, "model.arch", "mlp takes images up to 64x64");
    if (m->patch && m->arch == GC_ARCH_MLP)
        fail(c, "model.patch", "a PatchGAN discriminator needs arch dcgan");
    if (m->d_batch_norm == 1 && m->arch == GC_ARCH_MLP)
        fail(c, "model.d_batch_norm", "the mlp discriminator has no batch norm");
    if (m->d_batch_norm < -1 || m->d_batch_norm > 1)
        fail(c, "model.d_batch_norm", "must be null, true or false");
    if (d->subset && is2d)
        fail(c, "dataset.subset", "%s is drawn fresh every step; subset keeps stored images",
             gc_dataset_name(d->kind));

    if (s->train.ranks > 1 && s->train.batch_size > 0 && s->train.batch_size % s->train.ranks)
        fail(c, "train.ranks",
             "must divide train.batch_size (%d) so that every rank takes an equal part of "
             "the batch",
             s->train.batch_size);
    if (s->train.ranks > 1 && s->task.on)
        fail(c, "train.ranks", "image-to-image tasks train on one process: must be 1");
    /* the penalty's interpolates and DiffAugment's draws are made for the batch a
     * process holds, and the second-order pass through batch norm sums no statistics
     * across ranks: both would train another run on ranks than on one process */
    if (s->train.ranks > 1 && s->tricks.penalty.on)
        fail(c, "train.ranks", "a gradient penalty trains on one process: must be 1");
    if (s->train.ranks > 1 && s->tricks.diffaugment)
        fail(c, "train.ranks", "DiffAugment trains on one process: must be 1");
    /* a conditional run's classes are drawn for the batch a process holds, and its
     * class embedding is not summed across ranks */
    if (s->train.ranks > 1 && s->model.conditional)
        fail(c, "train.ranks", "conditional runs train on one process: must be 1");
    /* the penalty takes D's gradient at its image input; a conditional D also reads the
     * class (its projection or its maps), which the penalty's passes leave out */
    if (s->tricks.penalty.on && s->model.conditional)
        fail(c, "tricks.gradient_penalty", "not with model.conditional: must be null");

    const struct gc_tricks_spec *t = &s->tricks;
    if (t->smoothing != GC_SMOOTH_NONE) {
        if (!(t->smooth_lo > 0.0f && t->smooth_lo <= t->smooth_hi && t->smooth_hi <= 1.0f))
            fail(c, "tricks.label_smoothing", "real labels must satisfy 0 < lo <= hi <= 1");
        if (s->loss != GC_LOSS_MINIMAX && s->loss != GC_LOSS_NONSATURATING &&
            s->loss != GC_LOSS_LEAST_SQUARES)
            fail(c, "tricks.label_smoothing",
                 "applies to minimax, nonsaturating and least-squares losses, not %s",
                 gc_loss_name(s->loss));
    }
    if (t->generators > 1) {
        if (s->loss != GC_LOSS_MINIMAX && s->loss != GC_LOSS_NONSATURATING)
            fail(c, "tricks.generators",
                 "MAD-GAN trains a (K+1)-way softmax discriminator; use loss nonsaturating or "
                 "minimax, not %s",
                 gc_loss_name(s->loss));
        if (m->patch)
            fail(c, "tricks.generators", "MAD-GAN and a PatchGAN discriminator cannot be combined");
        if (t->unrolled_steps)
            fail(c, "tricks.generators", "MAD-GAN and unrolled_steps cannot be combined");
    }
    const struct gc_penalty_spec *gp = &t->penalty;
    if (gp->on) {
        if (t->generators > 1)
            fail(c, "tricks.gradient_penalty",
                 "needs one critic value per sample; MAD-GAN's (K+1)-way softmax has none");
        if (gp->kind == GC_PENALTY_WGAN_GP && t->weight_clip > 0.0f)
            fail(c, "tricks.weight_clip",
                 "the wgan-gp penalty replaces weight clipping; set tricks.weight_clip to null "
                 "(the wgan-gp preset does)");
    }
    if (t->diffaugment && is2d)
        fail(c, "tricks.diffaugment", "augments images; %s is a set of points",
             gc_dataset_name(d->kind));
    check_task_rules(c, s);
}

/* Puts the list in the order of the spec's fields (the table's), keeping the order of
 * problems of one field; fields the table does not know go last. */
static void sort_by_field(struct gc_field_errors *fe)
{
    int n;
    const struct gc_spec_field *table = gc_spec_fields(&n);
    int key[GC_MAX_FIELD_ERRORS];
    for (int i = 0; i < fe->n; i++) {
        const struct gc_spec_field *f = gc_spec_field_find(fe->e[i].field);
        key[i] = f ? (int)(f - table) : n;
    }
    for (int i = 1; i < fe->n; i++) {
        struct gc_field_error e = fe->e[i];
        int k = key[i], j = i;
        for (; j > 0 && key[j - 1] > k; j--) {
            fe->e[j] = fe->e[j - 1];
            key[j] = key[j - 1];
        }
        fe->e[j] = e;
        key[j] = k;
    }
}

int gc_spec_check(const struct gc_spec *s, struct gc_field_errors *fe)
{
    struct check c = {fe, 0};
    if (fe)
        gc_field_errors_init(fe);
    int n;
    const struct gc_spec_field *f = gc_spec_fields(&n);
    for (int i = 0; i < n; i++)
        if (!section_off(s, &f[i]))
            check_limits(&c, s, &f[i]);
    check_rules(&c, s);
    if (fe)
        sort_by_field(fe);
    return c.bad ? GC_EINVAL : 0;
}
