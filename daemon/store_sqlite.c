/* store_sqlite.c — the SQLite store's connections: opening and migrating the file, the
 * writer and the readers, the statement caches, errors, transactions, and the health of
 * writes for /healthz.
 *
 * Connections in WAL mode with synchronous=NORMAL (a commit survives a crash of the
 * process; a power cut may lose the last commits but never corrupts the file), a busy
 * timeout for outside readers, foreign keys on so deleting a run deletes everything of
 * it. The readers are the same file opened again with query_only set. The queries
 * themselves live in the other store_sqlite_*.c files; the locks are described in
 * store_sqlite.h. */
#include "daemon/store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/migrations.h"

/* ---- errors and statements ---- */

int gd_sqlite_error(struct gd_sqlite_conn *c, struct gc_error *err, const char *what)
{
    c->last_rc = sqlite3_extended_errcode(c->db);
    snprintf(c->last_msg, sizeof(c->last_msg), "store: %s: %s", what, sqlite3_errmsg(c->db));
    return gc_error_set(err, GC_EIO, "%s", c->last_msg);
}

sqlite3_stmt *gd_sqlite_stmt(struct gd_sqlite_conn *c, enum gd_sqlite_stmt id, const char *sql,
                             struct gc_error *err)
{
    if (!c->stmt[id]) {
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL) !=
            SQLITE_OK) {
            gd_sqlite_error(c, err, "prepare");
            return NULL;
        }
    }
    sqlite3_reset(c->stmt[id]);
    sqlite3_clear_bindings(c->stmt[id]);
    return c->stmt[id];
}

int gd_sqlite_exec_done(struct gd_sqlite_conn *c, sqlite3_stmt *st, struct gc_error *err,
                        const char *what)
{
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = gd_sqlite_error(c, err, what);
    sqlite3_reset(st);
    return ret;
}

int gd_sqlite_exec_pair(struct gd_sqlite_conn *c, enum gd_sqlite_stmt id, const char *sql,
                        int64_t a, int64_t b, struct gc_error *err, const char *what)
{
    sqlite3_stmt *st = gd_sqlite_stmt(c, id, sql, err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    return gd_sqlite_exec_done(c, st, err, what);
}

/* Runs SQL text that is not cached: pragmas, migrations. */
static int exec_sql(struct gd_sqlite_conn *c, const char *sql, struct gc_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        c->last_rc = sqlite3_extended_errcode(c->db);
        snprintf(c->last_msg, sizeof(c->last_msg), "store: %s", msg ? msg : sqlite3_errmsg(c->db));
        gc_error_set(err, GC_EIO, "%s", c->last_msg);
        sqlite3_free(msg);
        return GC_EIO;
    }
    return 0;
}

/* ---- transactions and the health of writes ---- */

int gd_sqlite_begin(struct gd_sqlite *s, struct gc_error *err, const char *what)
{
    if (sqlite3_exec(s->w.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return gd_sqlite_error(&s->w, err, what);
    return 0;
}

int gd_sqlite_commit(struct gd_sqlite *s, struct gc_error *err, const char *what)
{
    if (sqlite3_exec(s->w.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return gd_sqlite_error(&s->w, err, what);
    return 0;
}

void gd_sqlite_rollback(struct gd_sqlite *s)
{
    sqlite3_exec(s->w.db, "ROLLBACK", NULL, NULL, NULL);
}

/* Starts a write: its outcome alone decides the health that write_done() records. */
static void write_begin(struct gd_sqlite *s)
{
    s->w.last_rc = 0;
    clock_gettime(CLOCK_MONOTONIC, &s->last_write);
}

/* Records how a write went. A failure of the disk (full, I/O error, cannot open or
 * write the file, locked by another process past the busy timeout) marks the store's
 * writes failing until a write works again; an ordinary failure (a missing run)
 * changes nothing. */
static void write_done(struct gd_sqlite *s, int ret)
{
    int prim = s->w.last_rc & 0xff;
    if (ret == 0) {
        s->write_failing = 0;
        return;
    }
    const char *kind = prim == SQLITE_FULL       ? "disk full"
                       : prim == SQLITE_IOERR    ? "I/O error"
                       : prim == SQLITE_CANTOPEN ? "cannot open the database"
                       : prim == SQLITE_READONLY ? "read-only"
                       : prim == SQLITE_BUSY     ? "locked by another process"
                                                 : NULL;
    if (!kind)
        return;
    s->write_failing = 1;
    snprintf(s->write_msg, sizeof(s->write_msg), "%s: %s", kind, s->w.last_msg);
}

struct gd_sqlite_conn *gd_sqlite_write_start(struct gd_sqlite *s)
{
    pthread_mutex_lock(&s->w.mu);
    write_begin(s);
    return &s->w;
}

int gd_sqlite_write_end(struct gd_sqlite *s, int ret)
{
    write_done(s, ret);
    pthread_mutex_unlock(&s->w.mu);
    return ret;
}

/* How much of the file a reader maps (SQLite's most): index seeks into a long history
 * read its pages from memory instead of a pread() each (a 10-figure, 500-point series
 * of a run of 5 million points in a 418 MB file: 40 ms of CPU a request before, 24 ms
 * after). The pages are the kernel's page cache, shared, not the daemon's memory. */
#define READER_MMAP "2147418112"

/* The writer's page cache, in KiB (SQLite's default is 2,000): its transactions append
 * to the WAL, and a checkpoint's pages spill there as the cache fills, so a larger
 * cache only held 2 MB of a checkpoint's pages a second time in the daemon's memory. */
#define WRITER_CACHE "-256"

/* Opens the file on connection c: WAL, the pragmas every connection needs. */
static int conn_open(struct gd_sqlite_conn *c, const char *path, int reader, struct gc_error *err)
{
    /* each connection is used by one thread at a time (its mu): SQLite need not lock it */
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        gc_error_set(err, GC_EIO, "store: cannot open %s: %s", path,
                     c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        c->db = NULL;
        return GC_EIO;
    }
    sqlite3_busy_timeout(c->db, 5000);
    sqlite3_extended_result_codes(c->db, 1);
    /* a reader leaves the journal mode to the writer, who set it on the file */
    if ((!reader && exec_sql(c, "PRAGMA journal_mode = WAL", err)) ||
        exec_sql(c, "PRAGMA synchronous = NORMAL", err) ||
        exec_sql(c, "PRAGMA foreign_keys = ON", err) ||
        (!reader && exec_sql(c, "PRAGMA cache_size = " WRITER_CACHE, err)) ||
        (reader && exec_sql(c, "PRAGMA query_only = ON", err)) ||
        (reader && exec_sql(c, "PRAGMA mmap_size = " READER_MMAP, err))) {
        gc_error_prefix(err, "%s", path);
        sqlite3_close(c->db);
        c->db = NULL;
        return GC_EIO;
    }
    return 0;
}

static void conn_close(struct gd_sqlite_conn *c)
{
    for (int i = 0; i < GD_SQ_COUNT; i++) {
        sqlite3_finalize(c->stmt[i]);
        c->stmt[i] = NULL;
    }
    if (c->db)
        sqlite3_close(c->db);
    c->db = NULL;
    pthread_mutex_destroy(&c->mu);
}

struct gd_sqlite_conn *gd_sqlite_read_start(struct gd_sqlite *s, struct gc_error *err)
{
    unsigned start = atomic_fetch_add(&s->next_reader, 1u);
    struct gd_sqlite_conn *c = NULL;
    for (unsigned k = 0; k < GD_SQLITE_READERS && !c; k++) {
        struct gd_sqlite_conn *t = &s->r[(start + k) % GD_SQLITE_READERS];
        if (pthread_mutex_trylock(&t->mu) == 0)
            c = t;
    }
    if (!c) {
        c = &s->r[start % GD_SQLITE_READERS];
        pthread_mutex_lock(&c->mu);
    }
    if (!c->db && conn_open(c, s->path, 1, err)) {
        pthread_mutex_unlock(&c->mu);
        return NULL;
    }
    return c;
}

void gd_sqlite_read_end(struct gd_sqlite_conn *c)
{
    pthread_mutex_unlock(&c->mu);
}

/* ---- reading rows ---- */

int gd_sqlite_grow(void **arr, int *cap, int need, size_t sz)
{
    if (need <= *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*arr, (size_t)nc * sz);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

int gd_sqlite_read_rows(struct gd_sqlite_conn *c, sqlite3_stmt *st, size_t sz,
                        gd_sqlite_row_fn fill, void (*clear)(void *), void **out, int *n,
                        struct gc_error *err, const char *what)
{
    char *arr = NULL;
    int cnt = 0, cap = 0, rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (gd_sqlite_grow((void **)&arr, &cap, cnt + 1, sz)) {
            ret = gd_sqlite_no_memory(err);
            break;
        }
        if ((ret = fill(st, arr + (size_t)cnt * sz, err)))
            break;
        cnt++;
    }
    if (!ret && rc != SQLITE_DONE)
        ret = gd_sqlite_error(c, err, what);
    sqlite3_reset(st);
    if (ret) {
        for (int i = 0; clear && i < cnt; i++)
            clear(arr + (size_t)i * sz);
        free(arr);
        return ret;
    }
    *out = arr;
    *n = cnt;
    return 0;
}

static int fill_id(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    *(int64_t *)elem = sqlite3_column_int64(st, 0);
    return 0;
}

int gd_sqlite_query_ids(struct gd_sqlite_conn *c, enum gd_sqlite_stmt id, const char *sql,
                        const char *text, int64_t key, int64_t **ids, int *n, struct gc_error *err,
                        const char *what)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = gd_sqlite_stmt(c, id, sql, err);
    if (!st)
        return GC_EIO;
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, key);
    return gd_sqlite_read_rows(c, st, sizeof(**ids), fill_id, NULL, (void **)ids, n, err, what);
}

/* ---- opening and migrating ---- */

/* The schema version in PRAGMA user_version; the prepare's SQLite code on failure. */
static int user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return SQLITE_OK;
}

static int migrate(struct gd_sqlite *s, struct gc_error *err)
{
    const struct gd_migration *ms = gd_migrations_sqlite;
    int count = gd_migrations_sqlite_count;
    int known = count > 0 ? ms[count - 1].version : 0;
    int have = 0;
    if (user_version(s->w.db, &have) != SQLITE_OK)
        return gd_sqlite_error(&s->w, err, "read user_version");
    if (have > known)
        return gc_error_set(err, GC_ESTATE,
                            "database version %d is newer than this ganctld (knows %d); "
                            "upgrade ganctld",
                            have, known);
    for (int i = 0; i < count; i++) {
        const struct gd_migration *m = &ms[i];
        if (m->version <= have)
            continue;
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
        /* the schema change and its version number commit together or not at all */
        if (gd_sqlite_begin(s, err, "migrate") || exec_sql(&s->w, m->sql, err) ||
            exec_sql(&s->w, pragma, err) || gd_sqlite_commit(s, err, "migrate")) {
            gd_sqlite_rollback(s);
            return gc_error_prefix(err, "migration %s", m->name);
        }
    }
    return 0;
}

static void sqlite_close(struct gd_store *st)
{
    struct gd_sqlite *s = gd_sqlite_of(st);
    for (int i = 0; i < GD_SQLITE_READERS; i++)
        conn_close(&s->r[i]);
    conn_close(&s->w);
    gd_store_base_fini(&s->base);
    free(s->path);
    free(s);
}

struct gd_store *gd_store_sqlite_open(const char *path, struct gc_error *err)
{
    /* create the file ourselves so it is 0600 from its first byte; SQLite gives the
     * -wal and -shm files the same mode */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        gc_error_set(err, GC_EIO, "store: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    close(fd);

    struct gd_sqlite *s = calloc(1, sizeof(*s));
    if (!s) {
        gd_sqlite_no_memory(err);
        return NULL;
    }
    gd_store_base_init(&s->base, &gd_sqlite_ops, path);
    pthread_mutex_init(&s->w.mu, NULL);
    for (int i = 0; i < GD_SQLITE_READERS; i++)
        pthread_mutex_init(&s->r[i].mu, NULL);
    atomic_init(&s->next_reader, 0u);
    s->path = strdup(path);
    if (!s->path) {
        gd_sqlite_no_memory(err);
        goto fail;
    }
    if (conn_open(&s->w, path, 0, err) || migrate(s, err))
        goto fail;
    return &s->base;
fail:
    sqlite_close(&s->base);
    return NULL;
}

static int sqlite_version(struct gd_store *st)
{
    struct gd_sqlite *s = gd_sqlite_of(st);
    int v = -1;
    pthread_mutex_lock(&s->w.mu);
    user_version(s->w.db, &v);
    pthread_mutex_unlock(&s->w.mu);
    return v;
}

/* ---- health ---- */

/* How long after the newest write attempt a failing store tries a write of its own:
 * longer than the scheduler's retry interval, so a run that retries its write is the
 * probe while it does. */
#define PROBE_AFTER_S 2.0

/* A write that changes nothing (the schema version set to itself; it still appends a
 * page to the WAL): tells whether the disk takes writes again. */
static void probe(struct gd_sqlite *s)
{
    write_begin(s);
    int v = 0, ret;
    if (user_version(s->w.db, &v) != SQLITE_OK) {
        ret = gd_sqlite_error(&s->w, NULL, "read user_version");
        goto out;
    }
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
    if ((ret = gd_sqlite_begin(s, NULL, "probe")))
        goto out;
    if ((ret = exec_sql(&s->w, sql, NULL)) || (ret = gd_sqlite_commit(s, NULL, "probe")))
        gd_sqlite_rollback(s);
out:
    write_done(s, ret);
}

static int sqlite_health(struct gd_store *st, char *msg, size_t cap)
{
    struct gd_sqlite *s = gd_sqlite_of(st);
    pthread_mutex_lock(&s->w.mu);
    if (s->write_failing) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double idle = (double)(now.tv_sec - s->last_write.tv_sec) +
                      (double)(now.tv_nsec - s->last_write.tv_nsec) * 1e-9;
        if (idle >= PROBE_AFTER_S)
            probe(s);
    }
    int ret = s->write_failing ? GC_EIO : 0;
    if (msg && cap)
        snprintf(msg, cap, "%s", ret ? s->write_msg : "");
    pthread_mutex_unlock(&s->w.mu);
    return ret;
}

const struct gd_store_ops gd_sqlite_ops = {
    .kind = "sqlite",
    .close = sqlite_close,
    .version = sqlite_version,
    .run_insert = gd_sqlite_run_insert,
    .run_get = gd_sqlite_run_get,
    .run_list = gd_sqlite_run_list,
    .run_set_status = gd_sqlite_run_set_status,
    .run_set_step = gd_sqlite_run_set_step,
    .run_set_classes = gd_sqlite_run_set_classes,
    .run_set_provenance = gd_sqlite_run_set_provenance,
    .run_rewind = gd_sqlite_run_rewind,
    .run_delete = gd_sqlite_run_delete,
    .run_ids = gd_sqlite_run_ids,
    .run_count = gd_sqlite_run_count,
    .run_claim = gd_sqlite_run_claim,
    .run_recover = gd_sqlite_run_recover,
    .run_act = gd_sqlite_run_act,
    .run_requested = gd_sqlite_run_requested,
    .worker_beat = gd_sqlite_worker_beat,
    .worker_leave = gd_sqlite_worker_leave,
    .worker_list = gd_sqlite_worker_list,
    .metrics_put = gd_sqlite_metrics_put,
    .metrics_latest = gd_sqlite_metrics_latest,
    .metrics_latest_runs = gd_sqlite_metrics_latest_runs,
    .metrics_at = gd_sqlite_metrics_at,
    .metrics_series = gd_sqlite_metrics_series,
    .metrics_names = gd_sqlite_metrics_names,
    .sample_put = gd_sqlite_sample_put,
    .sample_steps = gd_sqlite_sample_steps,
    .sample_get = gd_sqlite_sample_get,
    .plane_put = gd_sqlite_plane_put,
    .plane_steps = gd_sqlite_plane_steps,
    .plane_get = gd_sqlite_plane_get,
    .ckpt_put = gd_sqlite_ckpt_put,
    .ckpt_list = gd_sqlite_ckpt_list,
    .ckpt_get = gd_sqlite_ckpt_get,
    .event_put = gd_sqlite_event_put,
    .event_list = gd_sqlite_event_list,
    .event_last = gd_sqlite_event_last,
    .news_wait = gd_sqlite_news_wait,
    .sweep_insert = gd_sqlite_sweep_insert,
    .sweep_get = gd_sqlite_sweep_get,
    .sweep_list = gd_sqlite_sweep_list,
    .sweep_runs = gd_sqlite_sweep_runs,
    .watch_put = gd_sqlite_watch_put,
    .watch_list = gd_sqlite_watch_list,
    .stats = gd_sqlite_stats,
    .health = sqlite_health,
};
