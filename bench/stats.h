/* stats.h — what the quality benchmarks say of a figure over seeds: mean and sample
 * standard deviation. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <math.h>

/* Mean and sample standard deviation (n - 1; 0 for one value) of x[0..n). */
static inline void bench_mean_std(const double *x, int n, double *m, double *sd)
{
    double s = 0, q = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    *m = s / n;
    for (int i = 0; i < n; i++)
        q += (x[i] - *m) * (x[i] - *m);
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0.0;
}

#endif
