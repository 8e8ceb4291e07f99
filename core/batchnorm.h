/* batchnorm.h — batch normalization over (N) for features or (N,H,W) for channels.
 *
 * inp, out (N,C,S) where S = H*W (S = 1 for a (N,C) feature layer). gamma, beta,
 * running_mean, running_var (C). save_mean, save_invstd (C) are written by a train
 * forward for the backward. Train mode normalizes with the batch statistics (biased
 * variance) and updates the running ones as PyTorch does (unbiased variance,
 * momentum m: r = (1-m) r + m x). Eval mode uses the running statistics.
 * Backward (train mode) accumulates into dinp (or writes it, when add_dinp is 0: no
 * zeroing and no read of it first), dgamma, dbeta; each may be NULL.
 *
 * Each call works on the channels [c_begin, c_end) only ([0, c) for the whole layer),
 * touching no other channel: threads that split a layer by channels give each channel
 * the bits a whole-layer call gives it.
 *
 * Synchronized batch norm (a batch split across ranks, core/comm.h): the statistics
 * must be those of the whole batch, so a train forward and a backward each come in
 * two halves with a sum across ranks in between:
 *   forward   gc_batchnorm_sums gives this part's per-channel sum and sum of squares
 *             (from its centred values); once those are summed over every part,
 *             gc_batchnorm_forward_sums normalizes this part with the whole batch's
 *             mean and biased variance (total = the values of a channel in the whole
 *             batch) and moves the running statistics as a whole-batch forward would;
 *   backward  gc_batchnorm_backward_sums gives this part's sum dy and sum dy * xhat;
 *             gc_batchnorm_backward_from_sums adds this part's own sums to dgamma and
 *             dbeta (they are gradients of the parameters, summed across ranks with
 *             the rest) and forms dinp from the summed ones.
 * The sums are indexed by channel (arrays of c doubles). One part alone gives what the
 * one-call functions give, to rounding. */
#ifndef GC_BATCHNORM_H
#define GC_BATCHNORM_H

void gc_batchnorm_forward(float *out, const float *inp, const float *gamma, const float *beta,
                          float *running_mean, float *running_var, float *save_mean,
                          float *save_invstd, int n, int c, int s, float eps, float momentum,
                          int train, int c_begin, int c_end);
void gc_batchnorm_backward(float *dinp, int add_dinp, float *dgamma, float *dbeta,
                           const float *dout, const float *inp, const float *gamma,
                           const float *save_mean, const float *save_invstd, int n, int c, int s,
                           int c_begin, int c_end);

void gc_batchnorm_sums(const float *inp, int n, int c, int s, int c_begin, int c_end, double *sum,
                       double *sumsq);
void gc_batchnorm_forward_sums(float *out, const float *inp, const float *gamma, const float *beta,
                               float *running_mean, float *running_var, float *save_mean,
                               float *save_invstd, const double *sum, const double *sumsq,
                               double total, int n, int c, int s, float eps, float momentum,
                               int c_begin, int c_end);
void gc_batchnorm_backward_sums(const float *dout, const float *inp, const float *save_mean,
                                const float *save_invstd, int n, int c, int s, int c_begin,
                                int c_end, double *sdy, double *sdyx);
void gc_batchnorm_backward_from_sums(float *dinp, int add_dinp, float *dgamma, float *dbeta,
                                     const float *dout, const float *inp, const float *gamma,
                                     const float *save_mean, const float *save_invstd,
                                     const double *own_sdy, const double *own_sdyx,
                                     const double *sdy, const double *sdyx, double total, int n,
                                     int c, int s, int c_begin, int c_end);
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
