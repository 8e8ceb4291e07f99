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
 * (gc_blas_init, core/blas.h), so nothing here touches its thread count.
 *
 * Ranks (core/gan.h): the loop makes the same collective calls on every rank in the
 * same order: at the start rank 0's state goes to every rank; each step ends with one
 * sum that makes the figures the whole batch's and carries rank 0's control() answer
 * to every rank (so all stop at the same step); each checkpoint is checked against
 * rank 0's. Samples and evaluations are rank 0's alone (they touch nothing training
 * reads, and the other ranks wait for them in their next collective call), but rank 0
 * sends its evaluation figures to every rank, whose watchdog then sees what rank 0's
 * sees: the watchdog's state, its alerts and its rollbacks (to a checkpoint every rank
 * kept, identical on all) stay the same on every rank. */
#include "core/gan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/comm.h"
#include "core/gan_arch.h"
#include "core/gan_cond.h"
#include "core/gan_eval.h"
#include "core/gan_internal.h"
#include "core/gan_step.h"
#include "core/gan_task.h"
#include "core/mem.h"
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
    gc_free64(t->real);
    gc_free64(t->noise);
    gc_free64(t->dfake);
    free(t->dlog);
    free(t->probs);
    free(t->t_real);
    free(t->t_zero);
    free(t->t_one);
    free(t->labels);
    free(t->feat_real);
    free(t->feat_fake);
    free(t->feat_sum);
    free(t->dfeat);
    free(t->samples);
    free(t->eval_real);
    free(t->eval_gen);
    free(t->eval_feat);
    free(t->eval_probs);
    free(t->eval_real_feat);
    free(t->eval_real_r2);
    for (int k = 0; k < GC_MAX_GENERATORS; k++)
        free(t->ema[k]);
    free(t->aug);
    gc_free64(t->aug_real);
    gc_free64(t->aug_fake);
    gc_free64(t->daug);
    gc_free64(t->gp_x);
    gc_free64(t->gp_g);
    gc_free64(t->gp_v);
    free(t->gp_dout);
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
        /* generation runs on rank 0 alone and sums nothing across ranks */
        if (!t->gsample || gc_model_set_comm(t->gsample, NULL, err))
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

/* DiffAugment's and the gradient penalty's streams and buffers, when on. */
static int create_tricks(struct gc_trainer *t, struct gc_error *err)
{
    const struct gc_tricks_spec *tr = &t->spec.tricks;
    size_t B = (size_t)t->B, sz = B * t->dsize;
    gc_rng_init(&t->rng_aug, t->spec.train.seed, GC_GAN_STREAM_AUGMENT);
    gc_rng_init(&t->rng_penalty, t->spec.train.seed, GC_GAN_STREAM_PENALTY);
    if (tr->diffaugment) {
        t->aug = calloc(B, sizeof *t->aug);
        t->aug_real = gc_zalloc64(sz, sizeof(float));
        t->aug_fake = gc_zalloc64(sz, sizeof(float));
        t->daug = gc_zalloc64(sz, sizeof(float));
        if (!t->aug || !t->aug_real || !t->aug_fake || !t->daug)
            return gc_error_set(err, GC_ENOMEM, "trainer: out of memory for diffaugment");
    }
    if (tr->penalty.on) {
        t->gp_x = gc_zalloc64(sz, sizeof(float));
        t->gp_g = gc_zalloc64(sz, sizeof(float));
        t->gp_v = gc_zalloc64(sz, sizeof(float));
        t->gp_dout = malloc(B * (size_t)t->nout * sizeof(float));
        if (!t->gp_x || !t->gp_g || !t->gp_v || !t->gp_dout)
            return gc_error_set(err, GC_ENOMEM, "trainer: out of memory for the penalty");
        if (gc_model_grad2_enable(t->d, err) || (t->dcopy && gc_model_grad2_enable(t->dcopy, err)))
            return gc_error_prefix(err, "gradient penalty");
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
    t->nranks = gc_comm_size(opts ? opts->comm : NULL);
    t->rank = gc_comm_rank(opts ? opts->comm : NULL);
    t->comm = t->nranks > 1 ? opts->comm : NULL;
    if (t->B % t->nranks) {
        gc_error_set(err, GC_EINVAL,
                     "train.batch_size %d does not split into %d equal parts: train it on a "
                     "number of ranks that divides it",
                     t->B, t->nranks);
        goto fail;
    }
    t->b = t->B / t->nranks;
    t->b0 = t->rank * t->b;
    t->part = (double)t->b / t->B;
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
    if (spec->train.precision == GC_PRECISION_BF16) {
        int on = gc_model_set_precision(t->d, 1);
        for (int k = 0; k < t->K; k++)
            gc_model_set_precision(t->g[k], on);
        t->precision = on ? GC_PRECISION_BF16 : GC_PRECISION_FLOAT32;
        keep_warning(t, on ? "precision: bf16 (the matrix products of G and D on bfloat16 "
                             "inputs with AVX512-BF16, float32 sums and weights)"
                           : "precision: float32, not bf16: this CPU has no AVX512-BF16");
    }
    for (int k = 0; k < t->K; k++)
        if (gc_model_set_pool(t->g[k], t->pool, err) || gc_model_set_comm(t->g[k], t->comm, err))
            goto fail;
    if (gc_model_set_pool(t->d, t->pool, err) || gc_model_set_comm(t->d, t->comm, err))
        goto fail;
    if (spec->tricks.unrolled_steps > 0) {
        t->dcopy = gc_model_clone(t->d, err); /* shares D's pool and communicator */
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

    size_t B = (size_t)t->b, no = (size_t)t->nout;
    t->nsamples = t->is2d ? GC_EVAL_POINTS : GC_GAN_SAMPLE_IMAGES;
    if (t->nc && !t->is2d) /* a row of GC_GAN_GRID_COLS per class, up to a limit */
        t->nsamples =
            GC_GAN_GRID_COLS * (t->nc < GC_GAN_GRID_CLASSES ? t->nc : GC_GAN_GRID_CLASSES);
    size_t fm_groups = t->nc ? (size_t)t->nc : 1;
    /* the batches G and D read and write through their kernels start on a cache line */
    t->real = gc_zalloc64(B * t->dsize, sizeof(float));
    t->noise = gc_zalloc64((size_t)t->B * (size_t)spec->model.z_dim, sizeof(float));
    t->dfake = gc_zalloc64(B * t->dsize, sizeof(float));
    t->dlog = malloc(B * no * sizeof(float));
    t->probs = malloc(B * no * sizeof(float));
    t->t_real = malloc(B * no * sizeof(float));
    t->t_zero = calloc(B * no, sizeof(float));
    t->t_one = malloc(B * no * sizeof(float));
    t->labels = malloc(B * sizeof(int));
    t->feat_real = malloc(fm_groups * t->feat_size * sizeof(float));
    t->feat_fake = malloc(fm_groups * t->feat_size * sizeof(float));
    t->feat_sum = malloc(2 * fm_groups * t->feat_size * sizeof(double));
    t->dfeat = malloc(B * t->feat_size * sizeof(float));
    t->samples = malloc((size_t)t->nsamples * t->dsize * sizeof(float));
    if (!t->real || !t->noise || !t->dfake || !t->dlog || !t->probs || !t->t_real || !t->t_zero ||
        !t->t_one || !t->labels || !t->feat_real || !t->feat_fake || !t->feat_sum || !t->dfeat ||
        !t->samples) {
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
    if (create_tricks(t, err) || (t->task && gc_gan_task_alloc(t, err)))
        goto fail;
    return t;
fail:
    gc_trainer_destroy(t);
    return NULL;
}

enum gc_precision gc_trainer_precision(const struct gc_trainer *t)
{
    return t->precision;
}

int64_t gc_trainer_step(const struct gc_trainer *t)
{
    return t->step;
}

/* ---- reporting ---------------------------------------------------------------------- */

/* Ranks: whether every rank's training state is rank 0's, from the checksum of the
 * checkpoint each made (ok 0: this rank could not make one). */
static int check_ranks(struct gc_trainer *t, int ok, uint32_t crc, struct gc_error *err)
{
    uint64_t mine = ok ? crc : UINT64_MAX, root = mine;
    gc_comm_bcast(t->comm, &root, sizeof root, 0);
    double bad = mine != root || mine == UINT64_MAX;
    gc_comm_sum_f64(t->comm, &bad, 1);
    if (gc_comm_failed(t->comm, err))
        return err->code;
    if (bad > 0.0)
        return gc_error_set(err, GC_ECOMM,
                            "at step %lld the training state of %.0f of %d ranks differs from "
                            "rank 0's (checkpoint checksums): the ranks no longer train one run",
                            (long long)t->step, bad, t->nranks);
    return 0;
}

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
    int hook = t->hooks && t->hooks->checkpoint;
    /* with ranks every rank checks its state against rank 0's */
    if (!hook && !rolling_back(t) && t->nranks == 1)
        return 0;
    /* the serialized state (as large as the parameters and moments) takes the room of
     * the scratch no pass needs until the next step: without this, the checkpoint
     * was the peak of a training process */
    struct gc_model *const models[] = {t->d, t->dcopy, t->emb, t->emb_copy, t->gsample};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        if (models[i])
            gc_model_release_scratch(models[i]);
    for (int k = 0; k < t->K; k++)
        gc_model_release_scratch(t->g[k]);
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = gc_trainer_checkpoint(t, &bytes, &len, err);
    if (t->nranks > 1) {
        struct gc_error own = {0};
        /* the frame ends in the CRC-32 of everything before it (core/serial.h) */
        uint32_t crc = 0;
        for (int i = 0; !rc && i < 4; i++)
            crc |= (uint32_t)bytes[len - 4 + (size_t)i] << (8 * i);
        int crc_rc = check_ranks(t, !rc, crc, rc ? &own : err);
        if (!rc)
            rc = crc_rc;
    }
    if (!rc && hook)
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
    double share = t->busy > 0.0 ? t->comm_busy / t->busy : 0.0;
    struct gc_metric m[11] = {
        /* 7, and each optional figure below once */
        {gc_metric_name(GC_M_LOSS_D), t->loss_d},    {gc_metric_name(GC_M_LOSS_G), t->loss_g},
        {gc_metric_name(GC_M_D_REAL), t->d_real},    {gc_metric_name(GC_M_D_FAKE), t->d_fake},
        {gc_metric_name(GC_M_GRAD_NORM_D), t->gn_d}, {gc_metric_name(GC_M_GRAD_NORM_G), t->gn_g},
        {gc_metric_name(GC_M_IMAGES_PER_S), ips},
    };
    int n = 7;
    if (t->spec.loss == GC_LOSS_WASSERSTEIN)
        m[n++] = (struct gc_metric){gc_metric_name(GC_M_WASSERSTEIN), t->wdist};
    if (t->spec.tricks.penalty.on)
        m[n++] = (struct gc_metric){gc_metric_name(GC_M_GRAD_PENALTY), t->gp};
    if (t->task) /* the distance to the target, before its weight */
        m[n++] = (struct gc_metric){gc_metric_name(GC_M_LOSS_L1), t->loss_l1};
    if (t->nranks > 1)
        m[n++] = (struct gc_metric){gc_metric_name(GC_M_COMM_SHARE), share};
    t->images = 0;
    t->busy = t->comm_busy = 0.0;
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

/* Ranks: rank 0's evaluation figures (or its failure, rc) into every rank, so that
 * every rank's watchdog sees the same and decides the same. */
static int share_eval(struct gc_trainer *t, int rc, struct gc_metric *m, int *n,
                      struct gc_error *err)
{
    double buf[2 + 2 * GC_GAN_EVAL_MAX] = {rc ? 1.0 : 0.0, (double)*n};
    for (int i = 0; t->rank == 0 && !rc && i < *n; i++) {
        int id = 0;
        while (id < GC_M_COUNT && strcmp(gc_metric_name((enum gc_metric_id)id), m[i].name))
            id++;
        buf[2 + 2 * i] = id;
        buf[3 + 2 * i] = m[i].value;
    }
    if (gc_comm_bcast(t->comm, buf, sizeof buf, 0))
        return gc_comm_failed(t->comm, err);
    if (t->rank == 0)
        return rc;
    if (buf[0] != 0.0)
        return gc_error_set(err, GC_EIO, "rank 0's evaluation at step %lld failed",
                            (long long)t->step);
    *n = (int)buf[1];
    for (int i = 0; i < *n; i++) {
        m[i].name = gc_metric_name((enum gc_metric_id)(int)buf[2 + 2 * i]);
        m[i].value = buf[3 + 2 * i];
    }
    return 0;
}

/* The evaluation of this step (rank 0's, with ranks); *rolled when the watchdog sent
 * training back. */
static int emit_eval(struct gc_trainer *t, int *rolled, struct gc_error *err)
{
    struct gc_metric m[GC_GAN_EVAL_MAX];
    int n = 0;
    *rolled = 0;
    int rc = 0;
    if (t->rank == 0) {
        rc = gc_gan_evaluate(t, m, &n, err);
        if (!rc && t->hooks->eval)
            rc = t->hooks->eval(t->hooks->ctx, t->step, m, n, err);
    }
    if (t->nranks > 1)
        rc = share_eval(t, rc, m, &n, err);
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

static int poll_control(struct gc_trainer *t)
{
    return t->hooks->control ? t->hooks->control(t->hooks->ctx) : GC_CONTINUE;
}

/* Ranks: rank 0's training state (a new run's, or the checkpoint it restored) into
 * every rank, and its first control() answer into *ctl. Every rank fails together. */
static int sync_start(struct gc_trainer *t, int *ctl, struct gc_error *err)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint64_t head[2] = {0, 0}; /* the state's length (0: rank 0 failed), control() */
    int rc = 0;
    if (t->rank == 0) {
        rc = gc_trainer_checkpoint(t, &bytes, &len, err);
        head[0] = rc ? 0 : (uint64_t)len;
        head[1] = (uint64_t)poll_control(t);
    }
    if (gc_comm_bcast(t->comm, head, sizeof head, 0))
        goto comm;
    if (!head[0]) {
        free(bytes);
        return rc ? rc : gc_error_set(err, GC_ECOMM, "rank 0 could not send its training state");
    }
    len = (size_t)head[0];
    if (t->rank != 0 && !(bytes = malloc(len)))
        return gc_error_set(err, GC_ENOMEM, "out of memory for rank 0's training state");
    if (gc_comm_bcast(t->comm, bytes, len, 0))
        goto comm;
    struct gc_error own = {0};
    double bad = t->rank != 0 && gc_trainer_restore(t, bytes, len, &own) != 0;
    free(bytes);
    bytes = NULL;
    if (gc_comm_sum_f64(t->comm, &bad, 1))
        goto comm;
    if (own.code)
        return gc_error_set(err, GC_ECOMM, "rank %d cannot take rank 0's training state: %s",
                            t->rank, own.msg);
    if (bad > 0.0)
        return gc_error_set(err, GC_ECOMM,
                            "%.0f of %d ranks cannot take rank 0's training state (another "
                            "spec or another version of ganctld?)",
                            bad, t->nranks);
    *ctl = (int)head[1];
    return 0;
comm:
    free(bytes);
    return gc_comm_failed(t->comm, err);
}

int gc_trainer_run(struct gc_trainer *t, const struct gc_train_hooks *hooks, struct gc_error *err)
{
    static const struct gc_train_hooks none = {0};
    if (!t->loader)
        return gc_error_set(err, GC_ESTATE, "train: this trainer was created without its data");
    /* with ranks, rank 0 alone reports */
    t->hooks = hooks && t->rank == 0 ? hooks : &none;
    for (int i = 0; i < t->nwarn; i++)
        gc_gan_log(t, t->warn[i]);
    if (t->warn_dropped) {
        char line[96];
        snprintf(line, sizeof line, "data: %d more warnings not shown", t->warn_dropped);
        gc_gan_log(t, line);
    }
    t->nwarn = t->warn_dropped = 0;
    t->images = 0;
    t->busy = t->comm_busy = 0.0;

    const struct gc_every_spec *ev = &t->spec.every;
    int64_t last = t->spec.train.steps;
    int64_t ckpt_step = -1; /* step of the last checkpoint handed out by this call */
    int rc = 0, rolled = 0;
    int ctl = GC_CONTINUE;
    if (t->nranks > 1 && (rc = sync_start(t, &ctl, err)))
        goto out;
    /* the first point to go back to is where this call starts */
    if (rolling_back(t) && !t->rb) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if ((rc = gc_trainer_checkpoint(t, &bytes, &len, err)))
            goto out;
        keep_rollback_point(t, bytes, len);
    }
    while (t->step < last) {
        if (t->nranks == 1)
            ctl = poll_control(t);
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
        double t0 = now_s(), c0 = t->comm ? t->comm->seconds : 0.0;
        if (t->task)
            gc_gan_task_step(t);
        else
            gc_gan_train_step(t);
        t->step++;
        if (t->nranks > 1) {
            /* the figures of the whole batch, and rank 0's answer for the next step */
            double answer = t->rank == 0 ? (double)poll_control(t) : 0.0;
            gc_gan_share_figures(t, &answer);
            if ((rc = gc_comm_failed(t->comm, err)))
                goto out;
            ctl = (int)answer;
        }
        t->busy += now_s() - t0;
        if (t->comm)
            t->comm_busy += t->comm->seconds - c0;
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
        if (t->rank == 0 && due(ev->sample, t->step, last) && (rc = emit_sample(t, err)))
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
    *n = t->b * t->nout;
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
