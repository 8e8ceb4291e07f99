/* store_pg_data.c — what runs produce, in PostgreSQL: metric points with the newest
 * value of each name (one statement per batch), the figures of one step, downsampled
 * series, samples with the planes of 2D runs, checkpoints with the run's step, and
 * events. Part of the PostgreSQL store (see store_pg.h).
 *
 * Every read goes through a primary key or an index, so what it costs does not grow
 * with a run's history: a series of more than max_points points is one statement of
 * max_points index probes (generate_series and LATERAL). Metric points and events go
 * through the bulk connections (committed asynchronously); samples and checkpoints
 * through the others. An owner's metrics and samples are fenced inside their statement
 * (they write nothing once another worker holds a newer claim), its checkpoints inside
 * a transaction that locks the run's row. Events are inserted under an advisory lock,
 * so their ids become visible in order for every daemon's streams, and each sends the
 * NOTIFY that wakes the other daemons' streams. */
#include <stdlib.h>

#include "daemon/store_pg.h"

/* Metrics events are pruned when an id is a multiple of this. */
#define PRUNE_EVERY 64
/* The advisory lock that orders event ids. */
#define EVENTS_LOCK "4712"

/* The largest step a bound may take: "no upper bound" as a value an index can use. */
#define NO_BOUND "9223372036854775807"

/* A text[] literal of names into a malloc'ed string. */
static char *text_array(const char *const *names, int n)
{
    size_t cap = 3;
    for (int i = 0; i < n; i++)
        cap += 2 * strlen(names[i]) + 3;
    char *out = malloc(cap), *p = out;
    if (!out)
        return NULL;
    *p++ = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *q = names[i]; *q; q++) {
            if (*q == '"' || *q == '\\')
                *p++ = '\\';
            *p++ = *q;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

/* A float8[] literal: NaN as NULL (as the SQLite store keeps it), infinities spelled
 * as PostgreSQL reads them. */
static char *float_array(const double *v, int n)
{
    char *out = malloc((size_t)n * 26 + 3), *p = out;
    if (!out)
        return NULL;
    *p++ = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        if (v[i] != v[i])
            p += sprintf(p, "NULL");
        else if (v[i] > 1.7976931348623157e308 || v[i] < -1.7976931348623157e308)
            p += sprintf(p, v[i] > 0 ? "Infinity" : "-Infinity");
        else
            p += sprintf(p, "%.17g", v[i]);
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

/* ---- metrics ---- */

int gd_pg_metrics_put(struct gd_store *st, int64_t run, int kind, int64_t step,
                      const char *const *names, const double *values, int n, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char *na = text_array(names, n), *va = float_array(values, n);
    if (!na || !va) {
        free(na);
        free(va);
        return gd_pg_no_memory(err);
    }
    int ret = 0;
    struct gd_pg_conn *c = gd_pg_acquire(s, 1, err);
    if (!c) {
        ret = GC_EUNAVAIL;
        goto out;
    }
    char b1[24], b2[24], b3[24], b4[24];
    const char *vals[6] = {
        gd_pg_i64(b1, run),           gd_pg_i64(b2, kind), gd_pg_i64(b3, step), na, va,
        gd_pg_claim_param(s, run, b4)};
    /* a point stored already keeps its first value; the newest value moves only
     * forward */
    PGresult *r = gd_pg_exec(
        s, c, GD_PG_METRIC_PUT,
        "WITH f AS (SELECT claim FROM runs WHERE id = $1),"
        " pts AS (SELECT $1::bigint AS run, u.name, $3::bigint AS step, $2::smallint AS kind,"
        " u.value FROM unnest($4::text[], $5::float8[]) AS u (name, value)"
        " WHERE $6::bigint IS NULL OR $6 = (SELECT claim FROM f)),"
        " ins AS (INSERT INTO metrics (run, name, step, kind, value)"
        " SELECT run, name, step, kind, value FROM pts ON CONFLICT DO NOTHING),"
        " lat AS (INSERT INTO metrics_latest (run, name, kind, step, value)"
        " SELECT run, name, kind, step, value FROM pts ON CONFLICT (run, name) DO UPDATE SET"
        " kind = excluded.kind, step = excluded.step, value = excluded.value"
        " WHERE excluded.step > metrics_latest.step)"
        " SELECT (SELECT claim FROM f)",
        6, vals, NULL, NULL, 0, err, "put metrics");
    gd_pg_release(c);
    if (!r) {
        ret = err ? err->code : GC_EIO;
        goto out;
    }
    ret = gd_pg_fenced(s, r, run, err);
    PQclear(r);
out:
    free(na);
    free(va);
    return ret;
}

/* A row of name, value, step (and run, kind when the query has them). */
static void fill_kv(const PGresult *r, int i, void *elem)
{
    struct gd_kv *kv = elem;
    gd_pg_copy_text(kv->name, sizeof kv->name, r, i, 0);
    kv->value = gd_pg_get_double(r, i, 1);
    kv->step = gd_pg_get_i64(r, i, 2);
    if (PQnfields(r) >= 5) {
        kv->run = gd_pg_get_i64(r, i, 3);
        kv->kind = (int)gd_pg_get_i64(r, i, 4);
    }
}

/* name/value/step rows of a metrics query with n text parameters. */
static int read_kvs(struct gd_pg *s, enum gd_pg_stmt id, const char *sql, int n,
                    const char *const *vals, struct gd_kv **out, int *cnt, struct gc_error *err)
{
    PGresult *r = gd_pg_query(s, 0, id, sql, n, vals, NULL, NULL, 0, err, "read metrics");
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_rows(r, sizeof(**out), fill_kv, (void **)out, cnt, err);
}

int gd_pg_metrics_latest(struct gd_store *st, int64_t run, int kind, struct gd_kv **out, int *n,
                         struct gc_error *err)
{
    char b1[24], b2[24];
    const char *vals[2] = {gd_pg_i64(b1, run), gd_pg_i64(b2, kind)};
    return read_kvs(gd_pg_of(st), GD_PG_METRIC_LATEST,
                    "SELECT name, value, step FROM metrics_latest WHERE run = $1 AND kind = $2"
                    " ORDER BY name",
                    2, vals, out, n, err);
}

int gd_pg_metrics_latest_runs(struct gd_store *st, const int64_t *runs, int nruns,
                              struct gd_kv **out, int *n, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char *ids = gd_pg_id_array(runs, nruns);
    if (!ids)
        return gd_pg_no_memory(err);
    const char *vals[1] = {ids};
    /* a page of runs in one statement, not one a run */
    int ret = read_kvs(s, GD_PG_METRIC_LATEST_RUNS,
                       "SELECT name, value, step, run, kind FROM metrics_latest"
                       " WHERE run = ANY ($1::bigint[]) ORDER BY run, name",
                       1, vals, out, n, err);
    free(ids);
    return ret;
}

int gd_pg_metrics_at(struct gd_store *st, int64_t run, int kind, int64_t step, struct gd_kv **out,
                     int *n, struct gc_error *err)
{
    char b1[24], b2[24], b3[24];
    const char *vals[3] = {gd_pg_i64(b1, run), gd_pg_i64(b2, kind), gd_pg_i64(b3, step)};
    /* the run's names from metrics_latest (one row each), then one point each */
    return read_kvs(gd_pg_of(st), GD_PG_METRIC_AT,
                    "SELECT l.name, m.value, m.step FROM metrics_latest l JOIN metrics m"
                    " ON m.run = l.run AND m.name = l.name AND m.step = $3"
                    " WHERE l.run = $1 AND l.kind = $2 ORDER BY l.name",
                    3, vals, out, n, err);
}

/* step/value rows into malloc'ed arrays. */
static int take_points(PGresult *r, int64_t **steps, double **values, int *n, struct gc_error *err)
{
    int rows = PQntuples(r);
    int64_t *sa = malloc((size_t)(rows ? rows : 1) * sizeof(*sa));
    double *va = malloc((size_t)(rows ? rows : 1) * sizeof(*va));
    if (!sa || !va) {
        free(sa);
        free(va);
        return gd_pg_no_memory(err);
    }
    for (int i = 0; i < rows; i++) {
        sa[i] = gd_pg_get_i64(r, i, 0);
        va[i] = gd_pg_get_double(r, i, 1);
    }
    *steps = sa;
    *values = va;
    *n = rows;
    return 0;
}

int gd_pg_metrics_series(struct gd_store *st, int64_t run, const char *name, int64_t from,
                         int64_t to, int max_points, int64_t **steps, double **values, int *n,
                         struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c)
        return GC_EUNAVAIL;
    char b1[24], b2[24], b3[24], b4[24];
    const char *vals[5] = {gd_pg_i64(b1, run), name, gd_pg_i64(b2, from),
                           to < 0 ? NO_BOUND : gd_pg_i64(b3, to),
                           gd_pg_i64(b4, max_points > 0 ? (int64_t)max_points + 1 : -1)};
    /* every point when there are at most max_points: one more than kept tells */
    PGresult *r = gd_pg_exec(s, c, GD_PG_METRIC_SERIES,
                             "SELECT step, value FROM metrics WHERE run = $1 AND name = $2"
                             " AND step >= $3 AND step <= $4 ORDER BY step"
                             " LIMIT CASE WHEN $5::bigint < 0 THEN NULL ELSE $5 END",
                             5, vals, NULL, NULL, 0, err, "metric series");
    if (r && max_points > 0 && PQntuples(r) > max_points) {
        PQclear(r);
        /* else max_points probes at evenly spaced steps between the first and the last
         * point (gd_series_target, in integers), each the first point at or after */
        gd_pg_i64(b4, max_points);
        r = gd_pg_exec(s, c, GD_PG_METRIC_SEEK,
                       "WITH b AS (SELECT (SELECT step FROM metrics WHERE run = $1 AND name = $2"
                       " AND step >= $3 AND step <= $4 ORDER BY step LIMIT 1) AS lo,"
                       " (SELECT step FROM metrics WHERE run = $1 AND name = $2 AND step >= $3"
                       " AND step <= $4 ORDER BY step DESC LIMIT 1) AS hi)"
                       " SELECT DISTINCT p.step, p.value FROM b,"
                       " generate_series(0, $5::int - 1) AS g (i) CROSS JOIN LATERAL"
                       " (SELECT step, value FROM metrics WHERE run = $1 AND name = $2"
                       " AND step >= CASE WHEN $5::int = 1 THEN b.hi"
                       " ELSE b.lo + (b.hi - b.lo) * g.i / ($5::int - 1) END"
                       " AND step <= b.hi ORDER BY step LIMIT 1) AS p ORDER BY p.step",
                       5, vals, NULL, NULL, 0, err, "metric series");
    }
    gd_pg_release(c);
    if (!r)
        return gd_pg_fail(err);
    int ret = take_points(r, steps, values, n, err);
    PQclear(r);
    return ret;
}

int gd_pg_metrics_names(struct gd_store *st, int64_t run, char ***names, int *n,
                        struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, run)};
    PGresult *r = gd_pg_query(s, 0, GD_PG_METRIC_NAMES,
                              "SELECT name FROM metrics_latest WHERE run = $1 ORDER BY name", 1,
                              vals, NULL, NULL, 0, err, "metric names");
    if (!r)
        return gd_pg_fail(err);
    int rows = PQntuples(r), ret = 0;
    char **a = calloc((size_t)(rows ? rows : 1), sizeof(*a));
    for (int i = 0; a && i < rows && !ret; i++)
        if (!(a[i] = gd_pg_dup_text(r, i, 0)))
            ret = gd_pg_no_memory(err);
    PQclear(r);
    if (!a || ret) {
        for (int i = 0; a && i < rows; i++)
            free(a[i]);
        free(a);
        return ret ? ret : gd_pg_no_memory(err);
    }
    *names = a;
    *n = rows;
    return 0;
}

/* ---- samples ---- */

int gd_pg_sample_put(struct gd_store *st, int64_t run, int64_t step, const uint8_t *png, size_t len,
                     struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b1[24], b2[24], b3[24];
    const char *vals[4] = {gd_pg_i64(b1, run), gd_pg_i64(b2, step), len ? (const char *)png : "",
                           gd_pg_claim_param(s, run, b3)};
    int lens[4] = {0, 0, (int)len, 0}, fmts[4] = {0, 0, 1, 0};
    PGresult *r = gd_pg_query(s, 0, GD_PG_SAMPLE_PUT,
                              "WITH f AS (SELECT claim FROM runs WHERE id = $1),"
                              " ins AS (INSERT INTO samples (run, step, png) SELECT $1, $2, $3"
                              " WHERE $4::bigint IS NULL OR $4 = (SELECT claim FROM f)"
                              " ON CONFLICT DO NOTHING) SELECT (SELECT claim FROM f)",
                              4, vals, lens, fmts, 0, err, "put sample");
    if (!r)
        return gd_pg_fail(err);
    int ret = gd_pg_fenced(s, r, run, err);
    PQclear(r);
    return ret;
}

int gd_pg_sample_steps(struct gd_store *st, int64_t run, int64_t **steps, int *n,
                       struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, run)};
    PGresult *r = gd_pg_query(s, 0, GD_PG_SAMPLE_STEPS,
                              "SELECT step FROM samples WHERE run = $1 ORDER BY step", 1, vals,
                              NULL, NULL, 0, err, "sample steps");
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_ids(r, steps, n, err);
}

/* The newest (step < 0) or given (step, blob) row of a query whose $1 is the run and
 * $2 the step, read in binary; what names the blob in messages. */
static int get_blob(struct gd_pg *s, enum gd_pg_stmt id, const char *sql, int64_t run, int64_t step,
                    uint8_t **data, size_t *len, int64_t *got_step, struct gc_error *err,
                    const char *what)
{
    char b1[24], b2[24];
    const char *vals[2] = {gd_pg_i64(b1, run), gd_pg_i64(b2, step)};
    PGresult *r = gd_pg_query(s, 0, id, sql, 2, vals, NULL, NULL, 1, err, what);
    if (!r)
        return gd_pg_fail(err);
    int ret = 0;
    if (PQntuples(r) != 1) {
        ret = step < 0 ? gc_error_set(err, GC_ENOTFOUND, "run %lld has no %s", (long long)run, what)
                       : gc_error_set(err, GC_ENOTFOUND, "run %lld has no %s at step %lld",
                                      (long long)run, what, (long long)step);
    } else {
        size_t n = (size_t)PQgetlength(r, 0, 1);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf) {
            ret = gd_pg_no_memory(err);
        } else {
            memcpy(buf, PQgetvalue(r, 0, 1), n);
            *data = buf;
            *len = n;
            if (got_step)
                *got_step = gd_pg_get_i64_binary(r, 0, 0);
        }
    }
    PQclear(r);
    return ret;
}

/* Rows of step = $2 (or, for $2 < 0, every step), newest first: a range an index can
 * serve whichever is asked. */
#define STEP_OR_NEWEST                                                                             \
    " AND step >= CASE WHEN $2::bigint < 0 THEN 0 ELSE $2 END"                                     \
    " AND step <= CASE WHEN $2::bigint < 0 THEN " NO_BOUND " ELSE $2 END"                          \
    " ORDER BY step DESC LIMIT 1"

int gd_pg_sample_get(struct gd_store *st, int64_t run, int64_t step, uint8_t **png, size_t *len,
                     int64_t *got_step, struct gc_error *err)
{
    return get_blob(gd_pg_of(st), GD_PG_SAMPLE_GET,
                    "SELECT step, png FROM samples WHERE run = $1" STEP_OR_NEWEST, run, step, png,
                    len, got_step, err, "sample");
}

/* ---- planes (2D samples), kept with the sample of their step ---- */

int gd_pg_plane_put(struct gd_store *st, int64_t run, int64_t step, const uint8_t *bytes,
                    size_t len, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b1[24], b2[24], b3[24];
    const char *vals[4] = {gd_pg_i64(b1, run), gd_pg_i64(b2, step), len ? (const char *)bytes : "",
                           gd_pg_claim_param(s, run, b3)};
    int lens[4] = {0, 0, (int)len, 0}, fmts[4] = {0, 0, 1, 0};
    PGresult *r = gd_pg_query(s, 0, GD_PG_PLANE_PUT,
                              "WITH f AS (SELECT claim FROM runs WHERE id = $1),"
                              " up AS (UPDATE samples SET plane = $3 WHERE run = $1 AND step = $2"
                              " AND ($4::bigint IS NULL OR $4 = (SELECT claim FROM f)) RETURNING 1)"
                              " SELECT (SELECT claim FROM f), (SELECT count(*) FROM up)",
                              4, vals, lens, fmts, 0, err, "put plane");
    if (!r)
        return gd_pg_fail(err);
    int ret = gd_pg_fenced(s, r, run, err);
    if (!ret && gd_pg_get_i64(r, 0, 1) == 0)
        ret = gc_error_set(err, GC_ENOTFOUND, "run %lld has no sample at step %lld", (long long)run,
                           (long long)step);
    PQclear(r);
    return ret;
}

int gd_pg_plane_steps(struct gd_store *st, int64_t run, int64_t **steps, int *n,
                      struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, run)};
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_PLANE_STEPS,
                    "SELECT step FROM samples WHERE run = $1 AND plane IS NOT NULL ORDER BY step",
                    1, vals, NULL, NULL, 0, err, "plane steps");
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_ids(r, steps, n, err);
}

int gd_pg_plane_get(struct gd_store *st, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                    int64_t *got_step, struct gc_error *err)
{
    return get_blob(
        gd_pg_of(st), GD_PG_PLANE_GET,
        "SELECT step, plane FROM samples WHERE run = $1 AND plane IS NOT NULL" STEP_OR_NEWEST, run,
        step, bytes, len, got_step, err, "plane");
}

/* ---- checkpoints ---- */

int gd_pg_ckpt_put(struct gd_store *st, int64_t run, int64_t step, const uint8_t *bytes, size_t len,
                   int keep, const char *sha256, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    int ret;
    /* the row is locked: the claim cannot change until the checkpoint is in */
    struct gd_pg_conn *c = gd_pg_begin(s, run, NULL, &ret, err, "put checkpoint");
    if (!c)
        return ret;
    char b1[24], b2[24], b3[24], b4[24];
    const char *vals[5] = {gd_pg_i64(b1, run), gd_pg_i64(b2, step), gd_pg_i64(b3, (int64_t)len),
                           sha256, len ? (const char *)bytes : ""};
    int lens[5] = {0, 0, 0, 0, (int)len}, fmts[5] = {0, 0, 0, 0, 1};
    ret = gd_pg_do(s, c, GD_PG_CKPT_PUT,
                   "INSERT INTO checkpoints (run, step, bytes, sha256, data)"
                   " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run, step) DO UPDATE SET"
                   " bytes = excluded.bytes, sha256 = excluded.sha256, data = excluded.data,"
                   " created_at = now()",
                   5, vals, lens, fmts, err, "put checkpoint");
    /* the run's step moves with its checkpoint: a restart resumes exactly there */
    if (!ret)
        ret = gd_pg_set_step(s, c, run, step, err);
    if (!ret && keep > 0) {
        const char *pv[2] = {b1, gd_pg_i64(b4, keep)};
        ret = gd_pg_do(s, c, GD_PG_CKPT_PRUNE,
                       "DELETE FROM checkpoints WHERE run = $1 AND step NOT IN"
                       " (SELECT step FROM checkpoints WHERE run = $1 ORDER BY step DESC"
                       " LIMIT $2)",
                       2, pv, NULL, NULL, err, "prune checkpoints");
    }
    return gd_pg_end(s, c, ret, err, "put checkpoint");
}

static void fill_ckpt(const PGresult *r, int i, void *elem)
{
    struct gd_ckpt_info *a = elem;
    a->step = gd_pg_get_i64(r, i, 0);
    a->bytes = gd_pg_get_i64(r, i, 1);
    gd_pg_copy_text(a->sha256, sizeof a->sha256, r, i, 2);
    gd_pg_copy_text(a->created_at, sizeof a->created_at, r, i, 3);
}

int gd_pg_ckpt_list(struct gd_store *st, int64_t run, struct gd_ckpt_info **out, int *n,
                    struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, run)};
    PGresult *r = gd_pg_query(s, 0, GD_PG_CKPT_LIST,
                              "SELECT step, bytes, sha256, " GD_PG_TIME(
                                  "created_at") " FROM checkpoints WHERE run = $1 ORDER BY step",
                              1, vals, NULL, NULL, 0, err, "list checkpoints");
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_rows(r, sizeof(**out), fill_ckpt, (void **)out, n, err);
}

int gd_pg_ckpt_get(struct gd_store *st, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                   int64_t *got_step, struct gc_error *err)
{
    return get_blob(gd_pg_of(st), GD_PG_CKPT_GET,
                    "SELECT step, data FROM checkpoints WHERE run = $1" STEP_OR_NEWEST, run, step,
                    bytes, len, got_step, err, "checkpoint");
}

/* ---- events ---- */

int gd_pg_event_put(struct gd_store *st, int64_t run, const char *type, int64_t step, int64_t *id,
                    struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gd_pg_conn *c = gd_pg_acquire(s, 1, err);
    if (!c)
        return GC_EUNAVAIL;
    char b1[24], b2[24];
    const char *vals[3] = {gd_pg_i64(b1, run), type, gd_pg_i64(b2, step)};
    /* the lock is held to the commit: the next id is given only once this one is
     * visible, so a stream that has read id N has seen every id below it */
    PGresult *r = gd_pg_exec(s, c, GD_PG_EVENT_PUT,
                             "WITH l AS (SELECT pg_advisory_xact_lock(" EVENTS_LOCK ")),"
                             " ins AS (INSERT INTO events (run, type, step)"
                             " SELECT $1, $2, $3 FROM l RETURNING id)"
                             " SELECT id, pg_notify('ganctl', 'e') FROM ins",
                             3, vals, NULL, NULL, 0, err, "put event");
    if (!r) {
        gd_pg_release(c);
        return gd_pg_fail(err);
    }
    int64_t nid = gd_pg_get_i64(r, 0, 0);
    PQclear(r);
    if (id)
        *id = nid;
    if (nid % PRUNE_EVERY == 0) {
        /* its own statement: if it fails, the event stays stored */
        gd_pg_i64(b2, GD_EVENTS_KEPT - 1);
        const char *pv[2] = {b1, b2};
        r = gd_pg_exec(s, c, GD_PG_EVENT_PRUNE,
                       "DELETE FROM events WHERE run = $1 AND type = 'metrics' AND id <"
                       " (SELECT id FROM events WHERE run = $1 AND type = 'metrics'"
                       " ORDER BY id DESC LIMIT 1 OFFSET $2)",
                       2, pv, NULL, NULL, 0, NULL, "prune events");
        PQclear(r);
    }
    gd_pg_release(c);
    return 0;
}

static void fill_event(const PGresult *r, int i, void *elem)
{
    struct gd_event *e = elem;
    e->id = gd_pg_get_i64(r, i, 0);
    e->run = gd_pg_get_i64(r, i, 1);
    gd_pg_copy_text(e->type, sizeof e->type, r, i, 2);
    e->step = gd_pg_get_i64(r, i, 3);
    gd_pg_copy_text(e->created_at, sizeof e->created_at, r, i, 4);
}

int gd_pg_event_list(struct gd_store *st, int64_t run, int64_t after, int limit,
                     struct gd_event **out, int *n, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    if (limit <= 0)
        limit = 100;
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c)
        return GC_EUNAVAIL;
    char b1[24], b2[24], b3[24];
    const char *vals[3] = {gd_pg_i64(b1, run), gd_pg_i64(b2, after), gd_pg_i64(b3, limit)};
    /* one run's events through its index, every run's through the primary key */
    PGresult *r =
        run > 0
            ? gd_pg_exec(
                  s, c, GD_PG_EVENT_LIST_RUN,
                  "SELECT id, run, type, step, " GD_PG_TIME(
                      "created_at") " FROM events WHERE run = $1 AND id > $2 ORDER BY id LIMIT $3",
                  3, vals, NULL, NULL, 0, err, "list events")
            : gd_pg_exec(
                  s, c, GD_PG_EVENT_LIST,
                  "SELECT id, run, type, step, " GD_PG_TIME(
                      "created_at") " FROM events WHERE id > $2 AND $1::bigint <= 0 ORDER BY id"
                                    " LIMIT $3",
                  3, vals, NULL, NULL, 0, err, "list events");
    gd_pg_release(c);
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_rows(r, sizeof(**out), fill_event, (void **)out, n, err);
}

int gd_pg_event_last(struct gd_store *st, int64_t *id, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    /* the newest visible id: ids are visible in order (the advisory lock), so every
     * event below it is visible too */
    PGresult *r = gd_pg_query(s, 0, GD_PG_EVENT_LAST, "SELECT coalesce(max(id), 0) FROM events", 0,
                              NULL, NULL, NULL, 0, err, "last event");
    if (!r)
        return gd_pg_fail(err);
    *id = gd_pg_get_i64(r, 0, 0);
    PQclear(r);
    return 0;
}
