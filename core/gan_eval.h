/* gan_eval.h — the evaluation of a GAN trainer's generators.
 *
 * Internal to the GAN engine (core/gan_*.c). 2D sets: modes_covered, high_quality and
 * reverse_kl of GC_EVAL_POINTS generated points against the mixture's modes. Image
 * sets: swd between real and as many generated images, diversity (the mean distance
 * between two of 256 generated images over that between two real ones), and for
 * labelled 1x28x28 sets (core/classifier.h) fid, class_coverage, classifier_score,
 * kid and kid_std, precision, recall, density and coverage through the evaluation
 * classifier's features (core/eval_sets.h). Conditional runs ask each generated
 * sample for the class of the real sample beside it (2D sets: the classes in turn) and
 * add class_accuracy, through the classifier (2D sets: the nearest mode); on other
 * labelled image sets, which have no classifier, they report swd alone. The real side
 * is made once, at the first evaluation: up to
 * GC_EVAL_IMAGES images spread evenly over the whole evaluation split (the test split
 * for fashion-mnist, see gc_dataset_eval_spec), so a set stored in class order is
 * represented whole. Generated samples come from RNGs derived from (seed, step), so
 * an evaluation changes no training state. Task runs (spec.task): psnr, ssim, l1 and
 * the same for the task's naive baseline on the held-out split (gan_task.c). */
#ifndef GC_GAN_EVAL_H
#define GC_GAN_EVAL_H

#include "core/error.h"

struct gc_trainer;
struct gc_metric;

/* The most figures one evaluation reports: an image set's swd, diversity, fid,
 * class_coverage, classifier_score, kid, kid_std, precision, recall, density,
 * coverage and a conditional run's class_accuracy make 12; room for a few more. */
#define GC_GAN_EVAL_MAX 16

/* The figures of the trainer's current step into m (GC_GAN_EVAL_MAX entries), their
 * number into *n. The first call of an image set makes the real side (and loads or
 * trains the classifier); an error there fails this evaluation and the next call
 * tries again. */
int gc_gan_evaluate(struct gc_trainer *t, struct gc_metric *m, int *n, struct gc_error *err);

/* Makes the real side's images if they are not made yet (t->eval_real, t->eval_n):
 * the evaluation split opened, its images spread over it. Image sets only. */
int gc_gan_eval_real(struct gc_trainer *t, struct gc_error *err);

#endif
