/* metrics.h — the names of every figure a run reports, defined once.
 *
 * A training metric is logged every `every.log` steps (loss_d, loss_g, ...); an
 * evaluation figure at every `every.eval` steps (modes_covered, fid, ...). The engine
 * reports them by these names, the store keeps them under these names, the API serves
 * this table (GET /api/v1/catalog), Prometheus exports the ones with a family name, and
 * the dashboard and the CLI label and format them from what the API serves. A new
 * figure is one row here.
 *
 * The table is constant data: thread-safe, nothing to free. */
#ifndef GC_METRICS_H
#define GC_METRICS_H

enum gc_metric_id {
    /* training metrics */
    GC_M_LOSS_D,
    GC_M_LOSS_G,
    GC_M_D_REAL,
    GC_M_D_FAKE,
    GC_M_GRAD_NORM_D,
    GC_M_GRAD_NORM_G,
    GC_M_IMAGES_PER_S,
    GC_M_WASSERSTEIN,
    GC_M_COMM_SHARE,
    GC_M_GRAD_PENALTY,
    GC_M_LOSS_L1,
    /* evaluation figures */
    GC_M_MODES_COVERED,
    GC_M_HIGH_QUALITY,
    GC_M_REVERSE_KL,
    GC_M_FID,
    GC_M_CLASS_COVERAGE,
    GC_M_CLASSIFIER_SCORE,
    GC_M_CLASS_ACCURACY,
    GC_M_SWD,
    GC_M_DIVERSITY,
    GC_M_KID,
    GC_M_KID_STD,
    GC_M_PRECISION,
    GC_M_RECALL,
    GC_M_DENSITY,
    GC_M_COVERAGE,
    GC_M_PSNR,
    GC_M_SSIM,
    GC_M_L1,
    GC_M_PSNR_BASELINE,
    GC_M_SSIM_BASELINE,
    GC_M_L1_BASELINE,
    GC_M_COUNT
};

enum gc_metric_kind {
    GC_METRIC_TRAIN = 0, /* logged during training (store kind 0) */
    GC_METRIC_EVAL = 1,  /* an evaluation figure (store kind 1) */
};

enum gc_metric_goal { GC_GOAL_NONE, GC_GOAL_MIN, GC_GOAL_MAX };

/* How a figure reads: a plain number, a fraction in [0, 1] (shown as a percentage), a
 * count (an integer), or a rate per second. */
enum gc_metric_format { GC_FMT_NUMBER, GC_FMT_FRACTION, GC_FMT_COUNT, GC_FMT_RATE };

struct gc_metric_info {
    const char *name; /* as stored and served: "loss_d" */
    enum gc_metric_kind kind;
    const char *label; /* a short human label: "D(x) real" */
    const char *help;  /* one sentence */
    enum gc_metric_goal goal;
    enum gc_metric_format format;
    /* A count out of a property of the dataset, which the catalog gives per dataset
     * ("modes": 8 on ring8), so that it reads "7/8"; NULL otherwise. */
    const char *out_of;
    /* Prometheus gauge family of the newest value of a running run, NULL when not
     * exported. Spelled out: promtool reads "_d" or "_s" name parts as units. */
    const char *prom;
};

/* The row of id (id in [0, GC_M_COUNT)). */
const struct gc_metric_info *gc_metric_info(enum gc_metric_id id);
/* The row of a name; NULL for a name that is not in the table. */
const struct gc_metric_info *gc_metric_find(const char *name);
/* Shorthand for gc_metric_info(id)->name. */
const char *gc_metric_name(enum gc_metric_id id);
const char *gc_metric_kind_name(enum gc_metric_kind k); /* "train", "eval" */
const char *gc_metric_goal_name(enum gc_metric_goal g); /* NULL, "min", "max" */
const char *gc_metric_format_name(enum gc_metric_format f);

#endif
