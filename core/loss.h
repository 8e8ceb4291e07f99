/* loss.h — GAN losses and their gradients.
 *
 * Each returns the mean loss over its n (or n*k) elements and, when d is not NULL,
 * accumulates (+=) scale * d(mean loss)/d(input) into d. Targets may be any value
 * per sample (label smoothing draws real targets from a range). */
#ifndef GC_LOSS_H
#define GC_LOSS_H

/* Binary cross-entropy on logits x against targets t in [0,1]; stable for any x:
 * l = max(x,0) - x t + log(1 + exp(-|x|)). */
float gc_bce_logits(float *dx, const float *x, const float *t, int n, double scale);
/* Mean squared error: mean((x - t)^2). */
float gc_mse(float *dx, const float *x, const float *t, int n, double scale);
/* Wasserstein mean: mean(sign * x) (sign +1 or -1). */
float gc_wasserstein_mean(float *dx, const float *x, float sign, int n, double scale);
/* Hinge: mean(max(0, 1 - sign * x)). D uses sign +1 on real, -1 on fake. */
float gc_hinge(float *dx, const float *x, float sign, int n, double scale);
/* Softmax cross-entropy of logits (n,k) against class labels (n); probs (n,k) is
 * written when not NULL. */
float gc_softmax_xent(float *dx, const float *x, const int *labels, int n, int k, double scale,
                      float *probs);
/* Mean of sigmoid(x) over n (the d_real / d_fake metrics). */
float gc_mean_sigmoid(const float *x, int n);

#endif
