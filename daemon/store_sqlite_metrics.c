/* store_sqlite_metrics.c — the metrics table: training metrics (kind 0) and eval
 * figures (kind 1) of a run by name and step, written a batch at a time, read back as
 * the newest values, as a downsampled series, or as the names a run has. Part of the
 * SQLite store (see store_sqlite.h). */
#include <stdlib.h>

#include "daemon/store_sqlite.h"

/* A column that may hold NULL (a NaN metric is stored as NULL) as a double. */
static double column_value(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? __builtin_nan("")
                                                       : sqlite3_column_double(st, col);
}

int gd_store_metrics_put(struct gd_store *s, int64_t run, int kind, int64_t step,
                         const char *const *names, const double *values, int n,
                         struct gc_error *err)
{
    int ret;
    gd_sqlite_write_start(s);
    /* one transaction per batch: one fsync-free WAL commit instead of n */
    if ((ret = gd_sqlite_begin(s, err, "put metrics")))
        return gd_sqlite_write_end(s, ret);
    for (int i = 0; i < n; i++) {
        /* OR IGNORE: a run continued after a crash trains the steps after its newest
         * checkpoint again; what was stored for them the first time was acknowledged
         * (images_per_s differs on the second pass) and stays as it was */
        sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_METRIC_PUT,
                                          "INSERT OR IGNORE INTO metrics (run, kind, name, step,"
                                          " value) VALUES (?1, ?2, ?3, ?4, ?5)",
                                          err);
        if (!st) {
            ret = GC_EIO;
            break;
        }
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, kind);
        sqlite3_bind_text(st, 3, names[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, step);
        sqlite3_bind_double(st, 5, values[i]); /* NaN is stored as NULL */
        if ((ret = gd_sqlite_exec_done(s, st, err, "put metric")))
            break;
    }
    if (!ret)
        ret = gd_sqlite_commit(s, err, "put metrics");
    if (ret)
        gd_sqlite_rollback(s);
    return gd_sqlite_write_end(s, ret);
}

static int fill_kv(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_kv *kv = elem;
    gd_sqlite_copy_text(kv->name, sizeof(kv->name), sqlite3_column_text(st, 0));
    kv->value = column_value(st, 1);
    kv->step = sqlite3_column_int64(st, 2);
    return 0;
}

int gd_store_metrics_latest(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                            struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    /* SQLite takes the bare column value from the row holding max(step) */
    sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_METRIC_LATEST,
                                      "SELECT name, value, max(step) FROM metrics WHERE run = ?1"
                                      " AND kind = ?2 GROUP BY name ORDER BY name",
                                      err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, kind);
        ret = gd_sqlite_read_rows(s, st, sizeof(**out), fill_kv, NULL, (void **)out, n, err,
                                  "latest metrics");
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* Keeps max_points of the cnt points of a series in place, evenly spaced: picks
 * i*(cnt-1)/(m-1), so the first and the last point are kept (the last alone when
 * max_points is 1). Returns the new count. */
static int downsample(int64_t *steps, double *values, int cnt, int max_points)
{
    if (max_points <= 0 || cnt <= max_points)
        return cnt;
    if (max_points == 1) {
        steps[0] = steps[cnt - 1];
        values[0] = values[cnt - 1];
        return 1;
    }
    for (int i = 0; i < max_points; i++) {
        int64_t j = (int64_t)i * (cnt - 1) / (max_points - 1);
        steps[i] = steps[j];
        values[i] = values[j];
    }
    return max_points;
}

int gd_store_metrics_series(struct gd_store *s, int64_t run, const char *name, int64_t from,
                            int64_t to, int max_points, int64_t **steps, double **values, int *n,
                            struct gc_error *err)
{
    *steps = NULL;
    *values = NULL;
    *n = 0;
    int64_t *st_arr = NULL;
    double *v_arr = NULL;
    int cnt = 0, cap = 0, cap2 = 0, ret = 0, rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_METRIC_SERIES,
                                      "SELECT step, value FROM metrics WHERE run = ?1 AND name = ?2"
                                      " AND step >= ?3 AND (?4 < 0 OR step <= ?4) ORDER BY step",
                                      err);
    if (!st) {
        ret = GC_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (gd_sqlite_grow((void **)&st_arr, &cap, cnt + 1, sizeof(*st_arr)) ||
            gd_sqlite_grow((void **)&v_arr, &cap2, cnt + 1, sizeof(*v_arr))) {
            ret = gd_sqlite_no_memory(err);
            break;
        }
        st_arr[cnt] = sqlite3_column_int64(st, 0);
        v_arr[cnt] = column_value(st, 1);
        cnt++;
    }
    if (!ret && rc != SQLITE_DONE)
        ret = gd_sqlite_error(s, err, "metric series");
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&s->mu);
    if (ret) {
        free(st_arr);
        free(v_arr);
        return ret;
    }
    *steps = st_arr;
    *values = v_arr;
    *n = downsample(st_arr, v_arr, cnt, max_points);
    return 0;
}

static int fill_name(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    char **name = elem;
    if (!(*name = gd_sqlite_dup_text(sqlite3_column_text(st, 0))))
        return gd_sqlite_no_memory(err);
    return 0;
}

static void clear_name(void *elem)
{
    free(*(char **)elem);
}

int gd_store_metrics_names(struct gd_store *s, int64_t run, char ***names, int *n,
                           struct gc_error *err)
{
    *names = NULL;
    *n = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        gd_sqlite_stmt(s, GD_SQ_METRIC_NAMES,
                       "SELECT DISTINCT name FROM metrics WHERE run = ?1 ORDER BY name", err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        ret = gd_sqlite_read_rows(s, st, sizeof(**names), fill_name, clear_name, (void **)names, n,
                                  err, "metric names");
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}
