/* loss.c — the GAN losses: value (the mean) and gradient (accumulated, scaled).
 *
 * Sums run in double so the mean of a large batch does not lose the small terms; each
 * gradient is the derivative of the mean, times scale, added to what dx holds (a
 * discriminator's real and fake halves accumulate into one buffer). */
#include "core/loss.h"

#include <math.h>
#include <stddef.h>

/* sigmoid without overflow: exp of a non-positive number only */
static double sigmoid_d(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

float gc_bce_logits(float *dx, const float *x, const float *t, int n, double scale)
{
    if (n <= 0)
        return 0.0f;
    double sum = 0.0;
    double g = (double)scale / n;
    for (int i = 0; i < n; i++) {
        double xi = x[i], ti = t[i];
        /* log(1 + e^x) - x t, written so no exp sees a positive argument */
        sum += fmax(xi, 0.0) - xi * ti + log1p(exp(-fabs(xi)));
        if (dx)
            dx[i] += (float)(g * (sigmoid_d(xi) - ti));
    }
    return (float)(sum / n);
}

float gc_mse(float *dx, const float *x, const float *t, int n, double scale)
{
    if (n <= 0)
        return 0.0f;
    double sum = 0.0;
    double g = 2.0 * scale / n;
    for (int i = 0; i < n; i++) {
        double d = (double)x[i] - t[i];
        sum += d * d;
        if (dx)
            dx[i] += (float)(g * d);
    }
    return (float)(sum / n);
}

float gc_wasserstein_mean(float *dx, const float *x, float sign, int n, double scale)
{
    if (n <= 0)
        return 0.0f;
    double sum = 0.0;
    float g = (float)((double)scale * sign / n);
    for (int i = 0; i < n; i++) {
        sum += x[i];
        if (dx)
            dx[i] += g;
    }
    return (float)(sign * sum / n);
}

float gc_hinge(float *dx, const float *x, float sign, int n, double scale)
{
    if (n <= 0)
        return 0.0f;
    double sum = 0.0;
    float g = (float)(-(double)scale * sign / n);
    for (int i = 0; i < n; i++) {
        double m = 1.0 - (double)sign * x[i];
        /* at the kink the gradient is 0, as PyTorch's relu takes it */
        if (m > 0) {
            sum += m;
            if (dx)
                dx[i] += g;
        }
    }
    return (float)(sum / n);
}

float gc_softmax_xent(float *dx, const float *x, const int *labels, int n, int k, double scale,
                      float *probs)
{
    if (n <= 0 || k <= 0)
        return 0.0f;
    double sum = 0.0;
    double g = (double)scale / n;
    for (int i = 0; i < n; i++) {
        const float *xi = x + (size_t)i * k;
        double mx = xi[0];
        for (int j = 1; j < k; j++)
            mx = fmax(mx, xi[j]);
        double z = 0.0;
        for (int j = 0; j < k; j++)
            z += exp(xi[j] - mx);
        double lse = mx + log(z);
        int y = labels[i];
        sum += lse - xi[y];
        for (int j = 0; j < k; j++) {
            double p = exp(xi[j] - lse);
            if (probs)
                probs[(size_t)i * k + j] = (float)p;
            if (dx)
                dx[(size_t)i * k + j] += (float)(g * (p - (j == y ? 1.0 : 0.0)));
        }
    }
    return (float)(sum / n);
}

float gc_mean_sigmoid(const float *x, int n)
{
    if (n <= 0)
        return 0.0f;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += sigmoid_d(x[i]);
    return (float)(sum / n);
}
