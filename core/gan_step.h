/* gan_step.h — one training step of the GAN engine.
 *
 * Internal to the GAN engine (core/gan_*.c). A step of the spec is d_steps
 * discriminator updates followed by one generator update (one per generator with
 * MAD-GAN), each on a fresh real batch and fresh noise, all at the learning-rate
 * scale of the step. Nothing here allocates or fails: the trainer's buffers were
 * made at create. The figures of the step are left in the trainer (loss_d, loss_g,
 * d_real, d_fake, grad_norm_*, wasserstein). */
#ifndef GC_GAN_STEP_H
#define GC_GAN_STEP_H

struct gc_trainer;

/* One whole step at t->step (which the caller then advances). Needs the loader. */
void gc_gan_train_step(struct gc_trainer *t);
/* The generator half alone: the unrolled look-ahead when the spec has one, then one
 * update of every generator. */
void gc_gan_g_step(struct gc_trainer *t);
/* After a step on several ranks: the figures of every rank's part become those of the
 * whole batch (loss_d, loss_g, d_real, d_fake, wasserstein; the gradient norms are the
 * whole batch's already), in one sum across ranks that also carries *extra (when not
 * NULL: each rank's value in, the sum out). Nothing on one process. A failure is left
 * in the communicator. */
void gc_gan_share_figures(struct gc_trainer *t, double *extra);

#endif
