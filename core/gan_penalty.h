/* gan_penalty.h — the gradient penalties of a discriminator update
 * (tricks.gradient_penalty, docs/spec.md).
 *
 * Internal to the GAN engine (core/gan_*.c). The critic's value of a sample is the
 * mean of D's outputs for it (its one logit, or the mean of a PatchGAN map), and g_n
 * its gradient with respect to the sample as D sees it (after DiffAugment, when on):
 *   r1       P = weight / 2 x mean_n |g_n|^2 on the real batch
 *   wgan-gp  P = weight x mean_n (|g_n| - 1)^2 at x^_n = e_n x_n + (1 - e_n) x~_n,
 *            e_n ~ U[0, 1) from the penalty's RNG stream, x real, x~ fake
 * On a D update whose optimizer step count is a multiple of `every`, P x every joins
 * D's loss: its exact parameter gradient (core/model_grad2.h) is added to D's
 * gradients. Nothing allocates: the trainer made the buffers at create. */
#ifndef GC_GAN_PENALTY_H
#define GC_GAN_PENALTY_H

struct gc_trainer;
struct gc_model;

/* Whether d's next update carries the penalty (on, and its step count a multiple of
 * every). */
int gc_gan_penalty_due(const struct gc_trainer *t, const struct gc_model *d);
/* r1 on the batch of d's last forward (n samples, the real ones); adds P x every's
 * gradient to d's and returns P (without the factor every). */
double gc_gan_penalty_r1(struct gc_trainer *t, struct gc_model *d, int n);
/* wgan-gp between the real and fake batches D saw (n samples each): a forward on the
 * interpolates, then as r1. */
double gc_gan_penalty_wgan_gp(struct gc_trainer *t, struct gc_model *d, const float *real,
                              const float *fake, int n);

#endif
