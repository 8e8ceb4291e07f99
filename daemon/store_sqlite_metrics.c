/* store_sqlite_metrics.c — the metrics tables: training metrics (kind 0) and eval
 * figures (kind 1) of a run by (name, step), written a batch at a time together with
 * the newest value of each name (metrics_latest); read back as the newest values, the
 * figures of one step, a downsampled series, or the names a run has. Every read goes
 * through the primary keys, (run, name, step) and (run, name), so what it costs does not
 * grow with the run's history. Part of the SQLite store (see store_sqlite.h). */
#include <stdlib.h>

#include "daemon/store_sqlite.h"

/* A column that may hold NULL (a NaN metric is stored as NULL) as a double. */
static double column_value(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? __builtin_nan("")
                                                       : sqlite3_column_double(st, col);
}

/* One point and the newest value of its name, inside the batch's transaction. */
static int put_one(struct gd_sqlite_conn *c, int64_t run, int kind, int64_t step, const char *name,
                   double value, struct gc_error *err)
{
    /* OR IGNORE: a run continued after a crash trains the steps after its newest
     * checkpoint again; what was stored for them the first time was acknowledged
     * (images_per_s differs on the second pass) and stays as it was */
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_METRIC_PUT,
                                      "INSERT OR IGNORE INTO metrics (run, name, step, kind, value)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5)",
                                      err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, step);
    sqlite3_bind_int(st, 4, kind);
    sqlite3_bind_double(st, 5, value); /* NaN is stored as NULL */
    int ret = gd_sqlite_exec_done(c, st, err, "put metric");
    if (ret)
        return ret;
    /* the newest value moves only forward: a step trained again keeps its first value */
    st = gd_sqlite_stmt(c, GD_SQ_METRIC_LATEST_PUT,
                        "INSERT INTO metrics_latest (run, name, kind, step, value)"
                        " VALUES (?1, ?2, ?4, ?3, ?5) ON CONFLICT (run, name) DO UPDATE SET"
                        " kind = excluded.kind, step = excluded.step, value = excluded.value"
                        " WHERE excluded.step > metrics_latest.step",
                        err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, step);
    sqlite3_bind_int(st, 4, kind);
    sqlite3_bind_double(st, 5, value);
    return gd_sqlite_exec_done(c, st, err, "put latest metric");
}

int gd_sqlite_metrics_put(struct gd_store *st_, int64_t run, int kind, int64_t step,
                          const char *const *names, const double *values, int n,
                          struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    /* one transaction per batch: one fsync-free WAL commit instead of n */
    if ((ret = gd_sqlite_begin(s, err, "put metrics")))
        return gd_sqlite_write_end(s, ret);
    ret = gd_sqlite_fence(s, run, err);
    for (int i = 0; i < n && !ret; i++)
        ret = put_one(c, run, kind, step, names[i], values[i], err);
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
    memset(kv, 0, sizeof(*kv));
    gd_sqlite_copy_text(kv->name, sizeof(kv->name), sqlite3_column_text(st, 0));
    kv->value = column_value(st, 1);
    kv->step = sqlite3_column_int64(st, 2);
    return 0;
}

/* The name/value/step rows of a read-only query whose ?1 is the run, ?2 the kind and
 * ?3 (when the SQL has it) a step. */
static int read_kvs(struct gd_sqlite *s, enum gd_sqlite_stmt id, const char *sql, int64_t run,
                    int kind, int64_t step, struct gd_kv **out, int *n, struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(s, err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(c, id, sql, err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, kind);
        if (sqlite3_bind_parameter_count(st) >= 3)
            sqlite3_bind_int64(st, 3, step);
        ret = gd_sqlite_read_rows(c, st, sizeof(**out), fill_kv, NULL, (void **)out, n, err,
                                  "read metrics");
    }
    gd_sqlite_read_end(c);
    return ret;
}

int gd_sqlite_metrics_latest(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                             struct gc_error *err)
{
    return read_kvs(gd_sqlite_of(s), GD_SQ_METRIC_LATEST,
                    "SELECT name, value, step FROM metrics_latest WHERE run = ?1 AND kind = ?2"
                    " ORDER BY name",
                    run, kind, 0, out, n, err);
}

int gd_sqlite_metrics_latest_runs(struct gd_store *st_, const int64_t *runs, int nruns,
                                  struct gd_kv **out, int *n, struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    struct gd_kv *kv = NULL;
    int cnt = 0, cap = 0, ret = 0, rc = SQLITE_DONE;
    /* one read transaction for the page: one lock of the file */
    if (sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        ret = gd_sqlite_error(c, err, "latest metrics");
    for (int r = 0; r < nruns && !ret; r++) {
        sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_METRIC_LATEST_RUN,
                                          "SELECT name, value, step, kind FROM metrics_latest"
                                          " WHERE run = ?1 ORDER BY name",
                                          err);
        if (!st) {
            ret = GC_EIO;
            break;
        }
        sqlite3_bind_int64(st, 1, runs[r]);
        while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (gd_sqlite_grow((void **)&kv, &cap, cnt + 1, sizeof(*kv))) {
                ret = gd_sqlite_no_memory(err);
                break;
            }
            fill_kv(st, &kv[cnt], err);
            kv[cnt].run = runs[r];
            kv[cnt].kind = sqlite3_column_int(st, 3);
            cnt++;
        }
        if (!ret && rc != SQLITE_DONE)
            ret = gd_sqlite_error(c, err, "latest metrics");
        sqlite3_reset(st);
    }
    sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    gd_sqlite_read_end(c);
    if (ret) {
        free(kv);
        return ret;
    }
    *out = kv;
    *n = cnt;
    return 0;
}

int gd_sqlite_metrics_at(struct gd_store *s, int64_t run, int kind, int64_t step,
                         struct gd_kv **out, int *n, struct gc_error *err)
{
    /* the run's names come from metrics_latest (one row each), then one point each */
    return read_kvs(gd_sqlite_of(s), GD_SQ_METRIC_AT,
                    "SELECT l.name, m.value, m.step FROM metrics_latest l JOIN metrics m"
                    " ON m.run = l.run AND m.name = l.name AND m.step = ?3"
                    " WHERE l.run = ?1 AND l.kind = ?2 ORDER BY l.name",
                    run, kind, step, out, n, err);
}

/* A growing series of points. */
struct series {
    int64_t *steps;
    double *values;
    int n, cap, cap2;
};

static int series_add(struct series *p, int64_t step, double value)
{
    if (gd_sqlite_grow((void **)&p->steps, &p->cap, p->n + 1, sizeof(*p->steps)) ||
        gd_sqlite_grow((void **)&p->values, &p->cap2, p->n + 1, sizeof(*p->values)))
        return -1;
    p->steps[p->n] = step;
    p->values[p->n] = value;
    p->n++;
    return 0;
}

/* The first point at or after `from` and not after `to` (or, with `last`, the last
 * point not after `to`): 1 found, 0 none, GC_EIO. */
static int seek(struct gd_sqlite_conn *c, int64_t run, const char *name, int64_t from, int64_t to,
                int last, int64_t *step, double *value, struct gc_error *err)
{
    sqlite3_stmt *st =
        last ? gd_sqlite_stmt(c, GD_SQ_METRIC_LAST,
                              "SELECT step, value FROM metrics WHERE run = ?1 AND name = ?2"
                              " AND step >= ?3 AND step <= ?4 ORDER BY step DESC LIMIT 1",
                              err)
             : gd_sqlite_stmt(c, GD_SQ_METRIC_SEEK,
                              "SELECT step, value FROM metrics WHERE run = ?1 AND name = ?2"
                              " AND step >= ?3 AND step <= ?4 ORDER BY step LIMIT 1",
                              err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        *step = sqlite3_column_int64(st, 0);
        *value = column_value(st, 1);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = gd_sqlite_error(c, err, "metric series");
    }
    sqlite3_reset(st);
    return found;
}

/* The series into p: every point when there are at most max_points, else max_points
 * index seeks at evenly spaced steps. Called with the reader c. */
static int read_series(struct gd_sqlite_conn *c, int64_t run, const char *name, int64_t from,
                       int64_t to, int max_points, struct series *p, struct gc_error *err)
{
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_METRIC_SERIES,
                                      "SELECT step, value FROM metrics WHERE run = ?1 AND name = ?2"
                                      " AND step >= ?3 AND step <= ?4 ORDER BY step LIMIT ?5",
                                      err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    /* one more than kept tells whether there are more */
    sqlite3_bind_int64(st, 5, max_points > 0 ? (int64_t)max_points + 1 : -1);
    int rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (series_add(p, sqlite3_column_int64(st, 0), column_value(st, 1))) {
            ret = gd_sqlite_no_memory(err);
            break;
        }
    if (!ret && rc != SQLITE_DONE)
        ret = gd_sqlite_error(c, err, "metric series");
    sqlite3_reset(st);
    if (ret || max_points <= 0 || p->n <= max_points)
        return ret;

    int64_t lo = p->steps[0], hi;
    double v;
    p->n = 0;
    if ((ret = seek(c, run, name, from, to, 1, &hi, &v, err)) < 0)
        return ret;
    if (max_points == 1)
        return series_add(p, hi, v) ? gd_sqlite_no_memory(err) : 0;
    for (int i = 0; i < max_points; i++) {
        int64_t step;
        int found =
            seek(c, run, name, gd_series_target(lo, hi, i, max_points), hi, 0, &step, &v, err);
        if (found < 0)
            return found;
        /* gaps in the steps can lead two seeks to one point: it is kept once */
        if (found && (p->n == 0 || p->steps[p->n - 1] != step) && series_add(p, step, v))
            return gd_sqlite_no_memory(err);
    }
    return 0;
}

int gd_sqlite_metrics_series(struct gd_store *st_, int64_t run, const char *name, int64_t from,
                             int64_t to, int max_points, int64_t **steps, double **values, int *n,
                             struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    struct series p = {0};
    /* one read transaction for all the seeks: one lock of the file, not one a seek */
    int ret = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                  ? 0
                  : gd_sqlite_error(c, err, "metric series");
    /* no upper bound as a value the primary key's range can use */
    if (!ret)
        ret = read_series(c, run, name, from, to < 0 ? INT64_MAX : to, max_points, &p, err);
    sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    gd_sqlite_read_end(c);
    if (ret) {
        free(p.steps);
        free(p.values);
        return ret;
    }
    *steps = p.steps;
    *values = p.values;
    *n = p.n;
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

int gd_sqlite_metrics_names(struct gd_store *st_, int64_t run, char ***names, int *n,
                            struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(
        c, GD_SQ_METRIC_NAMES, "SELECT name FROM metrics_latest WHERE run = ?1 ORDER BY name", err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        ret = gd_sqlite_read_rows(c, st, sizeof(**names), fill_name, clear_name, (void **)names, n,
                                  err, "metric names");
    }
    gd_sqlite_read_end(c);
    return ret;
}
