/* store_pg_runs.c — the runs table in PostgreSQL: a run's row from insert to delete,
 * its status and step (fenced when this store claimed the run), the queue's view (ids
 * and counts by status), and the totals over all runs that /metrics shows. Part of the
 * PostgreSQL store (see store_pg.h). */
#include <stdlib.h>

#include "daemon/store_pg.h"

#define RUN_COLS                                                                                   \
    "id, name, status, spec, step, steps, " GD_PG_TIME("created_at") ", " GD_PG_TIME(              \
        "started_at") ", " GD_PG_TIME("finished_at") ", error, worker, sweep, config,"             \
                                                     " provenance_version, provenance_commit, "    \
                                                     "provenance_compiler,"                        \
                                                     " provenance_blas, provenance_threads, "      \
                                                     "spec_hash, classes"

static int read_run(const PGresult *r, int row, struct gd_run *out, struct gc_error *err)
{
    memset(out, 0, sizeof(*out));
    out->id = gd_pg_get_i64(r, row, 0);
    gd_pg_copy_text(out->name, sizeof(out->name), r, row, 1);
    int status = gd_status_from_name(PQgetvalue(r, row, 2));
    out->status = status < 0 ? GD_FAILED : (enum gd_status)status;
    out->spec_json = gd_pg_dup_text(r, row, 3);
    out->step = gd_pg_get_i64(r, row, 4);
    out->steps = gd_pg_get_i64(r, row, 5);
    gd_pg_copy_text(out->created_at, sizeof(out->created_at), r, row, 6);
    gd_pg_copy_text(out->started_at, sizeof(out->started_at), r, row, 7);
    gd_pg_copy_text(out->finished_at, sizeof(out->finished_at), r, row, 8);
    out->error = gd_pg_dup_text(r, row, 9);
    gd_pg_copy_text(out->worker, sizeof(out->worker), r, row, 10);
    out->sweep = PQgetisnull(r, row, 11) ? 0 : gd_pg_get_i64(r, row, 11);
    out->config = (int)gd_pg_get_i64(r, row, 12);
    out->has_provenance = !PQgetisnull(r, row, 18);
    if (out->has_provenance) {
        struct gd_provenance *p = &out->prov;
        gd_pg_copy_text(p->version, sizeof(p->version), r, row, 13);
        gd_pg_copy_text(p->commit, sizeof(p->commit), r, row, 14);
        gd_pg_copy_text(p->compiler, sizeof(p->compiler), r, row, 15);
        gd_pg_copy_text(p->blas, sizeof(p->blas), r, row, 16);
        p->threads = (int)gd_pg_get_i64(r, row, 17);
        gd_pg_copy_text(p->spec_hash, sizeof(p->spec_hash), r, row, 18);
    }
    out->classes = gd_pg_dup_text(r, row, 19);
    if (!out->spec_json || (!PQgetisnull(r, row, 9) && !out->error) ||
        (!PQgetisnull(r, row, 19) && !out->classes)) {
        gd_run_fini(out);
        return gd_pg_no_memory(err);
    }
    return 0;
}

int gd_pg_run_insert(struct gd_store *st, const struct gd_worker_self *claim_for, const char *name,
                     const char *spec_json, int64_t steps, int64_t *id, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c)
        return GC_EUNAVAIL;
    char b1[24], b2[24];
    const char *vals[5] = {name ? name : "", spec_json ? spec_json : "{}", gd_pg_i64(b1, steps),
                           claim_for ? claim_for->name : NULL,
                           gd_pg_i64(b2, claim_for ? claim_for->lease_s : 0)};
    /* a run inserted claimed is running from its first moment, claim 1; a queued one is
     * news for every daemon's idle workers */
    PGresult *r = gd_pg_exec(
        s, c, GD_PG_RUN_INSERT,
        "WITH ins AS (INSERT INTO runs (name, spec, steps, status, worker, claim, started_at,"
        " lease_until) VALUES ($1, $2, $3, CASE WHEN $4::text IS NULL THEN 'queued' ELSE"
        " 'running' END, $4, CASE WHEN $4::text IS NULL THEN 0 ELSE 1 END,"
        " CASE WHEN $4::text IS NULL THEN NULL ELSE now() END,"
        " CASE WHEN $4::text IS NULL THEN NULL ELSE now() + make_interval(secs => $5) END)"
        " RETURNING id) SELECT id, CASE WHEN $4::text IS NULL THEN pg_notify('ganctl', 'q')"
        " END FROM ins",
        5, vals, NULL, NULL, 0, err, "insert run");
    int ret = GC_EIO;
    if (r) {
        int64_t rid = gd_pg_get_i64(r, 0, 0);
        if (id)
            *id = rid;
        if (claim_for)
            gd_claims_set(&s->base, rid, 1);
        PQclear(r);
        ret = 0;
    } else {
        ret = err ? err->code : GC_EIO;
    }
    gd_pg_release(c);
    return ret;
}

int gd_pg_run_get(struct gd_store *st, int64_t id, struct gd_run *out, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gc_error e = {0};
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, &e);
    int ret = e.code;
    if (c) {
        char b[24];
        const char *vals[1] = {gd_pg_i64(b, id)};
        PGresult *r = gd_pg_exec(s, c, GD_PG_RUN_GET, "SELECT " RUN_COLS " FROM runs WHERE id = $1",
                                 1, vals, NULL, NULL, 0, &e, "get run");
        ret = e.code;
        if (r) {
            ret = PQntuples(r) == 1
                      ? read_run(r, 0, out, &e)
                      : gc_error_set(&e, GC_ENOTFOUND, "run %lld not found", (long long)id);
            PQclear(r);
        }
        gd_pg_release(c);
    }
    if (ret && err)
        *err = e;
    return ret;
}

int gd_pg_run_list(struct gd_store *st, int status, int limit, int64_t cursor, struct gd_run **out,
                   int *n, int64_t *next, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    *out = NULL;
    *n = 0;
    *next = 0;
    if (limit <= 0)
        limit = 50;
    char b1[24], b2[24];
    const char *vals[3] = {
        status >= 0 && status < GD_NSTATUS ? gd_status_name((enum gd_status)status) : NULL,
        gd_pg_i64(b1, cursor), gd_pg_i64(b2, (int64_t)limit + 1)};
    /* one more than asked tells whether a next page exists */
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_RUN_LIST,
                    "SELECT " RUN_COLS " FROM runs WHERE ($1::text IS NULL OR status = $1)"
                    " AND ($2::bigint <= 0 OR id < $2) ORDER BY id DESC LIMIT $3",
                    3, vals, NULL, NULL, 0, err, "list runs");
    if (!r)
        return gd_pg_fail(err);
    int rows = PQntuples(r), cnt = rows > limit ? limit : rows, ret = 0;
    struct gd_run *runs = cnt ? calloc((size_t)cnt, sizeof(*runs)) : NULL;
    if (cnt && !runs)
        ret = gd_pg_no_memory(err);
    int got = 0;
    for (; !ret && got < cnt; got++)
        if ((ret = read_run(r, got, &runs[got], err)))
            break;
    PQclear(r);
    if (ret) {
        for (int i = 0; i < got; i++)
            gd_run_fini(&runs[i]);
        free(runs);
        return ret;
    }
    if (rows > limit)
        *next = runs[cnt - 1].id;
    *out = runs;
    *n = cnt;
    return 0;
}

int gd_pg_lock_run(struct gd_pg *s, struct gd_pg_conn *c, int64_t id, enum gd_request *req,
                   struct gc_error *err)
{
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, id)};
    PGresult *r = gd_pg_exec(s, c, GD_PG_RUN_LOCK,
                             "SELECT claim, requested FROM runs WHERE id = $1 FOR NO KEY UPDATE", 1,
                             vals, NULL, NULL, 0, err, "lock run");
    if (!r)
        return gd_pg_fail(err);
    int ret = 0;
    if (PQntuples(r) != 1) {
        ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
    } else {
        int64_t mine = gd_claims_get(&s->base, id), now = gd_pg_get_i64(r, 0, 0);
        if (req)
            *req = gd_request_from_name(PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1));
        if (mine && now != mine) {
            ret = gc_error_set(err, GC_ESTALE, "run %lld was taken over by another worker",
                               (long long)id);
        }
    }
    PQclear(r);
    return ret;
}

const char *gd_pg_claim_param(struct gd_pg *s, int64_t run, char *buf)
{
    int64_t c = gd_claims_get(&s->base, run);
    return c ? gd_pg_i64(buf, c) : NULL;
}

int gd_pg_fenced(struct gd_pg *s, PGresult *r, int64_t run, struct gc_error *err)
{
    int64_t mine = gd_claims_get(&s->base, run);
    int64_t now = PQntuples(r) ? gd_pg_get_i64(r, 0, 0) : 0;
    if (!mine || now == mine)
        return 0;
    return gc_error_set(err, GC_ESTALE, "run %lld was taken over by another worker",
                        (long long)run);
}

int gd_pg_set_step(struct gd_pg *s, struct gd_pg_conn *c, int64_t run, int64_t step,
                   struct gc_error *err)
{
    char b1[24], b2[24];
    const char *vals[2] = {gd_pg_i64(b1, run), gd_pg_i64(b2, step)};
    PGresult *r = gd_pg_exec(s, c, GD_PG_RUN_SET_STEP, "UPDATE runs SET step = $2 WHERE id = $1", 2,
                             vals, NULL, NULL, 0, err, "set step");
    if (!r)
        return gd_pg_fail(err);
    int changed = atoi(PQcmdTuples(r));
    PQclear(r);
    return changed ? 0 : gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)run);
}

int gd_pg_run_set_status(struct gd_store *st, int64_t id, enum gd_status stt, const char *error,
                         struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    /* the owner's status, fenced and with the user's request applied, giving the run up
     * unless it goes on running */
    enum gd_request req = GD_REQ_NONE;
    int ret;
    struct gd_pg_conn *c = gd_pg_begin(s, id, &req, &ret, err, "set status");
    if (!c)
        return ret;
    if (stt != GD_RUNNING)
        stt = gd_store_final_status(stt, req);
    /* a cancel the user's request brought keeps the reason it came with (a sweep's) */
    int keep_error = !error && stt == GD_CANCELED && req == GD_REQ_CANCEL;
    char b[24];
    const char *vals[4] = {gd_pg_i64(b, id), gd_status_name(stt), error, keep_error ? "t" : "f"};
    ret = gd_pg_do(
        s, c, GD_PG_RUN_RELEASE,
        "UPDATE runs SET status = $2, error = CASE WHEN $4::boolean THEN error ELSE $3 END,"
        " started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now())"
        " ELSE started_at END,"
        " finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'canceled') THEN now() END,"
        " worker = CASE WHEN $2 = 'running' THEN worker END,"
        " lease_until = CASE WHEN $2 = 'running' THEN lease_until END,"
        " requested = CASE WHEN $2 = 'running' THEN requested END WHERE id = $1",
        4, vals, NULL, NULL, err, "set status");
    /* a run that went back to the queue is news for every daemon's workers */
    if (!ret && stt == GD_QUEUED)
        ret = gd_pg_command(s, c, "NOTIFY ganctl, 'q'", err, "set status");
    ret = gd_pg_end(s, c, ret, err, "set status");
    if (!ret && stt != GD_RUNNING)
        gd_claims_drop(&s->base, id);
    return ret;
}

int gd_pg_run_set_step(struct gd_store *st, int64_t id, int64_t step, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    int ret;
    struct gd_pg_conn *c = gd_pg_begin(s, id, NULL, &ret, err, "set step");
    if (!c)
        return ret;
    return gd_pg_end(s, c, gd_pg_set_step(s, c, id, step, err), err, "set step");
}

int gd_pg_run_set_classes(struct gd_store *st, int64_t id, const char *classes,
                          struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    int ret;
    struct gd_pg_conn *c = gd_pg_begin(s, id, NULL, &ret, err, "set classes");
    if (!c)
        return ret;
    char b[24];
    const char *vals[2] = {gd_pg_i64(b, id), classes};
    ret = gd_pg_do(s, c, GD_PG_RUN_SET_CLASSES, "UPDATE runs SET classes = $2 WHERE id = $1", 2,
                   vals, NULL, NULL, err, "set classes");
    return gd_pg_end(s, c, ret, err, "set classes");
}

int gd_pg_run_delete(struct gd_store *st, int64_t id, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    char b[24];
    const char *vals[1] = {gd_pg_i64(b, id)};
    PGresult *r = gd_pg_query(s, 0, GD_PG_RUN_DELETE, "DELETE FROM runs WHERE id = $1", 1, vals,
                              NULL, NULL, 0, err, "delete run");
    if (!r)
        return gd_pg_fail(err);
    int changed = atoi(PQcmdTuples(r));
    PQclear(r);
    return changed ? 0 : gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
}

int gd_pg_run_ids(struct gd_store *st, enum gd_status stt, int64_t **ids, int *n,
                  struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    *ids = NULL;
    *n = 0;
    const char *vals[1] = {gd_status_name(stt)};
    PGresult *r =
        gd_pg_query(s, 0, GD_PG_RUN_IDS, "SELECT id FROM runs WHERE status = $1 ORDER BY id", 1,
                    vals, NULL, NULL, 0, err, "list run ids");
    if (!r)
        return gd_pg_fail(err);
    return gd_pg_ids(r, ids, n, err);
}

int gd_pg_run_count(struct gd_store *st, enum gd_status stt, int64_t *n, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    const char *vals[1] = {gd_status_name(stt)};
    PGresult *r = gd_pg_query(s, 0, GD_PG_RUN_COUNT, "SELECT count(*) FROM runs WHERE status = $1",
                              1, vals, NULL, NULL, 0, err, "count runs");
    if (!r)
        return gd_pg_fail(err);
    *n = gd_pg_get_i64(r, 0, 0);
    PQclear(r);
    return 0;
}

int gd_pg_stats(struct gd_store *st, struct gd_store_stats *out, struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c)
        return GC_EUNAVAIL;
    int ret = 0;
    PGresult *r =
        gd_pg_exec(s, c, GD_PG_STATS_STATUS, "SELECT status, count(*) FROM runs GROUP BY status", 0,
                   NULL, NULL, NULL, 0, err, "stats");
    if (!r) {
        ret = err ? err->code : GC_EIO;
        goto out;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        int k = gd_status_from_name(PQgetvalue(r, i, 0));
        if (k >= 0)
            out->runs_by_status[k] = gd_pg_get_i64(r, i, 1);
    }
    PQclear(r);
    r = gd_pg_exec(
        s, c, GD_PG_STATS_STEPS,
        "SELECT coalesce(sum(step), 0), coalesce(sum(step * ganctl_batch_size(spec)), 0),"
        " pg_database_size(current_database()) FROM runs",
        0, NULL, NULL, NULL, 0, err, "stats");
    if (!r) {
        ret = err ? err->code : GC_EIO;
        goto out;
    }
    out->steps_total = gd_pg_get_i64(r, 0, 0);
    out->images_total = gd_pg_get_i64(r, 0, 1);
    out->bytes = gd_pg_get_i64(r, 0, 2);
    PQclear(r);
out:
    gd_pg_release(c);
    return ret;
}
