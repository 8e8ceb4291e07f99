/* store_sqlite.h — what the files of the SQLite store share: the connection, its
 * cache of prepared statements, and the helpers every query goes through.
 *
 * The SQLite store implements store.h in five files, all named store_sqlite*.c and
 * the only files of the daemon that include sqlite3.h (and this header):
 *   store_sqlite.c          the connection: open, migrations, statements, errors,
 *                           transactions, the health of writes
 *   store_sqlite_runs.c     runs, and the totals over them for /metrics
 *   store_sqlite_metrics.c  training metrics and eval figures
 *   store_sqlite_blobs.c    samples and checkpoints
 *   store_sqlite_events.c   events
 *   store_sqlite_sweeps.c   sweeps, the watchdog's records, provenance and rewinds
 * A second backend goes beside them in files of its own behind the same store.h.
 *
 * DESIGN: one connection behind one mutex (mu). Every public function takes mu for its
 * whole body, so a multi-statement write (a metrics batch, a checkpoint with the run's
 * step) is one transaction no other thread can interleave with. Every helper below is
 * called with mu held. Statements are prepared once, on first use, and kept for the
 * life of the connection. */
#ifndef GD_STORE_SQLITE_H
#define GD_STORE_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "daemon/store.h"

/* The time of the statement as a store.h time string, in SQL. */
#define GD_SQL_NOW "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* The slots of the statement cache. Each belongs to one call site (or one helper) and
 * so to one SQL text, which that call site passes to gd_sqlite_stmt(). */
enum gd_sqlite_stmt {
    GD_SQ_RUN_INSERT,
    GD_SQ_RUN_GET,
    GD_SQ_RUN_LIST,
    GD_SQ_RUN_SET_STATUS,
    GD_SQ_RUN_SET_STEP,
    GD_SQ_RUN_SET_CLASSES,
    GD_SQ_RUN_DELETE,
    GD_SQ_RUN_IDS,
    GD_SQ_STATS_STATUS,
    GD_SQ_STATS_STEPS,
    GD_SQ_METRIC_PUT,
    GD_SQ_METRIC_LATEST,
    GD_SQ_METRIC_SERIES,
    GD_SQ_METRIC_NAMES,
    GD_SQ_SAMPLE_PUT,
    GD_SQ_SAMPLE_STEPS,
    GD_SQ_SAMPLE_GET,
    GD_SQ_CKPT_PUT,
    GD_SQ_CKPT_PRUNE,
    GD_SQ_CKPT_LIST,
    GD_SQ_CKPT_GET,
    GD_SQ_EVENT_PUT,
    GD_SQ_EVENT_LIST,
    GD_SQ_EVENT_LAST,
    GD_SQ_RUN_PROVENANCE,
    GD_SQ_REWIND_METRICS,
    GD_SQ_REWIND_SAMPLES,
    GD_SQ_REWIND_CKPTS,
    GD_SQ_SWEEP_INSERT,
    GD_SQ_SWEEP_RUN_INSERT,
    GD_SQ_SWEEP_GET,
    GD_SQ_SWEEP_LIST,
    GD_SQ_SWEEP_RUNS,
    GD_SQ_WATCH_PUT,
    GD_SQ_WATCH_LIST,
    GD_SQ_PLANE_PUT,
    GD_SQ_PLANE_STEPS,
    GD_SQ_PLANE_GET,
    GD_SQ_COUNT,
};

struct gd_store {
    pthread_mutex_t mu; /* guards everything below */
    sqlite3 *db;
    sqlite3_stmt *stmt[GD_SQ_COUNT];
    char *path;
    /* the health of writes, for gd_store_health() */
    int last_rc;                /* SQLite code of the newest failure, 0 when none */
    char last_msg[256];         /* and its message */
    int write_failing;          /* the newest write failed for lack of space or on I/O */
    char write_msg[300];        /* what it said, for /healthz */
    struct timespec last_write; /* CLOCK_MONOTONIC time of the newest write attempt */
};

/* ---- errors and statements (store_sqlite.c) ---- */

/* Records the connection's newest error as the store's failure of `what` and sets err
 * (which may be NULL) to GC_EIO with it; returns GC_EIO. */
int gd_sqlite_error(struct gd_store *s, struct gc_error *err, const char *what);
/* The prepared statement of slot id (prepared from sql on first use), reset and
 * unbound; NULL with err set on failure. */
sqlite3_stmt *gd_sqlite_stmt(struct gd_store *s, enum gd_sqlite_stmt id, const char *sql,
                             struct gc_error *err);
/* Steps a statement that returns no rows; resets it so it holds no lock afterwards. */
int gd_sqlite_exec_done(struct gd_store *s, sqlite3_stmt *st, struct gc_error *err,
                        const char *what);
/* Runs the write of slot id, whose two parameters are ?1 = a and ?2 = b. */
int gd_sqlite_exec_pair(struct gd_store *s, enum gd_sqlite_stmt id, const char *sql, int64_t a,
                        int64_t b, struct gc_error *err, const char *what);

/* ---- transactions and the health of writes (store_sqlite.c) ---- */

/* BEGIN IMMEDIATE, COMMIT and ROLLBACK of the write `what`, which their messages name
 * (a full disk usually shows at the commit). */
int gd_sqlite_begin(struct gd_store *s, struct gc_error *err, const char *what);
int gd_sqlite_commit(struct gd_store *s, struct gc_error *err, const char *what);
void gd_sqlite_rollback(struct gd_store *s);
/* Takes mu for a write; gd_sqlite_write_end() records the write's outcome ret for
 * gd_store_health(), releases mu and returns ret. */
void gd_sqlite_write_start(struct gd_store *s);
int gd_sqlite_write_end(struct gd_store *s, int ret);

/* ---- reading rows (store_sqlite.c) ---- */

/* Fills one array element from the current row of a query; 0 or a negative GC_E*. */
typedef int (*gd_sqlite_row_fn)(sqlite3_stmt *st, void *elem, struct gc_error *err);

/* Steps st to its end, one element of sz bytes a row filled by fill, into a malloc'ed
 * array (*out, *n); resets st so it holds no lock afterwards. On failure frees the
 * array (calling clear on each element filled, when given) and leaves *out and *n as
 * they were. */
int gd_sqlite_read_rows(struct gd_store *s, sqlite3_stmt *st, size_t sz, gd_sqlite_row_fn fill,
                        void (*clear)(void *), void **out, int *n, struct gc_error *err,
                        const char *what);
/* The int64 column of a one-column query whose ?1 is the text (when not NULL) or else
 * the int64 key, in a malloc'ed array (run ids, sample steps). */
int gd_sqlite_query_ids(struct gd_store *s, enum gd_sqlite_stmt id, const char *sql,
                        const char *text, int64_t key, int64_t **ids, int *n, struct gc_error *err,
                        const char *what);
/* Grows a malloc'ed array to hold at least need elements of size sz; -1 when out of
 * memory (the array is kept). */
int gd_sqlite_grow(void **arr, int *cap, int need, size_t sz);

static inline int gd_sqlite_no_memory(struct gc_error *err)
{
    return gc_error_set(err, GC_ENOMEM, "store: out of memory");
}

/* A text column into a fixed buffer ("" for NULL), or malloc'ed (NULL for NULL). */
static inline void gd_sqlite_copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static inline char *gd_sqlite_dup_text(const unsigned char *src)
{
    return src ? strdup((const char *)src) : NULL;
}

/* ---- shared by runs and checkpoints (store_sqlite_runs.c) ---- */

/* Sets the run's step, inside the caller's write (a checkpoint moves it with itself). */
int gd_sqlite_set_step(struct gd_store *s, int64_t run, int64_t step, struct gc_error *err);

#endif
