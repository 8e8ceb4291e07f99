/* sweep.c — successive halving over a sweep's configurations (see sweep.h). */
#include "daemon/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of metric that run evaluated at exactly step, or NAN. */
static double value_at(struct gd_store *store, int64_t run, const char *metric, int64_t step)
{
    int64_t *steps = NULL;
    double *values = NULL;
    int n = 0;
    double v = NAN;
    if (gd_store_metrics_series(store, run, metric, step, step, 1, &steps, &values, &n, NULL) ==
            0 &&
        n > 0 && steps[n - 1] == step)
        v = values[n - 1];
    free(steps);
    free(values);
    return v;
}

void gd_sweep_after_eval(struct gd_jobs *s, int64_t sweep, int64_t run, int config, int64_t step)
{
    struct gd_sweep w;
    struct gc_error err = {0};
    if (gd_store_sweep_get(s->store, sweep, &w, &err)) {
        gd_jobs_log(s, GD_LOG_WARN, run, "sweep %lld: %s", (long long)sweep, err.msg);
        return;
    }
    int early = w.early_stopping, nconf = w.configurations, max = w.goal_max;
    char metric[sizeof(w.metric)];
    snprintf(metric, sizeof(metric), "%s", w.metric);
    gd_sweep_fini(&w);
    if (!early || config < 0 || config >= nconf)
        return;
    struct gd_sweep_member *m = NULL;
    int n = 0;
    if (gd_store_sweep_runs(s->store, sweep, &m, &n, &err)) {
        gd_jobs_log(s, GD_LOG_WARN, run, "sweep %lld: %s", (long long)sweep, err.msg);
        return;
    }
    /* each configuration's mean at this step over the seeds that reached it */
    double *sum = calloc((size_t)nconf, sizeof(double));
    int *cnt = calloc((size_t)nconf, sizeof(int));
    if (!sum || !cnt) {
        free(sum), free(cnt), free(m);
        return;
    }
    for (int i = 0; i < n; i++) {
        if (m[i].config < 0 || m[i].config >= nconf)
            continue;
        double v = value_at(s->store, m[i].run, metric, step);
        if (!isnan(v)) {
            sum[m[i].config] += v;
            cnt[m[i].config]++;
        }
    }
    int reached = 0, rank = 1;
    double mine = cnt[config] ? sum[config] / cnt[config] : NAN;
    for (int c = 0; c < nconf; c++) {
        if (!cnt[c])
            continue;
        reached++;
        double v = sum[c] / cnt[c];
        if (c != config && !isnan(mine) && (max ? v > mine : v < mine))
            rank++;
    }
    int keep = (reached + 1) / 2;
    if (!isnan(mine) && reached > 1 && rank > keep) {
        char reason[320];
        snprintf(reason, sizeof(reason),
                 "sweep %lld: stopped by successive halving at step %lld: %s %.4g ranks %d of %d "
                 "configurations there (the better %d go on)",
                 (long long)sweep, (long long)step, metric, mine, rank, reached, keep);
        gd_jobs_log(s, GD_LOG_INFO, run, "%s", reason);
        for (int i = 0; i < n; i++) {
            enum gd_status st = m[i].status;
            int open = st == GD_QUEUED || st == GD_RUNNING || st == GD_PAUSED;
            if (m[i].config == config && (open || m[i].run == run) &&
                gd_sched_stop(s->sched, m[i].run, reason, &err))
                gd_jobs_log(s, GD_LOG_WARN, m[i].run, "sweep: cannot stop: %s", err.msg);
        }
    }
    free(sum);
    free(cnt);
    free(m);
}
