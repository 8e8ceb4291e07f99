/* gan_task.c — image-to-image training (pix2pix, Isola et al. 2017): the data of a
 * task run and its held-out split, the D and G updates on (input, image) pairs, the
 * evaluation against the task's naive baseline, the (input | output | target) sample
 * grid, and the translation of a user's picture.
 *
 * A batch is drawn once per D update: the targets come from the loader, G's inputs
 * are made from them (core/task.h) or read with them (paired), and the random holes of
 * inpainting come from an RNG seeded by (seed, step, draw), so a resumed run draws the
 * same holes and no state beyond the loader's needs saving. G's update uses the last
 * D update's batch and G's activations of it, as pix2pix does. */
#include "core/gan_task.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gan_internal.h"
#include "core/gan_step.h"
#include "core/image.h"
#include "core/metrics.h"
#include "core/task.h"
#include "core/task_data.h"

#define TASK_EVAL_IMAGES 500 /* held-out images of an evaluation */
#define GRID_ROWS 8          /* triplets in a sample grid */
#define HOLE_SEED_EVAL 0x68656c64ull

/* ---- data ----------------------------------------------------------------------- */

int gc_gan_task_open(struct gc_trainer *t, int load, gc_warn_fn warn, void *ctx,
                     struct gc_error *err)
{
    const struct gc_spec *s = &t->spec;
    t->task = 1;
    if (s->dataset.kind == GC_DATA_FASHION_MNIST) {
        if (!load)
            return 0;
        t->data = gc_dataset_open(&s->dataset, warn, ctx, err);
        return t->data ? 0 : err->code;
    }
    if (!load && s->dataset.kind != GC_DATA_IDX)
        return 0;
    struct gc_dataset *all = s->task.kind == GC_TASK_PAIRED
                                 ? gc_task_open_paired(s, warn, ctx, err)
                                 : gc_dataset_open(&s->dataset, warn, ctx, err);
    if (!all)
        return err->code;
    int rc = gc_task_split(all, &t->data, &t->held, err);
    gc_dataset_destroy(all);
    return rc;
}

int gc_gan_task_shape(struct gc_trainer *t, struct gc_error *err)
{
    const struct gc_task_spec *ts = &t->spec.task;
    if (ts->kind == GC_TASK_PAIRED && t->data)
        t->c /= 2; /* an item is the input's planes, then the target's */
    t->dsize = (size_t)t->c * t->h * t->w;
    t->cin = gc_task_in_channels(ts, t->c);
    t->isize = (size_t)t->cin * t->h * t->w;
    t->item = ts->kind == GC_TASK_PAIRED ? t->isize + t->dsize : t->dsize;
    if (t->h != t->w || t->h < 8 || t->h % 2)
        return gc_error_set(err, GC_EINVAL,
                            "model.arch: unet takes square images of an even side of at least 8, "
                            "not %dx%d",
                            t->w, t->h);
    if (ts->kind == GC_TASK_SUPER_RESOLUTION && t->h % ts->factor)
        return gc_error_set(err, GC_EINVAL,
                            "task.factor: the image side %d is not a multiple of %d", t->h,
                            ts->factor);
    if (ts->kind == GC_TASK_COLORIZE && t->c != 3)
        return gc_error_set(err, GC_EINVAL,
                            "task.kind: colorize needs colour images, not %d channel", t->c);
    return 0;
}

int gc_gan_task_alloc(struct gc_trainer *t, struct gc_error *err)
{
    size_t B = (size_t)t->B, ps = t->isize + t->dsize;
    t->items = malloc(B * t->item * sizeof(float));
    t->tin = malloc(B * t->isize * sizeof(float));
    t->tgt = malloc(B * t->dsize * sizeof(float));
    t->tout = malloc(B * t->dsize * sizeof(float));
    t->pair = malloc(B * ps * sizeof(float));
    t->dpair = malloc(B * ps * sizeof(float));
    t->scratch = malloc(t->dsize * sizeof(float));
    if (!t->items || !t->tin || !t->tgt || !t->tout || !t->pair || !t->dpair || !t->scratch)
        return gc_error_set(err, GC_ENOMEM, "trainer: out of memory for the task's buffers");
    return 0;
}

void gc_gan_task_free(struct gc_trainer *t)
{
    free(t->items);
    free(t->tin);
    free(t->tgt);
    free(t->tout);
    free(t->pair);
    free(t->dpair);
    free(t->scratch);
    free(t->held_in);
    free(t->held_tgt);
    free(t->held_out);
    free(t->mean_img);
    gc_dataset_destroy(t->held);
}

/* n dataset items (targets, or pairs) into inputs and targets; made inputs draw their
 * holes from seed. */
static void split_items(struct gc_trainer *t, const float *items, int n, uint64_t seed, float *in,
                        float *tgt)
{
    if (t->spec.task.kind == GC_TASK_PAIRED) {
        for (int i = 0; i < n; i++) {
            const float *it = items + (size_t)i * t->item;
            memcpy(in + (size_t)i * t->isize, it, t->isize * sizeof(float));
            memcpy(tgt + (size_t)i * t->dsize, it + t->isize, t->dsize * sizeof(float));
        }
        return;
    }
    memcpy(tgt, items, (size_t)n * t->dsize * sizeof(float));
    gc_task_make_inputs(&t->spec.task, tgt, n, t->c, t->h, t->w, seed, in, t->scratch);
}

/* G's output y for inputs in, composited with the known pixels for inpainting. */
static void finish_output(struct gc_trainer *t, const float *in, const float *y, int n, float *out)
{
    if (t->spec.task.kind == GC_TASK_INPAINTING)
        gc_task_compose(in, y, n, t->c, t->h, t->w, out);
    else if (t->spec.task.kind == GC_TASK_COLORIZE)
        gc_task_keep_luma(in, y, n, t->h, t->w, out);
    else
        memcpy(out, y, (size_t)n * t->dsize * sizeof(float));
}

/* ---- training ------------------------------------------------------------------- */

/* A fresh batch into tin / tgt and G's train-mode output of it into tout. */
static void draw_batch(struct gc_trainer *t)
{
    uint64_t seed = gc_gan_mix64(t->spec.train.seed ^
                                 gc_gan_mix64(((uint64_t)t->step << 8) + (uint64_t)t->draws++));
    gc_loader_next(t->loader, (size_t)t->B, t->items, NULL);
    t->images += (uint64_t)t->B;
    split_items(t, t->items, t->B, seed, t->tin, t->tgt);
    const float *y = gc_model_forward(t->g[0], t->tin, t->B, 1);
    finish_output(t, t->tin, y, t->B, t->tout);
}

/* D's input: each sample's input planes, then img's. */
static void make_pairs(struct gc_trainer *t, const float *img)
{
    size_t ps = t->isize + t->dsize;
    for (int i = 0; i < t->B; i++) {
        memcpy(t->pair + i * ps, t->tin + i * t->isize, t->isize * sizeof(float));
        memcpy(t->pair + i * ps + t->isize, img + i * t->dsize, t->dsize * sizeof(float));
    }
}

static void d_update(struct gc_trainer *t, struct gc_model *d, int record)
{
    int n = t->B * t->nout;
    size_t dl = (size_t)n * sizeof(float);
    gc_model_zero_grad(d);
    draw_batch(t);
    make_pairs(t, t->tgt);
    const float *out = gc_model_forward(d, t->pair, t->B, 1);
    memset(t->dlog, 0, dl);
    gc_gan_fill_real_targets(t);
    double lr = gc_gan_loss_d_real(t, out, n), sr = gc_gan_d_stat(t, out, n);
    gc_model_backward(d, t->dlog, NULL);
    make_pairs(t, t->tout);
    out = gc_model_forward(d, t->pair, t->B, 1);
    memset(t->dlog, 0, dl);
    double lf = gc_gan_loss_d_fake(t, out, n), sf = gc_gan_d_stat(t, out, n);
    gc_model_backward(d, t->dlog, NULL);
    gc_gan_d_finish(t, d, NULL, record, lr, lf, sr, sf, -1.0);
}

/* G's update against d on the last drawn batch (G's activations are of it). */
static void g_update(struct gc_trainer *t, struct gc_model *d)
{
    int B = t->B, n = B * t->nout;
    size_t ps = t->isize + t->dsize, ds = t->dsize;
    struct gc_model *g = t->g[0];
    gc_model_zero_grad(g);
    make_pairs(t, t->tout);
    const float *out = gc_model_forward(d, t->pair, B, 1);
    memset(t->dlog, 0, (size_t)n * sizeof(float));
    double adv = gc_gan_loss_g(t, out, n);
    memset(t->dpair, 0, (size_t)B * ps * sizeof(float));
    gc_model_backward_input(d, gc_model_nlayers(d) - 1, t->dlog, t->dpair);
    /* the image part of D's input gradient, plus lambda x d mean|out - target| */
    const float lam = t->spec.tricks.l1_weight, scale = lam / (float)((size_t)B * ds);
    const int hole = t->spec.task.kind == GC_TASK_INPAINTING;
    const size_t hw = (size_t)t->h * t->w;
    double l1 = 0.0;
    for (int i = 0; i < B; i++) {
        const float *o = t->tout + i * ds, *y = t->tgt + i * ds, *m = t->tin + i * t->isize + ds;
        const float *dp = t->dpair + i * ps + t->isize;
        float *df = t->dfake + i * ds;
        for (size_t k = 0; k < ds; k++) {
            float diff = o[k] - y[k];
            l1 += fabsf(diff);
            float gk = dp[k] + (diff > 0.0f ? scale : diff < 0.0f ? -scale : 0.0f);
            /* composited pixels outside the hole are the input's: no gradient to G */
            df[k] = hole && !(m[k % hw] > 0.0f) ? 0.0f : gk;
        }
    }
    if (t->spec.task.kind == GC_TASK_COLORIZE) /* through the luma shift */
        gc_task_keep_luma_backward(t->dfake, B, t->h, t->w);
    gc_model_backward(g, t->dfake, NULL);
    t->gn_g = gc_model_grad_norm(g);
    gc_gan_opt_step(t, g);
    if (t->ema[0])
        gc_gan_ema_update(t, 0);
    t->loss_l1 = l1 / (double)((size_t)B * ds);
    t->loss_g = adv + lam * t->loss_l1;
}

void gc_gan_task_step(struct gc_trainer *t)
{
    t->lr_scale = gc_spec_lr_scale(&t->spec, t->step);
    t->draws = 0;
    for (int i = 0; i < t->spec.train.d_steps; i++)
        d_update(t, t->d, i == t->spec.train.d_steps - 1);
    struct gc_model *d = t->d;
    if (t->dcopy) {
        /* same architecture, preallocated: cannot fail */
        gc_model_copy_state(t->dcopy, t->d, NULL);
        for (int i = 0; i < t->spec.tricks.unrolled_steps; i++)
            d_update(t, t->dcopy, 0);
        d = t->dcopy;
    }
    g_update(t, d);
}

/* ---- translation ---------------------------------------------------------------- */

/* G (its averaged weights with ema) in eval mode on n inputs, in batches. */
static void translate(struct gc_trainer *t, const float *in, int n, float *out)
{
    struct gc_model *g = gc_gan_sampling_g(t, 0);
    for (int i = 0; i < n; i += t->B) {
        int m = n - i < t->B ? n - i : t->B;
        const float *y = gc_model_forward(g, in + (size_t)i * t->isize, m, 0);
        finish_output(t, in + (size_t)i * t->isize, y, m, out + (size_t)i * t->dsize);
    }
}

/* The mean target of a set's items into t->mean_img. */
static void mean_image(struct gc_trainer *t, const struct gc_dataset *src)
{
    size_t cnt = gc_dataset_count(src), off = t->item - t->dsize;
    const uint8_t *px = gc_dataset_images(src);
    double *sum = calloc(t->dsize, sizeof *sum);
    if (!sum) { /* a mid-gray baseline rather than none */
        memset(t->mean_img, 0, t->dsize * sizeof(float));
        return;
    }
    for (size_t i = 0; i < cnt; i++)
        for (size_t k = 0; k < t->dsize; k++)
            sum[k] += px[i * t->item + off + k];
    for (size_t k = 0; k < t->dsize; k++)
        t->mean_img[k] = (float)(sum[k] / (127.5 * (double)cnt) - 1.0);
    free(sum);
}

/* The held-out images of the evaluation and the grid, their inputs and the baseline's
 * figures, made once. */
static int prepare_held(struct gc_trainer *t, struct gc_error *err)
{
    if (t->held_in)
        return 0;
    if (!t->held) {
        struct gc_dataset_spec es;
        gc_dataset_eval_spec(&t->spec.dataset, &es); /* fashion-mnist: the test split */
        t->held = gc_dataset_open(&es, NULL, NULL, err);
        if (!t->held)
            return gc_error_prefix(err, "eval");
    }
    size_t n = gc_dataset_count(t->held);
    n = n > TASK_EVAL_IMAGES ? TASK_EVAL_IMAGES : n;
    float *items = malloc(n * t->item * sizeof(float));
    float *base = malloc(n * t->dsize * sizeof(float));
    t->held_in = malloc(n * t->isize * sizeof(float));
    t->held_tgt = malloc(n * t->dsize * sizeof(float));
    t->held_out = malloc(n * t->dsize * sizeof(float));
    t->mean_img = calloc(t->dsize, sizeof(float));
    int rc = 0;
    if (!items || !base || !t->held_in || !t->held_tgt || !t->held_out || !t->mean_img)
        rc = gc_error_set(err, GC_ENOMEM, "eval: out of memory for %zu held-out images", n);
    if (!rc)
        rc = gc_dataset_get_spread(t->held, n, items, NULL, err);
    if (!rc) {
        split_items(t, items, (int)n, gc_gan_mix64(t->spec.train.seed ^ HOLE_SEED_EVAL), t->held_in,
                    t->held_tgt);
        /* the mean training image, for the baselines that ignore the input */
        enum gc_task_kind k = t->spec.task.kind;
        if (k == GC_TASK_EDGES || k == GC_TASK_PAIRED)
            mean_image(t, t->data ? t->data : t->held);
        gc_task_baseline(&t->spec.task, t->held_in, t->mean_img, (int)n, t->c, t->h, t->w, base);
        t->base[0] = gc_task_psnr(base, t->held_tgt, (int)n, t->dsize);
        t->base[1] = gc_task_ssim(base, t->held_tgt, (int)n, t->c, t->h, t->w);
        t->base[2] = gc_task_l1(base, t->held_tgt, (int)n, t->dsize);
        t->held_n = n;
    }
    free(items);
    free(base);
    if (rc) {
        free(t->held_in);
        t->held_in = NULL;
    }
    return rc;
}

int gc_gan_task_evaluate(struct gc_trainer *t, struct gc_metric *m, int *n, struct gc_error *err)
{
    *n = 0;
    int rc = prepare_held(t, err);
    if (rc)
        return rc;
    int hn = (int)t->held_n;
    translate(t, t->held_in, hn, t->held_out);
    const double v[6] = {gc_task_psnr(t->held_out, t->held_tgt, hn, t->dsize),
                         gc_task_ssim(t->held_out, t->held_tgt, hn, t->c, t->h, t->w),
                         gc_task_l1(t->held_out, t->held_tgt, hn, t->dsize),
                         t->base[0],
                         t->base[1],
                         t->base[2]};
    const enum gc_metric_id ids[6] = {GC_M_PSNR,          GC_M_SSIM,          GC_M_L1,
                                      GC_M_PSNR_BASELINE, GC_M_SSIM_BASELINE, GC_M_L1_BASELINE};
    for (int i = 0; i < 6; i++)
        m[(*n)++] = (struct gc_metric){gc_metric_name(ids[i]), v[i]};
    return 0;
}

/* Input i as a picture of the image's channels: the small image blown up (super-
 * resolution, so the grid shows what G was given), the single plane replicated (edges,
 * colorize), the image part otherwise. */
static void show_input(struct gc_trainer *t, int i, float *out)
{
    const float *x = t->held_in + (size_t)i * t->isize, *y = t->held_tgt + (size_t)i * t->dsize;
    const int c = t->c, h = t->h, w = t->w, f = t->spec.task.factor;
    size_t hw = (size_t)h * w;
    switch (t->spec.task.kind) {
    case GC_TASK_SUPER_RESOLUTION:
        gc_task_downsample(y, c, h, w, f, t->scratch);
        for (int ch = 0; ch < c; ch++)
            for (int a = 0; a < h; a++)
                for (int b = 0; b < w; b++)
                    out[ch * hw + (size_t)a * w + b] =
                        t->scratch[((size_t)ch * (h / f) + a / f) * (w / f) + b / f];
        break;
    case GC_TASK_EDGES:
    case GC_TASK_COLORIZE:
        for (int ch = 0; ch < c; ch++)
            memcpy(out + ch * hw, x, hw * sizeof(float));
        break;
    default:
        memcpy(out, x, t->dsize * sizeof(float));
    }
}

int gc_gan_task_sample_png(struct gc_trainer *t, uint8_t **png, size_t *len, struct gc_error *err)
{
    int rc = prepare_held(t, err);
    if (rc)
        return rc;
    int rows = t->held_n < GRID_ROWS ? (int)t->held_n : GRID_ROWS;
    float *cells = malloc((size_t)3 * rows * t->dsize * sizeof(float));
    if (!cells)
        return gc_error_set(err, GC_ENOMEM, "sample: out of memory");
    translate(t, t->held_in, rows, t->held_out);
    for (int i = 0; i < rows; i++) {
        float *row = cells + (size_t)3 * i * t->dsize;
        show_input(t, i, row);
        memcpy(row + t->dsize, t->held_out + (size_t)i * t->dsize, t->dsize * sizeof(float));
        memcpy(row + 2 * t->dsize, t->held_tgt + (size_t)i * t->dsize, t->dsize * sizeof(float));
    }
    rc = gc_image_grid_png(cells, 3 * rows, t->c, t->h, t->w, 3, png, len, err);
    free(cells);
    return rc;
}

/* ---- a user's picture ----------------------------------------------------------- */

void gc_trainer_translate_size(const struct gc_trainer *t, int *w, int *h)
{
    int f = t->task && t->spec.task.kind == GC_TASK_SUPER_RESOLUTION ? t->spec.task.factor : 1;
    *w = t->w / f;
    *h = t->h / f;
}

/* Pixel (a, b) of channel ch of a picture as [-1, 1]: gray pictures give their gray to
 * every channel; ch = -1 asks for the luma. */
static float pic_at(const struct gc_picture *p, int a, int b, int ch)
{
    const uint8_t *px = p->pix + ((size_t)a * p->w + b) * p->c;
    float v;
    if (p->c < 3)
        v = px[0];
    else if (ch < 0)
        v = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];
    else
        v = px[ch];
    return v / 127.5f - 1.0f;
}

/* G's input from what a user has (task.h and docs/api.md, translate). */
static int user_input(struct gc_trainer *t, const struct gc_picture *p, float *in,
                      struct gc_error *err)
{
    const int c = t->c, h = t->h, w = t->w;
    size_t hw = (size_t)h * w;
    switch (t->spec.task.kind) {
    case GC_TASK_SUPER_RESOLUTION: {
        int f = t->spec.task.factor;
        for (int ch = 0; ch < c; ch++)
            for (int a = 0; a < p->h; a++)
                for (int b = 0; b < p->w; b++)
                    t->scratch[((size_t)ch * p->h + a) * p->w + b] =
                        pic_at(p, a, b, c == 1 ? -1 : ch);
        gc_task_bicubic(t->scratch, c, h / f, w / f, f, in);
        return 0;
    }
    case GC_TASK_INPAINTING: {
        if (p->c != 2 && p->c != 4)
            return gc_error_set(err, GC_EINVAL,
                                "inpainting takes the hole as the PNG's alpha channel "
                                "(transparent where the hole is); this PNG has no alpha");
        float *m = in + (size_t)c * hw;
        for (int a = 0; a < h; a++)
            for (int b = 0; b < w; b++) {
                int hole = p->pix[((size_t)a * w + b) * p->c + p->c - 1] < 128;
                m[(size_t)a * w + b] = hole ? 1.0f : -1.0f;
                for (int ch = 0; ch < c; ch++)
                    in[ch * hw + (size_t)a * w + b] =
                        hole ? 0.0f : pic_at(p, a, b, c == 1 ? -1 : ch);
            }
        return 0;
    }
    case GC_TASK_EDGES:
    case GC_TASK_COLORIZE:
        for (int a = 0; a < h; a++)
            for (int b = 0; b < w; b++)
                in[(size_t)a * w + b] = pic_at(p, a, b, -1);
        return 0;
    case GC_TASK_PAIRED:
        for (int ch = 0; ch < c; ch++)
            for (int a = 0; a < h; a++)
                for (int b = 0; b < w; b++)
                    in[ch * hw + (size_t)a * w + b] = pic_at(p, a, b, c == 1 ? -1 : ch);
        return 0;
    }
    return gc_error_set(err, GC_EINVAL, "translate: unknown task");
}

static int wrong_size(const struct gc_trainer *t, long long w, long long h, int ew, int eh,
                      struct gc_error *err)
{
    return gc_error_set(
        err, GC_EINVAL, "the image is %lldx%lld; this run takes %dx%d (its images are %dx%d%s)", w,
        h, ew, eh, t->w, t->h,
        t->spec.task.kind == GC_TASK_SUPER_RESOLUTION ? ", shrunk by the task's factor" : "");
}

int gc_trainer_translate_png(struct gc_trainer *t, const uint8_t *png, size_t len, uint8_t **out,
                             size_t *olen, struct gc_error *err)
{
    *out = NULL;
    *olen = 0;
    if (!t->task)
        return gc_error_set(err, GC_ESTATE,
                            "translate: this run has no task; it generates from noise "
                            "(POST .../generate)");
    int ew, eh;
    gc_trainer_translate_size(t, &ew, &eh);
    /* the size from the header first: a small body can claim a huge picture, which is
     * refused before anything is inflated */
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 24 && memcmp(png, sig, 8) == 0 && memcmp(png + 12, "IHDR", 4) == 0) {
        uint32_t hw = (uint32_t)png[16] << 24 | (uint32_t)png[17] << 16 | png[18] << 8 | png[19];
        uint32_t hh = (uint32_t)png[20] << 24 | (uint32_t)png[21] << 16 | png[22] << 8 | png[23];
        if (hw != (uint32_t)ew || hh != (uint32_t)eh)
            return wrong_size(t, (long long)hw, (long long)hh, ew, eh, err);
    }
    struct gc_picture p = {0};
    int rc = gc_png_decode(png, len, &p, err);
    if (rc)
        return rc == GC_ECORRUPT ? gc_error_prefix(err, "not a PNG image") : rc;
    float *in = NULL, *y = NULL;
    uint8_t *pix = NULL;
    if (p.w != ew || p.h != eh) { /* the header said otherwise than the picture */
        rc = wrong_size(t, p.w, p.h, ew, eh, err);
        goto out;
    }
    in = malloc(t->isize * sizeof(float));
    y = malloc(t->dsize * sizeof(float));
    pix = malloc(t->dsize);
    if (!in || !y || !pix) {
        rc = gc_error_set(err, GC_ENOMEM, "translate: out of memory");
        goto out;
    }
    if ((rc = user_input(t, &p, in, err)))
        goto out;
    translate(t, in, 1, y);
    /* planar floats to interleaved bytes */
    size_t hw = (size_t)t->h * t->w;
    uint8_t *planar = malloc(t->dsize);
    if (!planar) {
        rc = gc_error_set(err, GC_ENOMEM, "translate: out of memory");
        goto out;
    }
    gc_image_to_u8(y, t->dsize, planar);
    for (size_t k = 0; k < hw; k++)
        for (int ch = 0; ch < t->c; ch++)
            pix[k * t->c + ch] = planar[ch * hw + k];
    free(planar);
    rc = gc_png_encode(pix, t->w, t->h, t->c, out, olen, err);
out:
    gc_picture_fini(&p);
    free(in);
    free(y);
    free(pix);
    return rc;
}
