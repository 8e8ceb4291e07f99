/* gan.c — the GAN engine's trainer: its life (create, destroy) and the run loop that
 * trains step after step and reports through the hooks: metrics, sample grids,
 * evaluations, checkpoints, log lines.
 *
 * The engine's rooms: gan_arch.c builds the models, gan_step.c runs one training step,
 * gan_ckpt.c writes and restores checkpoints, gan_sample.c generates and encodes
 * samples, gan_eval.c evaluates; the trainer they share is in gan_internal.h.
 *
 * Threads: the trainer's pool of opts->threads threads runs every model's work (and
 * the evaluation classifier's); OpenBLAS stays on one thread for the whole process
 * (gc_blas_init, core/blas.h), so nothing here touches its thread count. */
#include "core/gan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/gan_arch.h"
#include "core/gan_cond.h"
#include "core/gan_eval.h"
#include "core/gan_internal.h"
#include "core/gan_step.h"
#include "core/gan_task.h"
#include "core/metrics.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Dataset warnings at create come before any hooks exist: keep them for run(). */
static void keep_warning(void *ctx, const char *msg)
{
    struct gc_trainer *t = ctx;
    if (t->hooks && t->hooks->log) {
        t->hooks->log(t->hooks->ctx, msg);
        return;
    }
    if (t->nwarn < GC_GAN_MAX_WARN_LINES)
        snprintf(t->warn[t->nwarn++], sizeof t->warn[0], "%s", msg);
    else
        t->warn_dropped++;
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
    gc_model_destroy(t->gsample);
    gc_gan_cond_destroy(t);
    gc_classifier_destroy(t->clf);
    gc_gan_task_free(t);
    gc_pool_destroy(t->pool); /* after the models that borrow it */
    gc_loader_destroy(t->loader);
    if (t->eval_data != t->data)
        gc_dataset_destroy(t->eval_data);
    gc_dataset_destroy(t->data);
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
    free(t->rb);
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
    if (spec->task.on) {
        if (gc_gan_task_open(t, load, keep_warning, t, err))
            goto fail;
    } else if (load || t->is2d || spec->dataset.kind == GC_DATA_IDX) {
        t->data = gc_dataset_open(&spec->dataset, keep_warning, t, err);
        if (!t->data)
            goto fail;
    }
    /* the task's shape first: it sets the image size the class inputs are sized by */
    if (gc_gan_sample_shape(t, err) || (t->task && gc_gan_task_shape(t, err)) ||
        gc_gan_cond_classes(t, err))
        goto fail;

    uint64_t seed = spec->train.seed;
    struct gc_rng init;
    for (int k = 0; k < t->K; k++) {
        gc_rng_init(&init, seed, GC_GAN_STREAM_INIT_G + (uint64_t)k);
        t->g[k] = gc_gan_build_g(t, &init, err);
        if (!t->g[k]) {
            gc_error_prefix(err, "generator");
            goto fail;
        }
    }
    gc_rng_init(&init, seed, GC_GAN_STREAM_INIT_D);
    t->d = gc_gan_build_d(t, &init, err);
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
    if (gc_gan_cond_create(t, err))
        goto fail;

    if (load) {
        t->loader = gc_loader_create(t->data, seed, GC_GAN_STREAM_LOADER, err);
        if (!t->loader)
            goto fail;
    }
    gc_rng_init(&t->rng_noise, seed, GC_GAN_STREAM_NOISE);
    gc_rng_init(&t->rng_label, seed, GC_GAN_STREAM_LABEL);
    t->fixed_seed = gc_gan_mix64(seed ^ 0x5eed5a3b1e5ull);
    gc_watch_init(&t->watch);

    size_t B = (size_t)t->B, no = (size_t)t->nout;
    t->nsamples = t->is2d ? GC_EVAL_POINTS : GC_GAN_SAMPLE_IMAGES;
    if (t->nc && !t->is2d) /* a row of GC_GAN_GRID_COLS per class, up to a limit */
        t->nsamples =
            GC_GAN_GRID_COLS * (t->nc < GC_GAN_GRID_CLASSES ? t->nc : GC_GAN_GRID_CLASSES);
    size_t fm_groups = t->nc ? (size_t)t->nc : 1;
    t->real = malloc(B * t->dsize * sizeof(float));
    t->noise = malloc(B * (size_t)spec->model.z_dim * sizeof(float));
    t->dfake = malloc(B * t->dsize * sizeof(float));
    t->dlog = malloc(B * no * sizeof(float));
    t->probs = malloc(B * no * sizeof(float));
    t->t_real = malloc(B * no * sizeof(float));
    t->t_zero = calloc(B * no, sizeof(float));
    t->t_one = malloc(B * no * sizeof(float));
    t->labels = malloc(B * sizeof(int));
    t->feat_real = malloc(fm_groups * t->feat_size * sizeof(float));
    t->feat_fake = malloc(fm_groups * t->feat_size * sizeof(float));
    t->dfeat = malloc(B * t->feat_size * sizeof(float));
    t->samples = malloc((size_t)t->nsamples * t->dsize * sizeof(float));
    if (!t->real || !t->noise || !t->dfake || !t->dlog || !t->probs || !t->t_real || !t->t_zero ||
        !t->t_one || !t->labels || !t->feat_real || !t->feat_fake || !t->dfeat || !t->samples) {
        gc_error_set(err, GC_ENOMEM, "trainer: out of memory for the batch buffers");
        goto fail;
    }
    for (size_t i = 0; i < B * no; i++)
        t->t_one[i] = 1.0f;
    if (t->nc && !t->is2d) {
        /* row r of the grid shows class r (spread over the classes when there are more
         * rows' worth), each column one noise */
        int rows = t->nsamples / GC_GAN_GRID_COLS;
        if (!(t->grid_y = malloc((size_t)t->nsamples * sizeof(int)))) {
            gc_error_set(err, GC_ENOMEM, "trainer: out of memory");
            goto fail;
        }
        for (int i = 0; i < t->nsamples; i++)
            t->grid_y[i] = (int)((int64_t)(i / GC_GAN_GRID_COLS) * t->nc / rows);
    }
    if (t->task && gc_gan_task_alloc(t, err))
        goto fail;
    return t;
fail:
    gc_trainer_destroy(t);
    return NULL;
}

int64_t gc_trainer_step(const struct gc_trainer *t)
{
    return t->step;
}

/* ---- reporting ---------------------------------------------------------------------- */

/* ---- the watchdog's rollback point ------------------------------------------------ */

static int rolling_back(const struct gc_trainer *t)
{
    return t->spec.watch.action == GC_WATCH_ROLLBACK;
}

/* Keeps the checkpoint bytes (taken over) as the point to go back to when the
 * detectors are calm and its score is no worse than the kept one's. */
static void keep_rollback_point(struct gc_trainer *t, uint8_t *bytes, size_t len)
{
    int have = 0;
    double score = gc_watch_score(&t->watch, &have);
    int better = !t->rb || !t->rb_scored || (have && score >= t->rb_score);
    if (!rolling_back(t) || !gc_watch_calm(&t->watch) || !better) {
        free(bytes);
        return;
    }
    free(t->rb);
    t->rb = bytes;
    t->rb_len = len;
    t->rb_step = t->step;
    t->rb_score = score;
    t->rb_scored = have;
}

static int emit_checkpoint(struct gc_trainer *t, struct gc_error *err)
{
    if ((!t->hooks || !t->hooks->checkpoint) && !rolling_back(t))
        return 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = gc_trainer_checkpoint(t, &bytes, &len, err);
    if (!rc && t->hooks && t->hooks->checkpoint)
        rc = t->hooks->checkpoint(t->hooks->ctx, t->step, bytes, len, err);
    if (!rc)
        keep_rollback_point(t, bytes, len);
    else
        free(bytes);
    return rc;
}

/* Goes back to the rollback point, keeping the watchdog's state (its bests and counts
 * are about the whole run), with the learning rates halved and a fresh noise stream. */
static int roll_back(struct gc_trainer *t, struct gc_error *err)
{
    struct gc_watch keep = t->watch;
    int rc = gc_trainer_restore(t, t->rb, t->rb_len, err);
    t->watch = keep;
    if (rc)
        return gc_error_prefix(err, "watch: rollback to step %lld", (long long)t->rb_step);
    t->watch.rollbacks++;
    t->watch.lr_mult *= 0.5f;
    gc_watch_rearm(&t->watch);
    /* the same noise would lead down the same path */
    gc_rng_init(&t->rng_noise, t->spec.train.seed ^ gc_gan_mix64((uint64_t)t->watch.rollbacks),
                GC_GAN_STREAM_NOISE);
    return 0;
}

/* Tells the hooks what the watchdog saw, rolling back first when the spec asks for it
 * and rollbacks are left; *rolled says whether it did. */
static int watch_fired(struct gc_trainer *t, const struct gc_watch_alert *a, int *rolled,
                       struct gc_error *err)
{
    struct gc_watch_event e = {.step = t->step,
                               .kind = gc_watch_kind_name(a->kind),
                               .action = "alert",
                               .to_step = -1,
                               .lr_scale = 0.0};
    *rolled = 0;
    const struct gc_watch_spec *ws = &t->spec.watch;
    if (rolling_back(t) && t->rb && t->watch.rollbacks < ws->max_rollbacks) {
        int rc = roll_back(t, err);
        if (rc)
            return rc;
        *rolled = 1;
        e.action = "rollback";
        e.to_step = t->step;
        e.lr_scale = t->watch.lr_mult;
        e.ckpt = t->rb;
        e.ckpt_len = t->rb_len;
        snprintf(e.message, sizeof e.message,
                 "%s; rolled back to step %lld (rollback %d of %d), learning rates x%g, fresh "
                 "noise seed",
                 a->message, (long long)t->step, t->watch.rollbacks, ws->max_rollbacks,
                 (double)t->watch.lr_mult);
    } else if (rolling_back(t)) {
        snprintf(e.message, sizeof e.message, "%s; no rollback left (%d of %d done)", a->message,
                 t->watch.rollbacks, ws->max_rollbacks);
    } else {
        snprintf(e.message, sizeof e.message, "%s", a->message);
    }
    gc_gan_log(t, e.message);
    if (t->hooks->alert)
        return t->hooks->alert(t->hooks->ctx, &e, err);
    return 0;
}

static int emit_metrics(struct gc_trainer *t, struct gc_error *err)
{
    double ips = t->busy > 0.0 ? (double)t->images / t->busy : 0.0;
    struct gc_metric m[9] = {
        {gc_metric_name(GC_M_LOSS_D), t->loss_d},
        {gc_metric_name(GC_M_LOSS_G), t->loss_g},
        {gc_metric_name(GC_M_D_REAL), t->d_real},
        {gc_metric_name(GC_M_D_FAKE), t->d_fake},
        {gc_metric_name(GC_M_GRAD_NORM_D), t->gn_d},
        {gc_metric_name(GC_M_GRAD_NORM_G), t->gn_g},
        {gc_metric_name(GC_M_IMAGES_PER_S), ips},
        {gc_metric_name(GC_M_WASSERSTEIN), t->wdist}, /* the last: wasserstein loss only */
    };
    int n = t->spec.loss == GC_LOSS_WASSERSTEIN ? 8 : 7;
    if (t->task) /* the distance to the target, before its weight */
        m[n++] = (struct gc_metric){gc_metric_name(GC_M_LOSS_L1), t->loss_l1};
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
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = 0;
    /* a conditional image run: one row per class, one noise per column */
    int cols = t->grid_y ? GC_GAN_GRID_COLS : 0;
    if (t->task)
        rc = gc_gan_task_sample_png(t, &png, &len, err);
    else if (!(rc = gc_trainer_generate_classes(t, t->nsamples, t->fixed_seed, t->grid_y, cols,
                                                t->samples, err)) &&
             cols)
        rc = gc_trainer_encode_grid(t, t->samples, t->nsamples, cols, &png, &len, err);
    else if (!rc)
        rc = gc_trainer_encode_png(t, t->samples, t->nsamples, &png, &len, err);
    if (!rc)
        rc = t->hooks->sample(t->hooks->ctx, t->step, png, len, err);
    free(png);
    if (!rc && t->is2d && t->hooks->plane) {
        uint8_t *plane = NULL;
        size_t plen = 0;
        rc = gc_trainer_plane(t, t->samples, t->nsamples, &plane, &plen, err);
        if (!rc)
            rc = t->hooks->plane(t->hooks->ctx, t->step, plane, plen, err);
        free(plane);
    }
    return rc;
}

/* The evaluation of this step; *rolled when the watchdog sent training back. */
static int emit_eval(struct gc_trainer *t, int *rolled, struct gc_error *err)
{
    struct gc_metric m[GC_GAN_EVAL_MAX];
    int n = 0;
    *rolled = 0;
    int rc = gc_gan_evaluate(t, m, &n, err);
    if (!rc && t->hooks->eval)
        rc = t->hooks->eval(t->hooks->ctx, t->step, m, n, err);
    if (rc)
        return rc;
    const char *names[GC_GAN_EVAL_MAX];
    double values[GC_GAN_EVAL_MAX];
    for (int i = 0; i < n; i++)
        names[i] = m[i].name, values[i] = m[i].value;
    struct gc_watch_alert a;
    if (gc_watch_on_eval(&t->watch, &t->spec, t->step, names, values, n, &a))
        return watch_fired(t, &a, rolled, err);
    return 0;
}

/* The watchdog's look at the step just trained; *rolled as in emit_eval. */
static int watch_step(struct gc_trainer *t, int *rolled, struct gc_error *err)
{
    struct gc_watch_step f = {t->loss_d, t->loss_g, t->d_real, t->d_fake, t->gn_d, t->gn_g};
    struct gc_watch_alert a;
    *rolled = 0;
    if (gc_watch_on_step(&t->watch, &t->spec, t->step, &f, &a))
        return watch_fired(t, &a, rolled, err);
    return 0;
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
        gc_gan_log(t, t->warn[i]);
    if (t->warn_dropped) {
        char line[96];
        snprintf(line, sizeof line, "data: %d more warnings not shown", t->warn_dropped);
        gc_gan_log(t, line);
    }
    t->nwarn = t->warn_dropped = 0;
    t->images = 0;
    t->busy = 0.0;

    const struct gc_every_spec *ev = &t->spec.every;
    int64_t last = t->spec.train.steps;
    int64_t ckpt_step = -1; /* step of the last checkpoint handed out by this call */
    int rc = 0, rolled = 0;
    /* the first point to go back to is where this call starts */
    if (rolling_back(t) && !t->rb) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if ((rc = gc_trainer_checkpoint(t, &bytes, &len, err)))
            goto out;
        keep_rollback_point(t, bytes, len);
    }
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
        if (t->task)
            gc_gan_task_step(t);
        else
            gc_gan_train_step(t);
        t->busy += now_s() - t0;
        t->step++;
        if ((rc = watch_step(t, &rolled, err)))
            goto out;
        if (rolled) {
            ckpt_step = -1;
            continue;
        }
        if (!isfinite(t->loss_d) || !isfinite(t->loss_g)) {
            int d = !isfinite(t->loss_d);
            double v = d ? t->loss_d : t->loss_g;
            rc = gc_error_set(err, GC_ENUMERIC, "%s is %s at step %lld",
                              gc_metric_name(d ? GC_M_LOSS_D : GC_M_LOSS_G),
                              isnan(v) ? "NaN" : "Inf", (long long)t->step);
            goto out;
        }
        if (due(ev->log, t->step, last) && (rc = emit_metrics(t, err)))
            goto out;
        if (due(ev->sample, t->step, last) && (rc = emit_sample(t, err)))
            goto out;
        if (due(ev->eval, t->step, last) && (rc = emit_eval(t, &rolled, err)))
            goto out;
        if (rolled) {
            ckpt_step = -1;
            continue;
        }
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
    if (which == GC_TEST_EMB)
        return t->emb;
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
    gc_gan_g_step(t);
    return 0;
}

const float *gc_trainer_test_d_forward(struct gc_trainer *t, const float *x, const int *y)
{
    return gc_gan_d_forward(t, t->d, t->emb, x, y, t->B, 1);
}

void gc_trainer_test_d_backward(struct gc_trainer *t, const float *dlog, float *dx)
{
    gc_model_zero_grad(t->d);
    if (t->emb)
        gc_model_zero_grad(t->emb);
    gc_gan_d_backward(t, t->d, t->emb, dlog, dx, 1);
}

const float *gc_trainer_test_eval_real(struct gc_trainer *t, size_t *n, struct gc_error *err)
{
    if (t->is2d) {
        gc_error_set(err, GC_EINVAL, "eval: 2D sets have no real images");
        return NULL;
    }
    if (gc_gan_eval_real(t, err))
        return NULL;
    *n = t->eval_n;
    return t->eval_real;
}
