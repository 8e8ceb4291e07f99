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
struct gc_model;

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

/* The pieces of a step that the image-to-image step (gan_task.c) shares: the real
 * targets of a D step (label smoothing), the spec loss's D terms and G term on n
 * outputs of D (their gradient into t->dlog), the d_real / d_fake figure, an optimizer
 * step at the scheduled rate, and the weight average's update of generator k. */
void gc_gan_fill_real_targets(struct gc_trainer *t);
float gc_gan_loss_d_real(struct gc_trainer *t, const float *out, int n);
float gc_gan_loss_d_fake(struct gc_trainer *t, const float *out, int n);
float gc_gan_loss_g(struct gc_trainer *t, const float *out, int n);
double gc_gan_d_stat(struct gc_trainer *t, const float *out, int n);
void gc_gan_opt_step(struct gc_trainer *t, struct gc_model *m);
/* The end of a D update whose gradients are formed, of D and its class embedding emb
 * (projection conditioning; NULL otherwise): the step's figures when record (loss_d =
 * lr + lf plus the penalty's term, d_real = sr, d_fake = sf, the Wasserstein estimate,
 * the gradient norm of D and emb together, the penalty gp when it is >= 0: negative
 * when this step took none), the optimizer steps and the weight clipping. */
void gc_gan_d_finish(struct gc_trainer *t, struct gc_model *d, struct gc_model *emb, int record,
                     double lr, double lf, double sr, double sf, double gp);
void gc_gan_ema_update(struct gc_trainer *t, int k);

#endif
