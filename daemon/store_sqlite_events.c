/* store_sqlite_events.c — the events table behind the event streams: one row per
 * status change, metrics batch, sample, eval or checkpoint of a run, listed after an
 * id so a stream resumes where it was (Last-Event-ID). Part of the SQLite store (see
 * store_sqlite.h). */
#include "daemon/store_sqlite.h"

int gd_store_event_put(struct gd_store *s, int64_t run, const char *type, int64_t step, int64_t *id,
                       struct gc_error *err)
{
    int ret = GC_EIO;
    gd_sqlite_write_start(s);
    sqlite3_stmt *st = gd_sqlite_stmt(s, GD_SQ_EVENT_PUT,
                                      "INSERT INTO events (run, type, step, created_at)"
                                      " VALUES (?1, ?2, ?3, " GD_SQL_NOW ")",
                                      err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, step);
        ret = gd_sqlite_exec_done(s, st, err, "put event");
        if (!ret && id)
            *id = sqlite3_last_insert_rowid(s->db);
    }
    return gd_sqlite_write_end(s, ret);
}

static int fill_event(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_event *e = elem;
    e->id = sqlite3_column_int64(st, 0);
    e->run = sqlite3_column_int64(st, 1);
    gd_sqlite_copy_text(e->type, sizeof(e->type), sqlite3_column_text(st, 2));
    e->step = sqlite3_column_int64(st, 3);
    gd_sqlite_copy_text(e->created_at, sizeof(e->created_at), sqlite3_column_text(st, 4));
    return 0;
}

int gd_store_event_list(struct gd_store *s, int64_t run, int64_t after, int limit,
                        struct gd_event **out, int *n, struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    if (limit <= 0)
        limit = 100;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st =
        gd_sqlite_stmt(s, GD_SQ_EVENT_LIST,
                       "SELECT id, run, type, step, created_at FROM events"
                       " WHERE id > ?2 AND (?1 <= 0 OR run = ?1) ORDER BY id LIMIT ?3",
                       err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, after);
        sqlite3_bind_int64(st, 3, limit);
        ret = gd_sqlite_read_rows(s, st, sizeof(**out), fill_event, NULL, (void **)out, n, err,
                                  "list events");
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_event_last(struct gd_store *s, int64_t *id, struct gc_error *err)
{
    int ret = GC_EIO;
    *id = 0;
    pthread_mutex_lock(&s->mu);
    /* the AUTOINCREMENT counter, not max(id): ids of deleted runs' events stay used */
    sqlite3_stmt *st = gd_sqlite_stmt(
        s, GD_SQ_EVENT_LAST,
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)", err);
    if (st) {
        ret = 0;
        if (sqlite3_step(st) == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        else
            ret = gd_sqlite_error(s, err, "last event");
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}
