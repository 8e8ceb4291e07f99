/* store_pg.h — what the files of the PostgreSQL store share: its connections, their
 * prepared statements, and the helpers every query goes through.
 *
 * The PostgreSQL store implements store.h (through store_backend.h) for any number of
 * daemons on any number of hosts sharing one database, in five files, all named
 * store_pg*.c and with store_sqlite*.c the only files of the daemon that include a
 * database header (libpq-fe.h, and this one):
 *   store_pg.c         connections, reconnection, migrations, errors, health, news
 *   store_pg_runs.c    runs, and the totals over them for /metrics
 *   store_pg_claims.c  claims and leases, the user's verbs, the owner's requests, workers
 *   store_pg_data.c    metrics and their newest values, samples (with planes),
 *                      checkpoints, events
 *   store_pg_sweeps.c  sweeps, the watchdog's records, provenance and rewinds
 *
 * DESIGN: a pool of connections, each behind its own mutex (mu) with the statements it
 * has prepared; an operation takes one (the first free, else waits for one), and a
 * multi-statement write is one transaction on it. The first GD_PG_BULK connections are
 * for the training's frequent small writes, metric points and events, and commit them
 * asynchronously (synchronous_commit off: a crash of the server itself may lose the
 * last few hundred milliseconds of them, as a power cut may with SQLite; runs, claims,
 * statuses, samples and checkpoints commit synchronously on the others). A connection
 * found broken is closed and opened again on its next use; while the server cannot be
 * reached (the store is down) an operation fails at once with GC_EUNAVAIL, but one
 * tries again at most every RETRY_MS, and gd_store_health() probes. One more
 * connection, for the keeper alone, LISTENs for the store's news. The health fields are
 * guarded by hmu, taken only for a moment and never across the network. */
#ifndef GD_STORE_PG_H
#define GD_STORE_PG_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "daemon/store.h"
#include "daemon/store_backend.h"

#define GD_PG_BULK 2 /* connections for metric points and events */
#define GD_PG_POOL 6 /* connections in all */

/* RFC 3339 UTC text of a timestamptz column, in SQL. */
#define GD_PG_TIME(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The prepared statements, one slot each. */
enum gd_pg_stmt {
    GD_PG_RUN_INSERT,
    GD_PG_RUN_GET,
    GD_PG_RUN_LIST,
    GD_PG_RUN_SET_STEP,
    GD_PG_RUN_SET_CLASSES,
    GD_PG_RUN_DELETE,
    GD_PG_RUN_IDS,
    GD_PG_RUN_COUNT,
    GD_PG_RUN_LOCK,
    GD_PG_RUN_RELEASE,
    GD_PG_RUN_CLAIM,
    GD_PG_RUN_RECOVER,
    GD_PG_RUN_ACT_GET,
    GD_PG_RUN_ACT_STATUS,
    GD_PG_RUN_ACT_REQUEST,
    GD_PG_RUN_REQUESTED,
    GD_PG_WORKER_BEAT,
    GD_PG_WORKER_LEAVE,
    GD_PG_WORKER_LIST,
    GD_PG_STATS_STATUS,
    GD_PG_STATS_STEPS,
    GD_PG_METRIC_PUT,
    GD_PG_METRIC_LATEST,
    GD_PG_METRIC_LATEST_RUNS,
    GD_PG_METRIC_AT,
    GD_PG_METRIC_SERIES,
    GD_PG_METRIC_LAST,
    GD_PG_METRIC_SEEK,
    GD_PG_METRIC_NAMES,
    GD_PG_SAMPLE_PUT,
    GD_PG_SAMPLE_STEPS,
    GD_PG_SAMPLE_GET,
    GD_PG_CKPT_PUT,
    GD_PG_CKPT_PRUNE,
    GD_PG_CKPT_LIST,
    GD_PG_CKPT_GET,
    GD_PG_EVENT_PUT,
    GD_PG_EVENT_PRUNE,
    GD_PG_EVENT_LIST,
    GD_PG_EVENT_LIST_RUN,
    GD_PG_EVENT_LAST,
    GD_PG_PLANE_PUT,
    GD_PG_PLANE_STEPS,
    GD_PG_PLANE_GET,
    GD_PG_RUN_PROVENANCE,
    GD_PG_RUN_REWIND,
    GD_PG_SWEEP_INSERT,
    GD_PG_SWEEP_RUN_INSERT,
    GD_PG_SWEEP_GET,
    GD_PG_SWEEP_LIST,
    GD_PG_SWEEP_RUNS,
    GD_PG_WATCH_PUT,
    GD_PG_WATCH_LIST,
    GD_PG_COUNT,
};

/* a connection notes the slots it has prepared in one bit each */
_Static_assert(GD_PG_COUNT <= 64, "more statements than bits in gd_pg_conn.prepared");

struct gd_pg_conn {
    pthread_mutex_t mu; /* guards everything below */
    PGconn *c;          /* NULL: not connected (yet, or since it broke) */
    uint64_t prepared;  /* the slots prepared on c, a bit each */
    int bulk;           /* commits asynchronously */
};

struct gd_pg {
    struct gd_store base;
    char *uri; /* as given, password and all: for libpq only, never for a message */
    struct gd_pg_conn pool[GD_PG_POOL];
    atomic_uint next; /* where the next pick starts looking */
    PGconn *listen;   /* the keeper's LISTEN connection; the keeper's alone */
    /* the health, guarded by hmu */
    pthread_mutex_t hmu;
    int down;                 /* the server could not be reached by the newest try */
    char down_msg[300];       /* why, for /healthz */
    struct timespec last_try; /* CLOCK_MONOTONIC time of the newest connection attempt */
};

static inline struct gd_pg *gd_pg_of(struct gd_store *s)
{
    return (struct gd_pg *)s;
}

/* ---- connections and statements (store_pg.c) ---- */

/* Takes a connection of the pool (bulk: one for metric points and events), connected;
 * NULL with err set (GC_EUNAVAIL) when the server cannot be reached.
 * gd_pg_release() gives it back. */
struct gd_pg_conn *gd_pg_acquire(struct gd_pg *s, int bulk, struct gc_error *err);
void gd_pg_release(struct gd_pg_conn *c);

/* Runs the prepared statement of slot id (prepared from sql on first use on this
 * connection) with n text parameters (NULL for SQL NULL; lens and fmts, when not NULL,
 * give binary ones). binary: the result's columns come in binary. Returns the result
 * (the caller PQclear()s it), or NULL with err set: GC_EUNAVAIL when the server cannot
 * be reached (the connection is then closed, the store marked down), else GC_EIO with
 * the server's message, prefixed with what. */
PGresult *gd_pg_exec(struct gd_pg *s, struct gd_pg_conn *c, enum gd_pg_stmt id, const char *sql,
                     int n, const char *const *vals, const int *lens, const int *fmts, int binary,
                     struct gc_error *err, const char *what);
/* gd_pg_exec() on a connection of the pool taken for the one statement (bulk: one for
 * metric points and events) and given back: NULL with err set as gd_pg_exec, or
 * GC_EUNAVAIL when no connection can be made. */
PGresult *gd_pg_query(struct gd_pg *s, int bulk, enum gd_pg_stmt id, const char *sql, int n,
                      const char *const *vals, const int *lens, const int *fmts, int binary,
                      struct gc_error *err, const char *what);
/* What a failed gd_pg_query() or gd_pg_exec() returns: err's code (GC_EIO when err is
 * NULL). */
static inline int gd_pg_fail(const struct gc_error *err)
{
    return err && err->code ? err->code : GC_EIO;
}
/* A command without parameters (BEGIN, COMMIT, ROLLBACK): 0 or as gd_pg_exec. */
int gd_pg_command(struct gd_pg *s, struct gd_pg_conn *c, const char *sql, struct gc_error *err,
                  const char *what);
/* ROLLBACK, ignoring failure (a broken connection has no transaction left). */
void gd_pg_rollback(struct gd_pg *s, struct gd_pg_conn *c);
/* gd_pg_exec() of a statement whose result nobody reads: 0, or gd_pg_fail(err). */
int gd_pg_do(struct gd_pg *s, struct gd_pg_conn *c, enum gd_pg_stmt id, const char *sql, int n,
             const char *const *vals, const int *lens, const int *fmts, struct gc_error *err,
             const char *what);
/* A transaction: takes a connection of the pool, BEGINs, and when run > 0 locks that
 * run's row (gd_pg_lock_run, *req as it says). Returns the connection, or NULL with
 * *ret set (GC_EUNAVAIL when no connection can be made) and nothing left open.
 * gd_pg_end() ends it: COMMIT when ret is 0 (its failure becomes ret), ROLLBACK
 * otherwise; gives the connection back and returns ret. */
struct gd_pg_conn *gd_pg_begin(struct gd_pg *s, int64_t run, enum gd_request *req, int *ret,
                               struct gc_error *err, const char *what);
int gd_pg_end(struct gd_pg *s, struct gd_pg_conn *c, int ret, struct gc_error *err,
              const char *what);

/* ---- values (store_pg.c) ---- */

/* An int64 as text into buf (at least 24 bytes); returns buf. */
const char *gd_pg_i64(char *buf, int64_t v);
int64_t gd_pg_get_i64(const PGresult *r, int row, int col);
/* A text column into a fixed buffer ("" for NULL), or malloc'ed (NULL for NULL). */
void gd_pg_copy_text(char *dst, size_t cap, const PGresult *r, int row, int col);
char *gd_pg_dup_text(const PGresult *r, int row, int col);
/* A float8 column (NULL is NaN). */
double gd_pg_get_double(const PGresult *r, int row, int col);
/* A binary int8 column. */
int64_t gd_pg_get_i64_binary(const PGresult *r, int row, int col);

static inline int gd_pg_no_memory(struct gc_error *err)
{
    return gc_error_set(err, GC_ENOMEM, "store: out of memory");
}

/* Fills one array element from row `row` of r. */
typedef void (*gd_pg_row_fn)(const PGresult *r, int row, void *elem);
/* The rows of r, an element of sz bytes each (zeroed, then filled by fill), into a
 * malloc'ed array (*out, *n); clears r. 0 or GC_ENOMEM. */
int gd_pg_rows(PGresult *r, size_t sz, gd_pg_row_fn fill, void **out, int *n, struct gc_error *err);
/* The ids as an int8[] literal ("{1,2}"), malloc'ed; NULL when out of memory. */
char *gd_pg_id_array(const int64_t *ids, int n);
/* The first column of r's rows as int64 (run ids, steps); clears r. */
int gd_pg_ids(PGresult *r, int64_t **out, int *n, struct gc_error *err);

/* ---- shared between the files ---- */

/* Inside the caller's transaction on c: locks run id's row (FOR NO KEY UPDATE) and
 * returns GC_ESTALE when this store claimed the run and another
 * worker has taken it over since, GC_ENOTFOUND when the run is gone; *req (when not
 * NULL) is the request waiting for it. */
int gd_pg_lock_run(struct gd_pg *s, struct gd_pg_conn *c, int64_t id, enum gd_request *req,
                   struct gc_error *err);
/* The claim this store holds on run as a text parameter (NULL when none), in buf (at
 * least 24 bytes): a statement writes only when it equals the run's claim. */
const char *gd_pg_claim_param(struct gd_pg *s, int64_t run, char *buf);
/* The outcome of such a fenced statement, whose result's first column is the run's
 * claim: GC_ESTALE when this store claimed the run and the claim is no longer its. */
int gd_pg_fenced(struct gd_pg *s, PGresult *r, int64_t run, struct gc_error *err);
/* Inside the caller's transaction on c: sets the run's step. */
int gd_pg_set_step(struct gd_pg *s, struct gd_pg_conn *c, int64_t run, int64_t step,
                   struct gc_error *err);

extern const struct gd_store_ops gd_pg_ops;

/* The functions of gd_pg_ops, by file. */
int gd_pg_run_insert(struct gd_store *s, const struct gd_worker_self *claim_for, const char *name,
                     const char *spec_json, int64_t steps, int64_t *id, struct gc_error *err);
int gd_pg_run_get(struct gd_store *s, int64_t id, struct gd_run *out, struct gc_error *err);
int gd_pg_run_list(struct gd_store *s, int status, int limit, int64_t cursor, struct gd_run **out,
                   int *n, int64_t *next, struct gc_error *err);
int gd_pg_run_set_status(struct gd_store *s, int64_t id, enum gd_status st, const char *error,
                         struct gc_error *err);
int gd_pg_run_set_step(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err);
int gd_pg_run_set_classes(struct gd_store *s, int64_t id, const char *classes,
                          struct gc_error *err);
int gd_pg_run_delete(struct gd_store *s, int64_t id, struct gc_error *err);
int gd_pg_run_ids(struct gd_store *s, enum gd_status st, int64_t **ids, int *n,
                  struct gc_error *err);
int gd_pg_run_count(struct gd_store *s, enum gd_status st, int64_t *n, struct gc_error *err);
int gd_pg_stats(struct gd_store *s, struct gd_store_stats *out, struct gc_error *err);

int gd_pg_run_claim(struct gd_store *s, const struct gd_worker_self *me, int64_t want, int64_t *id,
                    char *taken_from, size_t cap, struct gc_error *err);
int gd_pg_run_recover(struct gd_store *s, const struct gd_worker_self *me, int64_t **ids, int *n,
                      struct gc_error *err);
int gd_pg_run_act(struct gd_store *s, int64_t id, enum gd_action act, const char *reason,
                  struct gd_act_result *out, struct gc_error *err);
int gd_pg_run_requested(struct gd_store *s, int64_t id, enum gd_request *req, struct gc_error *err);
int gd_pg_worker_beat(struct gd_store *s, const struct gd_worker_self *me, struct gc_error *err);
int gd_pg_worker_leave(struct gd_store *s, const struct gd_worker_self *me, struct gc_error *err);
int gd_pg_worker_list(struct gd_store *s, struct gd_worker_info **out, int *n,
                      struct gc_error *err);

int gd_pg_metrics_put(struct gd_store *s, int64_t run, int kind, int64_t step,
                      const char *const *names, const double *values, int n, struct gc_error *err);
int gd_pg_metrics_latest(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                         struct gc_error *err);
int gd_pg_metrics_latest_runs(struct gd_store *s, const int64_t *runs, int nruns,
                              struct gd_kv **out, int *n, struct gc_error *err);
int gd_pg_metrics_at(struct gd_store *s, int64_t run, int kind, int64_t step, struct gd_kv **out,
                     int *n, struct gc_error *err);
int gd_pg_metrics_series(struct gd_store *s, int64_t run, const char *name, int64_t from,
                         int64_t to, int max_points, int64_t **steps, double **values, int *n,
                         struct gc_error *err);
int gd_pg_metrics_names(struct gd_store *s, int64_t run, char ***names, int *n,
                        struct gc_error *err);
int gd_pg_sample_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *png, size_t len,
                     struct gc_error *err);
int gd_pg_sample_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                       struct gc_error *err);
int gd_pg_sample_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **png, size_t *len,
                     int64_t *got_step, struct gc_error *err);
int gd_pg_ckpt_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes, size_t len,
                   int keep, const char *sha256, struct gc_error *err);
int gd_pg_ckpt_list(struct gd_store *s, int64_t run, struct gd_ckpt_info **out, int *n,
                    struct gc_error *err);
int gd_pg_ckpt_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                   int64_t *got_step, struct gc_error *err);
int gd_pg_event_put(struct gd_store *s, int64_t run, const char *type, int64_t step, int64_t *id,
                    struct gc_error *err);
int gd_pg_event_list(struct gd_store *s, int64_t run, int64_t after, int limit,
                     struct gd_event **out, int *n, struct gc_error *err);
int gd_pg_event_last(struct gd_store *s, int64_t *id, struct gc_error *err);
int gd_pg_plane_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes, size_t len,
                    struct gc_error *err);
int gd_pg_plane_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                      struct gc_error *err);
int gd_pg_plane_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                    int64_t *got_step, struct gc_error *err);

int gd_pg_run_set_provenance(struct gd_store *s, int64_t id, const struct gd_provenance *p,
                             struct gc_error *err);
int gd_pg_run_rewind(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err);
int gd_pg_sweep_insert(struct gd_store *s, const struct gd_sweep *w,
                       const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *run_ids,
                       struct gc_error *err);
int gd_pg_sweep_get(struct gd_store *s, int64_t id, struct gd_sweep *out, struct gc_error *err);
int gd_pg_sweep_list(struct gd_store *s, struct gd_sweep **out, int *n, struct gc_error *err);
int gd_pg_sweep_runs(struct gd_store *s, int64_t sweep, struct gd_sweep_member **out, int *n,
                     struct gc_error *err);
int gd_pg_watch_put(struct gd_store *s, const struct gd_watch_record *r, int64_t *id,
                    struct gc_error *err);
int gd_pg_watch_list(struct gd_store *s, const int64_t *runs, int nruns,
                     struct gd_watch_record **out, int *n, struct gc_error *err);

#endif
