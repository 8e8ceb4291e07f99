/* watch.h — the collapse watchdog's detectors: what a GAN's training figures show when
 * it fails (docs/spec.md: watch).
 *
 *   divergence      a loss or gradient norm that is NaN or Inf; |loss_d| or |loss_g|
 *                   above watch.loss_max; a gradient norm above watch.grad_factor times
 *                   its level (its mean over the first watch.window steps)
 *   d_winning       with a probability loss (minimax, nonsaturating): mean D(x) above
 *                   1 - d_margin and mean D(G(z)) below d_margin for watch.window steps in
 *                   a row; with any loss: G's gradient norm below vanish_factor times its
 *                   level for watch.window steps in a row
 *   mode_collapse   a watched evaluation figure worse than its best since the warmup by
 *                   more than eval_worsen (relative), eval_patience evaluations in a row:
 *                   modes_covered (2D), class_coverage and diversity falling, fid and
 *                   swd rising (images)
 *
 * The engine feeds every training step's figures and every evaluation to the state;
 * a detector fires once and is armed again when its condition has been clear for a
 * window of steps (an evaluation for the evaluation rule). The state is plain data,
 * saved in checkpoints so that a resumed run decides as the uninterrupted one would.
 * Core only: what a firing leads to (an alert, a rollback) is the engine's (gan.c). */
#ifndef GC_WATCH_H
#define GC_WATCH_H

#include <stdint.h>

#include "core/error.h"
#include "core/serial.h"
#include "core/spec.h"

enum gc_watch_kind {
    GC_WATCH_DIVERGENCE,
    GC_WATCH_D_WINNING,
    GC_WATCH_MODE_COLLAPSE,
    GC_WATCH_KINDS
};

/* The evaluation figures watched for mode collapse. */
#define GC_WATCH_FIGURES 5

struct gc_watch {
    int64_t level_n;               /* steps summed into the gradient levels so far (<= window) */
    double level_gd, level_gg;     /* sums, then (level_n == window) the levels */
    int64_t dwin, vanish;          /* steps in a row the D-winning conditions held */
    int64_t clear[GC_WATCH_KINDS]; /* steps in a row each kind's conditions were clear */
    int armed[GC_WATCH_KINDS];     /* a kind fires only while armed */
    double best[GC_WATCH_FIGURES], last[GC_WATCH_FIGURES];
    int have[GC_WATCH_FIGURES], worse[GC_WATCH_FIGURES];
    int rollbacks; /* done so far */
    float lr_mult; /* the learning rates' factor after rollbacks (0.5 each) */
};

/* What fired, said for a person: "d_winning: D(x) 0.995 and D(G(z)) 0.004 for 100
 * steps (d_margin 0.02)". */
struct gc_watch_alert {
    enum gc_watch_kind kind;
    char message[200];
};

/* The figures of one training step. */
struct gc_watch_step {
    double loss_d, loss_g, d_real, d_fake, gn_d, gn_g;
};

void gc_watch_init(struct gc_watch *w);
/* "divergence", "d_winning", "mode_collapse". */
const char *gc_watch_kind_name(enum gc_watch_kind k);

/* After training step `step`: 1 with *a filled when a detector fires, else 0. */
int gc_watch_on_step(struct gc_watch *w, const struct gc_spec *s, int64_t step,
                     const struct gc_watch_step *f, struct gc_watch_alert *a);
/* After an evaluation at `step` (n figures by name): 1 with *a filled when the mode
 * collapse rule fires. */
int gc_watch_on_eval(struct gc_watch *w, const struct gc_spec *s, int64_t step,
                     const char *const *names, const double *values, int n,
                     struct gc_watch_alert *a);

/* After a rollback: training starts again from a calm point, so every detector starts
 * again too (armed, nothing part-way); the levels, bests and rollbacks stay. */
void gc_watch_rearm(struct gc_watch *w);
/* 1 when no detector is part-way to firing: a checkpoint made now is one to go back to. */
int gc_watch_calm(const struct gc_watch *w);
/* The newest value of the first watched figure the run has, as a score where higher is
 * better (a min figure negated); 0 with *have = 0 before any evaluation. */
double gc_watch_score(const struct gc_watch *w, int *have);

/* The state in a checkpoint, and back. */
void gc_watch_save(const struct gc_watch *w, struct gc_buf *b);
int gc_watch_load(struct gc_watch *w, struct gc_reader *r, struct gc_error *err);

#endif
