/* store_sqlite_runs.c — the runs table: a run's row from insert to delete, its status
 * and step (fenced when this store claimed the run), the queue's view (ids and counts
 * by status), and the totals over all runs that /metrics shows. Part of the SQLite
 * store (see store_sqlite.h). */
#include <stdlib.h>
#include <sys/stat.h>

#include "daemon/store_sqlite.h"

#define RUN_COLS                                                                                   \
    "id, name, status, spec, step, steps, created_at, started_at, finished_at, error, sweep,"      \
    " config, provenance_version, provenance_commit, provenance_compiler, provenance_blas,"        \
    " provenance_threads, spec_hash, worker, classes"

#define SQL_SET_STEP "UPDATE runs SET step = ?2 WHERE id = ?1"

static int read_run(sqlite3_stmt *st, struct gd_run *r, struct gc_error *err)
{
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    gd_sqlite_copy_text(r->name, sizeof(r->name), sqlite3_column_text(st, 1));
    int status = gd_status_from_name((const char *)sqlite3_column_text(st, 2));
    r->status = status < 0 ? GD_FAILED : (enum gd_status)status;
    r->step = sqlite3_column_int64(st, 4);
    r->steps = sqlite3_column_int64(st, 5);
    gd_sqlite_copy_text(r->created_at, sizeof(r->created_at), sqlite3_column_text(st, 6));
    gd_sqlite_copy_text(r->started_at, sizeof(r->started_at), sqlite3_column_text(st, 7));
    gd_sqlite_copy_text(r->finished_at, sizeof(r->finished_at), sqlite3_column_text(st, 8));
    gd_sqlite_copy_text(r->worker, sizeof(r->worker), sqlite3_column_text(st, 18));
    r->spec_json = gd_sqlite_dup_text(sqlite3_column_text(st, 3));
    if (!r->spec_json)
        r->spec_json = strdup("{}");
    if (sqlite3_column_type(st, 9) != SQLITE_NULL)
        r->error = gd_sqlite_dup_text(sqlite3_column_text(st, 9));
    r->sweep = sqlite3_column_type(st, 10) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 10);
    r->config = sqlite3_column_int(st, 11);
    r->has_provenance = sqlite3_column_type(st, 17) != SQLITE_NULL;
    if (r->has_provenance) {
        struct gd_provenance *p = &r->prov;
        gd_sqlite_copy_text(p->version, sizeof(p->version), sqlite3_column_text(st, 12));
        gd_sqlite_copy_text(p->commit, sizeof(p->commit), sqlite3_column_text(st, 13));
        gd_sqlite_copy_text(p->compiler, sizeof(p->compiler), sqlite3_column_text(st, 14));
        gd_sqlite_copy_text(p->blas, sizeof(p->blas), sqlite3_column_text(st, 15));
        p->threads = sqlite3_column_int(st, 16);
        gd_sqlite_copy_text(p->spec_hash, sizeof(p->spec_hash), sqlite3_column_text(st, 17));
    }
    if (sqlite3_column_type(st, 19) != SQLITE_NULL)
        r->classes = gd_sqlite_dup_text(sqlite3_column_text(st, 19));
    if (!r->spec_json || (sqlite3_column_type(st, 9) != SQLITE_NULL && !r->error) ||
        (sqlite3_column_type(st, 19) != SQLITE_NULL && !r->classes)) {
        gd_run_fini(r);
        return gd_sqlite_no_memory(err);
    }
    return 0;
}

static int fill_run(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    return read_run(st, elem, err);
}

static void clear_run(void *elem)
{
    gd_run_fini(elem);
}

/* The outcome ret of a write to the run id, which must have changed a row. */
static int run_changed(struct gd_sqlite *s, int ret, int64_t id, struct gc_error *err)
{
    if (!ret && sqlite3_changes(s->w.db) == 0)
        ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
    return ret;
}

int gd_sqlite_run_insert(struct gd_store *st_, const struct gd_worker_self *claim_for,
                         const char *name, const char *spec_json, int64_t steps, int64_t *id,
                         struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret = GC_EIO;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    /* a run inserted claimed is running from its first moment, claim 1 */
    sqlite3_stmt *st = gd_sqlite_stmt(
        c, GD_SQ_RUN_INSERT,
        "INSERT INTO runs (name, spec, steps, created_at, status, worker, claim, started_at)"
        " VALUES (?1, ?2, ?3, " GD_SQL_NOW ", CASE WHEN ?4 IS NULL THEN 'queued' ELSE"
        " 'running' END, ?4, ?4 IS NOT NULL, CASE WHEN ?4 IS NULL THEN '' ELSE " GD_SQL_NOW " END)",
        err);
    if (st) {
        sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, spec_json ? spec_json : "{}", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, steps);
        if (claim_for)
            sqlite3_bind_text(st, 4, claim_for->name, -1, SQLITE_STATIC);
        ret = gd_sqlite_exec_done(c, st, err, "insert run");
        int64_t rid = sqlite3_last_insert_rowid(c->db);
        if (!ret && id)
            *id = rid;
        if (!ret && claim_for)
            gd_claims_set(&s->base, rid, 1);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_run_get(struct gd_store *st_, int64_t id, struct gd_run *out, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_read_start(s, err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st =
        gd_sqlite_stmt(c, GD_SQ_RUN_GET, "SELECT " RUN_COLS " FROM runs WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            ret = read_run(st, out, err);
        else if (rc == SQLITE_DONE)
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
        else
            ret = gd_sqlite_error(c, err, "get run");
        sqlite3_reset(st);
    }
    gd_sqlite_read_end(c);
    return ret;
}

int gd_sqlite_run_list(struct gd_store *st_, int status, int limit, int64_t cursor,
                       struct gd_run **out, int *n, int64_t *next, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    *out = NULL;
    *n = 0;
    *next = 0;
    if (limit <= 0)
        limit = 50;
    struct gd_sqlite_conn *c = gd_sqlite_read_start(s, err);
    if (!c)
        return GC_EIO;
    struct gd_run *runs = NULL;
    int cnt = 0, ret = GC_EIO;
    /* with a status, its index; without, the primary key: either way a page reads a
     * page of rows */
    int by_status = status >= 0 && status < GD_NSTATUS;
    sqlite3_stmt *st = by_status ? gd_sqlite_stmt(c, GD_SQ_RUN_LIST_STATUS,
                                                  "SELECT " RUN_COLS " FROM runs WHERE status = ?1"
                                                  " AND id < ?2 ORDER BY id DESC LIMIT ?3",
                                                  err)
                                 : gd_sqlite_stmt(c, GD_SQ_RUN_LIST,
                                                  "SELECT " RUN_COLS " FROM runs WHERE id < ?2"
                                                  " ORDER BY id DESC LIMIT ?3",
                                                  err);
    if (st) {
        if (by_status)
            sqlite3_bind_text(st, 1, gd_status_name((enum gd_status)status), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, cursor > 0 ? cursor : INT64_MAX);
        /* one more than asked tells whether a next page exists */
        sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
        ret = gd_sqlite_read_rows(c, st, sizeof(*runs), fill_run, clear_run, (void **)&runs, &cnt,
                                  err, "list runs");
    }
    gd_sqlite_read_end(c);
    if (ret)
        return ret;
    if (cnt > limit) {
        gd_run_fini(&runs[limit]);
        cnt = limit;
        *next = runs[cnt - 1].id;
    }
    *out = runs;
    *n = cnt;
    return 0;
}

int gd_sqlite_fence(struct gd_sqlite *s, int64_t run, struct gc_error *err)
{
    int64_t mine = gd_claims_get(&s->base, run);
    if (!mine)
        return 0;
    sqlite3_stmt *st =
        gd_sqlite_stmt(&s->w, GD_SQ_RUN_FENCE, "SELECT claim FROM runs WHERE id = ?1", err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, run);
    int rc = sqlite3_step(st);
    int64_t now = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int ret = 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = gd_sqlite_error(&s->w, err, "check claim");
    sqlite3_reset(st);
    if (!ret && now != mine) {
        ret = gc_error_set(err, GC_ESTALE, "run %lld was taken over by another worker",
                           (long long)run);
    }
    return ret;
}

/* The owner's status: fenced, with the user's pending request applied, giving the run
 * up unless it goes on running. Inside a write. */
static int release(struct gd_sqlite *s, int64_t id, enum gd_status stt, const char *error,
                   struct gc_error *err)
{
    int ret;
    if ((ret = gd_sqlite_fence(s, id, err)))
        return ret;
    sqlite3_stmt *st = gd_sqlite_stmt(&s->w, GD_SQ_RUN_RELEASE_GET,
                                      "SELECT requested FROM runs WHERE id = ?1", err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, id);
    enum gd_request req = GD_REQ_NONE;
    if (sqlite3_step(st) == SQLITE_ROW)
        req = gd_request_from_name((const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (stt != GD_RUNNING)
        stt = gd_store_final_status(stt, req);
    /* a cancel the user's request brought keeps the reason it came with (a sweep's) */
    int keep_error = !error && stt == GD_CANCELED && req == GD_REQ_CANCEL;
    st = gd_sqlite_stmt(
        &s->w, GD_SQ_RUN_RELEASE,
        "UPDATE runs SET status = ?2, error = CASE WHEN ?4 THEN error ELSE ?3 END,"
        " started_at = CASE WHEN ?2 = 'running' AND started_at = '' THEN " GD_SQL_NOW
        " ELSE started_at END,"
        " finished_at = CASE WHEN ?2 IN ('succeeded', 'failed', 'canceled') THEN " GD_SQL_NOW
        " ELSE '' END,"
        " worker = CASE WHEN ?2 = 'running' THEN worker ELSE NULL END,"
        " requested = CASE WHEN ?2 = 'running' THEN requested ELSE NULL END WHERE id = ?1",
        err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, gd_status_name(stt), -1, SQLITE_STATIC);
    if (error)
        sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, keep_error);
    return run_changed(s, gd_sqlite_exec_done(&s->w, st, err, "set status"), id, err);
}

int gd_sqlite_run_set_status(struct gd_store *st_, int64_t id, enum gd_status stt,
                             const char *error, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret;
    gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "set status")))
        return gd_sqlite_write_end(s, ret);
    if ((ret = release(s, id, stt, error, err)) || (ret = gd_sqlite_commit(s, err, "set status")))
        gd_sqlite_rollback(s);
    else if (stt != GD_RUNNING)
        gd_claims_drop(&s->base, id);
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_set_step(struct gd_sqlite *s, int64_t run, int64_t step, struct gc_error *err)
{
    return gd_sqlite_exec_pair(&s->w, GD_SQ_RUN_SET_STEP, SQL_SET_STEP, run, step, err, "set step");
}

int gd_sqlite_run_set_classes(struct gd_store *st_, int64_t id, const char *classes,
                              struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    int ret = gd_sqlite_fence(s, id, err);
    sqlite3_stmt *st = ret ? NULL
                           : gd_sqlite_stmt(c, GD_SQ_RUN_SET_CLASSES,
                                            "UPDATE runs SET classes = ?2 WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        if (classes)
            sqlite3_bind_text(st, 2, classes, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2);
        ret = run_changed(s, gd_sqlite_exec_done(c, st, err, "set classes"), id, err);
    } else if (!ret) {
        ret = GC_EIO;
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_run_set_step(struct gd_store *st_, int64_t id, int64_t step, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    gd_sqlite_write_start(s);
    int ret = gd_sqlite_fence(s, id, err);
    if (!ret)
        ret = run_changed(s, gd_sqlite_set_step(s, id, step, err), id, err);
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_run_delete(struct gd_store *st_, int64_t id, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret = GC_EIO;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_RUN_DELETE, "DELETE FROM runs WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        ret = run_changed(s, gd_sqlite_exec_done(c, st, err, "delete run"), id, err);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_run_ids(struct gd_store *st_, enum gd_status stt, int64_t **ids, int *n,
                      struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret =
        gd_sqlite_query_ids(c, GD_SQ_RUN_IDS, "SELECT id FROM runs WHERE status = ?1 ORDER BY id",
                            gd_status_name(stt), 0, ids, n, err, "list run ids");
    gd_sqlite_read_end(c);
    return ret;
}

int gd_sqlite_run_count(struct gd_store *st_, enum gd_status stt, int64_t *n, struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st =
        gd_sqlite_stmt(c, GD_SQ_RUN_COUNT, "SELECT count(*) FROM runs WHERE status = ?1", err);
    if (st) {
        sqlite3_bind_text(st, 1, gd_status_name(stt), -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *n = sqlite3_column_int64(st, 0);
            ret = 0;
        } else {
            ret = gd_sqlite_error(c, err, "count runs");
        }
        sqlite3_reset(st);
    }
    gd_sqlite_read_end(c);
    return ret;
}

/* ---- totals for /metrics ---- */

static int64_t file_size(const char *path, const char *suffix)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s%s", path, suffix);
    struct stat sb;
    return stat(p, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

int gd_sqlite_stats(struct gd_store *st_, struct gd_store_stats *out, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_read_start(s, err);
    if (!c)
        return GC_EIO;
    int ret = 0, rc;
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_STATS_STATUS,
                                      "SELECT status, count(*) FROM runs GROUP BY status", err);
    if (!st) {
        ret = GC_EIO;
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int i = gd_status_from_name((const char *)sqlite3_column_text(st, 0));
        if (i >= 0)
            out->runs_by_status[i] = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        ret = gd_sqlite_error(c, err, "stats");
        goto out;
    }
    st = gd_sqlite_stmt(c, GD_SQ_STATS_STEPS,
                        "SELECT coalesce(sum(step), 0), coalesce(sum(step * CASE WHEN"
                        " json_valid(spec) THEN coalesce(json_extract(spec, '$.train.batch_size'),"
                        " 0) ELSE 0 END), 0) FROM runs",
                        err);
    if (!st) {
        ret = GC_EIO;
        goto out;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->steps_total = sqlite3_column_int64(st, 0);
        out->images_total = sqlite3_column_int64(st, 1);
    } else {
        ret = gd_sqlite_error(c, err, "stats");
    }
    sqlite3_reset(st);
    out->bytes = file_size(s->path, "") + file_size(s->path, "-wal");
out:
    gd_sqlite_read_end(c);
    return ret;
}
