/* gan.h — the GAN engine: trains one run from a struct gc_spec.
 *
 * The engine knows nothing of HTTP, JSON or SQLite. It builds G and D from the spec,
 * loads the dataset, trains, and reports through callbacks: metrics, sample grids
 * (PNG bytes), evaluations and checkpoints (bytes). It can start from checkpoint bytes
 * and then continues bit for bit as if it had never stopped (same thread count).
 * This header is the whole API: it includes gan_ckpt.h (checkpoint, restore),
 * gan_sample.h (generation, its encoders, ONNX export) and gan_plane.h (the plane of a
 * 2D run).
 *
 * Threads: a trainer is used by one thread at a time (the worker that owns the run).
 * The hooks are called on that thread. The only thing another thread may do is make
 * hooks->control() return a stop request, which the engine polls once per step. The
 * trainer runs its work on a pool of its own (opts->threads) and expects OpenBLAS on
 * one thread: call gc_blas_init() (core/blas.h) once at process start.
 *
 * Ranks: with a communicator of N > 1 ranks (opts->comm, core/comm.h) the trainer is
 * one of N processes that train the same run together, each on an equal part of every
 * batch (the batch size must divide by N), and the run is the same as on one process,
 * to float rounding: the same data order, noise and labels, gradients and batch-norm
 * statistics of the whole batch, the figures of the whole batch. Every rank calls
 * gc_trainer_run; rank 0 first sends its whole training state (a new run's, or the
 * checkpoint it restored) to the others, so they start identical. Rank 0 alone
 * reports: its hooks get the metrics, samples, evaluations and checkpoints, and its
 * control() stops every rank at the same step; the other ranks run without hooks (they
 * are ignored there). At each checkpoint every rank checks its training state against
 * rank 0's (a checksum of the checkpoint bytes): ranks that disagree fail the run with
 * GC_ECOMM, as does a rank that dies or times out. A checkpoint does not depend on the
 * number of ranks: it resumes on any number that divides the batch, or on one. */
#ifndef GC_GAN_H
#define GC_GAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/gan_ckpt.h"
#include "core/gan_plane.h"
#include "core/gan_sample.h"
#include "core/spec.h"

struct gc_comm;
struct gc_trainer;

/* A named figure: name is gc_metric_name() of one of core/metrics.h's ids, the
 * training metrics (GC_METRIC_TRAIN) through hooks->metrics, the evaluation figures
 * (GC_METRIC_EVAL) through hooks->eval. */
struct gc_metric {
    const char *name;
    double value;
};

enum gc_control {
    GC_CONTINUE = 0,
    GC_STOP_PAUSE = 1,  /* write a checkpoint, return GC_ESTOPPED */
    GC_STOP_CANCEL = 2, /* return GC_ESTOPPED at once, no checkpoint */
};

/* What the watchdog (core/watch.h, spec->watch) detected, and what the engine did:
 * action "alert" (told only) or "rollback" (training went back to the checkpoint of
 * to_step, the learning rates now at lr_scale times the spec's, a fresh noise seed). */
struct gc_watch_event {
    int64_t step;       /* the step it was detected at */
    const char *kind;   /* "divergence", "d_winning", "mode_collapse" */
    const char *action; /* "alert" or "rollback" */
    int64_t to_step;    /* rollback: the step training goes on from; else -1 */
    double lr_scale;    /* rollback: the learning rates' factor from now on; else 0 */
    char message[320];  /* what was seen, and what was done */
    /* rollback: the checkpoint of to_step training went back to (borrowed for the
     * call), so that a store which pruned it has it to resume from; else NULL */
    const uint8_t *ckpt;
    size_t ckpt_len;
};

/* Every hook may be NULL. A hook that returns non-zero fails the run: the engine
 * returns that code (err->msg from the hook's err). Buffers passed to hooks are
 * borrowed for the duration of the call. */
struct gc_train_hooks {
    void *ctx;
    int (*metrics)(void *ctx, int64_t step, const struct gc_metric *m, int n, struct gc_error *err);
    int (*sample)(void *ctx, int64_t step, const uint8_t *png, size_t len, struct gc_error *err);
    /* 2D sets, after each sample: G's density and D's output over the plane
     * (core/gan_plane.h) */
    int (*plane)(void *ctx, int64_t step, const uint8_t *bytes, size_t len, struct gc_error *err);
    int (*eval)(void *ctx, int64_t step, const struct gc_metric *m, int n, struct gc_error *err);
    int (*checkpoint)(void *ctx, int64_t step, const uint8_t *bytes, size_t len,
                      struct gc_error *err);
    /* the watchdog fired; after a rollback, what the hooks reported after to_step is
     * history that training will make again */
    int (*alert)(void *ctx, const struct gc_watch_event *e, struct gc_error *err);
    /* polled once per step; returns enum gc_control */
    int (*control)(void *ctx);
    /* a warning or progress line for the run's log (e.g. a skipped unreadable PNG) */
    void (*log)(void *ctx, const char *msg);
};

struct gc_trainer_opts {
    int threads;           /* compute threads this run may use (>= 1) */
    const char *cache_dir; /* where the evaluation classifier is cached; NULL = no cache */
    int load_data;         /* 0: build the models only (generate from a checkpoint); the
                            * 2D sets and idx files are still opened: plots need the
                            * modes, and an idx file's shape is only in the file */
    struct gc_comm *comm;  /* the ranks of a run trained by several processes (borrowed,
                            * used by the trainer's thread while it trains); NULL: one */
};

/* Builds the models and (when opts->load_data) loads the dataset. The spec must have
 * passed gc_spec_check(). Returns NULL with err set on failure (bad data file, ...).
 * The caller owns the trainer.
 *
 * Models: mlp (G: layers x hidden, BN + ReLU; D: layers x hidden, leaky ReLU 0.2) and
 * dcgan for square images of side 28 (start 7x7, two up/down blocks), 32 (4x4, three),
 * 64 (4x4, four) or 128 (4x4, five); other dcgan sizes are refused (GC_EINVAL). A DCGAN's
 * discriminator ends in a linear layer, or with patch in a 3x3 convolution to one
 * channel: one logit per position of its last feature map. With MAD-GAN the
 * discriminator has K + 1 outputs; label smoothing does not apply to its softmax. */
struct gc_trainer *gc_trainer_create(const struct gc_spec *spec, const struct gc_trainer_opts *opts,
                                     struct gc_error *err);
void gc_trainer_destroy(struct gc_trainer *t);

/* Trains from the current step to spec->train.steps. Returns 0 when all steps ran
 * (the last step logs, samples, evaluates and checkpoints unless turned off),
 * GC_ESTOPPED when control() asked to stop, GC_ENUMERIC on NaN/Inf ("loss_d is NaN at
 * step 1234") that no rollback of the watchdog could undo, GC_ECOMM when the ranks
 * failed or disagreed, or the error of a hook or of the data. With spec->watch.action
 * rollback, a detector firing sends training back to the best checkpoint made while
 * the detectors were calm (at first the state the run started from), kept in memory,
 * at most watch.max_rollbacks times. With ranks, a hook's failure on rank 0 leaves the
 * others waiting in their next collective call: the caller ends the job
 * (core/comm.h). */
int gc_trainer_run(struct gc_trainer *t, const struct gc_train_hooks *hooks, struct gc_error *err);

/* The number of steps done so far. */
int64_t gc_trainer_step(const struct gc_trainer *t);

/* ---- image-to-image runs (spec.task) ----------------------------------------------
 * Translates what a user has into the run's output, with G (its weight average with
 * tricks.ema) in eval mode: png is a PNG of the size gc_trainer_translate_size gives
 * (the images' side, or that side / factor for super-resolution); gray and colour
 * pictures are converted to the run's channels; edges and colorize take the luma;
 * inpainting takes the hole as the alpha channel (alpha < 128). *out is the output
 * PNG (malloc'ed, the caller frees it). GC_ESTATE for a run without a task;
 * GC_EINVAL (with what was wrong) for a picture that is not a PNG, is of another
 * size, or lacks the alpha inpainting needs; GC_ETOOBIG for one over 16384 pixels a
 * side. Same threads rule as the rest: the thread that owns the trainer. */
int gc_trainer_translate_png(struct gc_trainer *t, const uint8_t *png, size_t len, uint8_t **out,
                             size_t *olen, struct gc_error *err);
/* The width and height of the picture a translate takes. */
void gc_trainer_translate_size(const struct gc_trainer *t, int *w, int *h);
/* The precision the run's matrix products take their inputs in: the spec's
 * train.precision, except float32 when bf16 was asked on a CPU without AVX512-BF16
 * (the run's log says so when it starts). */
enum gc_precision gc_trainer_precision(const struct gc_trainer *t);

/* ---- for tests only ---------------------------------------------------------------
 * Views into a trainer's insides for the unit tests; not part of the engine's contract
 * and not for the daemon. The models are borrowed (struct gc_model of core/model.h). */
struct gc_model;
#define GC_TEST_D (-1)      /* the discriminator */
#define GC_TEST_D_COPY (-2) /* the unrolled look-ahead copy of D (NULL without unrolling) */
#define GC_TEST_EMB (-3)    /* the projection's class embedding (NULL without one) */
/* which: GC_TEST_D, GC_TEST_D_COPY, GC_TEST_EMB or a generator index 0..K-1; NULL when
 * out of range. */
struct gc_model *gc_trainer_test_model(struct gc_trainer *t, int which);
/* The real targets of the last discriminator step (*n = batch x D outputs). */
const float *gc_trainer_test_real_targets(const struct gc_trainer *t, int *n);
/* The averaged weights of generator k (tricks.ema; gc_model_params order, *n floats);
 * NULL without ema or for k out of range. */
const float *gc_trainer_test_ema(const struct gc_trainer *t, int k, size_t *n);
/* One generator update alone (with its unrolled look-ahead when the spec has one). */
int gc_trainer_test_g_step(struct gc_trainer *t, struct gc_error *err);
/* D's logits (n x D outputs, n = the batch size) for samples x of classes y (places in
 * gc_trainer_classes; NULL for an unconditional run) through the run's conditioning,
 * as a training step computes them; then their backward from dlog: D's and the class
 * embedding's parameter gradients (zeroed first) and x's gradient accumulated into dx
 * (n x sample floats; may be NULL). */
const float *gc_trainer_test_d_forward(struct gc_trainer *t, const float *x, const int *y);
void gc_trainer_test_d_backward(struct gc_trainer *t, const float *dlog, float *dx);
/* The real images of the evaluation (*n x sample floats), made now if no evaluation
 * made them yet; NULL with err set for 2D sets or when the evaluation data fails. */
const float *gc_trainer_test_eval_real(struct gc_trainer *t, size_t *n, struct gc_error *err);

#endif
