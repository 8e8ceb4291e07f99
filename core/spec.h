/* spec.h — the run spec as a C struct (design.md section 3), its defaults and limits.
 *
 * api/ turns JSON into this struct and back; core/ trains from it. Defaults depend on
 * other fields (the architecture on the dataset, the optimizer and d_steps on the
 * loss), so a parser first reads dataset.name and loss, calls gc_spec_defaults() with
 * them, then overwrites the fields the user gave, then calls gc_spec_check().
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

enum gc_arch { GC_ARCH_MLP, GC_ARCH_DCGAN };

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
#define GC_PATH_MAX 4096

struct gc_optim_spec {
    enum gc_optim_kind kind;
    float lr;
    float beta1;    /* adam beta1; sgd momentum; rmsprop: unused */
    float beta2;    /* adam beta2; rmsprop decay (alpha) */
    float eps;      /* adam / rmsprop epsilon */
};

struct gc_dataset_spec {
    enum gc_dataset_kind kind;
    int test_split;        /* fashion-mnist: 0 train, 1 test */
    uint32_t classes;      /* bit mask of kept classes 0..9; 0 = all */
    char path[GC_PATH_MAX];/* idx / png-dir: file or folder, already resolved; fashion-mnist: folder ("" = default) */
    int image_size;        /* png-dir: side after scale + center crop; others: 0 = native */
    int channels;          /* png-dir: 1 or 3; others: 0 = native */
};

struct gc_model_spec {
    enum gc_arch arch;
    int z_dim;
    int g_width, d_width;  /* dcgan base widths */
    int hidden, layers;    /* mlp */
    int batch_norm;
    int patch;
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
};

struct gc_tricks_spec {
    enum gc_smoothing smoothing;
    float smooth_lo, smooth_hi; /* FIXED: lo == hi */
    int feature_matching;
    int unrolled_steps;
    int generators;
    float weight_clip;          /* wasserstein critic clip c > 0; 0 = none */
    float ema;                  /* decay of the generator weight average in (0, 1); 0 = none */
};

struct gc_every_spec {
    int64_t log, sample, checkpoint, eval; /* 0 = off */
};

struct gc_spec {
    char name[GC_MAX_NAME + 1];
    struct gc_dataset_spec dataset;
    struct gc_model_spec model;
    enum gc_loss loss;
    struct gc_train_spec train;
    struct gc_optim_spec opt_g, opt_d;
    struct gc_tricks_spec tricks;
    struct gc_every_spec every;
};

/* Fills every field with its default for this dataset and loss. */
void gc_spec_defaults(struct gc_spec *s, enum gc_dataset_kind data, enum gc_loss loss);
/* Checks ranges and combinations; on error names the field path in err->msg as
 * "train.steps: must be between 1 and 10000000". */
int gc_spec_check(const struct gc_spec *s, struct gc_error *err);

/* The learning-rate multiplier of the step with 0-based index `step` (the one that
 * takes the count from step to step + 1): 1 before the decay starts, factor at the
 * last step. A pure function of the spec and the step, so a resumed run sees the same
 * rates. With s0 = round(start x steps): 1 for step < s0; then linear:
 * 1 + (factor - 1) (step + 1 - s0) / (steps - s0), step: factor. */
float gc_spec_lr_scale(const struct gc_spec *s, int64_t step);

/* 1 for the 2D point sets (ring8, grid25). */
int gc_dataset_is_2d(enum gc_dataset_kind k);

/* Names as in the JSON spec ("fashion-mnist", "least-squares", "rmsprop", ...) and back;
 * *_from_name returns -1 for an unknown name. */
const char *gc_dataset_name(enum gc_dataset_kind k);
const char *gc_arch_name(enum gc_arch a);
const char *gc_loss_name(enum gc_loss l);
const char *gc_optim_name(enum gc_optim_kind k);
const char *gc_decay_shape_name(enum gc_decay_shape k);
int gc_dataset_from_name(const char *s);
int gc_arch_from_name(const char *s);
int gc_loss_from_name(const char *s);
int gc_optim_from_name(const char *s);
int gc_decay_shape_from_name(const char *s);

#endif
