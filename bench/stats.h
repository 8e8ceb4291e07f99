/* stats.h — small helpers the table benchmarks share (bench/quality.c,
 * bench/stability.c): mean and sample standard deviation over seeds, and whether a
 * comma-separated option list names a word. Header-only: each benchmark is one
 * program of one file. */
#ifndef GC_BENCH_STATS_H
#define GC_BENCH_STATS_H

#include <math.h>
#include <string.h>

/* Mean and sample standard deviation (n - 1; 0 for one value) of x[0..n), n >= 1. */
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

/* 1 when the comma-separated list names word ("gan,unrolled" names "gan"). */
static inline int bench_has(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return 1;
    return 0;
}

#endif
