/* metrics.c — the table of figure names (see metrics.h). */
#include "core/metrics.h"

#include <stddef.h>
#include <string.h>

static const struct gc_metric_info table[GC_M_COUNT] = {
    [GC_M_LOSS_D] = {"loss_d", GC_METRIC_TRAIN, "D loss",
                     "The discriminator's loss on its last update of the step.", GC_GOAL_NONE,
                     GC_FMT_NUMBER, NULL, "ganctl_run_discriminator_loss"},
    [GC_M_LOSS_G] = {"loss_g", GC_METRIC_TRAIN, "G loss",
                     "The generator's loss, averaged over the generators of the step.",
                     GC_GOAL_NONE, GC_FMT_NUMBER, NULL, "ganctl_run_generator_loss"},
    [GC_M_D_REAL] = {"d_real", GC_METRIC_TRAIN, "D(x) real",
                     "The discriminator's mean output on real data (a probability for the "
                     "sigmoid losses, the raw score otherwise).",
                     GC_GOAL_NONE, GC_FMT_NUMBER, NULL, "ganctl_run_discriminator_real_mean"},
    [GC_M_D_FAKE] = {"d_fake", GC_METRIC_TRAIN, "D(G(z)) fake",
                     "The discriminator's mean output on generated data.", GC_GOAL_NONE,
                     GC_FMT_NUMBER, NULL, "ganctl_run_discriminator_fake_mean"},
    [GC_M_GRAD_NORM_D] = {"grad_norm_d", GC_METRIC_TRAIN, "|grad| D",
                          "The L2 norm of the discriminator's gradient before its update.",
                          GC_GOAL_NONE, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_GRAD_NORM_G] = {"grad_norm_g", GC_METRIC_TRAIN, "|grad| G",
                          "The L2 norm of the generators' gradients before their update.",
                          GC_GOAL_NONE, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_IMAGES_PER_S] = {"images_per_s", GC_METRIC_TRAIN, "images/s",
                           "Real images (or points) consumed per second of training.", GC_GOAL_MAX,
                           GC_FMT_RATE, NULL, "ganctl_run_images_per_second"},
    [GC_M_WASSERSTEIN] = {"wasserstein", GC_METRIC_TRAIN, "Wasserstein estimate",
                          "The critic's estimate of the Wasserstein distance, mean D(x) - "
                          "mean D(G(z)) (wasserstein loss only).",
                          GC_GOAL_NONE, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_COMM_SHARE] = {"comm_share", GC_METRIC_TRAIN, "time in collectives",
                         "Runs on several ranks (train.ranks): the fraction of training time "
                         "spent in calls across the ranks (summing gradients and batch-norm "
                         "statistics, waiting for the slowest rank included).",
                         GC_GOAL_MIN, GC_FMT_FRACTION, NULL, "ganctl_run_collective_time_ratio"},
    [GC_M_GRAD_PENALTY] = {"grad_penalty", GC_METRIC_TRAIN, "gradient penalty",
                           "The gradient penalty of D's last penalized update, weight included "
                           "(tricks.gradient_penalty only).",
                           GC_GOAL_NONE, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_LOSS_L1] = {"loss_l1", GC_METRIC_TRAIN, "L1 to target",
                      "Task runs: the mean absolute difference between G's output and the "
                      "target on the training batch (pixels in [-1, 1]), before its weight.",
                      GC_GOAL_MIN, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_MODES_COVERED] = {"modes_covered", GC_METRIC_EVAL, "modes covered",
                            "2D sets: the modes that hold at least one high-quality sample "
                            "of 2,500.",
                            GC_GOAL_MAX, GC_FMT_COUNT, "modes", NULL},
    [GC_M_HIGH_QUALITY] = {"high_quality", GC_METRIC_EVAL, "high quality",
                           "2D sets: the fraction of samples within three standard deviations "
                           "of their nearest mode.",
                           GC_GOAL_MAX, GC_FMT_FRACTION, NULL, NULL},
    [GC_M_REVERSE_KL] = {"reverse_kl", GC_METRIC_EVAL, "reverse KL",
                         "2D sets: KL divergence of the high-quality samples' mode histogram "
                         "from the uniform one.",
                         GC_GOAL_MIN, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_FID] = {"fid", GC_METRIC_EVAL, "FID",
                  "Frechet distance between real and generated features of the evaluation "
                  "classifier.",
                  GC_GOAL_MIN, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_CLASS_COVERAGE] = {"class_coverage", GC_METRIC_EVAL, "class coverage",
                             "The classes that receive at least 1% of the evaluation classifier's "
                             "predictions on generated images.",
                             GC_GOAL_MAX, GC_FMT_COUNT, NULL, NULL},
    [GC_M_CLASSIFIER_SCORE] = {"classifier_score", GC_METRIC_EVAL, "classifier score",
                               "exp(E KL(p(y|x) || p(y))) on the evaluation classifier (an "
                               "inception score of its own).",
                               GC_GOAL_MAX, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_CLASS_ACCURACY] = {"class_accuracy", GC_METRIC_EVAL, "class accuracy",
                             "Conditional runs: the fraction of generated samples that the "
                             "evaluation classifier (2D sets: the nearest mode) gives the class "
                             "they were asked for.",
                             GC_GOAL_MAX, GC_FMT_FRACTION, NULL, NULL},
    [GC_M_SWD] = {"swd", GC_METRIC_EVAL, "SWD",
                  "Sliced Wasserstein distance between real and generated pixels.", GC_GOAL_MIN,
                  GC_FMT_NUMBER, NULL, NULL},
    [GC_M_DIVERSITY] = {"diversity", GC_METRIC_EVAL, "diversity",
                        "Images: the mean distance between two generated images over that between "
                        "two real ones (256 of each); near 0 when G makes one image.",
                        GC_GOAL_MAX, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_KID] = {"kid", GC_METRIC_EVAL, "KID",
                  "Kernel inception distance on the evaluation classifier's features: the "
                  "unbiased MMD^2 with a cubic polynomial kernel, mean over random subsets.",
                  GC_GOAL_MIN, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_KID_STD] = {"kid_std", GC_METRIC_EVAL, "KID std",
                      "The standard deviation of KID over its subsets.", GC_GOAL_NONE,
                      GC_FMT_NUMBER, NULL, NULL},
    [GC_M_PRECISION] = {"precision", GC_METRIC_EVAL, "precision",
                        "The fraction of generated images inside the real images' k-NN "
                        "manifold (improved precision, Kynkaanniemi et al.).",
                        GC_GOAL_MAX, GC_FMT_FRACTION, NULL, NULL},
    [GC_M_RECALL] = {"recall", GC_METRIC_EVAL, "recall",
                     "The fraction of real images inside the generated images' k-NN manifold "
                     "(improved recall).",
                     GC_GOAL_MAX, GC_FMT_FRACTION, NULL, NULL},
    [GC_M_DENSITY] = {"density", GC_METRIC_EVAL, "density",
                      "The mean number of real images' k-NN balls a generated image falls "
                      "in, divided by k (Naeem et al.; about 1 when the sets match).",
                      GC_GOAL_MAX, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_COVERAGE] = {"coverage", GC_METRIC_EVAL, "coverage",
                       "The fraction of real neighbourhoods that hold at least one generated "
                       "image (Naeem et al.).",
                       GC_GOAL_MAX, GC_FMT_FRACTION, NULL, NULL},
    [GC_M_PSNR] = {"psnr", GC_METRIC_EVAL, "PSNR (dB)",
                   "Task runs: peak signal-to-noise ratio of G's outputs against the targets "
                   "of the held-out split, pixels in [0, 1], the mean over images.",
                   GC_GOAL_MAX, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_SSIM] = {"ssim", GC_METRIC_EVAL, "SSIM",
                   "Task runs: structural similarity of G's outputs and the held-out targets "
                   "(11x11 Gaussian window), the mean over images and channels.",
                   GC_GOAL_MAX, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_L1] = {"l1", GC_METRIC_EVAL, "L1",
                 "Task runs: mean absolute difference of G's outputs and the held-out "
                 "targets, pixels in [0, 1].",
                 GC_GOAL_MIN, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_PSNR_BASELINE] = {"psnr_baseline", GC_METRIC_EVAL, "PSNR baseline (dB)",
                            "Task runs: the PSNR of the task's naive baseline on the same "
                            "images (bicubic, mean fill, gray, or the mean image).",
                            GC_GOAL_NONE, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_SSIM_BASELINE] = {"ssim_baseline", GC_METRIC_EVAL, "SSIM baseline",
                            "Task runs: the SSIM of the task's naive baseline on the same "
                            "images.",
                            GC_GOAL_NONE, GC_FMT_NUMBER, NULL, NULL},
    [GC_M_L1_BASELINE] = {"l1_baseline", GC_METRIC_EVAL, "L1 baseline",
                          "Task runs: the L1 of the task's naive baseline on the same images.",
                          GC_GOAL_NONE, GC_FMT_NUMBER, NULL, NULL},
};

const struct gc_metric_info *gc_metric_info(enum gc_metric_id id)
{
    return (unsigned)id < GC_M_COUNT ? &table[id] : NULL;
}

const struct gc_metric_info *gc_metric_find(const char *name)
{
    for (int i = 0; i < GC_M_COUNT; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const char *gc_metric_name(enum gc_metric_id id)
{
    return (unsigned)id < GC_M_COUNT ? table[id].name : "?";
}

const char *gc_metric_kind_name(enum gc_metric_kind k)
{
    return k == GC_METRIC_EVAL ? "eval" : "train";
}

const char *gc_metric_goal_name(enum gc_metric_goal g)
{
    return g == GC_GOAL_MIN ? "min" : g == GC_GOAL_MAX ? "max" : NULL;
}

const char *gc_metric_format_name(enum gc_metric_format f)
{
    switch (f) {
    case GC_FMT_FRACTION:
        return "fraction";
    case GC_FMT_COUNT:
        return "count";
    case GC_FMT_RATE:
        return "rate";
    default:
        return "number";
    }
}
