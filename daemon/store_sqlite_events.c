/* store_sqlite_events.c — the events table behind the event streams: one row per
 * status change, metrics batch, sample, eval or checkpoint of a run, listed after an
 * id so a stream resumes where it was (Last-Event-ID). A run keeps its newest
 * GD_EVENTS_KEPT metrics events; older ones are pruned every PRUNE_EVERY events, so the
 * table grows with samples and checkpoints, not with every logged step. Ids come from
 * the one writer, so they become visible in the order they were given. Part of the
 * SQLite store (see store_sqlite.h). */
#include "daemon/store_sqlite.h"

/* Metrics events are pruned when an id is a multiple of this. */
#define PRUNE_EVERY 64

int gd_sqlite_event_put(struct gd_store *st_, int64_t run, const char *type, int64_t step,
                        int64_t *id, struct gc_error *err)
{
    struct gd_sqlite *s = gd_sqlite_of(st_);
    int ret = GC_EIO;
    struct gd_sqlite_conn *c = gd_sqlite_write_start(s);
    sqlite3_stmt *st = gd_sqlite_stmt(c, GD_SQ_EVENT_PUT,
                                      "INSERT INTO events (run, type, step, created_at)"
                                      " VALUES (?1, ?2, ?3, " GD_SQL_NOW ")",
                                      err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, step);
        ret = gd_sqlite_exec_done(c, st, err, "put event");
    }
    int64_t nid = ret ? 0 : sqlite3_last_insert_rowid(c->db);
    if (!ret && id)
        *id = nid;
    /* the prune is its own statement: if it fails, the event stays stored */
    if (!ret && nid % PRUNE_EVERY == 0)
        gd_sqlite_exec_pair(c, GD_SQ_EVENT_PRUNE,
                            "DELETE FROM events WHERE run = ?1 AND type = 'metrics' AND id <"
                            " (SELECT id FROM events WHERE run = ?1 AND type = 'metrics'"
                            " ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                            run, GD_EVENTS_KEPT - 1, NULL, "prune events");
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

int gd_sqlite_event_list(struct gd_store *st_, int64_t run, int64_t after, int limit,
                         struct gd_event **out, int *n, struct gc_error *err)
{
    if (limit <= 0)
        limit = 100;
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    /* one run's events through its index, every run's through the primary key */
    sqlite3_stmt *st = run > 0 ? gd_sqlite_stmt(c, GD_SQ_EVENT_LIST_RUN,
                                                "SELECT id, run, type, step, created_at FROM events"
                                                " WHERE run = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                                                err)
                               : gd_sqlite_stmt(c, GD_SQ_EVENT_LIST,
                                                "SELECT id, run, type, step, created_at FROM events"
                                                " WHERE id > ?2 ORDER BY id LIMIT ?3",
                                                err);
    if (st) {
        if (run > 0)
            sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, after);
        sqlite3_bind_int64(st, 3, limit);
        ret = gd_sqlite_read_rows(c, st, sizeof(**out), fill_event, NULL, (void **)out, n, err,
                                  "list events");
    }
    gd_sqlite_read_end(c);
    return ret;
}

int gd_sqlite_event_last(struct gd_store *st_, int64_t *id, struct gc_error *err)
{
    struct gd_sqlite_conn *c = gd_sqlite_read_start(gd_sqlite_of(st_), err);
    if (!c)
        return GC_EIO;
    int ret = GC_EIO;
    /* the AUTOINCREMENT counter, not max(id): ids of deleted runs' events stay used */
    sqlite3_stmt *st = gd_sqlite_stmt(
        c, GD_SQ_EVENT_LAST,
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)", err);
    if (st) {
        ret = 0;
        if (sqlite3_step(st) == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        else
            ret = gd_sqlite_error(c, err, "last event");
        sqlite3_reset(st);
    }
    gd_sqlite_read_end(c);
    return ret;
}
