/* store_pg_sweeps.c — sweeps and the runs they make (queued, for any daemon to claim),
 * the watchdog's records, a run's provenance and the rewind that follows a rollback
 * (both the owner's writes, fenced), in PostgreSQL. Part of the PostgreSQL store (see
 * store_pg.h). */
#include <stdlib.h>

#include "daemon/store_pg.h"

/* ---- provenance and rewind ---- */

int gd_pg_run_set_provenance(struct gd_store *st, int64_t id, const struct gd_provenance *p,
                             struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b1[24], b2[24], b3[24];
    const char *vals[8] = {gd_pg_i64(b1, id), p->version,
                           p->commit,         p->compiler,
                           p->blas,           gd_pg_i64(b2, p->threads),
                           p->spec_hash,      gd_pg_claim_param(s, id, b3)};
    PGresult *r = gd_pg_query(
        s, 0, GD_PG_RUN_PROVENANCE,
        "WITH f AS (SELECT claim FROM runs WHERE id = $1),"
        " up AS (UPDATE runs SET provenance_version = $2, provenance_commit = $3,"
        " provenance_compiler = $4, provenance_blas = $5, provenance_threads = $6,"
        " spec_hash = $7 WHERE id = $1 AND ($8::bigint IS NULL OR claim = $8) RETURNING 1)"
        " SELECT (SELECT claim FROM f), (SELECT count(*) FROM up), (SELECT count(*) FROM f)",
        8, vals, NULL, NULL, 0, err, "set provenance");
    if (!r)
        return gd_pg_fail(err);
    int ret = gd_pg_get_i64(r, 0, 2) == 0
                  ? gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id)
                  : gd_pg_fenced(s, r, id, err);
    PQclear(r);
    return ret;
}

int gd_pg_run_rewind(struct gd_store *st, int64_t id, int64_t step, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    int ret;
    struct gd_pg_conn *c = gd_pg_begin(s, id, NULL, &ret, err, "rewind");
    if (!c)
        return ret;
    char b1[24], b2[24];
    const char *vals[2] = {gd_pg_i64(b1, id), gd_pg_i64(b2, step)};
    /* one statement: its parts see the rows as they were before it, so the newest value
     * of a name written after step is found among the points at or before it (one
     * index seek each), and a name with none left loses its newest value */
    ret = gd_pg_do(s, c, GD_PG_RUN_REWIND,
                   "WITH dm AS (DELETE FROM metrics WHERE run = $1 AND step > $2),"
                   " nl AS (SELECT l.name, m.kind, m.step, m.value FROM metrics_latest AS l"
                   " CROSS JOIN LATERAL (SELECT kind, step, value FROM metrics"
                   " WHERE run = l.run AND name = l.name AND step <= $2 ORDER BY step DESC"
                   " LIMIT 1) AS m WHERE l.run = $1 AND l.step > $2),"
                   " ul AS (UPDATE metrics_latest AS l SET kind = nl.kind, step = nl.step,"
                   " value = nl.value FROM nl WHERE l.run = $1 AND l.name = nl.name),"
                   " dl AS (DELETE FROM metrics_latest AS l WHERE l.run = $1 AND l.step > $2"
                   " AND NOT EXISTS (SELECT 1 FROM nl WHERE nl.name = l.name)),"
                   " ds AS (DELETE FROM samples WHERE run = $1 AND step > $2),"
                   " dc AS (DELETE FROM checkpoints WHERE run = $1 AND step > $2)"
                   " UPDATE runs SET step = $2 WHERE id = $1",
                   2, vals, NULL, NULL, err, "rewind");
    return gd_pg_end(s, c, ret, err, "rewind");
}

/* ---- sweeps ---- */

int gd_pg_sweep_insert(struct gd_store *st, const struct gd_sweep *w,
                       const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *run_ids,
                       struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    int ret;
    struct gd_pg_conn *c = gd_pg_begin(s, 0, NULL, &ret, err, "insert sweep");
    if (!c)
        return ret;
    char b1[24], b2[24], b3[24], b4[24];
    const char *sv[6] = {w->name,
                         w->body ? w->body : "{}",
                         w->metric,
                         w->goal_max ? "max" : "min",
                         w->early_stopping ? "t" : "f",
                         gd_pg_i64(b1, w->configurations)};
    PGresult *r =
        gd_pg_exec(s, c, GD_PG_SWEEP_INSERT,
                   "INSERT INTO sweeps (name, body, metric, goal, early_stopping, configurations)"
                   " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                   6, sv, NULL, NULL, 0, err, "insert sweep");
    if (!r)
        return gd_pg_end(s, c, gd_pg_fail(err), err, "insert sweep");
    int64_t sid = gd_pg_get_i64(r, 0, 0);
    PQclear(r);
    gd_pg_i64(b2, sid);
    for (int i = 0; i < n; i++) {
        const char *rv[5] = {runs[i].name ? runs[i].name : "",
                             runs[i].spec_json ? runs[i].spec_json : "{}",
                             gd_pg_i64(b3, runs[i].steps), b2, gd_pg_i64(b4, runs[i].config)};
        r = gd_pg_exec(s, c, GD_PG_SWEEP_RUN_INSERT,
                       "INSERT INTO runs (name, spec, steps, sweep, config)"
                       " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                       5, rv, NULL, NULL, 0, err, "insert sweep run");
        if (!r)
            return gd_pg_end(s, c, gd_pg_fail(err), err, "insert sweep");
        run_ids[i] = gd_pg_get_i64(r, 0, 0);
        PQclear(r);
    }
    /* queued runs are news for every daemon's idle workers */
    ret = gd_pg_command(s, c, "NOTIFY ganctl, 'q'", err, "insert sweep");
    if ((ret = gd_pg_end(s, c, ret, err, "insert sweep")) == 0)
        *id = sid;
    return ret;
}

#define SWEEP_COLS                                                                                 \
    "id, name, body, metric, goal, early_stopping, configurations, " GD_PG_TIME("created_at")

static void fill_sweep(const PGresult *r, int i, void *elem)
{
    struct gd_sweep *w = elem;
    w->id = gd_pg_get_i64(r, i, 0);
    gd_pg_copy_text(w->name, sizeof(w->name), r, i, 1);
    w->body = gd_pg_dup_text(r, i, 2);
    gd_pg_copy_text(w->metric, sizeof(w->metric), r, i, 3);
    w->goal_max = strcmp(PQgetvalue(r, i, 4), "max") == 0;
    w->early_stopping = PQgetvalue(r, i, 5)[0] == 't';
    w->configurations = (int)gd_pg_get_i64(r, i, 6);
    gd_pg_copy_text(w->created_at, sizeof(w->created_at), r, i, 7);
}

/* The rows of a sweeps query into *out; GC_ENOMEM (nothing kept) when a body could not
 * be copied. */
static int read_sweeps(PGresult *r, struct gd_sweep **out, int *n, struct gc_error *err)
{
    int ret = gd_pg_rows(r, sizeof(**out), fill_sweep, (void **)out, n, err);
    for (int i = 0; !ret && i < *n; i++) {
        if ((*out)[i].body)
            continue;
        for (int k = 0; k < *n; k++)
            gd_sweep_fini(&(*out)[k]);
        free(*out);
        *out = NULL;
        *n = 0;
        ret = gd_pg_no_memory(err);
    }
    return ret;
}

int gd_pg_sweep_get(struct gd_store *st, int64_t id, struct gd_sweep *out, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, id)};
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_SWEEP_GET, "SELECT " SWEEP_COLS " FROM sweeps WHERE id = $1", 1,
                    vals, NULL, NULL, 0, err, "get sweep");
    if (!r)
        return gd_pg_fail(err);
    struct gd_sweep *w = NULL;
    int n = 0, ret = read_sweeps(r, &w, &n, err);
    if (!ret && n == 0)
        ret = gc_error_set(err, GC_ENOTFOUND, "sweep %lld not found", (long long)id);
    else if (!ret)
        *out = w[0];
    free(w);
    return ret;
}

int gd_pg_sweep_list(struct gd_store *st, struct gd_sweep **out, int *n, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_SWEEP_LIST, "SELECT " SWEEP_COLS " FROM sweeps ORDER BY id DESC", 0,
                    NULL, NULL, NULL, 0, err, "list sweeps");
    if (!r)
        return gd_pg_fail(err);
    return read_sweeps(r, out, n, err);
}

static void fill_member(const PGresult *r, int i, void *elem)
{
    struct gd_sweep_member *m = elem;
    m->run = gd_pg_get_i64(r, i, 0);
    m->config = (int)gd_pg_get_i64(r, i, 1);
    int status = gd_status_from_name(PQgetvalue(r, i, 2));
    m->status = status < 0 ? GD_FAILED : (enum gd_status)status;
    m->step = gd_pg_get_i64(r, i, 3);
}

int gd_pg_sweep_runs(struct gd_store *st, int64_t sweep, struct gd_sweep_member **out, int *n,
                     struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, sweep)};
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_SWEEP_RUNS,
                    "SELECT id, config, status, step FROM runs WHERE sweep = $1 ORDER BY id", 1,
                    vals, NULL, NULL, 0, err, "list sweep runs");
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_rows(r, sizeof(**out), fill_member, (void **)out, n, err);
}

/* ---- the watchdog's records ---- */

int gd_pg_watch_put(struct gd_store *st, const struct gd_watch_record *w, int64_t *id,
                    struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b1[24], b2[24], b3[24], b4[32], b5[24];
    if (w->lr_scale > 0)
        snprintf(b4, sizeof b4, "%.17g", w->lr_scale);
    const char *vals[8] = {gd_pg_i64(b1, w->run),
                           gd_pg_i64(b2, w->step),
                           w->kind,
                           w->action,
                           w->to_step >= 0 ? gd_pg_i64(b3, w->to_step) : NULL,
                           w->lr_scale > 0 ? b4 : NULL,
                           w->message,
                           gd_pg_claim_param(s, w->run, b5)};
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_WATCH_PUT,
                    "WITH f AS (SELECT claim FROM runs WHERE id = $1),"
                    " ins AS (INSERT INTO watch_records (run, step, kind, action, to_step,"
                    " lr_scale, message) SELECT $1, $2, $3, $4, $5, $6, $7"
                    " WHERE EXISTS (SELECT 1 FROM f)"
                    " AND ($8::bigint IS NULL OR $8 = (SELECT claim FROM f)) RETURNING id)"
                    " SELECT (SELECT claim FROM f), (SELECT id FROM ins), (SELECT count(*) FROM f)",
                    8, vals, NULL, NULL, 0, err, "put watch record");
    if (!r)
        return gd_pg_fail(err);
    int ret = gd_pg_get_i64(r, 0, 2) == 0
                  ? gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)w->run)
                  : gd_pg_fenced(s, r, w->run, err);
    if (!ret && id)
        *id = gd_pg_get_i64(r, 0, 1);
    PQclear(r);
    return ret;
}

static void fill_record(const PGresult *r, int i, void *elem)
{
    struct gd_watch_record *w = elem;
    w->id = gd_pg_get_i64(r, i, 0);
    w->run = gd_pg_get_i64(r, i, 1);
    w->step = gd_pg_get_i64(r, i, 2);
    gd_pg_copy_text(w->kind, sizeof(w->kind), r, i, 3);
    gd_pg_copy_text(w->action, sizeof(w->action), r, i, 4);
    w->to_step = PQgetisnull(r, i, 5) ? -1 : gd_pg_get_i64(r, i, 5);
    w->lr_scale = PQgetisnull(r, i, 6) ? 0 : gd_pg_get_double(r, i, 6);
    gd_pg_copy_text(w->message, sizeof(w->message), r, i, 7);
    gd_pg_copy_text(w->created_at, sizeof(w->created_at), r, i, 8);
}

int gd_pg_watch_list(struct gd_store *st, const int64_t *runs, int nruns,
                     struct gd_watch_record **out, int *n, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char *ids = gd_pg_id_array(runs, nruns);
    if (!ids)
        return gd_pg_no_memory(err);
    const char *vals[1] = {ids};
    /* a page of runs in one statement, not one a run */
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_WATCH_LIST,
                    "SELECT id, run, step, kind, action, to_step, lr_scale, message, " GD_PG_TIME(
                        "created_at") " FROM watch_records WHERE run = ANY ($1::bigint[])"
                                      " ORDER BY run, id",
                    1, vals, NULL, NULL, 0, err, "list watch records");
    free(ids);
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_rows(r, sizeof(**out), fill_record, (void **)out, n, err);
}
