/* store_sqlite_runs.c — the runs table: a run's row from insert to delete, its status
 * and step, the queue's view (ids by status), and the totals over all runs that
 * /metrics shows. Part of the SQLite store (see store_sqlite.h). */
#include <stdlib.h>
#include <sys/stat.h>

#include "daemon/store_sqlite.h"

#define RUN_COLS                                                                                   \
    "id, name, status, spec, step, steps, created_at, started_at, finished_at, error, sweep,"      \
    " config, provenance_version, provenance_commit, provenance_compiler, provenance_blas,"        \
    " provenance_threads, spec_hash, classes"

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
    if (sqlite3_column_type(st, 18) != SQLITE_NULL)
        r->classes = gd_sqlite_dup_text(sqlite3_column_text(st, 18));
    if (!r->spec_json || (sqlite3_column_type(st, 9) != SQLITE_NULL && !r->error) ||
        (sqlite3_column_type(st, 18) != SQLITE_NULL && !r->classes)) {
        gd_run_fini(r);
        return gd_sqlite_no_memory(err);
    }
    return 0;
}

/* The outcome ret of a write to the run id, which must have changed a row. */
static int run_changed(struct gd_store *s, int ret, int64_t id, struct gc_error *err)
{
    if (!ret && sqlite3_changes(s->db) == 0)
        ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
    return ret;
}

int gd_store_run_insert(struct gd_store *s, const char *name, const char *spec_json, int64_t steps,
                        int64_t *id, struct gc_error *err)
{
    int ret = GC_EIO;
    gd_sqlite_write_start(s);
    sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_RUN_INSERT,
                                      "INSERT INTO runs (name, spec, steps, created_at)"
                                      " VALUES (?1, ?2, ?3, " GD_SQL_NOW ")",
                                      err);
    if (st) {
        sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, spec_json ? spec_json : "{}", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, steps);
        ret = gd_sqlite_exec_done(s, st, err, "insert run");
        if (!ret && id)
            *id = sqlite3_last_insert_rowid(s->db);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_store_run_get(struct gd_store *s, int64_t id, struct gd_run *out, struct gc_error *err)
{
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        gd_sqlite_stmt(s, GD_SQ_RUN_GET, "SELECT " RUN_COLS " FROM runs WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            ret = read_run(st, out, err);
        else if (rc == SQLITE_DONE)
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
        else
            ret = gd_sqlite_error(s, err, "get run");
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_run_list(struct gd_store *s, int status, int limit, int64_t cursor,
                      struct gd_run **out, int *n, int64_t *next, struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    *next = 0;
    if (limit <= 0)
        limit = 50;
    struct gd_run *runs = NULL;
    int cnt = 0, cap = 0, ret = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        gd_sqlite_stmt(s, GD_SQ_RUN_LIST,
                       "SELECT " RUN_COLS " FROM runs WHERE (?1 IS NULL OR status = ?1)"
                       " AND (?2 <= 0 OR id < ?2) ORDER BY id DESC LIMIT ?3",
                       err);
    if (!st) {
        ret = GC_EIO;
        goto out;
    }
    if (status >= 0 && status < GD_NSTATUS)
        sqlite3_bind_text(st, 1, gd_status_name((enum gd_status)status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    /* one more than asked tells whether a next page exists */
    sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == limit) {
            *next = runs[cnt - 1].id;
            break;
        }
        if (gd_sqlite_grow((void **)&runs, &cap, cnt + 1, sizeof(*runs))) {
            ret = gd_sqlite_no_memory(err);
            break;
        }
        if ((ret = read_run(st, &runs[cnt], err)))
            break;
        cnt++;
    }
    if (!ret && rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = gd_sqlite_error(s, err, "list runs");
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&s->mu);
    if (ret) {
        for (int i = 0; i < cnt; i++)
            gd_run_fini(&runs[i]);
        free(runs);
        *next = 0;
        return ret;
    }
    *out = runs;
    *n = cnt;
    return 0;
}

int gd_store_run_set_status(struct gd_store *s, int64_t id, enum gd_status stt, const char *error,
                            struct gc_error *err)
{
    int ret = GC_EIO;
    gd_sqlite_write_start(s);
    sqlite3_stmt *st = gd_sqlite_stmt(
        s, GD_SQ_RUN_SET_STATUS,
        "UPDATE runs SET status = ?2, error = ?3,"
        " started_at = CASE WHEN ?2 = 'running' AND started_at = '' THEN " GD_SQL_NOW
        " ELSE started_at END,"
        " finished_at = CASE WHEN ?2 IN ('succeeded', 'failed', 'canceled') THEN " GD_SQL_NOW
        " ELSE '' END WHERE id = ?1",
        err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, gd_status_name(stt), -1, SQLITE_STATIC);
        if (error)
            sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
        ret = run_changed(s, gd_sqlite_exec_done(s, st, err, "set status"), id, err);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_set_step(struct gd_store *s, int64_t run, int64_t step, struct gc_error *err)
{
    return gd_sqlite_exec_pair(s, GD_SQ_RUN_SET_STEP, SQL_SET_STEP, run, step, err, "set step");
}

int gd_store_run_set_classes(struct gd_store *s, int64_t id, const char *classes,
                             struct gc_error *err)
{
    int ret = GC_EIO;
    gd_sqlite_write_start(s);
    sqlite3_stmt *st =
        gd_sqlite_stmt(s, GD_SQ_RUN_SET_CLASSES, "UPDATE runs SET classes = ?2 WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        if (classes)
            sqlite3_bind_text(st, 2, classes, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2);
        ret = run_changed(s, gd_sqlite_exec_done(s, st, err, "set classes"), id, err);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_store_run_set_step(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err)
{
    gd_sqlite_write_start(s);
    int ret = gd_sqlite_set_step(s, id, step, err);
    return gd_sqlite_write_end(s, run_changed(s, ret, id, err));
}

int gd_store_run_delete(struct gd_store *s, int64_t id, struct gc_error *err)
{
    int ret = GC_EIO;
    gd_sqlite_write_start(s);
    sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_RUN_DELETE, "DELETE FROM runs WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        ret = run_changed(s, gd_sqlite_exec_done(s, st, err, "delete run"), id, err);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_store_run_ids(struct gd_store *s, enum gd_status stt, int64_t **ids, int *n,
                     struct gc_error *err)
{
    pthread_mutex_lock(&s->mu);
    int ret =
        gd_sqlite_query_ids(s, GD_SQ_RUN_IDS, "SELECT id FROM runs WHERE status = ?1 ORDER BY id",
                            gd_status_name(stt), 0, ids, n, err, "list run ids");
    pthread_mutex_unlock(&s->mu);
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

int gd_store_stats(struct gd_store *s, struct gd_store_stats *out, struct gc_error *err)
{
    memset(out, 0, sizeof(*out));
    int ret = 0, rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_STATS_STATUS,
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
        ret = gd_sqlite_error(s, err, "stats");
        goto out;
    }
    st = gd_sqlite_stmt(s, GD_SQ_STATS_STEPS,
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
        ret = gd_sqlite_error(s, err, "stats");
    }
    sqlite3_reset(st);
    out->bytes = file_size(s->path, "") + file_size(s->path, "-wal");
out:
    pthread_mutex_unlock(&s->mu);
    return ret;
}
