/* store_sqlite_blobs.c — the samples and checkpoints tables: a run's PNG sample grids
 * (with the plane of a 2D run) and its checkpoints (with their SHA-256, computed by
 * store.c, and the run's step, pruned to the newest few), by step or the newest. Part
 * of the SQLite store (see store_sqlite.h). */
#include <stdlib.h>

#include "daemon/store_sqlite.h"

/* The newest (step < 0) or given row of a (step, blob) query whose ?1 is the run and
 * ?2 the step; what names the blob in messages. */
static int get_blob(struct gd_sqlite *s, enum gd_sqlite_stmt id, const char *sql, int64_t run,
                    int64_t step, uint8_t **data, size_t *len, int64_t *got_step,
                    struct gc_error *err, const char *what)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(s, err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(c, id, sql, err);
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
        ret = gd_sqlite_error(c, err, what);
    }
    sqlite3_reset(st);
out:
    gd_sqlite_read_end(c);
    return ret;
}

/* Rows of step = ?2 (or, for ?2 < 0, every step), newest first: a range the primary
 * key can serve whichever is asked. */
#define STEP_OR_NEWEST                                                                             \
    " AND step >= CASE WHEN ?2 < 0 THEN 0 ELSE ?2 END"                                             \
    " AND step <= CASE WHEN ?2 < 0 THEN 9223372036854775807 ELSE ?2 END"                           \
    " ORDER BY step DESC LIMIT 1"

/* ---- samples ---- */

int gd_sqlite_sample_put(struct gd_store *st_, int64_t run, int64_t step, const uint8_t *png,
                         size_t len, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    int ret = gd_sqlite_fence(s, run, err);
    if (ret)
        return gd_sqlite_write_end(s, ret);
    ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_SAMPLE_PUT,
                                      "INSERT OR IGNORE INTO samples (run, step, png, created_at)"
                                      " VALUES (?1, ?2, ?3, " GD_SQL_NOW ")",
                                      err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, step);
        sqlite3_bind_blob64(st, 3, len ? png : (const void *)"", len, SQLITE_STATIC);
        ret = gd_sqlite_exec_done(c, st, err, "put sample");
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_sample_steps(struct gd_store *st_, int64_t run, int64_t **steps, int *n,
                           struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = gd_sqlite_query_ids(c, GD_SQ_SAMPLE_STEPS,
                                  "SELECT step FROM samples WHERE run = ?1 ORDER BY step", NULL,
                                  run, steps, n, err, "sample steps");
    gd_sqlite_read_end(c);
    return ret;
}

int gd_sqlite_sample_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **png, size_t *len,
                         int64_t *got_step, struct gc_error *err)
{
    return get_blob(gd_sqlite_of(s), GD_SQ_SAMPLE_GET,
                    "SELECT step, png FROM samples WHERE run = ?1" STEP_OR_NEWEST, run, step, png,
                    len, got_step, err, "sample");
}

/* ---- planes (2D samples) ---- */

int gd_sqlite_plane_put(struct gd_store *st_, int64_t run, int64_t step, const uint8_t *bytes,
                        size_t len, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    int ret = gd_sqlite_fence(s, run, err);
    if (ret)
        return gd_sqlite_write_end(s, ret);
    ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(
        c, GD_SQ_PLANE_PUT, "UPDATE samples SET plane = ?3 WHERE run = ?1 AND step = ?2", err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, step);
        sqlite3_bind_blob64(st, 3, len ? bytes : (const void *)"", len, SQLITE_STATIC);
        ret = gd_sqlite_exec_done(c, st, err, "put plane");
        if (!ret && sqlite3_changes(c->db) == 0)
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld has no sample at step %lld",
                               (long long)run, (long long)step);
    }
    return gd_sqlite_write_end(s, ret);
}

int gd_sqlite_plane_steps(struct gd_store *st_, int64_t run, int64_t **steps, int *n,
                          struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = gd_sqlite_query_ids(
        c, GD_SQ_PLANE_STEPS,
        "SELECT step FROM samples WHERE run = ?1 AND plane IS NOT NULL ORDER BY step", NULL, run,
        steps, n, err, "plane steps");
    gd_sqlite_read_end(c);
    return ret;
}

int gd_sqlite_plane_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                        int64_t *got_step, struct gc_error *err)
{
    return get_blob(
        gd_sqlite_of(s), GD_SQ_PLANE_GET,
        "SELECT step, plane FROM samples WHERE run = ?1 AND plane IS NOT NULL" STEP_OR_NEWEST, run,
        step, bytes, len, got_step, err, "plane");
}

/* ---- checkpoints ---- */

/* A checkpoint's bytes go into a row inserted with a zeroblob of their size, a chunk
 * at a time through SQLite's blob handle: an INSERT that binds the bytes builds the
 * whole record in memory first, one more copy of the training state (11 MB for the
 * reference DCGAN, a tenth of ganctld train's peak). The zeroblob stays out of the
 * record because data is the table's last column (migrations/sqlite/0003). */
#define CKPT_CHUNK ((size_t)1 << 20)

static int write_ckpt_data(struct gd_sqlite_conn *c, const uint8_t *bytes, size_t len,
                           struct gc_error *err)
{
    sqlite3_blob *blob = NULL;
    if (sqlite3_blob_open(c->db, "main", "checkpoints", "data", sqlite3_last_insert_rowid(c->db), 1,
                          &blob) != SQLITE_OK) {
        sqlite3_blob_close(blob);
        return gd_sqlite_error(c, err, "put checkpoint");
    }
    for (size_t off = 0; off < len; off += CKPT_CHUNK) {
        size_t n = len - off < CKPT_CHUNK ? len - off : CKPT_CHUNK;
        if (sqlite3_blob_write(blob, bytes + off, (int)n, (int)off) != SQLITE_OK) {
            int ret = gd_sqlite_error(c, err, "put checkpoint");
            sqlite3_blob_close(blob);
            return ret;
        }
    }
    if (sqlite3_blob_close(blob) != SQLITE_OK)
        return gd_sqlite_error(c, err, "put checkpoint");
    return 0;
}

int gd_sqlite_ckpt_put(struct gd_store *st_, int64_t run, int64_t step, const uint8_t *bytes,
                       size_t len, int keep, const char *hex, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    if ((ret = gd_sqlite_begin(s, err, "put checkpoint")))
        return gd_sqlite_write_end(s, ret);
    if ((ret = gd_sqlite_fence(s, run, err)))
        goto undo;
    sqlite3_stmt *st =
        gd_sqlite_stmt(c, GD_SQ_CKPT_PUT,
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
    sqlite3_bind_zeroblob64(st, 5, len);
    if ((ret = gd_sqlite_exec_done(c, st, err, "put checkpoint")) ||
        (len > 0 && (ret = write_ckpt_data(c, bytes, len, err))))
        goto undo;
    /* the run's step moves with its checkpoint: a restart resumes exactly there */
    if ((ret = gd_sqlite_set_step(s, run, step, err)))
        goto undo;
    if (keep > 0 &&
        (ret = gd_sqlite_exec_pair(c, GD_SQ_CKPT_PRUNE,
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

int gd_sqlite_ckpt_list(struct gd_store *st_, int64_t run, struct gd_ckpt_info **out, int *n,
                        struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_CKPT_LIST,
                                      "SELECT step, bytes, sha256, created_at FROM checkpoints"
                                      " WHERE run = ?1 ORDER BY step",
                                      err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        ret = gd_sqlite_read_rows(c, st, sizeof(**out), fill_ckpt, NULL, (void **)out, n, err,
                                  "list checkpoints");
    }
    gd_sqlite_read_end(c);
    return ret;
}

int gd_sqlite_ckpt_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                       int64_t *got_step, struct gc_error *err)
{
    return get_blob(gd_sqlite_of(s), GD_SQ_CKPT_GET,
                    "SELECT step, data FROM checkpoints WHERE run = ?1" STEP_OR_NEWEST, run, step,
                    bytes, len, got_step, err, "checkpoint");
}
