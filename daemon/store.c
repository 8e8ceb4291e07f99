/* store.c — runs, metrics, samples, checkpoints and events in one SQLite file.
 *
 * The one file that includes sqlite3.h. One connection in WAL mode with
 * synchronous=NORMAL (a commit survives a crash of the process; a power cut may lose
 * the last commits but never corrupts the file), a busy timeout for outside readers,
 * foreign keys on so deleting a run deletes everything of it.
 *
 * DESIGN: one connection behind one mutex. Every public function takes the mutex for
 * its whole body, so a multi-statement write (a metrics batch, a checkpoint with the
 * run's step) is one transaction that no other thread can interleave with. Statements
 * are prepared once, on first use, and kept for the life of the connection. */
#include "daemon/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/migrations.h"
#include "daemon/sha256.h"

#define NOW "strftime('%Y-%m-%dT%H:%M:%SZ','now')"
#define RUN_COLS "id, name, status, spec, step, steps, created_at, started_at, finished_at, error"

enum stmt_id {
    S_RUN_INSERT,
    S_RUN_GET,
    S_RUN_LIST,
    S_RUN_SET_STATUS,
    S_RUN_SET_STEP,
    S_RUN_DELETE,
    S_RUN_IDS,
    S_METRIC_PUT,
    S_METRIC_LATEST,
    S_METRIC_SERIES,
    S_METRIC_NAMES,
    S_SAMPLE_PUT,
    S_SAMPLE_STEPS,
    S_SAMPLE_GET,
    S_CKPT_PUT,
    S_CKPT_PRUNE,
    S_CKPT_LIST,
    S_CKPT_GET,
    S_EVENT_PUT,
    S_EVENT_LIST,
    S_EVENT_LAST,
    S_STATS_STATUS,
    S_STATS_STEPS,
    S_COUNT,
};

static const char *const stmt_sql[S_COUNT] = {
    [S_RUN_INSERT] =
        "INSERT INTO runs (name, spec, steps, created_at) VALUES (?1, ?2, ?3, " NOW ")",
    [S_RUN_GET] = "SELECT " RUN_COLS " FROM runs WHERE id = ?1",
    [S_RUN_LIST] = "SELECT " RUN_COLS " FROM runs WHERE (?1 IS NULL OR status = ?1)"
                   " AND (?2 <= 0 OR id < ?2) ORDER BY id DESC LIMIT ?3",
    [S_RUN_SET_STATUS] =
        "UPDATE runs SET status = ?2, error = ?3,"
        " started_at = CASE WHEN ?2 = 'running' AND started_at = '' THEN " NOW
        " ELSE started_at END,"
        " finished_at = CASE WHEN ?2 IN ('succeeded', 'failed', 'canceled') THEN " NOW
        " ELSE '' END WHERE id = ?1",
    [S_RUN_SET_STEP] = "UPDATE runs SET step = ?2 WHERE id = ?1",
    [S_RUN_DELETE] = "DELETE FROM runs WHERE id = ?1",
    [S_RUN_IDS] = "SELECT id FROM runs WHERE status = ?1 ORDER BY id",
    /* OR IGNORE: a run continued after a crash trains the steps after its newest
     * checkpoint again; what was stored for them the first time was acknowledged
     * (images_per_s differs on the second pass) and stays as it was */
    [S_METRIC_PUT] =
        "INSERT OR IGNORE INTO metrics (run, kind, name, step, value) VALUES (?1, ?2, ?3, ?4, ?5)",
    /* SQLite takes the bare column value from the row holding max(step) */
    [S_METRIC_LATEST] = "SELECT name, value, max(step) FROM metrics WHERE run = ?1 AND kind = ?2"
                        " GROUP BY name ORDER BY name",
    [S_METRIC_SERIES] = "SELECT step, value FROM metrics WHERE run = ?1 AND name = ?2"
                        " AND step >= ?3 AND (?4 < 0 OR step <= ?4) ORDER BY step",
    [S_METRIC_NAMES] = "SELECT DISTINCT name FROM metrics WHERE run = ?1 ORDER BY name",
    [S_SAMPLE_PUT] = "INSERT OR IGNORE INTO samples (run, step, png, created_at)"
                     " VALUES (?1, ?2, ?3, " NOW ")",
    [S_SAMPLE_STEPS] = "SELECT step FROM samples WHERE run = ?1 ORDER BY step",
    [S_SAMPLE_GET] = "SELECT step, png FROM samples WHERE run = ?1 AND (?2 < 0 OR step = ?2)"
                     " ORDER BY step DESC LIMIT 1",
    [S_CKPT_PUT] = "INSERT OR REPLACE INTO checkpoints (run, step, bytes, sha256, data, created_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, " NOW ")",
    [S_CKPT_PRUNE] = "DELETE FROM checkpoints WHERE run = ?1 AND step NOT IN"
                     " (SELECT step FROM checkpoints WHERE run = ?1 ORDER BY step DESC LIMIT ?2)",
    [S_CKPT_LIST] =
        "SELECT step, bytes, sha256, created_at FROM checkpoints WHERE run = ?1 ORDER BY step",
    [S_CKPT_GET] = "SELECT step, data FROM checkpoints WHERE run = ?1 AND (?2 < 0 OR step = ?2)"
                   " ORDER BY step DESC LIMIT 1",
    [S_EVENT_PUT] = "INSERT INTO events (run, type, step, created_at) VALUES (?1, ?2, ?3, " NOW ")",
    [S_EVENT_LIST] = "SELECT id, run, type, step, created_at FROM events"
                     " WHERE id > ?2 AND (?1 <= 0 OR run = ?1) ORDER BY id LIMIT ?3",
    /* the AUTOINCREMENT counter, not max(id): ids of deleted runs' events stay used */
    [S_EVENT_LAST] = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)",
    [S_STATS_STATUS] = "SELECT status, count(*) FROM runs GROUP BY status",
    [S_STATS_STEPS] =
        "SELECT coalesce(sum(step), 0), coalesce(sum(step * CASE WHEN json_valid(spec)"
        " THEN coalesce(json_extract(spec, '$.train.batch_size'), 0) ELSE 0 END), 0)"
        " FROM runs",
};

struct gd_store {
    pthread_mutex_t mu; /* guards everything below */
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    char *path;
    /* the health of writes, for gd_store_health() */
    int last_rc;                /* SQLite code of the newest failure, 0 when none */
    char last_msg[256];         /* and its message */
    int write_failing;          /* the newest write failed for lack of space or on I/O */
    char write_msg[300];        /* what it said, for /healthz */
    struct timespec last_write; /* CLOCK_MONOTONIC time of the newest write attempt */
};

static const char *const status_names[GD_NSTATUS] = {
    "queued", "running", "paused", "succeeded", "failed", "canceled",
};

const char *gd_status_name(enum gd_status s)
{
    return (unsigned)s < GD_NSTATUS ? status_names[s] : "unknown";
}

int gd_status_from_name(const char *s)
{
    for (int i = 0; s && i < GD_NSTATUS; i++)
        if (strcmp(s, status_names[i]) == 0)
            return i;
    return -1;
}

void gd_run_fini(struct gd_run *r)
{
    if (!r)
        return;
    free(r->spec_json);
    free(r->error);
    r->spec_json = NULL;
    r->error = NULL;
}

void gd_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t d[32];
    gd_sha256(data, len, d);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

/* ---- helpers (called with s->mu held) ---- */

static int db_error(struct gd_store *s, struct gc_error *err, const char *what)
{
    s->last_rc = sqlite3_extended_errcode(s->db);
    snprintf(s->last_msg, sizeof(s->last_msg), "store: %s: %s", what, sqlite3_errmsg(s->db));
    return gc_error_set(err, GC_EIO, "%s", s->last_msg);
}

/* The prepared statement for id, reset and unbound; NULL with err set on failure. */
static sqlite3_stmt *stmt(struct gd_store *s, enum stmt_id id, struct gc_error *err)
{
    if (!s->stmt[id]) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
                               NULL) != SQLITE_OK) {
            db_error(s, err, "prepare");
            return NULL;
        }
    }
    sqlite3_reset(s->stmt[id]);
    sqlite3_clear_bindings(s->stmt[id]);
    return s->stmt[id];
}

/* Steps a statement that returns no rows; resets it so it holds no lock afterwards. */
static int exec_done(struct gd_store *s, sqlite3_stmt *st, struct gc_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    int ret = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ret = db_error(s, err, what);
    sqlite3_reset(st);
    return ret;
}

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

/* BEGIN and COMMIT of the write `what`, which their messages name (a full disk
 * usually shows at the commit). */
static int begin(struct gd_store *s, struct gc_error *err, const char *what)
{
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(s, err, what);
    return 0;
}

static int commit(struct gd_store *s, struct gc_error *err, const char *what)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(s, err, what);
    return 0;
}

static void rollback(struct gd_store *s)
{
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static char *dup_text(const unsigned char *src)
{
    return src ? strdup((const char *)src) : NULL;
}

static int read_run(sqlite3_stmt *st, struct gd_run *r, struct gc_error *err)
{
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(st, 0);
    copy_text(r->name, sizeof(r->name), sqlite3_column_text(st, 1));
    int status = gd_status_from_name((const char *)sqlite3_column_text(st, 2));
    r->status = status < 0 ? GD_FAILED : (enum gd_status)status;
    r->step = sqlite3_column_int64(st, 4);
    r->steps = sqlite3_column_int64(st, 5);
    copy_text(r->created_at, sizeof(r->created_at), sqlite3_column_text(st, 6));
    copy_text(r->started_at, sizeof(r->started_at), sqlite3_column_text(st, 7));
    copy_text(r->finished_at, sizeof(r->finished_at), sqlite3_column_text(st, 8));
    r->spec_json = dup_text(sqlite3_column_text(st, 3));
    if (!r->spec_json)
        r->spec_json = strdup("{}");
    if (sqlite3_column_type(st, 9) != SQLITE_NULL)
        r->error = dup_text(sqlite3_column_text(st, 9));
    if (!r->spec_json || (sqlite3_column_type(st, 9) != SQLITE_NULL && !r->error)) {
        gd_run_fini(r);
        return gc_error_set(err, GC_ENOMEM, "store: out of memory");
    }
    return 0;
}

/* Grows a malloc'ed array to hold at least need elements of size sz. */
static int grow(void **arr, int *cap, int need, size_t sz)
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

static int out_of_memory(struct gc_error *err)
{
    return gc_error_set(err, GC_ENOMEM, "store: out of memory");
}

/* Fills one array element from the current row of a query; 0 or a negative GC_E*. */
typedef int (*row_fn)(sqlite3_stmt *st, void *elem, struct gc_error *err);

/* Steps st to its end, one element of sz bytes a row filled by fill, into a malloc'ed
 * array (*out, *n); resets st so it holds no lock afterwards. On failure frees the
 * array (calling clear on each element filled, when given) and leaves *out and *n as
 * they were. */
static int read_rows(struct gd_store *s, sqlite3_stmt *st, size_t sz, row_fn fill,
                     void (*clear)(void *), void **out, int *n, struct gc_error *err,
                     const char *what)
{
    char *arr = NULL;
    int cnt = 0, cap = 0, rc, ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&arr, &cap, cnt + 1, sz)) {
            ret = out_of_memory(err);
            break;
        }
        if ((ret = fill(st, arr + (size_t)cnt * sz, err)))
            break;
        cnt++;
    }
    if (!ret && rc != SQLITE_DONE)
        ret = db_error(s, err, what);
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

/* A column that may hold NULL (a NaN metric is stored as NULL) as a double. */
static double column_value(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? __builtin_nan("")
                                                       : sqlite3_column_double(st, col);
}

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

/* Takes the lock for a write; write_end() records the write's outcome, unlocks and
 * returns ret. */
static void write_start(struct gd_store *s)
{
    pthread_mutex_lock(&s->mu);
    write_begin(s);
}

static int write_end(struct gd_store *s, int ret)
{
    write_done(s, ret);
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* The outcome ret of a write to the run id, which must have changed a row. */
static int run_changed(struct gd_store *s, int ret, int64_t id, struct gc_error *err)
{
    if (!ret && sqlite3_changes(s->db) == 0)
        ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
    return ret;
}

/* Runs the write id with its two int64 parameters ?1 = a and ?2 = b. */
static int exec_pair(struct gd_store *s, enum stmt_id id, int64_t a, int64_t b,
                     struct gc_error *err, const char *what)
{
    sqlite3_stmt *st = stmt(s, id, err);
    if (!st)
        return GC_EIO;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    return exec_done(s, st, err, what);
}

static int migrate(struct gd_store *s, struct gc_error *err)
{
    int known = gd_migrations_count > 0 ? gd_migrations[gd_migrations_count - 1].version : 0;
    int have = 0;
    if (user_version(s->db, &have) != SQLITE_OK)
        return db_error(s, err, "read user_version");
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
        if (begin(s, err, "migrate") || exec_sql(s, m->sql, err) || exec_sql(s, pragma, err) ||
            commit(s, err, "migrate")) {
            rollback(s);
            return gc_error_prefix(err, "migration %s", m->name);
        }
    }
    return 0;
}

/* ---- open / close ---- */

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
        gc_error_set(err, GC_ENOMEM, "store: out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->path = strdup(path);
    if (!s->path) {
        gc_error_set(err, GC_ENOMEM, "store: out of memory");
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
    for (int i = 0; i < S_COUNT; i++)
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

/* ---- runs ---- */

int gd_store_run_insert(struct gd_store *s, const char *name, const char *spec_json, int64_t steps,
                        int64_t *id, struct gc_error *err)
{
    int ret = GC_EIO;
    write_start(s);
    sqlite3_stmt *st = stmt(s, S_RUN_INSERT, err);
    if (st) {
        sqlite3_bind_text(st, 1, name ? name : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, spec_json ? spec_json : "{}", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, steps);
        ret = exec_done(s, st, err, "insert run");
        if (!ret && id)
            *id = sqlite3_last_insert_rowid(s->db);
    }
    return write_end(s, ret);
}

int gd_store_run_get(struct gd_store *s, int64_t id, struct gd_run *out, struct gc_error *err)
{
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, S_RUN_GET, err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            ret = read_run(st, out, err);
        else if (rc == SQLITE_DONE)
            ret = gc_error_set(err, GC_ENOTFOUND, "run %lld not found", (long long)id);
        else
            ret = db_error(s, err, "get run");
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
    sqlite3_stmt *st = stmt(s, S_RUN_LIST, err);
    if (!st) {
        ret = GC_EIO;
        goto out;
    }
    if (status >= 0 && status < GD_NSTATUS)
        sqlite3_bind_text(st, 1, status_names[status], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, cursor);
    /* one more than asked tells whether a next page exists */
    sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == limit) {
            *next = runs[cnt - 1].id;
            break;
        }
        if (grow((void **)&runs, &cap, cnt + 1, sizeof(*runs))) {
            ret = out_of_memory(err);
            break;
        }
        if ((ret = read_run(st, &runs[cnt], err)))
            break;
        cnt++;
    }
    if (!ret && rc != SQLITE_ROW && rc != SQLITE_DONE)
        ret = db_error(s, err, "list runs");
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
    write_start(s);
    sqlite3_stmt *st = stmt(s, S_RUN_SET_STATUS, err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, gd_status_name(stt), -1, SQLITE_STATIC);
        if (error)
            sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
        ret = run_changed(s, exec_done(s, st, err, "set status"), id, err);
    }
    return write_end(s, ret);
}

int gd_store_run_set_step(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err)
{
    write_start(s);
    int ret = exec_pair(s, S_RUN_SET_STEP, id, step, err, "set step");
    return write_end(s, run_changed(s, ret, id, err));
}

int gd_store_run_delete(struct gd_store *s, int64_t id, struct gc_error *err)
{
    int ret = GC_EIO;
    write_start(s);
    sqlite3_stmt *st = stmt(s, S_RUN_DELETE, err);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        ret = run_changed(s, exec_done(s, st, err, "delete run"), id, err);
    }
    return write_end(s, ret);
}

static int fill_id(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    *(int64_t *)elem = sqlite3_column_int64(st, 0);
    return 0;
}

/* The ids (or steps) a one-column query with the text or int64 key bound to ?1 returns,
 * in a malloc'ed array. */
static int query_ids(struct gd_store *s, enum stmt_id id, const char *text, int64_t key,
                     int64_t **ids, int *n, struct gc_error *err, const char *what)
{
    *ids = NULL;
    *n = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, id, err);
    if (st) {
        if (text)
            sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, 1, key);
        ret = read_rows(s, st, sizeof(**ids), fill_id, NULL, (void **)ids, n, err, what);
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_run_ids(struct gd_store *s, enum gd_status stt, int64_t **ids, int *n,
                     struct gc_error *err)
{
    return query_ids(s, S_RUN_IDS, gd_status_name(stt), 0, ids, n, err, "list run ids");
}

/* ---- metrics ---- */

int gd_store_metrics_put(struct gd_store *s, int64_t run, int kind, int64_t step,
                         const char *const *names, const double *values, int n,
                         struct gc_error *err)
{
    int ret;
    write_start(s);
    /* one transaction per batch: one fsync-free WAL commit instead of n */
    if ((ret = begin(s, err, "put metrics")))
        return write_end(s, ret);
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *st = stmt(s, S_METRIC_PUT, err);
        if (!st) {
            ret = GC_EIO;
            break;
        }
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, kind);
        sqlite3_bind_text(st, 3, names[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, step);
        sqlite3_bind_double(st, 5, values[i]); /* NaN is stored as NULL */
        if ((ret = exec_done(s, st, err, "put metric")))
            break;
    }
    if (!ret)
        ret = commit(s, err, "put metrics");
    if (ret)
        rollback(s);
    return write_end(s, ret);
}

static int fill_kv(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_kv *kv = elem;
    copy_text(kv->name, sizeof(kv->name), sqlite3_column_text(st, 0));
    kv->value = column_value(st, 1);
    kv->step = sqlite3_column_int64(st, 2);
    return 0;
}

int gd_store_metrics_latest(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                            struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, S_METRIC_LATEST, err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int(st, 2, kind);
        ret =
            read_rows(s, st, sizeof(**out), fill_kv, NULL, (void **)out, n, err, "latest metrics");
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_metrics_series(struct gd_store *s, int64_t run, const char *name, int64_t from,
                            int64_t to, int max_points, int64_t **steps, double **values, int *n,
                            struct gc_error *err)
{
    *steps = NULL;
    *values = NULL;
    *n = 0;
    int64_t *st_arr = NULL;
    double *v_arr = NULL;
    int cnt = 0, cap = 0, cap2 = 0, ret = 0, rc;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, S_METRIC_SERIES, err);
    if (!st) {
        ret = GC_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&st_arr, &cap, cnt + 1, sizeof(*st_arr)) ||
            grow((void **)&v_arr, &cap2, cnt + 1, sizeof(*v_arr))) {
            ret = out_of_memory(err);
            break;
        }
        st_arr[cnt] = sqlite3_column_int64(st, 0);
        v_arr[cnt] = column_value(st, 1);
        cnt++;
    }
    if (!ret && rc != SQLITE_DONE)
        ret = db_error(s, err, "metric series");
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&s->mu);
    if (ret) {
        free(st_arr);
        free(v_arr);
        return ret;
    }
    if (max_points > 0 && cnt > max_points) {
        /* evenly spaced picks i*(cnt-1)/(m-1): the first and the last point are kept */
        if (max_points == 1) {
            st_arr[0] = st_arr[cnt - 1];
            v_arr[0] = v_arr[cnt - 1];
        } else {
            for (int i = 0; i < max_points; i++) {
                int64_t j = (int64_t)i * (cnt - 1) / (max_points - 1);
                st_arr[i] = st_arr[j];
                v_arr[i] = v_arr[j];
            }
        }
        cnt = max_points;
    }
    *steps = st_arr;
    *values = v_arr;
    *n = cnt;
    return 0;
}

static int fill_name(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    char **name = elem;
    if (!(*name = dup_text(sqlite3_column_text(st, 0))))
        return out_of_memory(err);
    return 0;
}

static void clear_name(void *elem)
{
    free(*(char **)elem);
}

int gd_store_metrics_names(struct gd_store *s, int64_t run, char ***names, int *n,
                           struct gc_error *err)
{
    *names = NULL;
    *n = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, S_METRIC_NAMES, err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        ret = read_rows(s, st, sizeof(**names), fill_name, clear_name, (void **)names, n, err,
                        "metric names");
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* ---- samples and checkpoints ---- */

int gd_store_sample_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *png,
                        size_t len, struct gc_error *err)
{
    int ret = GC_EIO;
    write_start(s);
    sqlite3_stmt *st = stmt(s, S_SAMPLE_PUT, err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, step);
        sqlite3_bind_blob64(st, 3, len ? png : (const void *)"", len, SQLITE_STATIC);
        ret = exec_done(s, st, err, "put sample");
    }
    return write_end(s, ret);
}

int gd_store_sample_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                          struct gc_error *err)
{
    return query_ids(s, S_SAMPLE_STEPS, NULL, run, steps, n, err, "sample steps");
}
/* The newest (step < 0) or given row of a (step, blob) query. */
static int get_blob(struct gd_store *s, enum stmt_id id, int64_t run, int64_t step, uint8_t **data,
                    size_t *len, int64_t *got_step, struct gc_error *err, const char *what)
{
    *data = NULL;
    *len = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, id, err);
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
            ret = out_of_memory(err);
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
        ret = db_error(s, err, what);
    }
    sqlite3_reset(st);
out:
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_sample_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **png, size_t *len,
                        int64_t *got_step, struct gc_error *err)
{
    return get_blob(s, S_SAMPLE_GET, run, step, png, len, got_step, err, "sample");
}

int gd_store_ckpt_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                      size_t len, int keep, struct gc_error *err)
{
    char hex[65];
    /* hashed before taking the lock: it is the slow part for big models */
    gd_sha256_hex(bytes, len, hex);
    int ret;
    write_start(s);
    if ((ret = begin(s, err, "put checkpoint")))
        return write_end(s, ret);
    sqlite3_stmt *st = stmt(s, S_CKPT_PUT, err);
    if (!st) {
        ret = GC_EIO;
        goto undo;
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, step);
    sqlite3_bind_int64(st, 3, (int64_t)len);
    sqlite3_bind_text(st, 4, hex, 64, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 5, len ? bytes : (const void *)"", len, SQLITE_STATIC);
    if ((ret = exec_done(s, st, err, "put checkpoint")))
        goto undo;
    /* the run's step moves with its checkpoint: a restart resumes exactly there */
    if ((ret = exec_pair(s, S_RUN_SET_STEP, run, step, err, "set step")))
        goto undo;
    if (keep > 0 && (ret = exec_pair(s, S_CKPT_PRUNE, run, keep, err, "prune checkpoints")))
        goto undo;
    if (!(ret = commit(s, err, "put checkpoint")))
        return write_end(s, 0);
undo:
    rollback(s);
    return write_end(s, ret);
}

static int fill_ckpt(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_ckpt_info *c = elem;
    c->step = sqlite3_column_int64(st, 0);
    c->bytes = sqlite3_column_int64(st, 1);
    copy_text(c->sha256, sizeof(c->sha256), sqlite3_column_text(st, 2));
    copy_text(c->created_at, sizeof(c->created_at), sqlite3_column_text(st, 3));
    return 0;
}

int gd_store_ckpt_list(struct gd_store *s, int64_t run, struct gd_ckpt_info **out, int *n,
                       struct gc_error *err)
{
    *out = NULL;
    *n = 0;
    int ret = GC_EIO;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, S_CKPT_LIST, err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        ret = read_rows(s, st, sizeof(**out), fill_ckpt, NULL, (void **)out, n, err,
                        "list checkpoints");
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_ckpt_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                      int64_t *got_step, struct gc_error *err)
{
    return get_blob(s, S_CKPT_GET, run, step, bytes, len, got_step, err, "checkpoint");
}

/* ---- events ---- */

int gd_store_event_put(struct gd_store *s, int64_t run, const char *type, int64_t step, int64_t *id,
                       struct gc_error *err)
{
    int ret = GC_EIO;
    write_start(s);
    sqlite3_stmt *st = stmt(s, S_EVENT_PUT, err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, step);
        ret = exec_done(s, st, err, "put event");
        if (!ret && id)
            *id = sqlite3_last_insert_rowid(s->db);
    }
    return write_end(s, ret);
}

static int fill_event(sqlite3_stmt *st, void *elem, struct gc_error *err)
{
    (void)err;
    struct gd_event *e = elem;
    e->id = sqlite3_column_int64(st, 0);
    e->run = sqlite3_column_int64(st, 1);
    copy_text(e->type, sizeof(e->type), sqlite3_column_text(st, 2));
    e->step = sqlite3_column_int64(st, 3);
    copy_text(e->created_at, sizeof(e->created_at), sqlite3_column_text(st, 4));
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
    sqlite3_stmt *st = stmt(s, S_EVENT_LIST, err);
    if (st) {
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, after);
        sqlite3_bind_int64(st, 3, limit);
        ret =
            read_rows(s, st, sizeof(**out), fill_event, NULL, (void **)out, n, err, "list events");
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

int gd_store_event_last(struct gd_store *s, int64_t *id, struct gc_error *err)
{
    int ret = GC_EIO;
    *id = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, S_EVENT_LAST, err);
    if (st) {
        ret = 0;
        if (sqlite3_step(st) == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        else
            ret = db_error(s, err, "last event");
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
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
        ret = db_error(s, NULL, "read user_version");
        goto out;
    }
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
    if ((ret = begin(s, NULL, "probe")))
        goto out;
    if ((ret = exec_sql(s, sql, NULL)) || (ret = commit(s, NULL, "probe")))
        rollback(s);
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

/* ---- stats ---- */

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
    sqlite3_stmt *st = stmt(s, S_STATS_STATUS, err);
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
        ret = db_error(s, err, "stats");
        goto out;
    }
    if (!(st = stmt(s, S_STATS_STEPS, err))) {
        ret = GC_EIO;
        goto out;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->steps_total = sqlite3_column_int64(st, 0);
        out->images_total = sqlite3_column_int64(st, 1);
    } else {
        ret = db_error(s, err, "stats");
    }
    sqlite3_reset(st);
    out->bytes = file_size(s->path, "") + file_size(s->path, "-wal");
out:
    pthread_mutex_unlock(&s->mu);
    return ret;
}
