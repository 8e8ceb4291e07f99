/* store_sqlite_claims.c — who trains which run, in the SQLite store: claims, the runs
 * a previous life of the daemon left running, the user's verbs as one transaction, the
 * owner's poll of its requests, and the workers table. Part of the SQLite store (see
 * store_sqlite.h).
 *
 * A SQLite file has one daemon (and, while it runs, a `ganctld train`): every write
 * goes through the one writer, a transaction is BEGIN IMMEDIATE, and claims need no
 * leases. Other processes on the file (a `ganctld train`) are seen by polling: SQLite
 * has no channel for news. */
#include <stdlib.h>
#include <time.h>

#include "daemon/store_sqlite.h"

/* ---- claims ---- */

int gd_sqlite_run_claim(struct gd_store *st_, const struct gd_worker_self *me, int64_t want,
                        int64_t *id, char *taken_from, size_t cap, struct gc_error *err)
{
    (void)taken_from, (void)cap; /* no leases: a claimed run is never taken from anyone */
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "claim")))
        return gd_sqlite_write_end(s, ret);
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_RUN_CLAIM_PICK,
                                      "SELECT id, claim FROM runs WHERE status = 'queued'"
                                      " AND (?1 <= 0 OR id = ?1) ORDER BY id LIMIT 1",
                                      err);
    if (!st) {
        ret = GC_EIO;
        goto undo;
    }
    sqlite3_bind_int64(st, 1, want);
    int rc = sqlite3_step(st);
    int64_t rid = 0, claim = 0;
    if (rc == SQLITE_ROW) {
        rid = sqlite3_column_int64(st, 0);
        claim = sqlite3_column_int64(st, 1) + 1;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        ret = want > 0 ? gc_error_set(err, GC_ENOTFOUND, "run %lld is not queued", (long long)want)
                       : gc_error_set(err, GC_ENOTFOUND, "no queued run");
        goto undo;
    }
    if (rc != SQLITE_ROW) {
        ret = gd_sqlite_error(c, err, "claim");
        goto undo;
    }
    st = gd_sqlite_stmt(c, GD_SQ_RUN_CLAIM_TAKE,
                        "UPDATE runs SET status = 'running', worker = ?2, claim = ?3,"
                        " requested = NULL, error = NULL, finished_at = '',"
                        " started_at = CASE WHEN started_at = '' THEN " GD_SQL_NOW
                        " ELSE started_at END WHERE id = ?1",
                        err);
    if (!st) {
        ret = GC_EIO;
        goto undo;
    }
    sqlite3_bind_int64(st, 1, rid);
    sqlite3_bind_text(st, 2, me->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, claim);
    if ((ret = gd_sqlite_exec_done(c, st, err, "claim")) ||
        (ret = gd_sqlite_commit(s, err, "claim")))
        goto undo;
    gd_claims_set(&s->base, rid, claim);
    *id = rid;
    return gd_sqlite_write_end(s, 0);
undo:
    gd_sqlite_rollback(s);
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_run_recover(struct gd_store *st_, const struct gd_worker_self *me, int64_t **ids,
                          int *n, struct gc_error *err)
{
    (void)me; /* the file has one daemon: every run left running was its */
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int64_t *list = NULL;
    int cnt = 0, ret;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "recover")))
        return gd_sqlite_write_end(s, ret);
    if ((ret = gd_sqlite_query_ids(c, GD_SQ_RUN_IDS,
                                   "SELECT id FROM runs WHERE status = ?1 ORDER BY id", "running",
                                   0, &list, &cnt, err, "list run ids")))
        goto undo;
    for (int i = 0; i < cnt; i++) {
        /* a pause or cancel asked before the crash is what the run does now */
        sqlite3_stmt *st = gd_sqlite_stmt(
            c, GD_SQ_RUN_RECOVER,
            "UPDATE runs SET status = CASE requested WHEN 'cancel' THEN 'canceled'"
            " WHEN 'pause' THEN 'paused' ELSE 'queued' END,"
            " finished_at = CASE requested WHEN 'cancel' THEN " GD_SQL_NOW " ELSE '' END,"
            " worker = NULL, requested = NULL WHERE id = ?1",
            err);
        if (!st) {
            ret = GC_EIO;
            goto undo;
        }
        sqlite3_bind_int64(st, 1, list[i]);
        if ((ret = gd_sqlite_exec_done(c, st, err, "recover")))
            goto undo;
    }
    if ((ret = gd_sqlite_commit(s, err, "recover")))
        goto undo;
    *ids = list;
    *n = cnt;
    return gd_sqlite_write_end(s, 0);
undo:
    free(list);
    gd_sqlite_rollback(s);
    return gd_sqlite_write_end(s, ret);
}

/* ---- the user's verbs ---- */

int gd_sqlite_run_act(struct gd_store *st_, int64_t id, enum gd_action act, const char *reason,
                      struct gd_act_result *out, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "change run")))
        return gd_sqlite_write_end(s, ret);
    sqlite3_stmt *st =
        gd_sqlite_stmt(c, GD_SQ_RUN_ACT_GET,
                       "SELECT status, requested, worker, step FROM runs WHERE id = ?1", err);
    if (!st) {
        ret = GC_EIO;
        goto undo;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    enum gd_request req = GD_REQ_NONE;
    if (rc == SQLITE_ROW) {
        int stt = gd_status_from_name((const char *)sqlite3_column_text(st, 0));
        out->before = stt < 0 ? GD_FAILED : (enum gd_status)stt;
        req = gd_request_from_name((const char *)sqlite3_column_text(st, 1));
        gd_sqlite_copy_text(out->worker, sizeof out->worker, sqlite3_column_text(st, 2));
        out->step = sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
        goto undo;
    }
    if (rc != SQLITE_ROW) {
        ret = gd_sqlite_error(c, err, "change run");
        goto undo;
    }
    struct gd_act_plan p;
    if ((ret = gd_store_act_plan(id, act, out->before, req, &p, err)))
        goto undo;
    out->after = out->before;
    if (p.del) {
        st = gd_sqlite_stmt(c, GD_SQ_RUN_DELETE, "DELETE FROM runs WHERE id = ?1", err);
    } else if (p.set_status) {
        out->after = p.status;
        st = gd_sqlite_stmt(c, GD_SQ_RUN_ACT_STATUS,
                            "UPDATE runs SET status = ?2, worker = NULL, requested = NULL,"
                            " finished_at = CASE WHEN ?2 = 'canceled' THEN " GD_SQL_NOW
                            " ELSE '' END, error = coalesce(?3, error)"
                            " WHERE id = ?1",
                            err);
    } else {
        out->requested = 1;
        st = gd_sqlite_stmt(c, GD_SQ_RUN_ACT_REQUEST,
                            "UPDATE runs SET requested = ?2, error = coalesce(?3, error)"
                            " WHERE id = ?1",
                            err);
    }
    if (!st) {
        ret = GC_EIO;
        goto undo;
    }
    sqlite3_bind_int64(st, 1, id);
    if (p.set_status)
        sqlite3_bind_text(st, 2, gd_status_name(p.status), -1, SQLITE_STATIC);
    else if (p.set_request)
        sqlite3_bind_text(st, 2, gd_request_name(p.request), -1, SQLITE_STATIC);
    if (!p.del && reason)
        sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    if ((ret = gd_sqlite_exec_done(c, st, err, "change run")) ||
        (ret = gd_sqlite_commit(s, err, "change run")))
        goto undo;
    return gd_sqlite_write_end(s, 0);
undo:
    gd_sqlite_rollback(s);
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_run_requested(struct gd_store *st_, int64_t id, enum gd_request *req,
                            struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_read_start(s, err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_RUN_REQUESTED,
                                      "SELECT requested, claim FROM runs WHERE id = ?1", err);
    int64_t claim = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *req = gd_request_from_name((const char *)sqlite3_column_text(st, 0));
            claim = sqlite3_column_int64(st, 1);
            ret = 0;
        } else if (rc == SQLITE_DONE) {
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
        } else {
            ret = gd_sqlite_error(c, err, "read request");
        }
        sqlite3_reset(st);
    }
    gd_sqlite_read_end(c);
    int64_t mine = gd_claims_get(&s->base, id);
    if (!ret && mine && claim != mine) {
        ret = gc_error_set(err, GC_ESTALE, "run %lld was taken over by another worker",
                           (long long)id);
    }
    return ret;
}

/* ---- workers ---- */

int gd_sqlite_worker_beat(struct gd_store *st_, const struct gd_worker_self *me,
                          struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int64_t now = (int64_t)time(NULL);
    int ret;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "heartbeat")))
        return gd_sqlite_write_end(s, ret);
    sqlite3_stmt *st =
        gd_sqlite_stmt(c, GD_SQ_WORKER_BEAT,
                       "INSERT INTO workers (name, heartbeat, started, workers, threads, lease_s)"
                       " VALUES (?1, ?2, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET"
                       " heartbeat = excluded.heartbeat, workers = excluded.workers,"
                       " threads = excluded.threads, lease_s = excluded.lease_s",
                       err);
    if (!st) {
        ret = GC_EIO;
        goto undo;
    }
    sqlite3_bind_text(st, 1, me->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int(st, 3, me->workers);
    sqlite3_bind_int(st, 4, me->threads);
    sqlite3_bind_int(st, 5, me->lease_s);
    if ((ret = gd_sqlite_exec_done(c, st, err, "heartbeat")))
        goto undo;
    /* a worker silent for ten of its leases is gone for good */
    if ((ret = gd_sqlite_exec_pair(c, GD_SQ_WORKER_PRUNE,
                                   "DELETE FROM workers WHERE heartbeat < ?1 - ?2 * lease_s", now,
                                   10, err, "heartbeat")))
        goto undo;
    if ((ret = gd_sqlite_commit(s, err, "heartbeat")))
        goto undo;
    return gd_sqlite_write_end(s, 0);
undo:
    gd_sqlite_rollback(s);
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_worker_leave(struct gd_store *st_, const struct gd_worker_self *me,
                           struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret = GC_EIO;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    sqlite3_stmt *st =
        gd_sqlite_stmt(c, GD_SQ_WORKER_LEAVE, "DELETE FROM workers WHERE name = ?1", err);
    if (st) {
        sqlite3_bind_text(st, 1, me->name, -1, SQLITE_STATIC);
        ret = gd_sqlite_exec_done(c, st, err, "leave");
    }
    return gd_sqlite_write_end(s, ret);
}

#define TIME_TEXT(col) "strftime('%Y-%m-%dT%H:%M:%SZ', " col ", 'unixepoch')"

static int fill_worker(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_worker_info *w = elem;
    memset(w, 0, sizeof *w);
    gd_sqlite_copy_text(w->name, sizeof w->name, sqlite3_column_text(st, 0));
    gd_sqlite_copy_text(w->heartbeat_at, sizeof w->heartbeat_at, sqlite3_column_text(st, 1));
    gd_sqlite_copy_text(w->started_at, sizeof w->started_at, sqlite3_column_text(st, 2));
    w->workers = sqlite3_column_int(st, 3);
    w->threads = sqlite3_column_int(st, 4);
    w->lease_s = sqlite3_column_int(st, 5);
    w->alive = sqlite3_column_int(st, 6);
    return 0;
}

int gd_sqlite_worker_list(struct gd_store *st_, struct gd_worker_info **out, int *n,
                          struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_read_start(s, err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(
        c, GD_SQ_WORKER_LIST,
        "SELECT name, " TIME_TEXT("heartbeat") ", " TIME_TEXT(
            "started") ", workers, threads,"
                       " lease_s, heartbeat + lease_s > ?1 FROM workers ORDER BY name",
        err);
    if (st) {
        sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
        ret = gd_sqlite_read_rows(c, st, sizeof(**out), fill_worker, NULL, (void **)out, n, err,
                                  "list workers");
    }
    for (int i = 0; !ret && i < *n; i++) {
        struct gd_worker_info *w = &(*out)[i];
        st = gd_sqlite_stmt(c, GD_SQ_WORKER_RUNS,
                            "SELECT id FROM runs WHERE status = 'running' AND worker = ?1"
                            " ORDER BY id",
                            err);
        if (!st) {
            ret = GC_EIO;
            break;
        }
        sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            if (w->nrunning < GD_WORKER_RUNS)
                w->running[w->nrunning++] = sqlite3_column_int64(st, 0);
        if (rc != SQLITE_DONE)
            ret = gd_sqlite_error(c, err, "list workers");
        sqlite3_reset(st);
    }
    gd_sqlite_read_end(c);
    if (ret) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

int gd_sqlite_news_wait(struct gd_store *st_, int timeout_ms, struct gd_store_news *out,
                        struct gc_error *err)
{
    /* no channel between processes on one file: the caller polls */
    (void)st_, (void)timeout_ms, (void)out, (void)err;
    return 0;
}
