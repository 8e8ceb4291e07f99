/* spec_fields.c — the table of the run spec's fields (see spec_fields.h).
 *
 * Defaults are not here: several depend on the dataset and the loss, so
 * gc_spec_defaults computes them. Limits are the GC_MAX_* numbers of spec.h. */
#include "core/spec_fields.h"

#include <string.h>

/* A row writes and reads an enum through an int. */
_Static_assert(
    sizeof(enum gc_dataset_kind) == sizeof(int) && sizeof(enum gc_loss) == sizeof(int) &&
        sizeof(enum gc_arch) == sizeof(int) && sizeof(enum gc_optim_kind) == sizeof(int) &&
        sizeof(enum gc_decay_shape) == sizeof(int) && sizeof(enum gc_precision) == sizeof(int) &&
        sizeof(enum gc_smoothing) == sizeof(int) && sizeof(enum gc_preset) == sizeof(int) &&
        sizeof(enum gc_penalty_kind) == sizeof(int) &&
        sizeof(enum gc_conditioning) == sizeof(int) && sizeof(enum gc_task_kind) == sizeof(int) &&
        sizeof(enum gc_mask_kind) == sizeof(int) && sizeof(enum gc_watch_action) == sizeof(int),
    "enums of the spec are int-sized");

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define AT(member)                                                                                 \
    .offset = offsetof(struct gc_spec, member), .size = sizeof(((struct gc_spec *)0)->member)

#define SECTION(p, d)                                                                              \
    {                                                                                              \
        .path = p, .type = GC_FIELD_OBJECT, .doc = d                                               \
    }
#define INT(p, m, lo, hi, d)                                                                       \
    {                                                                                              \
        .path = p, .type = GC_FIELD_INT, AT(m), .min = lo, .max = hi, .doc = d                     \
    }
#define INT64(p, m, lo, hi, d)                                                                     \
    {                                                                                              \
        .path = p, .type = GC_FIELD_INT64, AT(m), .min = lo, .max = hi, .doc = d                   \
    }
#define FLOAT(p, m, lo, hi, fl, d)                                                                 \
    {                                                                                              \
        .path = p, .type = GC_FIELD_FLOAT, AT(m), .fmin = lo, .fmax = hi, .flags = fl, .doc = d    \
    }
#define BOOL(p, m, d)                                                                              \
    {                                                                                              \
        .path = p, .type = GC_FIELD_BOOL, AT(m), .doc = d                                          \
    }
#define ENUM(p, m, names_, d)                                                                      \
    {                                                                                              \
        .path = p, .type = GC_FIELD_ENUM, AT(m), .names = names_, .n_names = NELEM(names_),        \
        .doc = d                                                                                   \
    }

static const char *const split_names[] = {"train", "test"};

#define OPTIMIZER(who, m, d)                                                                       \
    SECTION("optimizer." who, d),                                                                  \
        ENUM("optimizer." who ".kind", m.kind, gc_optim_names, "adam, sgd or rmsprop"),            \
        {.path = "optimizer." who ".lr",                                                           \
         .type = GC_FIELD_FLOAT,                                                                   \
         AT(m.lr),                                                                                 \
         .fmin = 0,                                                                                \
         .fmax = 10,                                                                               \
         .flags = GC_FIELD_MIN_OPEN,                                                               \
         .range_msg = "must be a number in (0, 10]",                                               \
         .doc = "the learning rate"},                                                              \
        FLOAT("optimizer." who ".beta1", m.beta1, 0, 1, GC_FIELD_MAX_OPEN,                         \
              "adam: the decay of the gradient average; sgd: the momentum; rmsprop: unused"),      \
        FLOAT("optimizer." who ".beta2", m.beta2, 0, 1, GC_FIELD_MAX_OPEN,                         \
              "adam and rmsprop: the decay of the squared-gradient average"),                      \
        FLOAT("optimizer." who ".eps", m.eps, 0, 1, GC_FIELD_MIN_OPEN | GC_FIELD_MAX_OPEN,         \
              "adam and rmsprop: added to the denominator")

static const struct gc_spec_field fields[] = {
    {.path = "name",
     .type = GC_FIELD_STRING,
     AT(name),
     .min = 1,
     .max = GC_MAX_NAME,
     .doc = "what lists show for the run (default: DATASET-LOSS, or DATASET-PRESET)"},
    {.path = "preset",
     .type = GC_FIELD_ENUM,
     .null = GC_NULL_DEFAULT,
     AT(preset),
     .flags = GC_FIELD_PICKS_DEFAULTS,
     .names = gc_preset_names,
     .n_names = NELEM(gc_preset_names),
     .accepts = "null or a string",
     .doc = "null, dcgan, wgan-gp, sngan or lsgan: a published recipe's loss, optimizers, "
            "d_steps and tricks become the defaults; every field given still wins"},

    SECTION("dataset", "what to learn from"),
    {.path = "dataset.name",
     .type = GC_FIELD_ENUM,
     AT(dataset.kind),
     .flags = GC_FIELD_PICKS_DEFAULTS,
     .names = gc_dataset_names,
     .n_names = NELEM(gc_dataset_names),
     .range_msg = "unknown dataset",
     .doc = "fashion-mnist, idx (an IDX3 image file), png-dir (a folder of PNGs), ring8 or "
            "grid25 (the PacGAN 2D mixtures); the defaults follow it"},
    ENUM("dataset.split", dataset.test_split, split_names,
         "fashion-mnist: the train or the test images"),
    {.path = "dataset.classes",
     .type = GC_FIELD_CLASSES,
     .null = GC_NULL_DEFAULT,
     AT(dataset.classes),
     .accepts = "null or an array of integers 0 to 9",
     .doc = "fashion-mnist: keep only these classes (0 to 9); null keeps all ten"},
    {.path = "dataset.path",
     .type = GC_FIELD_PATH,
     .null = GC_NULL_DEFAULT,
     AT(dataset.path),
     .doc = "idx: the file; png-dir: the folder; relative to the daemon's dataset root"},
    {.path = "dataset.labels_path",
     .type = GC_FIELD_PATH,
     .null = GC_NULL_DEFAULT,
     AT(dataset.labels_path),
     .doc = "idx: an IDX1 file of one label per image (as MNIST ships), which makes the set "
            "labelled; relative to the dataset root"},
    {.path = "dataset.image_size",
     .type = GC_FIELD_INT,
     .null = GC_NULL_DEFAULT,
     AT(dataset.image_size),
     .accepts = "an integer",
     .doc = "png-dir: the side images are scaled and center-cropped to (8 to 256)"},
    {.path = "dataset.channels",
     .type = GC_FIELD_INT,
     .null = GC_NULL_DEFAULT,
     AT(dataset.channels),
     .accepts = "an integer",
     .doc = "png-dir: 1 (gray) or 3 (color)"},
    {.path = "dataset.subset",
     .type = GC_FIELD_INT,
     .null = GC_NULL_OFF,
     AT(dataset.subset),
     .min = 1,
     .max = GC_MAX_SUBSET,
     .off_msg = "must be a number of images, 1 or more (null trains on all)",
     .accepts = "null or an integer",
     .doc = "null (every image) or N: train on N images spread evenly over the set, the "
            "same N for every seed; evaluations still use the whole evaluation set"},

    {.path = "task",
     .type = GC_FIELD_OBJECT,
     .null = GC_NULL_OFF,
     AT(task.on),
     .flags = GC_FIELD_PICKS_DEFAULTS,
     .doc = "null (an unconditional GAN) or an image-to-image task: G translates an input "
            "derived from each image (or read from source_path) into the image; the "
            "defaults follow it"},
    {.path = "task.kind",
     .type = GC_FIELD_ENUM,
     AT(task.kind),
     .names = gc_task_names,
     .n_names = NELEM(gc_task_names),
     .doc = "super-resolution, inpainting, edges (edges -> image), colorize (gray -> colour) "
            "or paired (the pix2pix setting)"},
    {.path = "task.factor",
     .type = GC_FIELD_INT,
     AT(task.factor),
     .min = 2,
     .max = 4,
     .range_msg = "must be 2 or 4",
     .doc = "super-resolution: the input is the image averaged over factor x factor blocks"},
    ENUM("task.mask", task.mask, gc_mask_names,
         "inpainting: the hole is the centre square of half the side, or a random rectangle"),
    {.path = "task.source_path",
     .type = GC_FIELD_PATH,
     .null = GC_NULL_DEFAULT,
     AT(task.source_path),
     .doc = "paired: the folder of input PNGs, named as their targets in dataset.path; "
            "relative to the daemon's dataset root"},

    SECTION("model", "the two networks"),
    {.path = "model.arch",
     .type = GC_FIELD_ENUM,
     AT(model.arch),
     .names = gc_arch_names,
     .n_names = NELEM(gc_arch_names),
     .range_msg = "unknown architecture",
     .doc = "mlp (the default for 2D sets), dcgan (the default for images) or unet (an "
            "encoder-decoder G with skips, the default of task runs)"},
    INT("model.z_dim", model.z_dim, 1, GC_MAX_Z, "the length of the noise vector G starts from"),
    INT("model.g_width", model.g_width, 1, GC_MAX_WIDTH,
        "dcgan: channels of G's last hidden block (doubling towards the noise)"),
    INT("model.d_width", model.d_width, 1, GC_MAX_WIDTH,
        "dcgan: channels of D's first convolution (doubling at each block)"),
    INT("model.hidden", model.hidden, 1, GC_MAX_WIDTH * 4,
        "mlp: units in each hidden layer of G and D"),
    INT("model.layers", model.layers, 1, GC_MAX_LAYERS, "mlp: hidden layers of G and D"),
    BOOL("model.batch_norm", model.batch_norm,
         "batch normalization in G's hidden layers and D's inner convolutions"),
    BOOL("model.patch", model.patch,
         "dcgan: D gives a map of logits (PatchGAN), its loss averaged over patches"),
    BOOL("model.spectral_norm", model.spectral_norm,
         "spectral normalization of D's linear and conv weights (one power iteration per "
         "forward, as PyTorch)"),
    {.path = "model.d_batch_norm",
     .type = GC_FIELD_BOOL,
     .null = GC_NULL_DEFAULT,
     AT(model.d_batch_norm),
     .accepts = "null, true or false",
     .doc =
         "dcgan and unet: batch norm in D's inner blocks; null: as model.batch_norm (the wgan-gp "
         "and sngan presets turn it off)"},
    BOOL("model.conditional", model.conditional,
         "G and D receive each sample's class (labelled data: fashion-mnist, idx with "
         "labels_path, png-dir with one subfolder per class, ring8 and grid25 by mode)"),
    ENUM("model.conditioning", model.conditioning, gc_conditioning_names,
         "conditional runs: how D receives the class: projection (a class embedding dotted "
         "with D's last features, added to its logit) or concat (one-hot maps beside the "
         "input)"),

    {.path = "loss",
     .type = GC_FIELD_ENUM,
     AT(loss),
     .flags = GC_FIELD_PICKS_DEFAULTS,
     .names = gc_loss_names,
     .n_names = NELEM(gc_loss_names),
     .range_msg = "unknown loss",
     .doc = "minimax, nonsaturating, wasserstein, least-squares or hinge; the optimizer, "
            "d_steps and weight_clip defaults follow it"},

    SECTION("train", "how long and in what batches"),
    INT64("train.steps", train.steps, 1, GC_MAX_STEPS, "training steps (one G update each)"),
    INT("train.batch_size", train.batch_size, 1, GC_MAX_BATCH, "samples in a batch"),
    INT("train.d_steps", train.d_steps, 1, GC_MAX_D_STEPS, "D updates for each G update"),
    {.path = "train.seed",
     .type = GC_FIELD_U64,
     AT(train.seed),
     .min = 0,
     .max = (int64_t)GC_MAX_SEED,
     .doc = "the seed of every random draw: a spec trains the same run again"},
    {.path = "train.lr_decay",
     .type = GC_FIELD_OBJECT,
     .null = GC_NULL_OFF,
     AT(train.lr_decay.on),
     .doc = "null (constant rates) or a schedule that lowers both learning rates towards "
            "the end; fields left out keep their defaults"},
    FLOAT("train.lr_decay.start", train.lr_decay.start, 0, 1, GC_FIELD_MAX_OPEN,
          "the fraction of the steps run at the full rate"),
    FLOAT("train.lr_decay.factor", train.lr_decay.factor, 0, 1, GC_FIELD_MIN_OPEN,
          "the rate at the last step, as a fraction of the optimizer's lr"),
    {.path = "train.lr_decay.shape",
     .type = GC_FIELD_ENUM,
     AT(train.lr_decay.shape),
     .names = gc_decay_shape_names,
     .n_names = NELEM(gc_decay_shape_names),
     .range_msg = "must be linear or step",
     .doc = "linear (the rate falls steadily) or step (it drops at once)"},
    {.path = "train.precision",
     .type = GC_FIELD_ENUM,
     AT(train.precision),
     .names = gc_precision_names,
     .n_names = NELEM(gc_precision_names),
     .range_msg = "must be float32 or bf16",
     .doc = "float32, or bf16: the matrix products of G and D take bfloat16 inputs and sum "
            "in float32 (AVX512-BF16; float32 runs where the CPU lacks it, and the run's "
            "log says which ran); weights and optimizer state stay float32"},
    INT("train.ranks", train.ranks, 1, GC_MAX_RANKS,
        "processes that train the run together over MPI, each on its part of every batch "
        "(the same run as one process, to rounding); more than 1 needs a daemon started "
        "with --mpirun"),

    SECTION("optimizer", "one optimizer for G, one for D"),
    OPTIMIZER("g", opt_g, "G's optimizer"),
    OPTIMIZER("d", opt_d, "D's optimizer"),

    SECTION("tricks", "what stabilizes training; all off by default"),
    {.path = "tricks.label_smoothing",
     .type = GC_FIELD_SMOOTHING,
     .null = GC_NULL_DEFAULT,
     AT(tricks.smoothing),
     .doc = "null, a fixed label for real samples such as 0.9, or [lo, hi]: labels drawn "
            "uniformly for each sample"},
    BOOL("tricks.feature_matching", tricks.feature_matching,
         "G matches the mean features of real batches at D's last hidden layer"),
    INT("tricks.unrolled_steps", tricks.unrolled_steps, 0, GC_MAX_UNROLL,
        "k > 0: G's loss looks k D steps ahead on a copy of D (unrolled GAN)"),
    INT("tricks.generators", tricks.generators, 1, GC_MAX_GENERATORS,
        "K > 1: K generators against one (K+1)-way D (MAD-GAN)"),
    {.path = "tricks.weight_clip",
     .type = GC_FIELD_FLOAT,
     .null = GC_NULL_OFF,
     AT(tricks.weight_clip),
     .fmin = 0,
     .fmax = 10,
     .flags = GC_FIELD_MIN_OPEN,
     .off_msg = "must be in (0, 10] (null turns clipping off)",
     .doc = "D's weights are clipped to [-c, c] after each step (wasserstein's default: "
            "0.01); null: no clipping"},
    {.path = "tricks.ema",
     .type = GC_FIELD_FLOAT,
     .null = GC_NULL_OFF,
     AT(tricks.ema),
     .fmin = 0,
     .fmax = 1,
     .flags = GC_FIELD_MIN_OPEN | GC_FIELD_MAX_OPEN,
     .range_msg = "must be a decay in (0, 1), e.g. 0.999",
     .off_msg = "must be a decay in (0, 1) such as 0.999 (null turns the average off)",
     .accepts = "null or a number in (0, 1)",
     .doc = "the decay of a moving average of G's weights, which samples, evaluations and "
            "/generate use; null: none"},
    {.path = "tricks.gradient_penalty",
     .type = GC_FIELD_OBJECT,
     .null = GC_NULL_OFF,
     AT(tricks.penalty.on),
     .doc = "null or a penalty on the norm of D's input gradient; fields left out keep their "
            "defaults"},
    {.path = "tricks.gradient_penalty.kind",
     .type = GC_FIELD_ENUM,
     AT(tricks.penalty.kind),
     .names = gc_penalty_names,
     .n_names = NELEM(gc_penalty_names),
     .doc = "wgan-gp ((|grad| - 1)^2 at random interpolates of real and fake) or r1 "
            "(|grad|^2 / 2 on real data)"},
    {.path = "tricks.gradient_penalty.weight",
     .type = GC_FIELD_FLOAT,
     AT(tricks.penalty.weight),
     .fmin = 0,
     .fmax = 1000,
     .flags = GC_FIELD_MIN_OPEN,
     .doc = "the penalty's weight (lambda of WGAN-GP, gamma of R1)"},
    INT("tricks.gradient_penalty.every", tricks.penalty.every, 1, GC_MAX_PENALTY_EVERY,
        "apply it on every k-th D update only, weighted by k (lazy regularization)"),
    {.path = "tricks.diffaugment",
     .type = GC_FIELD_FLAGS,
     .null = GC_NULL_OFF,
     AT(tricks.diffaugment),
     .names = gc_augment_names,
     .n_names = NELEM(gc_augment_names),
     .accepts = "null or a string such as \"color,translation,cutout\"",
     .doc = "null or any of color, translation and cutout, comma-separated: DiffAugment's "
            "differentiable augmentations of real and fake images before D"},
    FLOAT("tricks.l1_weight", tricks.l1_weight, 0, 10000, 0,
          "task runs: G's loss adds this times the L1 distance to the target (pix2pix: 100)"),

    SECTION("every", "how often, in steps (0 turns one off; the last step does all four)"),
    INT64("every.log", every.log, 0, GC_MAX_STEPS, "log the metrics"),
    INT64("every.sample", every.sample, 0, GC_MAX_STEPS, "store a grid of samples"),
    INT64("every.checkpoint", every.checkpoint, 0, GC_MAX_STEPS, "store a checkpoint"),
    INT64("every.eval", every.eval, 0, GC_MAX_STEPS, "run the evaluation"),

    SECTION("watch", "the collapse watchdog: what it watches for and what it does"),
    {.path = "watch.action",
     .type = GC_FIELD_ENUM,
     AT(watch.action),
     .names = gc_watch_action_names,
     .n_names = NELEM(gc_watch_action_names),
     .doc = "off, alert (an event, a record on the run, the webhook) or rollback (and back "
            "to the best earlier checkpoint, learning rates halved, fresh noise)"},
    INT("watch.max_rollbacks", watch.max_rollbacks, 0, GC_MAX_ROLLBACKS,
        "rollback: at most this many; later detections alert only"),
    INT64("watch.window", watch.window, 1, GC_MAX_STEPS,
          "steps a condition must hold (D winning, G's gradient vanishing); the first ones "
          "set the gradient norms' level"),
    FLOAT("watch.loss_max", watch.loss_max, 0, 1e6, GC_FIELD_MIN_OPEN,
          "divergence: |loss_d| or |loss_g| above it (NaN or Inf always)"),
    FLOAT("watch.grad_factor", watch.grad_factor, 1, 1e6, GC_FIELD_MIN_OPEN,
          "divergence: a gradient norm above this many times its level over the first window"),
    FLOAT("watch.d_margin", watch.d_margin, 0, 0.5, GC_FIELD_MIN_OPEN | GC_FIELD_MAX_OPEN,
          "D winning: D(x) above 1 - m and D(G(z)) below m for a window (minimax, "
          "nonsaturating)"),
    FLOAT("watch.vanish_factor", watch.vanish_factor, 0, 1, GC_FIELD_MIN_OPEN | GC_FIELD_MAX_OPEN,
          "D winning: G's gradient norm below this many times its level for a window"),
    INT("watch.eval_patience", watch.eval_patience, 1, 100,
        "mode collapse: evaluations in a row that a watched figure must be worse"),
    FLOAT("watch.eval_worsen", watch.eval_worsen, 0, 1, GC_FIELD_MIN_OPEN | GC_FIELD_MAX_OPEN,
          "mode collapse: how far from its best counts as worse (0.25: a quarter)"),
    FLOAT("watch.warmup", watch.warmup, 0, 1, GC_FIELD_MAX_OPEN,
          "the fraction of the steps before the evaluation rules start"),
};

const struct gc_spec_field *gc_spec_fields(int *n)
{
    *n = NELEM(fields);
    return fields;
}

const struct gc_spec_field *gc_spec_field_find(const char *path)
{
    for (int i = 0; i < NELEM(fields); i++)
        if (strcmp(fields[i].path, path) == 0)
            return &fields[i];
    return NULL;
}

const char *gc_spec_field_key(const struct gc_spec_field *f)
{
    const char *dot = strrchr(f->path, '.');
    return dot ? dot + 1 : f->path;
}

void gc_spec_field_names(const struct gc_spec_field *f, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = 0; i < f->n_names; i++) {
        strncat(out, i ? ", " : "", cap - strlen(out) - 1);
        strncat(out, f->names[i], cap - strlen(out) - 1);
    }
}

int gc_spec_field_in(const struct gc_spec_field *f, const char *parent)
{
    size_t n = strlen(parent);
    const char *rest = f->path;
    if (n) {
        if (strncmp(f->path, parent, n) != 0 || f->path[n] != '.')
            return 0;
        rest = f->path + n + 1;
    }
    return strchr(rest, '.') == NULL;
}
