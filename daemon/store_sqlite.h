/* store_sqlite.h — what the files of the SQLite store share: its connections, their
 * caches of prepared statements, and the helpers every query goes through.
 *
 * The SQLite store implements store.h (through store_backend.h) in seven files, all
 * named store_sqlite*.c and with store_pg*.c the only files of the daemon that include
 * a database header (and this one):
 *   store_sqlite.c          the connections: open, migrations, statements, errors,
 *                           transactions, the health of writes
 *   store_sqlite_runs.c     runs, and the totals over them for /metrics
 *   store_sqlite_claims.c   claims, the user's verbs, the owner's requests, workers
 *   store_sqlite_metrics.c  training metrics and eval figures, and their newest values
 *   store_sqlite_blobs.c    samples (with planes) and checkpoints
 *   store_sqlite_events.c   events
 *   store_sqlite_sweeps.c   sweeps, the watchdog's records, provenance and rewinds
 *
 * DESIGN: one writer connection and up to GD_SQLITE_READERS reader connections on the
 * same file in WAL mode, each behind its own mutex (mu) and with its own statement
 * cache. Every write takes the writer's mu for its whole body, so a multi-statement
 * write (a metrics batch, a checkpoint with the run's step) is one transaction no other
 * thread can interleave with; the writer's mu also guards the health fields of struct
 * gd_sqlite. Reads take a reader: in WAL mode a reader sees the newest commit and
 * neither waits for the writer nor makes it wait, so the event streams and the API's
 * reads stay off the lock the training writes take. A reader is picked round-robin,
 * the first free one if any (trylock), and opened on its first use. A read that must
 * see a write of the same call (inside a transaction) goes through the writer. Every
 * helper below is called with the connection's mu held. Statements are prepared once,
 * on first use, and kept for the life of the connection. */
#ifndef GD_STORE_SQLITE_H
#define GD_STORE_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "daemon/store.h"
#include "daemon/store_backend.h"

/* The time of the statement as a store.h time string, in SQL. */
#define GD_SQL_NOW "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* Reader connections at most (each holds a file descriptor and a page cache). */
#define GD_SQLITE_READERS 4

/* The slots of the statement cache. Each belongs to one call site (or one helper) and
 * so to one SQL text, which that call site passes to gd_sqlite_stmt(). */
enum gd_sqlite_stmt {
    GD_SQ_RUN_INSERT,
    GD_SQ_RUN_GET,
    GD_SQ_RUN_LIST,
    GD_SQ_RUN_LIST_STATUS,
    GD_SQ_RUN_SET_STATUS,
    GD_SQ_RUN_SET_STEP,
    GD_SQ_RUN_SET_CLASSES,
    GD_SQ_RUN_DELETE,
    GD_SQ_RUN_IDS,
    GD_SQ_RUN_COUNT,
    GD_SQ_RUN_FENCE,
    GD_SQ_RUN_CLAIM_PICK,
    GD_SQ_RUN_CLAIM_TAKE,
    GD_SQ_RUN_RECOVER,
    GD_SQ_RUN_ACT_GET,
    GD_SQ_RUN_ACT_STATUS,
    GD_SQ_RUN_ACT_REQUEST,
    GD_SQ_RUN_RELEASE_GET,
    GD_SQ_RUN_RELEASE,
    GD_SQ_RUN_REQUESTED,
    GD_SQ_WORKER_BEAT,
    GD_SQ_WORKER_PRUNE,
    GD_SQ_WORKER_LEAVE,
    GD_SQ_WORKER_LIST,
    GD_SQ_WORKER_RUNS,
    GD_SQ_STATS_STATUS,
    GD_SQ_STATS_STEPS,
    GD_SQ_METRIC_PUT,
    GD_SQ_METRIC_LATEST_PUT,
    GD_SQ_METRIC_LATEST,
    GD_SQ_METRIC_LATEST_RUN,
    GD_SQ_METRIC_AT,
    GD_SQ_METRIC_SERIES,
    GD_SQ_METRIC_LAST,
    GD_SQ_METRIC_SEEK,
    GD_SQ_METRIC_NAMES,
    GD_SQ_SAMPLE_PUT,
    GD_SQ_SAMPLE_STEPS,
    GD_SQ_SAMPLE_GET,
    GD_SQ_CKPT_PUT,
    GD_SQ_CKPT_PRUNE,
    GD_SQ_CKPT_LIST,
    GD_SQ_CKPT_GET,
    GD_SQ_EVENT_PUT,
    GD_SQ_EVENT_PRUNE,
    GD_SQ_EVENT_LIST,
    GD_SQ_EVENT_LIST_RUN,
    GD_SQ_EVENT_LAST,
    GD_SQ_RUN_PROVENANCE,
    GD_SQ_REWIND_METRICS,
    GD_SQ_REWIND_LATEST,
    GD_SQ_REWIND_LATEST_DROP,
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

/* One connection to the file. */
struct gd_sqlite_conn {
    pthread_mutex_t mu; /* guards everything below (and, on the writer, the health) */
    sqlite3 *db;        /* NULL for a reader not opened yet */
    sqlite3_stmt *stmt[GD_SQ_COUNT];
    int last_rc;        /* SQLite code of the newest failure, 0 when none */
    char last_msg[256]; /* and its message */
};

struct gd_sqlite {
    struct gd_store base;
    char *path;
    struct gd_sqlite_conn w;                    /* the writer */
    struct gd_sqlite_conn r[GD_SQLITE_READERS]; /* the readers */
    atomic_uint next_reader;                    /* where the next read starts looking */
    /* the health of writes, for gd_store_health(); guarded by w.mu */
    int write_failing;          /* the newest write failed for lack of space or on I/O */
    char write_msg[300];        /* what it said, for /healthz */
    struct timespec last_write; /* CLOCK_MONOTONIC time of the newest write attempt */
};

static inline struct gd_sqlite *gd_sqlite_of(struct gd_store *s)
{
    return (struct gd_sqlite *)s;
}

/* ---- errors and statements (store_sqlite.c) ---- */

/* Records the connection's newest error as its failure of `what` and sets err (which
 * may be NULL) to GC_EIO with it; returns GC_EIO. */
int gd_sqlite_error(struct gd_sqlite_conn *c, struct gc_error *err, const char *what);
/* The prepared statement of slot id (prepared from sql on first use), reset and
 * unbound; NULL with err set on failure. */
sqlite3_stmt *gd_sqlite_stmt(struct gd_sqlite_conn *c, enum gd_sqlite_stmt id, const char *sql,
                             struct gc_error *err);
/* Steps a statement that returns no rows; resets it so it holds no lock afterwards. */
int gd_sqlite_exec_done(struct gd_sqlite_conn *c, sqlite3_stmt *st, struct gc_error *err,
                        const char *what);
/* Runs the write of slot id, whose two parameters are ?1 = a and ?2 = b. */
int gd_sqlite_exec_pair(struct gd_sqlite_conn *c, enum gd_sqlite_stmt id, const char *sql,
                        int64_t a, int64_t b, struct gc_error *err, const char *what);

/* ---- transactions, readers and the health of writes (store_sqlite.c) ---- */

/* BEGIN IMMEDIATE, COMMIT and ROLLBACK on the writer, of the write `what`, which their
 * messages name (a full disk usually shows at the commit). */
int gd_sqlite_begin(struct gd_sqlite *s, struct gc_error *err, const char *what);
int gd_sqlite_commit(struct gd_sqlite *s, struct gc_error *err, const char *what);
void gd_sqlite_rollback(struct gd_sqlite *s);
/* Takes the writer for a write; gd_sqlite_write_end() records the write's outcome ret
 * for gd_store_health(), releases the writer and returns ret. */
struct gd_sqlite_conn *gd_sqlite_write_start(struct gd_sqlite *s);
int gd_sqlite_write_end(struct gd_sqlite *s, int ret);
/* Takes a reader (opening it on first use); NULL with err set when none can be opened.
 * gd_sqlite_read_end() gives it back. */
struct gd_sqlite_conn *gd_sqlite_read_start(struct gd_sqlite *s, struct gc_error *err);
void gd_sqlite_read_end(struct gd_sqlite_conn *c);

/* ---- reading rows (store_sqlite.c) ---- */

/* Fills one array element from the current row of a query; 0 or a negative GC_E*. */
typedef int (*gd_sqlite_row_fn)(sqlite3_stmt *st, void *elem, struct gc_error *err);

/* Steps st to its end, one element of sz bytes a row filled by fill, into a malloc'ed
 * array (*out, *n); resets st so it holds no lock afterwards. On failure frees the
 * array (calling clear on each element filled, when given) and leaves *out and *n as
 * they were. */
int gd_sqlite_read_rows(struct gd_sqlite_conn *c, sqlite3_stmt *st, size_t sz,
                        gd_sqlite_row_fn fill, void (*clear)(void *), void **out, int *n,
                        struct gc_error *err, const char *what);
/* The int64 column of a one-column query whose ?1 is the text (when not NULL) or else
 * the int64 key, in a malloc'ed array (run ids, sample steps). */
int gd_sqlite_query_ids(struct gd_sqlite_conn *c, enum gd_sqlite_stmt id, const char *sql,
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

/* ---- shared between the files (store_sqlite_runs.c, store_sqlite_claims.c) ---- */

/* Sets the run's step, inside the caller's write (a checkpoint moves it with itself). */
int gd_sqlite_set_step(struct gd_sqlite *s, int64_t run, int64_t step, struct gc_error *err);
/* Inside the caller's write: GC_ESTALE when this store
 * claimed the run and another worker has taken it over since; 0 otherwise. */
int gd_sqlite_fence(struct gd_sqlite *s, int64_t run, struct gc_error *err);

extern const struct gd_store_ops gd_sqlite_ops;

/* The functions of gd_sqlite_ops, by file. */
int gd_sqlite_run_insert(struct gd_store *s, const struct gd_worker_self *claim_for,
                         const char *name, const char *spec_json, int64_t steps, int64_t *id,
                         struct gc_error *err);
int gd_sqlite_run_get(struct gd_store *s, int64_t id, struct gd_run *out, struct gc_error *err);
int gd_sqlite_run_list(struct gd_store *s, int status, int limit, int64_t cursor,
                       struct gd_run **out, int *n, int64_t *next, struct gc_error *err);
int gd_sqlite_run_set_status(struct gd_store *s, int64_t id, enum gd_status st, const char *error,
                             struct gc_error *err);
int gd_sqlite_run_set_step(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err);
int gd_sqlite_run_set_classes(struct gd_store *s, int64_t id, const char *classes,
                              struct gc_error *err);
int gd_sqlite_run_delete(struct gd_store *s, int64_t id, struct gc_error *err);
int gd_sqlite_run_ids(struct gd_store *s, enum gd_status st, int64_t **ids, int *n,
                      struct gc_error *err);
int gd_sqlite_run_count(struct gd_store *s, enum gd_status st, int64_t *n, struct gc_error *err);
int gd_sqlite_stats(struct gd_store *s, struct gd_store_stats *out, struct gc_error *err);

int gd_sqlite_run_claim(struct gd_store *s, const struct gd_worker_self *me, int64_t want,
                        int64_t *id, char *taken_from, size_t cap, struct gc_error *err);
int gd_sqlite_run_recover(struct gd_store *s, const struct gd_worker_self *me, int64_t **ids,
                          int *n, struct gc_error *err);
int gd_sqlite_run_act(struct gd_store *s, int64_t id, enum gd_action act, const char *reason,
                      struct gd_act_result *out, struct gc_error *err);
int gd_sqlite_run_requested(struct gd_store *s, int64_t id, enum gd_request *req,
                            struct gc_error *err);
int gd_sqlite_worker_beat(struct gd_store *s, const struct gd_worker_self *me,
                          struct gc_error *err);
int gd_sqlite_worker_leave(struct gd_store *s, const struct gd_worker_self *me,
                           struct gc_error *err);
int gd_sqlite_worker_list(struct gd_store *s, struct gd_worker_info **out, int *n,
                          struct gc_error *err);

int gd_sqlite_metrics_put(struct gd_store *s, int64_t run, int kind, int64_t step,
                          const char *const *names, const double *values, int n,
                          struct gc_error *err);
int gd_sqlite_metrics_latest(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                             struct gc_error *err);
int gd_sqlite_metrics_latest_runs(struct gd_store *s, const int64_t *runs, int nruns,
                                  struct gd_kv **out, int *n, struct gc_error *err);
int gd_sqlite_metrics_at(struct gd_store *s, int64_t run, int kind, int64_t step,
                         struct gd_kv **out, int *n, struct gc_error *err);
int gd_sqlite_metrics_series(struct gd_store *s, int64_t run, const char *name, int64_t from,
                             int64_t to, int max_points, int64_t **steps, double **values, int *n,
                             struct gc_error *err);
int gd_sqlite_metrics_names(struct gd_store *s, int64_t run, char ***names, int *n,
                            struct gc_error *err);

int gd_sqlite_sample_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *png,
                         size_t len, struct gc_error *err);
int gd_sqlite_sample_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                           struct gc_error *err);
int gd_sqlite_sample_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **png, size_t *len,
                         int64_t *got_step, struct gc_error *err);
int gd_sqlite_ckpt_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                       size_t len, int keep, const char *sha256, struct gc_error *err);
int gd_sqlite_ckpt_list(struct gd_store *s, int64_t run, struct gd_ckpt_info **out, int *n,
                        struct gc_error *err);
int gd_sqlite_ckpt_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                       int64_t *got_step, struct gc_error *err);

int gd_sqlite_event_put(struct gd_store *s, int64_t run, const char *type, int64_t step,
                        int64_t *id, struct gc_error *err);
int gd_sqlite_event_list(struct gd_store *s, int64_t run, int64_t after, int limit,
                         struct gd_event **out, int *n, struct gc_error *err);
int gd_sqlite_event_last(struct gd_store *s, int64_t *id, struct gc_error *err);
int gd_sqlite_news_wait(struct gd_store *s, int timeout_ms, struct gd_store_news *out,
                        struct gc_error *err);

int gd_sqlite_plane_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                        size_t len, struct gc_error *err);
int gd_sqlite_plane_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                          struct gc_error *err);
int gd_sqlite_plane_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                        int64_t *got_step, struct gc_error *err);

int gd_sqlite_run_set_provenance(struct gd_store *s, int64_t id, const struct gd_provenance *p,
                                 struct gc_error *err);
int gd_sqlite_run_rewind(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err);
int gd_sqlite_sweep_insert(struct gd_store *s, const struct gd_sweep *w,
                           const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *run_ids,
                           struct gc_error *err);
int gd_sqlite_sweep_get(struct gd_store *s, int64_t id, struct gd_sweep *out, struct gc_error *err);
int gd_sqlite_sweep_list(struct gd_store *s, struct gd_sweep **out, int *n, struct gc_error *err);
int gd_sqlite_sweep_runs(struct gd_store *s, int64_t sweep, struct gd_sweep_member **out, int *n,
                         struct gc_error *err);
int gd_sqlite_watch_put(struct gd_store *s, const struct gd_watch_record *r, int64_t *id,
                        struct gc_error *err);
int gd_sqlite_watch_list(struct gd_store *s, const int64_t *runs, int nruns,
                         struct gd_watch_record **out, int *n, struct gc_error *err);

#endif
