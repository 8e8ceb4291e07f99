/* spec.h — the run spec as a C struct (docs/spec.md), its defaults, its limits and the
 * check that reports every problem of a spec as a list of field errors.
 *
 * api/ turns JSON into this struct and back; core/ trains from it. Defaults depend on
 * other fields (the architecture on the dataset, the optimizer and d_steps on the
 * loss), so a parser first reads dataset.name and loss, calls gc_spec_defaults() with
 * them, then overwrites the fields the user gave, then calls gc_spec_check().
 * core/spec_fields.h lists every field with its path, type, place and limits.
 * Plain data: copy it by assignment. */
#ifndef GC_SPEC_H
#define GC_SPEC_H

#include <stdint.h>

#include "core/error.h"

enum gc_dataset_kind {
    GC_DATA_FASHION_MNIST,
    GC_DATA_IDX,
    GC_DATA_PNG_DIR,
    GC_DATA_RING8,
    GC_DATA_GRID25,
};

enum gc_arch { GC_ARCH_MLP, GC_ARCH_DCGAN, GC_ARCH_UNET };

enum gc_loss {
    GC_LOSS_MINIMAX,
    GC_LOSS_NONSATURATING,
    GC_LOSS_WASSERSTEIN,
    GC_LOSS_LEAST_SQUARES,
    GC_LOSS_HINGE,
};

enum gc_optim_kind { GC_OPTIM_ADAM, GC_OPTIM_SGD, GC_OPTIM_RMSPROP };

enum gc_smoothing { GC_SMOOTH_NONE, GC_SMOOTH_FIXED, GC_SMOOTH_RANGE };

enum gc_decay_shape { GC_DECAY_LINEAR, GC_DECAY_STEP };

/* A named recipe whose published settings fill in the defaults (docs/spec.md). */
enum gc_preset {
    GC_PRESET_NONE = -1,
    GC_PRESET_DCGAN,
    GC_PRESET_WGAN_GP,
    GC_PRESET_SNGAN,
    GC_PRESET_LSGAN,
};

enum gc_penalty_kind { GC_PENALTY_WGAN_GP, GC_PENALTY_R1 };
/* How a conditional run's discriminator receives the class (G always gets it as a
 * one-hot vector after z): a projection term <embed(y), phi(x)> added to D's logits
 * (Miyato & Koyama 2018), or the class as one-hot maps concatenated to D's input. */
enum gc_conditioning { GC_COND_PROJECTION, GC_COND_CONCAT };

/* Image-to-image tasks (docs/spec.md, task): what G receives, derived on the fly from
 * each image, or read from a second folder (paired). */
enum gc_task_kind {
    GC_TASK_SUPER_RESOLUTION,
    GC_TASK_INPAINTING,
    GC_TASK_EDGES,
    GC_TASK_COLORIZE,
    GC_TASK_PAIRED,
};

enum gc_mask_kind { GC_MASK_CENTER, GC_MASK_RANDOM };

/* train.precision: the inputs of the GEMMs of G and D (their products and sums, the
 * weights and the optimizer state are float32 either way). */
enum gc_precision { GC_PRECISION_FLOAT32, GC_PRECISION_BF16 };
enum gc_watch_action { GC_WATCH_OFF, GC_WATCH_ALERT, GC_WATCH_ROLLBACK };

/* Limits a user can rely on (the API enforces them with these numbers). */
#define GC_MAX_STEPS 10000000LL
#define GC_MAX_BATCH 4096
#define GC_MAX_Z 4096
#define GC_MAX_WIDTH 1024
#define GC_MAX_GENERATORS 16
#define GC_MAX_UNROLL 20
#define GC_MAX_D_STEPS 100
#define GC_MIN_IMAGE 8
#define GC_MAX_IMAGE 256
#define GC_MAX_LAYERS 16
#define GC_MAX_NAME 128
#define GC_MAX_SEED 9007199254740992ULL /* 2^53 */
#define GC_MAX_RANKS 1024
#define GC_MAX_ROLLBACKS 100
#define GC_PATH_MAX 4096
#define GC_MAX_SUBSET 10000000
#define GC_MAX_PENALTY_EVERY 1000

struct gc_optim_spec {
    enum gc_optim_kind kind;
    float lr;
    float beta1; /* adam beta1; sgd momentum; rmsprop: unused */
    float beta2; /* adam beta2; rmsprop decay (alpha) */
    float eps;   /* adam / rmsprop epsilon */
};

struct gc_dataset_spec {
    enum gc_dataset_kind kind;
    int test_split;         /* fashion-mnist: 0 train, 1 test */
    uint32_t classes;       /* bit mask of kept classes 0..9; 0 = all */
    char path[GC_PATH_MAX]; /* idx / png-dir: file or folder, already resolved; fashion-mnist:
                               folder ("" = default) */
    char labels_path[GC_PATH_MAX]; /* idx: the IDX1 labels file, resolved; "" = none */
    int image_size;                /* png-dir: side after scale + center crop; others: 0 = native */
    int channels;                  /* png-dir: 1 or 3; others: 0 = native */
    int subset;                    /* train on this many images, spread over the set; 0 = all */
};

/* task: null (an unconditional GAN) or what G translates from. The fields keep their
 * defaults while off, as lr_decay's do. */
struct gc_task_spec {
    int on;
    enum gc_task_kind kind;
    int factor;                    /* super-resolution: 2 or 4 */
    enum gc_mask_kind mask;        /* inpainting */
    char source_path[GC_PATH_MAX]; /* paired: the folder of inputs, already resolved */
};

struct gc_model_spec {
    enum gc_arch arch;
    int z_dim;
    int g_width, d_width; /* dcgan base widths */
    int hidden, layers;   /* mlp */
    int batch_norm;
    int patch;
    int spectral_norm; /* D's linear and conv weights */
    int d_batch_norm;  /* batch norm in D's inner blocks: 0, 1, or -1 = as batch_norm */
    int conditional;   /* G and D receive the class of each sample */
    enum gc_conditioning conditioning; /* how D receives it */
};

/* train.lr_decay: from the fraction `start` of the steps to the end, both networks'
 * learning rates go to `factor` times their value, linearly or at once (step). The
 * fields keep their defaults while off, so a user who turns it on by naming one field
 * gets sensible values for the others. */
struct gc_lr_decay_spec {
    int on;
    float start;  /* [0, 1): fraction of train.steps run at the full rate */
    float factor; /* (0, 1]: the rate at the end is factor x the optimizer's lr */
    enum gc_decay_shape shape;
};

struct gc_train_spec {
    int64_t steps;
    int batch_size;
    int d_steps;
    uint64_t seed;
    struct gc_lr_decay_spec lr_decay;
    enum gc_precision precision;
    int ranks; /* processes that train the run together (MPI), each a part of the batch */
};

/* tricks.gradient_penalty: wgan-gp (Gulrajani et al. 2017), weight x mean over the
 * batch of (|grad_x D(x^)| - 1)^2 at random interpolates x^ of real and fake; r1
 * (Mescheder et al. 2018), weight / 2 x mean |grad_x D(x)|^2 on real data. Applied on
 * the D updates whose count is a multiple of every, times every (lazy
 * regularization). */
struct gc_penalty_spec {
    int on;
    enum gc_penalty_kind kind;
    float weight;
    int every;
};

struct gc_tricks_spec {
    enum gc_smoothing smoothing;
    float smooth_lo, smooth_hi; /* FIXED: lo == hi */
    int feature_matching;
    int unrolled_steps;
    int generators;
    float weight_clip; /* wasserstein critic clip c > 0; 0 = none */
    float ema;         /* decay of the generator weight average in (0, 1); 0 = none */
    struct gc_penalty_spec penalty;
    unsigned diffaugment; /* GC_AUG_* bits of core/augment.h; 0 = none */
    float l1_weight;      /* task runs: G's loss adds l1_weight x L1 to the target */
};

/* watch: the collapse watchdog (core/watch.h) and what it does when a detector fires:
 * off, alert (an alert event, a record on the run, the webhook), or rollback (that,
 * and training goes back to the best earlier checkpoint with the learning rates halved
 * and a fresh noise seed, at most max_rollbacks times). */
struct gc_watch_spec {
    enum gc_watch_action action;
    int max_rollbacks;
    int64_t window;      /* steps a condition must hold (D winning, G's gradient vanishing),
                          * and the steps whose gradient norms set their level */
    float loss_max;      /* |loss_d| or |loss_g| above it: divergence */
    float grad_factor;   /* a gradient norm above this x its level: divergence */
    float d_margin;      /* D winning: D(x) > 1 - m and D(G(z)) < m (probability losses) */
    float vanish_factor; /* G's gradient norm below this x its level: vanishing */
    int eval_patience;   /* evaluations in a row a figure must be worse */
    float eval_worsen;   /* relative distance from its best that counts as worse */
    float warmup;        /* fraction of the steps before the evaluation rules start */
};

struct gc_every_spec {
    int64_t log, sample, checkpoint, eval; /* 0 = off */
};

struct gc_spec {
    char name[GC_MAX_NAME + 1];
    enum gc_preset preset;
    struct gc_dataset_spec dataset;
    struct gc_task_spec task;
    struct gc_model_spec model;
    enum gc_loss loss;
    struct gc_train_spec train;
    struct gc_optim_spec opt_g, opt_d;
    struct gc_tricks_spec tricks;
    struct gc_every_spec every;
    struct gc_watch_spec watch;
};

/* ---- field errors ----------------------------------------------------------------
 *
 * What is wrong with a spec, as data: one entry per problem, naming the field by its
 * path ("train.steps", "dataset.classes[2]"; "" for the spec as a whole). The list
 * has a fixed size and never allocates; problems beyond GC_MAX_FIELD_ERRORS are only
 * counted in dropped. Texts too long for their buffer are cut at a character
 * boundary, so a field or message is always whole UTF-8 when its input was. */
#define GC_MAX_FIELD_ERRORS 32
#define GC_FIELD_PATH_MAX 256
#define GC_FIELD_MESSAGE_MAX 320

struct gc_field_error {
    char field[GC_FIELD_PATH_MAX];
    char message[GC_FIELD_MESSAGE_MAX];
};

struct gc_field_errors {
    int n;       /* entries in e */
    int dropped; /* problems found after e was full */
    struct gc_field_error e[GC_MAX_FIELD_ERRORS];
};

/* Empties the list. */
void gc_field_errors_init(struct gc_field_errors *fe);
/* Appends (field, message); a full list counts the problem in dropped. Returns
 * GC_EINVAL, so a caller can `return gc_field_errors_add(...)`. */
int gc_field_errors_add(struct gc_field_errors *fe, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The index of the first entry naming exactly this field, or -1. */
int gc_field_errors_find(const struct gc_field_errors *fe, const char *field);
/* Sets err to GC_EINVAL with the first problem on one line, "train.steps: must be
 * between 1 and 10000000 (and 2 more)", and returns GC_EINVAL; returns 0 and leaves
 * err alone when the list is empty. */
int gc_field_errors_summary(const struct gc_field_errors *fe, struct gc_error *err);

/* ---- defaults and checks --------------------------------------------------------- */

/* Fills every field with its default for this dataset and loss (no preset). */
void gc_spec_defaults(struct gc_spec *s, enum gc_dataset_kind data, enum gc_loss loss);
/* The defaults of a spec that names a preset (GC_PRESET_NONE: none) and perhaps a loss
 * (-1: none named; then the preset's loss, or nonsaturating): the dataset's and that
 * loss's defaults, then the preset's settings over them. Its name is DATASET-PRESET. */
void gc_spec_defaults_for(struct gc_spec *s, enum gc_dataset_kind data, int loss, int preset);
/* The loss a preset trains with. */
enum gc_loss gc_preset_loss(enum gc_preset p);

/* Sets s->task to task and, when it is on, the defaults an image-to-image run gets in
 * place of the unconditional ones (arch unet, a PatchGAN, batch and steps); the task
 * is a third thing the defaults depend on, read after dataset.name and loss. */
void gc_spec_task_defaults(struct gc_spec *s, const struct gc_task_spec *task);
/* Checks every field against its limits (core/spec_fields.h) and the rules that tie
 * fields together (a PatchGAN needs dcgan, MAD-GAN a softmax loss, ...). Fills fe
 * (emptied first; may be NULL) with every problem at once, at most one per field, in
 * the order of the fields in the spec: "train.steps" / "must be between 1 and
 * 10000000". Returns 0 when the spec is fine, GC_EINVAL otherwise. */
int gc_spec_check(const struct gc_spec *s, struct gc_field_errors *fe);

/* The learning-rate multiplier of the step with 0-based index `step` (the one that
 * takes the count from step to step + 1): 1 before the decay starts, factor at the
 * last step. A pure function of the spec and the step, so a resumed run sees the same
 * rates. With s0 = round(start x steps): 1 for step < s0; then linear:
 * 1 + (factor - 1) (step + 1 - s0) / (steps - s0), step: factor. */
float gc_spec_lr_scale(const struct gc_spec *s, int64_t step);

/* 1 for the 2D point sets (ring8, grid25). */
int gc_dataset_is_2d(enum gc_dataset_kind k);

/* Names as in the JSON spec ("fashion-mnist", "least-squares", "rmsprop", ...), indexed
 * by the enum's values, and lookups both ways; *_from_name returns -1 for an unknown
 * name, *_name "?" for a value out of range. */
extern const char *const gc_dataset_names[GC_DATA_GRID25 + 1];
extern const char *const gc_arch_names[GC_ARCH_UNET + 1];
extern const char *const gc_task_names[GC_TASK_PAIRED + 1];
extern const char *const gc_mask_names[GC_MASK_RANDOM + 1];
extern const char *const gc_loss_names[GC_LOSS_HINGE + 1];
extern const char *const gc_optim_names[GC_OPTIM_RMSPROP + 1];
extern const char *const gc_decay_shape_names[GC_DECAY_STEP + 1];
extern const char *const gc_precision_names[GC_PRECISION_BF16 + 1];
extern const char *const gc_preset_names[GC_PRESET_LSGAN + 1];
extern const char *const gc_penalty_names[GC_PENALTY_R1 + 1];
extern const char *const gc_augment_names[3]; /* bit k of tricks.diffaugment */
extern const char *const gc_conditioning_names[GC_COND_CONCAT + 1];
extern const char *const gc_watch_action_names[GC_WATCH_ROLLBACK + 1];

const char *gc_dataset_name(enum gc_dataset_kind k);
const char *gc_arch_name(enum gc_arch a);
const char *gc_loss_name(enum gc_loss l);
const char *gc_optim_name(enum gc_optim_kind k);
const char *gc_decay_shape_name(enum gc_decay_shape k);
const char *gc_preset_name(enum gc_preset p);
const char *gc_conditioning_name(enum gc_conditioning k);
const char *gc_task_name(enum gc_task_kind k);
int gc_task_from_name(const char *s);
const char *gc_precision_name(enum gc_precision p);
int gc_dataset_from_name(const char *s);
int gc_arch_from_name(const char *s);
int gc_loss_from_name(const char *s);
int gc_optim_from_name(const char *s);
int gc_decay_shape_from_name(const char *s);
int gc_precision_from_name(const char *s);
int gc_preset_from_name(const char *s);
int gc_conditioning_from_name(const char *s);

#endif
