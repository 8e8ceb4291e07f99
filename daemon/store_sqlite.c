/* store_sqlite.c — the SQLite store's connection: opening and migrating the file, the
 * statement cache, errors, transactions, and the health of writes for /healthz.
 *
 * One connection in WAL mode with synchronous=NORMAL (a commit survives a crash of the
 * process; a power cut may lose the last commits but never corrupts the file), a busy
 * timeout for outside readers, foreign keys on so deleting a run deletes everything of
 * it. The queries themselves live in the other store_sqlite_*.c files; the lock that
 * guards the connection is described in store_sqlite.h. */
#include "daemon/store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/migrations.h"

/* ---- errors and statements ---- */

int gd_sqlite_error(struct gd_store *s, struct gc_error *err, const char *what)
{
    s->last_rc = sqlite3_extended_errcode(s->db);
    snprintf(s->last_msg, sizeof(s->last_msg), "store: %s: %s", what, sqlite3_errmsg(s->db));
    return gc_error_set(err, GC_EIO, "%s", s->last_msg);
}

sqlite3_stmt *gd_sqlite_stmt(struct gd_store *s, enum gd_sqlite_stmt id, const char *sql,
                             struct gc_error *err)
{
    if (!s->stmt[id]) {
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id], NULL) !=
            SQLITE_OK) {
            gd_sqlite_error(s, err, "prepare");
            return NULL;
        }
    }
    sqlite3_reset(s->stmt[id]);
    sqlite3_clear_bindings(s->stmt[id]);
    return s->stmt[id];
}

int gd_sqlite_exec_done(struct gd_store *s, sqlite3_stmt *st, struct gc_error *err,
                        const char *what)
{
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = gd_sqlite_error(s, err, what);
    sqlite3_reset(st);
    return ret;
}

int gd_sqlite_exec_pair(struct gd_store *s, enum gd_sqlite_stmt id, const char *sql, int64_t a,
                        int64_t b, struct gc_error *err, const char *what)
{
    sqlite3_stmt *st = gd_sqlite_stmt(s, id, sql, err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    return gd_sqlite_exec_done(s, st, err, what);
}

/* Runs SQL text that is not cached: pragmas, migrations. */
static int exec_sql(struct gd_store *s, const char *sql, struct gc_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        s->last_rc = sqlite3_extended_errcode(s->db);
        snprintf(s->last_msg, sizeof(s->last_msg), "store: %s", msg ? msg : sqlite3_errmsg(s->db));
        gc_error_set(err, GC_EIO, "%s", s->last_msg);
        sqlite3_free(msg);
        return GC_EIO;
    }
    return 0;
}

/* ---- transactions and the health of writes ---- */

int gd_sqlite_begin(struct gd_store *s, struct gc_error *err, const char *what)
{
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return gd_sqlite_error(s, err, what);
    return 0;
}

int gd_sqlite_commit(struct gd_store *s, struct gc_error *err, const char *what)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return gd_sqlite_error(s, err, what);
    return 0;
}

void gd_sqlite_rollback(struct gd_store *s)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Starts a write: its outcome alone decides the health that write_done() records. */
static void write_begin(struct gd_store *s)
{
    s->last_rc = 0;
    clock_gettime(CLOCK_MONOTONIC, &s->last_write);
}

/* Records how a write went. A failure of the disk (full, I/O error, cannot open or
 * write the file, locked by another process past the busy timeout) marks the store's
 * writes failing until a write works again; an ordinary failure (a missing run)
 * changes nothing. */
static void write_done(struct gd_store *s, int ret)
{
    int prim = s->last_rc & 0xff;
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
    snprintf(s->write_msg, sizeof(s->write_msg), "%s: %s", kind, s->last_msg);
}

void gd_sqlite_write_start(struct gd_store *s)
{
    pthread_mutex_lock(&s->mu);
    write_begin(s);
}

int gd_sqlite_write_end(struct gd_store *s, int ret)
{
    write_done(s, ret);
    pthread_mutex_unlock(&s->mu);
    return ret;
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

int gd_sqlite_read_rows(struct gd_store *s, sqlite3_stmt *st, size_t sz, gd_sqlite_row_fn fill,
                        void (*clear)(void *), void **out, int *n, struct gc_error *err,
                        const char *what)
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
        ret = gd_sqlite_error(s, err, what);
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

int gd_sqlite_query_ids(struct gd_store *s, enum gd_sqlite_stmt id, const char *sql,
                        const char *text, int64_t key, int64_t **ids, int *n, struct gc_error *err,
                        const char *what)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *st = gd_sqlite_stmt(s, id, sql, err);
    if (!st)
        return GC_EIO;
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, key);
    return gd_sqlite_read_rows(s, st, sizeof(**ids), fill_id, NULL, (void **)ids, n, err, what);
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

static int migrate(struct gd_store *s, struct gc_error *err)
{
    int known = gd_migrations_count > 0 ? gd_migrations[gd_migrations_count - 1].version : 0;
    int have = 0;
    if (user_version(s->db, &have) != SQLITE_OK)
        return gd_sqlite_error(s, err, "read user_version");
    if (have > known)
        return gc_error_set(err, GC_ESTATE,
                            "database version %d is newer than this ganctld (knows %d); "
                            "upgrade ganctld",
                            have, known);
    for (int i = 0; i < gd_migrations_count; i++) {
        const struct gd_migration *m = &gd_migrations[i];
        if (m->version <= have)
            continue;
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
        /* the schema change and its version number commit together or not at all */
        if (gd_sqlite_begin(s, err, "migrate") || exec_sql(s, m->sql, err) ||
            exec_sql(s, pragma, err) || gd_sqlite_commit(s, err, "migrate")) {
            gd_sqlite_rollback(s);
            return gc_error_prefix(err, "migration %s", m->name);
        }
    }
    return 0;
}

struct gd_store *gd_store_open(const char *path, struct gc_error *err)
{
    /* create the file ourselves so it is 0600 from its first byte; SQLite gives the
     * -wal and -shm files the same mode */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        gc_error_set(err, GC_EIO, "store: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    close(fd);

    struct gd_store *s = calloc(1, sizeof(*s));
    if (!s) {
        gd_sqlite_no_memory(err);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->path = strdup(path);
    if (!s->path) {
        gd_sqlite_no_memory(err);
        goto fail;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        gc_error_set(err, GC_EIO, "store: cannot open %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    if (exec_sql(s, "PRAGMA journal_mode = WAL", err) ||
        exec_sql(s, "PRAGMA synchronous = NORMAL", err) ||
        exec_sql(s, "PRAGMA foreign_keys = ON", err)) {
        gc_error_prefix(err, "%s", path);
        goto fail;
    }
    if (migrate(s, err))
        goto fail;
    return s;
fail:
    gd_store_close(s);
    return NULL;
}

void gd_store_close(struct gd_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < GD_SQ_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    if (s->db)
        sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

int gd_store_version(struct gd_store *s)
{
    int v = -1;
    pthread_mutex_lock(&s->mu);
    user_version(s->db, &v);
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* ---- health ---- */

/* How long after the newest write attempt a failing store tries a write of its own:
 * longer than the scheduler's retry interval, so a run that retries its write is the
 * probe while it does. */
#define PROBE_AFTER_S 2.0

/* A write that changes nothing (the schema version set to itself; it still appends a
 * page to the WAL): tells whether the disk takes writes again. */
static void probe(struct gd_store *s)
{
    write_begin(s);
    int v = 0, ret;
    if (user_version(s->db, &v) != SQLITE_OK) {
        ret = gd_sqlite_error(s, NULL, "read user_version");
        goto out;
    }
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
    if ((ret = gd_sqlite_begin(s, NULL, "probe")))
        goto out;
    if ((ret = exec_sql(s, sql, NULL)) || (ret = gd_sqlite_commit(s, NULL, "probe")))
        gd_sqlite_rollback(s);
out:
    write_done(s, ret);
}

int gd_store_health(struct gd_store *s, char *msg, size_t cap)
{
    pthread_mutex_lock(&s->mu);
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
    pthread_mutex_unlock(&s->mu);
    return ret;
}
