/* gan_cond.h — class conditioning in the GAN engine (model.conditional).
 *
 * Internal to the GAN engine (core/gan_*.c). The conditioning lives around the models,
 * not in them: G's input is z followed by the one-hot class, so the class embedding is
 * the extra columns of G's first linear layer; D receives the class either as one-hot
 * maps concatenated to its input (concat; a one-hot vector after an MLP's flat input),
 * or through a projection term <e_y, phi(x)> added to its logits (core/projection.h),
 * e_y a row of a class embedding that trains with D. Every function here is the plain
 * model call when the run is unconditional (t->nc = 0), so unconditional runs train the
 * bits they trained before conditioning existed. */
#ifndef GC_GAN_COND_H
#define GC_GAN_COND_H

#include "core/error.h"
#include "core/serial.h"

struct gc_trainer;
struct gc_model;

/* At create, after the data opened and before the models are built: the run's classes
 * (from the data, or from the spec when the images are not loaded), the label map and
 * the models' input sizes. GC_EINVAL naming model.conditional when the data has no
 * labels. */
int gc_gan_cond_classes(struct gc_trainer *t, struct gc_error *err);
/* After the models are built: the class embedding (projection; weights from its own
 * RNG stream), the unrolled copy's, and the batch buffers. */
int gc_gan_cond_create(struct gc_trainer *t, struct gc_error *err);
/* Frees what the two above made. */
void gc_gan_cond_destroy(struct gc_trainer *t);

/* G's output for n noise vectors (n x z_dim) and, when conditional, their classes y. */
const float *gc_gan_g_forward(struct gc_trainer *t, struct gc_model *g, const float *noise,
                              const int *y, int n, int train);
/* D's logits (n x nout) for n samples x of classes y (NULL when unconditional); emb is
 * the embedding that goes with d (t->emb, or t->emb_copy with the look-ahead copy). */
const float *gc_gan_d_forward(struct gc_trainer *t, struct gc_model *d, struct gc_model *emb,
                              const float *x, const int *y, int n, int train);
/* The backward of the last gc_gan_d_forward from dlog (n x nout): the parameter
 * gradients of d and emb when params, and the gradient of the samples accumulated into
 * dx (n x sample floats) when not NULL. */
void gc_gan_d_backward(struct gc_trainer *t, struct gc_model *d, struct gc_model *emb,
                       const float *dlog, float *dx, int params);
/* The same from D's last hidden features (feature matching): dfeat is n x feat_size,
 * no parameter gradient is formed. */
void gc_gan_d_backward_features(struct gc_trainer *t, struct gc_model *d, const float *dfeat,
                                float *dx);

/* Labels of the data (n of them, as the loader gives them) to classes, in place. */
void gc_gan_cond_map_labels(const struct gc_trainer *t, int *y, int n);
/* n classes drawn as the data holds them (a random sample's class), from rng_class. */
void gc_gan_draw_classes(struct gc_trainer *t, int n, int *y);

/* The checkpoint's conditioning section (nothing for an unconditional run): the class
 * list, the class RNG and the embedding. Load refuses a list that differs from the
 * run's (the data's classes changed). */
int gc_gan_cond_save(const struct gc_trainer *t, struct gc_buf *b);
int gc_gan_cond_load(struct gc_trainer *t, struct gc_reader *r, struct gc_error *err);

#endif
