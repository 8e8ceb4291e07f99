/* batchnorm.c — batch normalization over (N,S) per channel, as PyTorch computes it.
 *
 * inp, out (N,C,S). Train: mean and biased variance over the M = N*S values of a
 * channel normalize the batch; the running statistics move by momentum toward the
 * mean and the unbiased variance (M/(M-1) times the biased one). Eval: the running
 * statistics normalize. Sums run in double: a channel may hold 64*14*14 values and
 * single precision would lose the variance of nearly constant inputs.
 *
 * SPEED. A row of a channel (S values of one sample) is summed with four independent
 * double accumulators: one chain of dependent double adds ran at the add latency and
 * made BN a tenth of a DCGAN step. Feature layers (S = 1, e.g. G's first BN over 6272
 * features) walk the batch row by row over a block of channels instead of channel by
 * channel down the rows, which read one float per cache line. */
#include "core/batchnorm.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define CBLOCK 64 /* channels per block of a feature (S = 1) layer */

typedef float v8f __attribute__((vector_size(32)));

/* y = x * scale + shift over n floats, eight at a time (the build's -O2 leaves the
 * plain loop scalar); each lane computes what the scalar form does. */
static void scale_shift(float *y, const float *x, int n, float scale, float shift)
{
    const v8f one = {1, 1, 1, 1, 1, 1, 1, 1}, sc = one * scale, sh = one * shift;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f v;
        memcpy(&v, x + j, sizeof v);
        v = v * sc + sh;
        memcpy(y + j, &v, sizeof v);
    }
    for (; j < n; j++)
        y[j] = x[j] * scale + shift;
}

typedef float v4f __attribute__((vector_size(16)));
typedef double v4d __attribute__((vector_size(32)));

/* acc[k] += x[k] in double, four lanes at a time: per channel the same sum in the same
 * order as the scalar loop (a lane is a channel). */
static void acc_row(double *acc, const float *x, int nc)
{
    int k = 0;
    for (; k + 4 <= nc; k += 4) {
        v4f xf;
        v4d a;
        memcpy(&xf, x + k, sizeof xf);
        memcpy(&a, acc + k, sizeof a);
        a += __builtin_convertvector(xf, v4d);
        memcpy(acc + k, &a, sizeof a);
    }
    for (; k < nc; k++)
        acc[k] += x[k];
}

/* acc[k] += (x[k] - mu[k])^2 in double, as acc_row */
static void acc_sqdev_row(double *acc, const float *x, const double *mu, int nc)
{
    int k = 0;
    for (; k + 4 <= nc; k += 4) {
        v4f xf;
        v4d a, m;
        memcpy(&xf, x + k, sizeof xf);
        memcpy(&a, acc + k, sizeof a);
        memcpy(&m, mu + k, sizeof m);
        v4d d = __builtin_convertvector(xf, v4d) - m;
        a += d * d;
        memcpy(acc + k, &a, sizeof a);
    }
    for (; k < nc; k++) {
        double d = x[k] - mu[k];
        acc[k] += d * d;
    }
}

/* The row helpers below run two vectors of four double lanes (eight independent
 * sums), converting four floats at a time, and add the lanes up at the end. */
static inline v4d load4d(const float *x)
{
    v4f f;
    memcpy(&f, x, sizeof f);
    return __builtin_convertvector(f, v4d);
}

static inline double lanes(v4d a)
{
    return (a[0] + a[1]) + (a[2] + a[3]);
}

static double row_sum(const float *x, int s)
{
    v4d a0 = {0}, a1 = {0};
    int j = 0;
    for (; j + 8 <= s; j += 8) {
        a0 += load4d(x + j);
        a1 += load4d(x + j + 4);
    }
    double t = lanes(a0 + a1);
    for (; j < s; j++)
        t += x[j];
    return t;
}

static double row_sqdev(const float *x, int s, double mu)
{
    const v4d m = {mu, mu, mu, mu};
    v4d a0 = {0}, a1 = {0};
    int j = 0;
    for (; j + 8 <= s; j += 8) {
        v4d d0 = load4d(x + j) - m, d1 = load4d(x + j + 4) - m;
        a0 += d0 * d0;
        a1 += d1 * d1;
    }
    double t = lanes(a0 + a1);
    for (; j < s; j++) {
        double d = x[j] - mu;
        t += d * d;
    }
    return t;
}

/* sum of dy and of dy * xhat over a row */
static void row_dstats(const float *x, const float *dy, int s, double mean, double invstd,
                       double *sdy, double *sdyx)
{
    const v4d m = {mean, mean, mean, mean}, iv = {invstd, invstd, invstd, invstd};
    v4d a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
    int j = 0;
    for (; j + 8 <= s; j += 8) {
        v4d d0 = load4d(dy + j), d1 = load4d(dy + j + 4);
        a0 += d0;
        a1 += d1;
        b0 += d0 * ((load4d(x + j) - m) * iv);
        b1 += d1 * ((load4d(x + j + 4) - m) * iv);
    }
    double ta = lanes(a0 + a1), tb = lanes(b0 + b1);
    for (; j < s; j++) {
        ta += dy[j];
        tb += dy[j] * ((x[j] - mean) * invstd);
    }
    *sdy += ta;
    *sdyx += tb;
}

/* Train statistics of channels [c0, c0 + nc) into mean and var (biased) and sq (the
 * sum of squared deviations). */
static void batch_stats(const float *inp, int n, int c, int s, int c0, int nc, double *mean,
                        double *sq)
{
    const size_t cs = (size_t)c * s;
    const double m = (double)n * s;
    for (int k = 0; k < nc; k++)
        mean[k] = sq[k] = 0.0;
    if (s == 1) {
        for (int i = 0; i < n; i++)
            acc_row(mean, inp + i * cs + c0, nc);
        for (int k = 0; k < nc; k++)
            mean[k] /= m;
        /* two passes: the variance from the centered values, no cancellation */
        for (int i = 0; i < n; i++)
            acc_sqdev_row(sq, inp + i * cs + c0, mean, nc);
        return;
    }
    for (int k = 0; k < nc; k++) {
        double sum = 0.0;
        for (int i = 0; i < n; i++)
            sum += row_sum(inp + i * cs + (size_t)(c0 + k) * s, s);
        mean[k] = sum / m;
        double q = 0.0;
        for (int i = 0; i < n; i++)
            q += row_sqdev(inp + i * cs + (size_t)(c0 + k) * s, s, mean[k]);
        sq[k] = q;
    }
}

/* One block of channels [c0, c0 + nc): the statistics (train: mu and sq, the mean and
 * the sum of squared deviations over m values; eval: the running ones), the running
 * statistics' update, then out = x * scale + shift. */
static void forward_block(float *out, const float *inp, const float *gamma, const float *beta,
                          float *running_mean, float *running_var, float *save_mean,
                          float *save_invstd, int n, int c, int s, float eps, float momentum,
                          int train, int c0, int nc, const double *mu, const double *sq, double m)
{
    const size_t cs = (size_t)c * s;
    float scale[CBLOCK], shift[CBLOCK];
    for (int k = 0; k < nc; k++) {
        const int ch = c0 + k;
        float mean, invstd;
        if (train) {
            double var = sq[k] / m;
            mean = (float)mu[k];
            invstd = (float)(1.0 / sqrt(var + eps));
            if (save_mean)
                save_mean[ch] = mean;
            if (save_invstd)
                save_invstd[ch] = invstd;
            if (running_mean)
                running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
            if (running_var) {
                double unbiased = m > 1.0 ? sq[k] / (m - 1.0) : var;
                running_var[ch] = (float)((1.0 - momentum) * running_var[ch] + momentum * unbiased);
            }
        } else {
            mean = running_mean[ch];
            invstd = (float)(1.0 / sqrt((double)running_var[ch] + eps));
        }
        const float g = gamma ? gamma[ch] : 1.0f;
        const float b = beta ? beta[ch] : 0.0f;
        scale[k] = g * invstd;
        shift[k] = b - mean * scale[k];
    }
    for (int i = 0; i < n; i++) {
        const float *x = inp + i * cs + (size_t)c0 * s;
        float *y = out + i * cs + (size_t)c0 * s;
        if (s == 1) {
            int k = 0;
            for (; k + 8 <= nc; k += 8) {
                v8f xv, sc, sh;
                memcpy(&xv, x + k, sizeof xv);
                memcpy(&sc, scale + k, sizeof sc);
                memcpy(&sh, shift + k, sizeof sh);
                xv = xv * sc + sh;
                memcpy(y + k, &xv, sizeof xv);
            }
            for (; k < nc; k++)
                y[k] = x[k] * scale[k] + shift[k];
            continue;
        }
        for (int k = 0; k < nc; k++)
            scale_shift(y + (size_t)k * s, x + (size_t)k * s, s, scale[k], shift[k]);
    }
}

void gc_batchnorm_forward(float *out, const float *inp, const float *gamma, const float *beta,
                          float *running_mean, float *running_var, float *save_mean,
                          float *save_invstd, int n, int c, int s, float eps, float momentum,
                          int train, int c_begin, int c_end)
{
    const double m = (double)n * s;
    double mu[CBLOCK], sq[CBLOCK];
    for (int c0 = c_begin; c0 < c_end; c0 += CBLOCK) {
        const int nc = c_end - c0 < CBLOCK ? c_end - c0 : CBLOCK;
        if (train)
            batch_stats(inp, n, c, s, c0, nc, mu, sq);
        forward_block(out, inp, gamma, beta, running_mean, running_var, save_mean, save_invstd, n,
                      c, s, eps, momentum, train, c0, nc, mu, sq, m);
    }
}

void gc_batchnorm_sums(const float *inp, int n, int c, int s, int c_begin, int c_end, double *sum,
                       double *sumsq)
{
    const double m = (double)n * s;
    double mu[CBLOCK], sq[CBLOCK];
    for (int c0 = c_begin; c0 < c_end; c0 += CBLOCK) {
        const int nc = c_end - c0 < CBLOCK ? c_end - c0 : CBLOCK;
        batch_stats(inp, n, c, s, c0, nc, mu, sq);
        /* the sum of squares from this part's centred values: sum x^2 = sq + m mean^2,
         * without the cancellation of squaring the raw values in one pass */
        for (int k = 0; k < nc; k++) {
            sum[c0 + k] = mu[k] * m;
            sumsq[c0 + k] = sq[k] + sum[c0 + k] * mu[k];
        }
    }
}

void gc_batchnorm_forward_sums(float *out, const float *inp, const float *gamma, const float *beta,
                               float *running_mean, float *running_var, float *save_mean,
                               float *save_invstd, const double *sum, const double *sumsq,
                               double total, int n, int c, int s, float eps, float momentum,
                               int c_begin, int c_end)
{
    double mu[CBLOCK], sq[CBLOCK];
    for (int c0 = c_begin; c0 < c_end; c0 += CBLOCK) {
        const int nc = c_end - c0 < CBLOCK ? c_end - c0 : CBLOCK;
        for (int k = 0; k < nc; k++) {
            mu[k] = sum[c0 + k] / total;
            double q = sumsq[c0 + k] - sum[c0 + k] * mu[k];
            sq[k] = q > 0.0 ? q : 0.0;
        }
        forward_block(out, inp, gamma, beta, running_mean, running_var, save_mean, save_invstd, n,
                      c, s, eps, momentum, 1, c0, nc, mu, sq, total);
    }
}

/* The backward's two sums of channels [c0, c0 + nc) over these n samples: sdy = sum
 * dy, sdyx = sum dy * xhat. */
static void backward_block_sums(const float *dout, const float *inp, const float *save_mean,
                                const float *save_invstd, int n, int c, int s, int c0, int nc,
                                double *sdy, double *sdyx)
{
    const size_t cs = (size_t)c * s;
    for (int k = 0; k < nc; k++)
        sdy[k] = sdyx[k] = 0.0;
    for (int i = 0; i < n; i++) {
        const size_t o = i * cs + (size_t)c0 * s;
        if (s == 1) {
            int k = 0;
            for (; k + 4 <= nc; k += 4) {
                v4f dyf, xf, mf, vf;
                v4d a, b;
                memcpy(&dyf, dout + o + k, sizeof dyf);
                memcpy(&xf, inp + o + k, sizeof xf);
                memcpy(&mf, save_mean + c0 + k, sizeof mf);
                memcpy(&vf, save_invstd + c0 + k, sizeof vf);
                memcpy(&a, sdy + k, sizeof a);
                memcpy(&b, sdyx + k, sizeof b);
                v4d dy = __builtin_convertvector(dyf, v4d);
                a += dy;
                b += dy * ((__builtin_convertvector(xf, v4d) - __builtin_convertvector(mf, v4d)) *
                           __builtin_convertvector(vf, v4d));
                memcpy(sdy + k, &a, sizeof a);
                memcpy(sdyx + k, &b, sizeof b);
            }
            for (; k < nc; k++) {
                const double mean = save_mean[c0 + k], invstd = save_invstd[c0 + k];
                sdy[k] += dout[o + k];
                sdyx[k] += dout[o + k] * ((inp[o + k] - mean) * invstd);
            }
            continue;
        }
        for (int k = 0; k < nc; k++)
            row_dstats(inp + o + (size_t)k * s, dout + o + (size_t)k * s, s, save_mean[c0 + k],
                       save_invstd[c0 + k], &sdy[k], &sdyx[k]);
    }
}

/* dinp of channels [c0, c0 + nc) from the two sums over all m values of a channel:
 * added to it, or written when add is 0 (the gradient of a layer whose dinp would start
 * at zero: no memset before and no read of zeros here). */
static void backward_block_dx(float *dinp, int add, const float *dout, const float *inp,
                              const float *gamma, const float *save_mean, const float *save_invstd,
                              int n, int c, int s, int c0, int nc, const double *sdy,
                              const double *sdyx, double m)
{
    const size_t cs = (size_t)c * s;
    float kk[CBLOCK], mdy[CBLOCK], mdyx[CBLOCK], fmean[CBLOCK], finv[CBLOCK];
    for (int k = 0; k < nc; k++) {
        const int ch = c0 + k;
        /* dx = g*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)): the batch
         * statistics depend on every x, hence the two correction terms */
        const double g = gamma ? gamma[ch] : 1.0;
        kk[k] = (float)(g * save_invstd[ch]);
        mdy[k] = (float)(sdy[k] / m);
        mdyx[k] = (float)(sdyx[k] / m);
        fmean[k] = save_mean[ch];
        finv[k] = save_invstd[ch];
    }
    for (int i = 0; i < n && s == 1; i++) {
        const size_t o = i * cs + c0;
        int k = 0;
        for (; k + 8 <= nc; k += 8) {
            v8f x, dy, dx, a, b, e, mu, iv;
            memcpy(&x, inp + o + k, sizeof x);
            memcpy(&dy, dout + o + k, sizeof dy);
            memcpy(&a, kk + k, sizeof a);
            memcpy(&b, mdy + k, sizeof b);
            memcpy(&e, mdyx + k, sizeof e);
            memcpy(&mu, fmean + k, sizeof mu);
            memcpy(&iv, finv + k, sizeof iv);
            v8f xhat = (x - mu) * iv;
            dx = a * (dy - b - xhat * e);
            if (add) {
                v8f old;
                memcpy(&old, dinp + o + k, sizeof old);
                dx = old + dx;
            }
            memcpy(dinp + o + k, &dx, sizeof dx);
        }
        for (; k < nc; k++) {
            float xhat = (inp[o + k] - fmean[k]) * finv[k];
            float v = kk[k] * (dout[o + k] - mdy[k] - xhat * mdyx[k]);
            dinp[o + k] = add ? dinp[o + k] + v : v;
        }
    }
    for (int i = 0; i < n && s > 1; i++) {
        const size_t o = i * cs + (size_t)c0 * s;
        for (int k = 0; k < nc; k++) {
            const float *x = inp + o + (size_t)k * s;
            const float *dy = dout + o + (size_t)k * s;
            float *dx = dinp + o + (size_t)k * s;
            const float a = kk[k], b = mdy[k], e = mdyx[k], mu = fmean[k], iv = finv[k];
            if (add)
                for (int j = 0; j < s; j++) {
                    float xhat = (x[j] - mu) * iv;
                    dx[j] += a * (dy[j] - b - xhat * e);
                }
            else
                for (int j = 0; j < s; j++) {
                    float xhat = (x[j] - mu) * iv;
                    dx[j] = a * (dy[j] - b - xhat * e);
                }
        }
    }
}

void gc_batchnorm_backward(float *dinp, int add_dinp, float *dgamma, float *dbeta,
                           const float *dout, const float *inp, const float *gamma,
                           const float *save_mean, const float *save_invstd, int n, int c, int s,
                           int c_begin, int c_end)
{
    const double m = (double)n * s;
    double sdy[CBLOCK], sdyx[CBLOCK];
    for (int c0 = c_begin; c0 < c_end; c0 += CBLOCK) {
        const int nc = c_end - c0 < CBLOCK ? c_end - c0 : CBLOCK;
        backward_block_sums(dout, inp, save_mean, save_invstd, n, c, s, c0, nc, sdy, sdyx);
        for (int k = 0; k < nc; k++) {
            if (dbeta)
                dbeta[c0 + k] += (float)sdy[k];
            if (dgamma)
                dgamma[c0 + k] += (float)sdyx[k];
        }
        if (dinp)
            backward_block_dx(dinp, add_dinp, dout, inp, gamma, save_mean, save_invstd, n, c, s, c0,
                              nc, sdy, sdyx, m);
    }
}

void gc_batchnorm_backward_sums(const float *dout, const float *inp, const float *save_mean,
                                const float *save_invstd, int n, int c, int s, int c_begin,
                                int c_end, double *sdy, double *sdyx)
{
    for (int c0 = c_begin; c0 < c_end; c0 += CBLOCK) {
        const int nc = c_end - c0 < CBLOCK ? c_end - c0 : CBLOCK;
        backward_block_sums(dout, inp, save_mean, save_invstd, n, c, s, c0, nc, sdy + c0,
                            sdyx + c0);
    }
}

void gc_batchnorm_backward_from_sums(float *dinp, int add_dinp, float *dgamma, float *dbeta,
                                     const float *dout, const float *inp, const float *gamma,
                                     const float *save_mean, const float *save_invstd,
                                     const double *own_sdy, const double *own_sdyx,
                                     const double *sdy, const double *sdyx, double total, int n,
                                     int c, int s, int c_begin, int c_end)
{
    for (int ch = c_begin; ch < c_end; ch++) {
        if (dbeta)
            dbeta[ch] += (float)own_sdy[ch];
        if (dgamma)
            dgamma[ch] += (float)own_sdyx[ch];
    }
    if (!dinp)
        return;
    for (int c0 = c_begin; c0 < c_end; c0 += CBLOCK) {
        const int nc = c_end - c0 < CBLOCK ? c_end - c0 : CBLOCK;
        backward_block_dx(dinp, add_dinp, dout, inp, gamma, save_mean, save_invstd, n, c, s, c0, nc,
                          sdy + c0, sdyx + c0, total);
    }
}

void gc_batchnorm_backward2(float *ggout, float *ggin, float *dgamma, const float *ggx,
                            const float *dout, const float *inp, const float *gamma,
                            const float *save_mean, const float *save_invstd, int n, int c, int s,
                            int c_begin, int c_end)
{
    const size_t cs = (size_t)c * s;
    const double m = (double)n * s;
    for (int ch = c_begin; ch < c_end; ch++) {
        const double mu = save_mean[ch], r = save_invstd[ch];
        const double g = gamma ? gamma[ch] : 1.0;
        double sdy = 0, sdyx = 0, sv = 0, svx = 0, svdy = 0;
        for (int i = 0; i < n; i++) {
            const size_t o = i * cs + (size_t)ch * s;
            for (int j = 0; j < s; j++) {
                double xh = (inp[o + j] - mu) * r, dy = dout[o + j], v = ggx[o + j];
                sdy += dy;
                sdyx += dy * xh;
                sv += v;
                svx += v * xh;
                svdy += v * dy;
            }
        }
        const double A = sdy / m, B = sdyx / m;
        const double C = svdy - A * sv - B * svx;
        if (dgamma)
            dgamma[ch] += (float)(r * C);
        /* ggout = a v + b + e xh; ggin += p xh + q v + t dy + u */
        const double a = g * r, b = -g * r * sv / m, e = -g * r * svx / m;
        const double k2 = -g * r * r;
        const double p = k2 * (C - 2.0 * B * svx) / m, q = k2 * B, t = k2 * svx / m;
        const double u = -k2 * (B * sv / m + svx / m * A);
        for (int i = 0; i < n; i++) {
            const size_t o = i * cs + (size_t)ch * s;
            for (int j = 0; j < s; j++) {
                double xh = (inp[o + j] - mu) * r, v = ggx[o + j];
                if (ggout)
                    ggout[o + j] = (float)(a * v + b + e * xh);
                if (ggin)
                    ggin[o + j] += (float)(p * xh + q * v + t * dout[o + j] + u);
            }
        }
    }
}

void gc_batchnorm_eval_backward2(float *ggout, float *dgamma, const float *ggx, const float *dout,
                                 const float *gamma, const float *running_var, float eps, int n,
                                 int c, int s, int c_begin, int c_end)
{
    const size_t cs = (size_t)c * s;
    for (int ch = c_begin; ch < c_end; ch++) {
        const double r = 1.0 / sqrt((double)running_var[ch] + eps);
        const double g = gamma ? gamma[ch] : 1.0;
        double dg = 0.0;
        for (int i = 0; i < n; i++) {
            const size_t o = i * cs + (size_t)ch * s;
            for (int j = 0; j < s; j++) {
                dg += (double)ggx[o + j] * dout[o + j];
                if (ggout)
                    ggout[o + j] = (float)(ggx[o + j] * g * r);
            }
        }
        if (dgamma)
            dgamma[ch] += (float)(dg * r);
    }
}
