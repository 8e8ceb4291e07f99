/* batchnorm.c — batch normalization over (N,S) per channel, as PyTorch computes it.
 *
 * inp, out (N,C,S). Train: mean and biased variance over the M = N*S values of a
 * channel normalize the batch; the running statistics move by momentum toward the
 * mean and the unbiased variance (M/(M-1) times the biased one). Eval: the running
 * statistics normalize. Sums run in double: a channel may hold 64*14*14 values and
 * single precision would lose the variance of nearly constant inputs. */
#include "core/batchnorm.h"

#include <math.h>
#include <stddef.h>

void gc_batchnorm_forward(float *out, const float *inp, const float *gamma, const float *beta,
                          float *running_mean, float *running_var, float *save_mean,
                          float *save_invstd, int n, int c, int s, float eps, float momentum,
                          int train)
{
    const size_t cs = (size_t)c * s;
    const double m = (double)n * s;
    for (int ch = 0; ch < c; ch++) {
        float mean, invstd;
        if (train) {
            double sum = 0.0;
            for (int i = 0; i < n; i++) {
                const float *x = inp + i * cs + (size_t)ch * s;
                for (int j = 0; j < s; j++)
                    sum += x[j];
            }
            double mu = sum / m;
            /* two passes: the variance from the centered values, no cancellation */
            double sq = 0.0;
            for (int i = 0; i < n; i++) {
                const float *x = inp + i * cs + (size_t)ch * s;
                for (int j = 0; j < s; j++) {
                    double d = x[j] - mu;
                    sq += d * d;
                }
            }
            double var = sq / m;
            mean = (float)mu;
            invstd = (float)(1.0 / sqrt(var + eps));
            if (save_mean)
                save_mean[ch] = mean;
            if (save_invstd)
                save_invstd[ch] = invstd;
            if (running_mean)
                running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
            if (running_var) {
                double unbiased = m > 1.0 ? sq / (m - 1.0) : var;
                running_var[ch] = (float)((1.0 - momentum) * running_var[ch] + momentum * unbiased);
            }
        } else {
            mean = running_mean[ch];
            invstd = (float)(1.0 / sqrt((double)running_var[ch] + eps));
        }
        const float g = gamma ? gamma[ch] : 1.0f;
        const float b = beta ? beta[ch] : 0.0f;
        const float scale = g * invstd;
        const float shift = b - mean * scale;
        for (int i = 0; i < n; i++) {
            const float *x = inp + i * cs + (size_t)ch * s;
            float *y = out + i * cs + (size_t)ch * s;
            for (int j = 0; j < s; j++)
                y[j] = x[j] * scale + shift;
        }
    }
}

void gc_batchnorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                           const float *inp, const float *gamma, const float *save_mean,
                           const float *save_invstd, int n, int c, int s)
{
    const size_t cs = (size_t)c * s;
    const double m = (double)n * s;
    for (int ch = 0; ch < c; ch++) {
        const double mean = save_mean[ch];
        const double invstd = save_invstd[ch];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int i = 0; i < n; i++) {
            const float *x = inp + i * cs + (size_t)ch * s;
            const float *dy = dout + i * cs + (size_t)ch * s;
            for (int j = 0; j < s; j++) {
                sum_dy += dy[j];
                sum_dy_xhat += dy[j] * ((x[j] - mean) * invstd);
            }
        }
        if (dbeta)
            dbeta[ch] += (float)sum_dy;
        if (dgamma)
            dgamma[ch] += (float)sum_dy_xhat;
        if (!dinp)
            continue;
        /* dx = g*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)): the batch statistics
         * depend on every x, hence the two correction terms */
        const double g = gamma ? gamma[ch] : 1.0;
        const float k = (float)(g * invstd);
        const float mean_dy = (float)(sum_dy / m);
        const float mean_dy_xhat = (float)(sum_dy_xhat / m);
        const float fmean = (float)mean, finv = (float)invstd;
        for (int i = 0; i < n; i++) {
            const float *x = inp + i * cs + (size_t)ch * s;
            const float *dy = dout + i * cs + (size_t)ch * s;
            float *dx = dinp + i * cs + (size_t)ch * s;
            for (int j = 0; j < s; j++) {
                float xhat = (x[j] - fmean) * finv;
                dx[j] += k * (dy[j] - mean_dy - xhat * mean_dy_xhat);
            }
        }
    }
}
