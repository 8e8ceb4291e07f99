/* batchnorm.h — batch normalization over (N) for features or (N,H,W) for channels.
 *
 * inp, out (N,C,S) where S = H*W (S = 1 for a (N,C) feature layer). gamma, beta,
 * running_mean, running_var (C). save_mean, save_invstd (C) are written by a train
 * forward for the backward. Train mode normalizes with the batch statistics (biased
 * variance) and updates the running ones as PyTorch does (unbiased variance,
 * momentum m: r = (1-m) r + m x). Eval mode uses the running statistics.
 * Backward (train mode) accumulates into dinp, dgamma, dbeta; each may be NULL.
 *
 * Each call works on the channels [c_begin, c_end) only ([0, c) for the whole layer),
 * touching no other channel: threads that split a layer by channels give each channel
 * the bits a whole-layer call gives it. */
#ifndef GC_BATCHNORM_H
#define GC_BATCHNORM_H

void gc_batchnorm_forward(float *out, const float *inp, const float *gamma, const float *beta,
                          float *running_mean, float *running_var, float *save_mean,
                          float *save_invstd, int n, int c, int s, float eps, float momentum,
                          int train, int c_begin, int c_end);
void gc_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                           const float *inp, const float *gamma, const float *save_mean,
                           const float *save_invstd, int n, int c, int s, int c_begin, int c_end);

/* Second-order passes (double backward) of the input gradient dinp of gc_batchnorm_backward
 * (train mode: batch statistics) and of eval mode (dinp = dout gamma / sqrt(rvar + eps)).
 * Given ggx = dP/d(dinp) (N,C,S) for a scalar P: ggout = dP/d(dout) is WRITTEN,
 * dgamma += dP/dgamma and (train mode) ggin += dP/d(inp), the way dinp depends on inp
 * through the batch statistics, are accumulated; each may be NULL. dinp does not
 * depend on beta. Channels [c_begin, c_end) only, as above. */
void gc_batchnorm_backward2(float *ggout, float *ggin, float *dgamma, const float *ggx,
                            const float *dout, const float *inp, const float *gamma,
                            const float *save_mean, const float *save_invstd, int n, int c, int s,
                            int c_begin, int c_end);
void gc_batchnorm_eval_backward2(float *ggout, float *dgamma, const float *ggx, const float *dout,
                                 const float *gamma, const float *running_var, float eps, int n,
                                 int c, int s, int c_begin, int c_end);

#endif
