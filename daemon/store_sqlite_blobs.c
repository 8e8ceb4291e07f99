/* store_sqlite_blobs.c — the samples and checkpoints tables: a run's PNG sample grids
 * (with the plane of a 2D run) and its checkpoints (with their SHA-256 and the run's step, pruned
 * to the newest few), by step or the newest. Part of the SQLite store (see store_sqlite.h). */
#include <stdlib.h>

#include "daemon/sha256.h"
#include "daemon/store_sqlite.h"

/* The newest (step < 0) or given row of a (step, blob) query whose ?1 is the run and
 * ?2 the step; what names the blob in messages. */
static int get_blob(struct gd_store *s, enum gd_sqlite_stmt id, const char *sql, int64_t run,
                    int64_t step, uint8_t **data, size_t *len, int64_t *got_step,
                    struct gc_error *err, const char *what)
{
    *data = NULL;
    *len = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = gd_sqlite_stmt(s, id, sql, err);
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, step);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        const void *p = sqlite3_column_blob(st, 1);
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf) {
            ret = gd_sqlite_no_memory(err);
        } else {
            if (n)
                memcpy(buf, p, n);
            *data = buf;
            *len = n;
            if (got_step)
                *got_step = sqlite3_column_int64(st, 0);
            ret = 0;
        }
    } else if (rc == SQLITE_DONE) {
        if (step < 0)
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld has no %s", (long long)run, what);
        else
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld has no %s at step %lld", (long long)run,
                               what, (long long)step);
    } else {
        ret = gd_sqlite_error(s, err, what);
    }
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* ---- samples ---- */

int gd_store_sample_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *png,
                        size_t len, struct gc_error *err)
{
    int ret = GC_EIO;
    gd_sqlite_write_start(s);
    sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_SAMPLE_PUT,
                                      "INSERT OR IGNORE INTO samples (run, step, png, created_at)"
                                      " VALUES (?1, ?2, ?3, " GD_SQL_NOW ")",
                                      err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, step);
        sqlite3_bind_blob64(st, 3, len ? png : (const void *)"", len, SQLITE_STATIC);
        ret = gd_sqlite_exec_done(s, st, err, "put sample");
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_store_sample_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                          struct gc_error *err)
{
    pthread_mutex_lock(&s->mu);
    int ret = gd_sqlite_query_ids(s, GD_SQ_SAMPLE_STEPS,
                                  "SELECT step FROM samples WHERE run = ?1 ORDER BY step", NULL,
                                  run, steps, n, err, "sample steps");
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_sample_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **png, size_t *len,
                        int64_t *got_step, struct gc_error *err)
{
    return get_blob(s, GD_SQ_SAMPLE_GET,
                    "SELECT step, png FROM samples WHERE run = ?1 AND (?2 < 0 OR step = ?2)"
                    " ORDER BY step DESC LIMIT 1",
                    run, step, png, len, got_step, err, "sample");
}

/* ---- planes (2D samples) ---- */

int gd_store_plane_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                       size_t len, struct gc_error *err)
{
    int ret = GC_EIO;
    gd_sqlite_write_start(s);
    sqlite3_stmt *st = gd_sqlite_stmt(
        s, GD_SQ_PLANE_PUT, "UPDATE samples SET plane = ?3 WHERE run = ?1 AND step = ?2", err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, step);
        sqlite3_bind_blob64(st, 3, len ? bytes : (const void *)"", len, SQLITE_STATIC);
        ret = gd_sqlite_exec_done(s, st, err, "put plane");
        if (!ret && sqlite3_changes(s->db) == 0)
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld has no sample at step %lld",
                               (long long)run, (long long)step);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_store_plane_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                         struct gc_error *err)
{
    pthread_mutex_lock(&s->mu);
    int ret = gd_sqlite_query_ids(
        s, GD_SQ_PLANE_STEPS,
        "SELECT step FROM samples WHERE run = ?1 AND plane IS NOT NULL ORDER BY step", NULL, run,
        steps, n, err, "plane steps");
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_plane_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                       int64_t *got_step, struct gc_error *err)
{
    return get_blob(s, GD_SQ_PLANE_GET,
                    "SELECT step, plane FROM samples WHERE run = ?1 AND plane IS NOT NULL AND"
                    " (?2 < 0 OR step = ?2) ORDER BY step DESC LIMIT 1",
                    run, step, bytes, len, got_step, err, "plane");
}

/* ---- checkpoints ---- */

int gd_store_ckpt_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                      size_t len, int keep, struct gc_error *err)
{
    char hex[65];
    /* hashed before taking the lock: it is the slow part for big models */
    gd_sha256_hex(bytes, len, hex);
    int ret;
    gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "put checkpoint")))
        return gd_sqlite_write_end(s, ret);
    sqlite3_stmt *st =
        gd_sqlite_stmt(s, GD_SQ_CKPT_PUT,
                       "INSERT OR REPLACE INTO checkpoints (run, step, bytes, sha256, data,"
                       " created_at) VALUES (?1, ?2, ?3, ?4, ?5, " GD_SQL_NOW ")",
                       err);
    if (!st) {
        ret = GC_EIO;
        goto undo;
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, step);
    sqlite3_bind_int64(st, 3, (int64_t)len);
    sqlite3_bind_text(st, 4, hex, 64, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 5, len ? bytes : (const void *)"", len, SQLITE_STATIC);
    if ((ret = gd_sqlite_exec_done(s, st, err, "put checkpoint")))
        goto undo;
    /* the run's step moves with its checkpoint: a restart resumes exactly there */
    if ((ret = gd_sqlite_set_step(s, run, step, err)))
        goto undo;
    if (keep > 0 &&
        (ret = gd_sqlite_exec_pair(s, GD_SQ_CKPT_PRUNE,
                                   "DELETE FROM checkpoints WHERE run = ?1 AND step NOT IN"
                                   " (SELECT step FROM checkpoints WHERE run = ?1"
                                   " ORDER BY step DESC LIMIT ?2)",
                                   run, keep, err, "prune checkpoints")))
        goto undo;
    if (!(ret = gd_sqlite_commit(s, err, "put checkpoint")))
        return gd_sqlite_write_end(s, 0);
undo:
    gd_sqlite_rollback(s);
    return gd_sqlite_write_end(s, ret);
}

static int fill_ckpt(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_ckpt_info *c = elem;
    c->step = sqlite3_column_int64(st, 0);
    c->bytes = sqlite3_column_int64(st, 1);
    gd_sqlite_copy_text(c->sha256, sizeof(c->sha256), sqlite3_column_text(st, 2));
    gd_sqlite_copy_text(c->created_at, sizeof(c->created_at), sqlite3_column_text(st, 3));
    return 0;
}

int gd_store_ckpt_list(struct gd_store *s, int64_t run, struct gd_ckpt_info **out, int *n,
                       struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_CKPT_LIST,
                                      "SELECT step, bytes, sha256, created_at FROM checkpoints"
                                      " WHERE run = ?1 ORDER BY step",
                                      err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        ret = gd_sqlite_read_rows(s, st, sizeof(**out), fill_ckpt, NULL, (void **)out, n, err,
                                  "list checkpoints");
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_ckpt_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                      int64_t *got_step, struct gc_error *err)
{
    return get_blob(s, GD_SQ_CKPT_GET,
                    "SELECT step, data FROM checkpoints WHERE run = ?1 AND (?2 < 0 OR step = ?2)"
                    " ORDER BY step DESC LIMIT 1",
                    run, step, bytes, len, got_step, err, "checkpoint");
}
