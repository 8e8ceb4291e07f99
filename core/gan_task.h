/* gan_task.h — the image-to-image side of the GAN engine (spec.task): its data, its
 * training step, its evaluation and its sample grid. The translation of a user's
 * picture is public: gc_trainer_translate_png in core/gan.h.
 *
 * Internal to the GAN engine (core/gan_*.c). G is a U-Net from the task's input to the
 * image, D a PatchGAN on (input, image) pairs (core/unet.h); the trainer's fields are in
 * gan_internal.h. A step allocates nothing: the buffers are made at create. */
#ifndef GC_GAN_TASK_H
#define GC_GAN_TASK_H

#include "core/data.h"
#include "core/error.h"

struct gc_trainer;
struct gc_metric;

/* Opens the training data of a task run into t->data (when load; idx always, since
 * its shape is only in the file): Fashion-MNIST's chosen split, or for idx, png-dir
 * and paired the images left after the held-out tenth (core/task_data.h), which goes to
 * t->held. */
int gc_gan_task_open(struct gc_trainer *t, int load, gc_warn_fn warn, void *ctx,
                     struct gc_error *err);
/* After gc_gan_sample_shape: the target's shape (half a pair's channels), G's input
 * channels and sizes; refuses a side the U-Net or the factor cannot take. */
int gc_gan_task_shape(struct gc_trainer *t, struct gc_error *err);
/* The task's batch buffers (after the models exist). */
int gc_gan_task_alloc(struct gc_trainer *t, struct gc_error *err);
void gc_gan_task_free(struct gc_trainer *t);

/* One training step: d_steps D updates on (input, image) pairs, each drawing a batch,
 * then one G update on the last batch (adversarial + l1_weight x L1), with the
 * unrolled look-ahead when the spec has one. */
void gc_gan_task_step(struct gc_trainer *t);

/* psnr, ssim, l1 and their baselines on the held-out split into m (6 entries). */
int gc_gan_task_evaluate(struct gc_trainer *t, struct gc_metric *m, int *n, struct gc_error *err);

/* The sample grid: 8 rows of (input | output | target) of fixed held-out images. */
int gc_gan_task_sample_png(struct gc_trainer *t, uint8_t **png, size_t *len, struct gc_error *err);

#endif
