/* store_sqlite_sweeps.c — sweeps and the runs they make (queued, for any worker to
 * claim), the watchdog's records, a run's provenance and the rewind that follows a
 * rollback (both the owner's writes, fenced). Part of the SQLite store (see
 * store_sqlite.h). */
#include <stdlib.h>

#include "daemon/store_sqlite.h"

/* ---- provenance and rewind ---- */

int gd_sqlite_run_set_provenance(struct gd_store *st_, int64_t id, const struct gd_provenance *p,
                                 struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    int ret = gd_sqlite_fence(s, id, err);
    if (ret)
        return gd_sqlite_write_end(s, ret);
    ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(
        c, GD_SQ_RUN_PROVENANCE,
        "UPDATE runs SET provenance_version = ?2, provenance_commit = ?3, provenance_compiler = ?4,"
        " provenance_blas = ?5, provenance_threads = ?6, spec_hash = ?7 WHERE id = ?1",
        err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, p->version, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, p->commit, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, p->compiler, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, p->blas, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, p->threads);
        sqlite3_bind_text(st, 7, p->spec_hash, -1, SQLITE_STATIC);
        ret = gd_sqlite_exec_done(c, st, err, "set provenance");
        if (!ret && sqlite3_changes(c->db) == 0)
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_run_rewind(struct gd_store *st_, int64_t id, int64_t step, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "rewind")))
        return gd_sqlite_write_end(s, ret);
    /* the newest value of a name written after step becomes its newest point left (one
     * seek each), or goes with the name's last point */
    if ((ret = gd_sqlite_fence(s, id, err)) ||
        (ret = gd_sqlite_exec_pair(c, GD_SQ_REWIND_METRICS,
                                   "DELETE FROM metrics WHERE run = ?1 AND step > ?2", id, step,
                                   err, "rewind metrics")) ||
        (ret = gd_sqlite_exec_pair(
             c, GD_SQ_REWIND_LATEST,
             "INSERT OR REPLACE INTO metrics_latest (run, name, kind, step, value)"
             " SELECT m.run, m.name, m.kind, m.step, m.value FROM metrics_latest AS l"
             " JOIN metrics AS m ON m.run = l.run AND m.name = l.name AND m.step ="
             " (SELECT max(step) FROM metrics WHERE run = l.run AND name = l.name)"
             " WHERE l.run = ?1 AND l.step > ?2",
             id, step, err, "rewind newest values")) ||
        (ret = gd_sqlite_exec_pair(c, GD_SQ_REWIND_LATEST_DROP,
                                   "DELETE FROM metrics_latest WHERE run = ?1 AND step > ?2", id,
                                   step, err, "rewind newest values")) ||
        (ret = gd_sqlite_exec_pair(c, GD_SQ_REWIND_SAMPLES,
                                   "DELETE FROM samples WHERE run = ?1 AND step > ?2", id, step,
                                   err, "rewind samples")) ||
        (ret = gd_sqlite_exec_pair(c, GD_SQ_REWIND_CKPTS,
                                   "DELETE FROM checkpoints WHERE run = ?1 AND step > ?2", id, step,
                                   err, "rewind checkpoints")) ||
        (ret = gd_sqlite_set_step(s, id, step, err)) ||
        (ret = gd_sqlite_commit(s, err, "rewind"))) {
        gd_sqlite_rollback(s);
        return gd_sqlite_write_end(s, ret);
    }
    return gd_sqlite_write_end(s, 0);
}

/* ---- sweeps ---- */

int gd_sqlite_sweep_insert(struct gd_store *st_, const struct gd_sweep *w,
                           const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *run_ids,
                           struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "insert sweep")))
        return gd_sqlite_write_end(s, ret);
    sqlite3_stmt *st =
        gd_sqlite_stmt(c, GD_SQ_SWEEP_INSERT,
                       "INSERT INTO sweeps (name, body, metric, goal, early_stopping,"
                       " configurations, created_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, " GD_SQL_NOW ")",
                       err);
    if (!st) {
        ret = GC_EIO;
        goto undo;
    }
    sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->body ? w->body : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->metric, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->goal_max ? "max" : "min", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, w->early_stopping);
    sqlite3_bind_int(st, 6, w->configurations);
    if ((ret = gd_sqlite_exec_done(c, st, err, "insert sweep")))
        goto undo;
    int64_t sid = sqlite3_last_insert_rowid(c->db);
    for (int i = 0; i < n; i++) {
        st = gd_sqlite_stmt(c, GD_SQ_SWEEP_RUN_INSERT,
                            "INSERT INTO runs (name, spec, steps, created_at, sweep, config)"
                            " VALUES (?1, ?2, ?3, " GD_SQL_NOW ", ?4, ?5)",
                            err);
        if (!st) {
            ret = GC_EIO;
            goto undo;
        }
        sqlite3_bind_text(st, 1, runs[i].name ? runs[i].name : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, runs[i].spec_json ? runs[i].spec_json : "{}", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, runs[i].steps);
        sqlite3_bind_int64(st, 4, sid);
        sqlite3_bind_int(st, 5, runs[i].config);
        if ((ret = gd_sqlite_exec_done(c, st, err, "insert sweep run")))
            goto undo;
        run_ids[i] = sqlite3_last_insert_rowid(c->db);
    }
    if ((ret = gd_sqlite_commit(s, err, "insert sweep")))
        goto undo;
    *id = sid;
    return gd_sqlite_write_end(s, 0);
undo:
    gd_sqlite_rollback(s);
    return gd_sqlite_write_end(s, ret);
}

#define SWEEP_COLS "id, name, body, metric, goal, early_stopping, configurations, created_at"

static int fill_sweep(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    struct gd_sweep *w = elem;
    memset(w, 0, sizeof(*w));
    w->id = sqlite3_column_int64(st, 0);
    gd_sqlite_copy_text(w->name, sizeof(w->name), sqlite3_column_text(st, 1));
    w->body = gd_sqlite_dup_text(sqlite3_column_text(st, 2));
    gd_sqlite_copy_text(w->metric, sizeof(w->metric), sqlite3_column_text(st, 3));
    const unsigned char *goal = sqlite3_column_text(st, 4);
    w->goal_max = goal && strcmp((const char *)goal, "max") == 0;
    w->early_stopping = sqlite3_column_int(st, 5);
    w->configurations = sqlite3_column_int(st, 6);
    gd_sqlite_copy_text(w->created_at, sizeof(w->created_at), sqlite3_column_text(st, 7));
    if (!w->body)
        return gd_sqlite_no_memory(err);
    return 0;
}

static void clear_sweep(void *elem)
{
    gd_sweep_fini(elem);
}

int gd_sqlite_sweep_get(struct gd_store *st_, int64_t id, struct gd_sweep *out,
                        struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st =
        gd_sqlite_stmt(c, GD_SQ_SWEEP_GET, "SELECT " SWEEP_COLS " FROM sweeps WHERE id = ?1", err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            ret = fill_sweep(st, out, err);
        else if (rc == SQLITE_DONE)
            ret = gc_error_set(err, GC_ENOTFOUND, "sweep %lld not found", (long long)id);
        else
            ret = gd_sqlite_error(c, err, "get sweep");
        sqlite3_reset(st);
    }
    gd_sqlite_read_end(c);
    return ret;
}

int gd_sqlite_sweep_list(struct gd_store *st_, struct gd_sweep **out, int *n, struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_SWEEP_LIST,
                                      "SELECT " SWEEP_COLS " FROM sweeps ORDER BY id DESC", err);
    if (st)
        ret = gd_sqlite_read_rows(c, st, sizeof(**out), fill_sweep, clear_sweep, (void **)out, n,
                                  err, "list sweeps");
    gd_sqlite_read_end(c);
    return ret;
}

static int fill_member(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_sweep_member *m = elem;
    m->run = sqlite3_column_int64(st, 0);
    m->config = sqlite3_column_int(st, 1);
    int status = gd_status_from_name((const char *)sqlite3_column_text(st, 2));
    m->status = status < 0 ? GD_FAILED : (enum gd_status)status;
    m->step = sqlite3_column_int64(st, 3);
    return 0;
}

int gd_sqlite_sweep_runs(struct gd_store *st_, int64_t sweep, struct gd_sweep_member **out, int *n,
                         struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(
        c, GD_SQ_SWEEP_RUNS,
        "SELECT id, config, status, step FROM runs WHERE sweep = ?1 ORDER BY id", err);
    if (st) {
        sqlite3_bind_int64(st, 1, sweep);
        ret = gd_sqlite_read_rows(c, st, sizeof(**out), fill_member, NULL, (void **)out, n, err,
                                  "list sweep runs");
    }
    gd_sqlite_read_end(c);
    return ret;
}

/* ---- the watchdog's records ---- */

int gd_sqlite_watch_put(struct gd_store *st_, const struct gd_watch_record *r, int64_t *id,
                        struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    int ret = gd_sqlite_fence(s, r->run, err);
    if (ret)
        return gd_sqlite_write_end(s, ret);
    ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(
        c, GD_SQ_WATCH_PUT,
        "INSERT INTO watch_records (run, step, kind, action, to_step, lr_scale, message,"
        " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, " GD_SQL_NOW ")",
        err);
    if (st) {
        sqlite3_bind_int64(st, 1, r->run);
        sqlite3_bind_int64(st, 2, r->step);
        sqlite3_bind_text(st, 3, r->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->action, -1, SQLITE_STATIC);
        if (r->to_step >= 0)
            sqlite3_bind_int64(st, 5, r->to_step);
        if (r->lr_scale > 0)
            sqlite3_bind_double(st, 6, r->lr_scale);
        sqlite3_bind_text(st, 7, r->message, -1, SQLITE_STATIC);
        ret = gd_sqlite_exec_done(c, st, err, "put watch record");
        if (!ret && id)
            *id = sqlite3_last_insert_rowid(c->db);
    }
    return gd_sqlite_write_end(s, ret);
}

static int fill_record(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_watch_record *r = elem;
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    r->run = sqlite3_column_int64(st, 1);
    r->step = sqlite3_column_int64(st, 2);
    gd_sqlite_copy_text(r->kind, sizeof(r->kind), sqlite3_column_text(st, 3));
    gd_sqlite_copy_text(r->action, sizeof(r->action), sqlite3_column_text(st, 4));
    r->to_step = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
    r->lr_scale = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 6);
    gd_sqlite_copy_text(r->message, sizeof(r->message), sqlite3_column_text(st, 7));
    gd_sqlite_copy_text(r->created_at, sizeof(r->created_at), sqlite3_column_text(st, 8));
    return 0;
}

int gd_sqlite_watch_list(struct gd_store *st_, const int64_t *runs, int nruns,
                         struct gd_watch_record **out, int *n, struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    struct gd_watch_record *all = NULL;
    int cnt = 0, ret = 0;
    /* one read transaction for the page: one lock of the file */
    if (sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        ret = gd_sqlite_error(c, err, "list watch records");
    for (int i = 0; i < nruns && !ret; i++) {
        sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_WATCH_LIST,
                                          "SELECT id, run, step, kind, action, to_step, lr_scale,"
                                          " message, created_at FROM watch_records WHERE run = ?1"
                                          " ORDER BY id",
                                          err);
        if (!st) {
            ret = GC_EIO;
            break;
        }
        sqlite3_bind_int64(st, 1, runs[i]);
        struct gd_watch_record *r = NULL;
        int k = 0;
        if ((ret = gd_sqlite_read_rows(c, st, sizeof(*r), fill_record, NULL, (void **)&r, &k, err,
                                       "list watch records")))
            break;
        if (k) {
            struct gd_watch_record *grown = realloc(all, (size_t)(cnt + k) * sizeof(*all));
            if (!grown) {
                free(r);
                ret = gd_sqlite_no_memory(err);
                break;
            }
            all = grown;
            memcpy(all + cnt, r, (size_t)k * sizeof(*r));
            cnt += k;
        }
        free(r);
    }
    sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    gd_sqlite_read_end(c);
    if (ret) {
        free(all);
        return ret;
    }
    *out = all;
    *n = cnt;
    return 0;
}
