/* gan_internal.h — the trainer's insides, shared by the rooms of the GAN engine.
 *
 * Internal to the gan_*.c files (gan.c, gan_arch.c, gan_step.c, gan_ckpt.c,
 * gan_sample.c, gan_eval.c): only they include it. Everyone else sees struct
 * gc_trainer as the opaque handle of core/gan.h.
 *
 * One trainer owns everything a run needs: the models (K generators, one
 * discriminator, and a preallocated look-ahead copy of D for the unrolled GAN), the
 * dataset and its loader, two RNG streams (noise, label smoothing) and every batch
 * buffer. All buffers are allocated at create, so a training step allocates nothing.
 * The trainer is used by one thread at a time (core/gan.h), so no field has a lock.
 *
 * Ranks: with a communicator of N ranks (gc_trainer_opts.comm) this trainer is rank r
 * of N that train one run together. Every rank draws the whole batch's randomness
 * (data order, noise, labels) from the same streams and keeps its part, samples
 * [b0, b0 + b) of B; the models hold b samples. Buffers marked "part" below hold this
 * rank's part, "whole" ones the whole batch. One process is rank 0 of 1 (b = B). */
#ifndef GC_GAN_INTERNAL_H
#define GC_GAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/augment.h"
#include "core/classifier.h"
#include "core/comm.h"
#include "core/data.h"
#include "core/eval.h"
#include "core/gan.h"
#include "core/model.h"
#include "core/pool.h"
#include "core/rng.h"
#include "core/spec.h"
#include "core/watch.h"

/* RNG streams of one seed; each purpose gets its own so that none disturbs another. */
enum {
    GC_GAN_STREAM_INIT_D = 1,
    GC_GAN_STREAM_LOADER = 2,
    GC_GAN_STREAM_NOISE = 3,
    GC_GAN_STREAM_LABEL = 4,
    GC_GAN_STREAM_GENERATE = 5,
    GC_GAN_STREAM_SWD = 6,
    GC_GAN_STREAM_AUGMENT = 7,   /* DiffAugment's draws */
    GC_GAN_STREAM_PENALTY = 8,   /* WGAN-GP's interpolation weights */
    GC_GAN_STREAM_KID = 9,       /* KID's subsets, of an evaluation's seed */
    GC_GAN_STREAM_CLASS = 10,    /* the classes of G's batches in a conditional run */
    GC_GAN_STREAM_INIT_EMB = 11, /* the projection's class embedding */
    GC_GAN_STREAM_INIT_G = 16,   /* + generator index */
};

#define GC_GAN_SAMPLE_IMAGES 64 /* fixed noise set of the sample grid: 8 x 8 */
#define GC_GAN_GRID_COLS 8      /* the sample grid's columns (one noise each) */
#define GC_GAN_GRID_CLASSES 16  /* a conditional grid's rows (one class each) at most */
#define GC_GAN_MAX_WARN_LINES 16

struct gc_trainer {
    struct gc_spec spec;
    int threads;
    enum gc_precision precision; /* what runs (see gc_trainer_precision); calloc: float32 */
    struct gc_pool *pool;        /* t->threads threads, lent to every model and the classifier */
    char cache_dir[GC_PATH_MAX];

    struct gc_dataset *data; /* NULL for image sets created with load_data = 0 */
    struct gc_loader *loader;
    int c, h, w;  /* per-sample shape */
    size_t dsize; /* floats per sample */
    int is2d;
    int K;                /* generators */
    int B;                /* batch size: the whole batch, over every rank */
    struct gc_comm *comm; /* borrowed; NULL: one process */
    int rank, nranks;
    int b, b0;        /* this rank's part of a batch: samples [b0, b0 + b) of B */
    double part;      /* b / B: a loss over the part, scaled by it, is its share of the mean */
    int nout;         /* D outputs per sample: 1, a patch map, or K + 1 */
    int feat_layer;   /* D's last hidden layer (feature matching) */
    size_t feat_size; /* its floats per sample */

    struct gc_model *g[GC_MAX_GENERATORS];
    struct gc_model *d;
    struct gc_model *dcopy; /* the unrolled look-ahead copy, NULL when unrolled_steps = 0 */

    /* class conditioning (gan_cond.c); nc = 0 and everything NULL when unconditional.
     * Classes are places in `classes` (0 .. nc - 1); dense maps a label of the data to
     * its place (-1: not a class of the run). G's input is z then the one-hot class
     * (g_in floats); D's input is the sample (concat: then the class as one-hot maps, or
     * a one-hot vector after an MLP's flat input: d_in floats). With projection, emb is
     * the class embedding, a linear map of the one-hot class to nout / pp x pc floats (D's
     * part: its optimizer, clipping and checkpoint are D's), added to D's logits as
     * <emb, phi> over D's last features phi, pc channels at each of pp positions (a
     * PatchGAN's map: one logit per position; otherwise nout logits at one). */
    int nc;
    struct gc_class_list *classes;
    int dense[256];
    int g_in, d_in;
    int pc, pp;
    struct gc_model *emb, *emb_copy; /* projection; emb_copy beside dcopy */
    struct gc_rng rng_class;
    float *gin;    /* B x g_in */
    float *din;    /* B x d_in (concat) */
    float *ddin;   /* B x d_in (concat): gradient of D's input */
    float *onehot; /* B x nc (projection) */
    float *dout;   /* B x nout (projection): D's logits with the class term */
    float *dphi;   /* B x feat_size (projection): gradient at D's last features */
    float *demb;   /* B x nout / pp x pc (projection) */
    int *y;        /* B: the classes of the batch */
    int *grid_y;   /* nsamples: the classes of the sample grid */
    int *eval_y;   /* eval_n: the classes asked of the evaluation's samples */
    int *eval_lab; /* eval_n: their labels */
    int *fm_count; /* nc: samples of each class in a feature-matching batch */

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
    float *real;   /* part: b x dsize */
    float *noise;  /* whole: B x z (this rank's part at b0 x z) */
    float *dfake;  /* part: b x dsize, gradient of G's output */
    float *dlog;   /* part: b x nout, gradient of D's output */
    float *probs;  /* part: b x nout (MAD-GAN softmax) */
    float *t_real; /* part: b x nout targets */
    float *t_zero, *t_one;
    int *labels; /* part: b */
    /* feature matching: the whole batch's means (conditional: one per class, nc x
     * feat_size) and the sums over the part, real then fake (2 x as many) */
    float *feat_real, *feat_fake;
    double *feat_sum;
    float *dfeat; /* part: b x feat_size */
    float *samples;               /* the fixed sample set, n x dsize */
    int nsamples;

    /* DiffAugment (tricks.diffaugment; NULL without): the batches D sees and the draw
     * of the last augmented fake batch, which G's update backs through */
    struct gc_rng rng_aug;
    struct gc_augment *aug;     /* B */
    float *aug_real, *aug_fake; /* B x dsize */
    float *daug;                /* B x dsize: gradient of the augmented fake batch */
    /* gradient penalty (tricks.gradient_penalty, gan_penalty.c; NULL without) */
    struct gc_rng rng_penalty;
    float *gp_x, *gp_g, *gp_v; /* B x dsize: interpolates, input gradient, dP/dg */
    float *gp_dout;            /* B x nout: the critic's seed */

    /* the figures of the last step (of the whole batch once gc_gan_share_figures ran) */
    double loss_d, loss_g, d_real, d_fake, gn_d, gn_g, wdist;
    double gp; /* the gradient penalty of the last penalized update of D */
    /* loss_g's parts before dividing by K: means over this rank's part, and figures of
     * the whole batch already (feature matching's distance of batch means) */
    double loss_g_part, loss_g_whole;
    uint64_t images;  /* real samples consumed since the last log, every rank's */
    double busy;      /* seconds spent in training steps since the last log */
    double comm_busy; /* seconds of busy spent in collective calls */

    /* evaluation state, made at the first evaluation (gan_eval.c) */
    struct gc_dataset *eval_data; /* the evaluation split; data itself when it is the same */
    float *eval_real, *eval_gen;
    size_t eval_n;
    struct gc_classifier *clf;
    struct gc_gauss real_gauss;
    int have_gauss;
    float *eval_feat, *eval_probs;
    float *eval_real_feat; /* eval_n x GC_CLASSIFIER_FEATURES: the real images' features */
    double *eval_real_r2;  /* eval_n: their k-NN radii squared (core/eval_sets.h) */
    double real_spread;    /* mean distance between two real images of eval_real; 0: not yet */

    /* the watchdog (core/watch.h; spec->watch) and, with action rollback, the point it
     * goes back to: a checkpoint's bytes made while its detectors were calm, the best
     * by the watch's score (gc_watch_score) */
    struct gc_watch watch;
    uint8_t *rb;
    size_t rb_len;
    int64_t rb_step;
    double rb_score;
    int rb_scored;

    /* image-to-image (spec.task on; gan_task.c): G translates an input of cin channels
     * into the image, D judges (input, image) pairs along the channels */
    int task;
    int cin;                 /* G's input channels */
    size_t isize;            /* G's input floats per sample */
    size_t item;             /* floats per dataset item: dsize, or isize + dsize for pairs */
    float *items;            /* B x item: the last batch drawn */
    float *tin;              /* B x isize: G's inputs of the last D step */
    float *tgt;              /* B x dsize: their targets */
    float *tout;             /* B x dsize: G's outputs, composited (inpainting) */
    float *pair;             /* B x (isize + dsize): D's input */
    float *dpair;            /* B x (isize + dsize): its gradient */
    float *scratch;          /* dsize */
    int draws;               /* batches drawn in this step (seeds the random holes) */
    double loss_l1;          /* of the last G update */
    struct gc_dataset *held; /* the held-out split; NULL until the first use */
    float *held_in, *held_tgt, *held_out; /* the evaluation's inputs, targets, outputs */
    size_t held_n;
    double base[3];  /* psnr, ssim, l1 of the baseline on the held-out inputs */
    float *mean_img; /* dsize: the mean training image (edges, paired baselines) */

    const struct gc_train_hooks *hooks; /* during gc_trainer_run */
    char warn[GC_GAN_MAX_WARN_LINES][256];
    int nwarn, warn_dropped;
};

/* splitmix64's finalizer: seeds derived from (seed, step) for evaluations and from
 * the seed for the sample grid's noise. */
static inline uint64_t gc_gan_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Generator k as samples come from it: itself, or with tricks.ema the sampling copy
 * loaded with its averaged weights (and its BN running statistics). */
struct gc_model *gc_gan_sampling_g(struct gc_trainer *t, int k);

/* A line for the run's log, when the running hooks take one. */
static inline void gc_gan_log(struct gc_trainer *t, const char *msg)
{
    if (t->hooks && t->hooks->log)
        t->hooks->log(t->hooks->ctx, msg);
}

#endif
