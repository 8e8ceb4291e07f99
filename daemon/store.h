/* store.h — the store's contract: the one place that keeps a run and everything it
 * produces, and that the daemons sharing it coordinate through (docs/architecture.md:
 * the store).
 *
 * Runs (with the normalized spec as JSON text and how they were trained), metrics with
 * the newest value of each, samples (PNG blobs, with the plane of a 2D run),
 * checkpoints (blobs), events, sweeps, the watchdog's records, and the workers (daemons)
 * that train runs: the rows below and the functions that write and read them. Callers see
 * only this header. Two backends implement it behind one table of functions
 * (store_backend.h): SQLite, one file in WAL mode for one daemon (store_sqlite*.c), and
 * PostgreSQL through libpq for any number of daemons on any number of hosts
 * (store_pg*.c). gd_store_open() chooses between them; store.c holds what needs no
 * database.
 *
 * Reads cost the same whatever the history: the newest values are kept as they are
 * written, metric points are found through an index on (run, name, step), a series is
 * downsampled by index seeks that read O(max_points) rows, and a run keeps at most
 * GD_EVENTS_KEPT metrics events (the points themselves stay in the metrics table).
 *
 * Claims: a run trains on the worker that claimed it (gd_store_run_claim). PostgreSQL
 * hands each queued run to exactly one claimer (SELECT ... FOR UPDATE SKIP LOCKED) and
 * gives it a lease its owner renews (gd_store_worker_beat); a run whose lease expired
 * is claimable again, by any daemon. A store remembers the runs it claimed, and its
 * writes to them (metrics, samples, checkpoints, steps, statuses) are fenced: once
 * another store took a run over they fail with GC_ESTALE and change nothing, every
 * one of them, until the run is given up (gd_store_run_forget). SQLite has
 * one worker, its daemon: no leases, and gd_store_run_recover() queues every run left
 * running by a previous life of the daemon.
 *
 * Threads: every function may be called from any thread; the store serializes what
 * must be. No caller lock is held while these run.
 * Errors: GC_EIO for a failure of the database (with its message), GC_EUNAVAIL while a
 * PostgreSQL server cannot be reached, GC_ENOTFOUND for a missing row, GC_ESTATE for a
 * database newer than this binary or a state change the run's state forbids,
 * GC_ESTALE for a write to a run another worker took over. */
#ifndef GD_STORE_H
#define GD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct gd_store;

enum gd_status {
    GD_QUEUED,
    GD_RUNNING,
    GD_PAUSED,
    GD_SUCCEEDED,
    GD_FAILED,
    GD_CANCELED,
};
#define GD_NSTATUS 6
const char *gd_status_name(enum gd_status s);
int gd_status_from_name(const char *s); /* -1 when unknown */

/* The most metrics events a run keeps: older ones are pruned as new ones come (the
 * points stay in the metrics table; a stream resumed from a pruned id skips them). */
#define GD_EVENTS_KEPT 1000

/* A worker's name: the daemon's --name, HOST:PORT by default. */
#define GD_NAME_MAX 128

/* How a run was trained, written by the worker that starts it: the daemon's version
 * and the commit it was built from, the compiler, the BLAS core in use, the compute
 * threads of the run and the SHA-256 of its normalized spec (the name left out). */
struct gd_provenance {
    char version[32];
    char commit[48];
    char compiler[128];
    char blas[64];
    int threads;
    char spec_hash[65];
};

/* A run row. Strings are owned by the struct: free with gd_run_fini(). Times are
 * RFC 3339 UTC strings, "" when not set. */
struct gd_run {
    int64_t id;
    char name[129];
    enum gd_status status;
    char *spec_json; /* the normalized spec */
    int64_t step;    /* steps done (of the newest checkpoint, or at the end) */
    int64_t steps;   /* spec's train.steps */
    char created_at[32], started_at[32], finished_at[32];
    char *error;              /* NULL when none */
    char *classes;            /* a conditional run's classes once it started (core/data.h's
                               * text form, gc_class_list_from_text reads it); NULL otherwise */
    char worker[GD_NAME_MAX]; /* the worker training it (status running), "" when none */
    int64_t sweep;            /* the sweep it belongs to, 0 when none */
    int config;               /* its configuration's index in the sweep, -1 when none */
    int has_provenance;
    struct gd_provenance prov;
};
void gd_run_fini(struct gd_run *r);

/* A name/value pair read back from the store. */
struct gd_kv {
    char name[32];
    double value;
    int64_t step;
    int64_t run; /* set by gd_store_metrics_latest_runs() */
    int kind;    /* set by gd_store_metrics_latest_runs(): 0 training metric, 1 eval figure */
};

/* Opens the store `where` names, creating and migrating it as needed: a URI that
 * starts with postgresql:// or postgres:// is a PostgreSQL database (libpq's connection
 * URI; the password comes from libpq's usual places, ~/.pgpass, PGPASSFILE or a
 * service file, and is never logged), anything else the path of a SQLite file (created
 * with mode 0600). Migrations run one transaction each; a store whose schema is newer
 * than this binary's is refused with GC_ESTATE. */
struct gd_store *gd_store_open(const char *where, struct gc_error *err);
void gd_store_close(struct gd_store *s);
/* "sqlite" or "postgresql". */
const char *gd_store_kind(const struct gd_store *s);
/* Where the store is, fit for a log line: the file's path, or the URI with any
 * password replaced by "***". */
const char *gd_store_where(const struct gd_store *s);
/* The schema version (SQLite: PRAGMA user_version; PostgreSQL: schema_version). */
int gd_store_version(struct gd_store *s);
/* True for a URI that gd_store_open() hands to PostgreSQL. */
int gd_store_is_pg_uri(const char *where);
/* Copies uri to out with the password of its user info (postgresql://user:PASS@...)
 * and any password= parameter replaced by "***". */
void gd_store_redact(const char *uri, char *out, size_t cap);

/* ---- runs ---- */

int gd_store_run_insert(struct gd_store *s, const char *name, const char *spec_json, int64_t steps,
                        int64_t *id, struct gc_error *err);
int gd_store_run_get(struct gd_store *s, int64_t id, struct gd_run *out, struct gc_error *err);
/* Newest first. status < 0: any. cursor: return runs with id < cursor (0 = from the
 * newest). Fills *out (malloc'ed array, caller frees each with gd_run_fini and the
 * array with free) and *n; *next is the cursor of the next page or 0 when none. */
int gd_store_run_list(struct gd_store *s, int status, int limit, int64_t cursor,
                      struct gd_run **out, int *n, int64_t *next, struct gc_error *err);
/* Sets the status and, with it, started_at (RUNNING, first time), finished_at
 * (SUCCEEDED/FAILED/CANCELED) and error (NULL clears it). On a run this store claimed
 * it is the owner's write: fenced, and any status but RUNNING gives the run up (no
 * worker, no lease), with a pause or cancel the user asked for winning over a pause
 * or a shutdown's QUEUED (so neither is lost when the run stops at the same moment);
 * a cancel so brought keeps the reason it came with (gd_store_run_stop) when error is
 * NULL. */
int gd_store_run_set_status(struct gd_store *s, int64_t id, enum gd_status st, const char *error,
                            struct gc_error *err);
int gd_store_run_set_step(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err);
/* Sets the classes a conditional run trains with (text as gd_run.classes; NULL clears). */
int gd_store_run_set_classes(struct gd_store *s, int64_t id, const char *classes,
                             struct gc_error *err);
/* Records how the run is trained (when a worker starts it). */
int gd_store_run_set_provenance(struct gd_store *s, int64_t id, const struct gd_provenance *p,
                                struct gc_error *err);
/* Forgets what the run stored after step: its metrics, samples and checkpoints of later
 * steps go, and the run's step becomes step (a watchdog's rollback), in one
 * transaction. */
int gd_store_run_rewind(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err);
/* Deletes the run and everything of it. */
int gd_store_run_delete(struct gd_store *s, int64_t id, struct gc_error *err);
/* Ids of runs in a status, oldest first. */
int gd_store_run_ids(struct gd_store *s, enum gd_status st, int64_t **ids, int *n,
                     struct gc_error *err);
/* How many runs are in status st. */
int gd_store_run_count(struct gd_store *s, enum gd_status st, int64_t *n, struct gc_error *err);

/* ---- claims: which worker trains which run ---- */

/* Who claims: the daemon's name and its lease. */
struct gd_worker_self {
    char name[GD_NAME_MAX];
    int workers; /* runs it trains at once */
    int threads; /* compute threads they share */
    int lease_s; /* a claim lasts this long unless renewed (PostgreSQL) */
};

/* Claims the oldest claimable run for me (want > 0: that run only): a queued run, or
 * (PostgreSQL) a running one whose owner's lease expired. The run becomes running with
 * me as its worker, started_at set the first time; *id is its id and *taken_from the
 * worker it was taken from ("" for a queued run; may be NULL). GC_ENOTFOUND when no
 * run can be claimed. Concurrent claims from any number of stores never get one run
 * twice. */
int gd_store_run_claim(struct gd_store *s, const struct gd_worker_self *me, int64_t want,
                       int64_t *id, char *taken_from, size_t cap, struct gc_error *err);
/* Inserts a run already claimed by me (`ganctld train`: no daemon may take it first). */
int gd_store_run_insert_claimed(struct gd_store *s, const struct gd_worker_self *me,
                                const char *name, const char *spec_json, int64_t steps, int64_t *id,
                                struct gc_error *err);
/* At a daemon's start: the runs a previous life of it left running go back to queued
 * (SQLite: every running run, the file has one daemon; PostgreSQL: those whose worker
 * is me). Their ids in *ids (malloc'ed), oldest first. */
int gd_store_run_recover(struct gd_store *s, const struct gd_worker_self *me, int64_t **ids, int *n,
                         struct gc_error *err);

/* What the user asks of a run through any daemon. */
enum gd_action { GD_ACT_CANCEL, GD_ACT_PAUSE, GD_ACT_RESUME, GD_ACT_DELETE };
/* What the owner of a running run is asked to do. */
enum gd_request { GD_REQ_NONE = 0, GD_REQ_PAUSE, GD_REQ_CANCEL };

/* The outcome of gd_store_run_act(). */
struct gd_act_result {
    enum gd_status before, after; /* the status before and after */
    int requested;                /* the run is running: the request was left for its owner */
    char worker[GD_NAME_MAX];     /* its owner then */
    int64_t step;                 /* the run's stored step */
};
/* The user's verbs as one atomic change of the stored state:
 *   cancel: queued or paused -> canceled; running -> a cancel request for its owner
 *   pause:  queued -> paused; running -> a pause request (a cancel asked already stays)
 *   resume: paused -> queued
 *   delete: a run neither queued nor running is deleted with everything of it
 * GC_ESTATE (with a message naming the status) when the state forbids it,
 * GC_ENOTFOUND for no such run. A pending request is cleared when the run leaves
 * running. Claims racing with it never see a half-made change. */
int gd_store_run_act(struct gd_store *s, int64_t id, enum gd_action act, struct gd_act_result *out,
                     struct gc_error *err);
/* Cancels run id for a reason that becomes its error (a sweep's early stopping): as
 * gd_store_run_act(GD_ACT_CANCEL), and a running run keeps the reason with the cancel
 * request it gets, for its owner's final status (canceled) to keep. */
int gd_store_run_stop(struct gd_store *s, int64_t id, const char *reason, struct gd_act_result *out,
                      struct gc_error *err);
/* The owner's poll: the request waiting for run id. GC_ESTALE when this store's claim
 * on it is gone (another worker took it over), GC_ENOTFOUND for a deleted run. */
int gd_store_run_requested(struct gd_store *s, int64_t id, enum gd_request *req,
                           struct gc_error *err);
/* Forgets this store's claim on run id without writing (a job that gave the run up). */
void gd_store_run_forget(struct gd_store *s, int64_t id);
/* This store's claim on run id (0: none), and taking one over: a daemon passes its
 * claim on a run of several ranks to the process it launches (`ganctld train --run ID
 * --claim N`), whose store then writes under it, fenced like the daemon's own writes;
 * the daemon keeps the claim, and renews its lease, while the ranks train. */
int64_t gd_store_claim_of(struct gd_store *s, int64_t id);
void gd_store_claim_adopt(struct gd_store *s, int64_t id, int64_t claim);

/* ---- workers ---- */

#define GD_WORKER_RUNS 64
struct gd_worker_info {
    char name[GD_NAME_MAX];
    char heartbeat_at[32], started_at[32];
    int alive; /* its heartbeat is younger than its lease */
    int workers, threads, lease_s;
    int nrunning;                    /* runs it trains now (at most GD_WORKER_RUNS listed) */
    int64_t running[GD_WORKER_RUNS]; /* their ids, oldest first */
};

/* The heartbeat of me: records me as alive now with my capacity and renews the lease
 * of every run I train (PostgreSQL); drops workers silent for ten leases. */
int gd_store_worker_beat(struct gd_store *s, const struct gd_worker_self *me, struct gc_error *err);
/* me leaves (a clean stop). */
int gd_store_worker_leave(struct gd_store *s, const struct gd_worker_self *me,
                          struct gc_error *err);
/* Every worker the store knows, by name; *out malloc'ed. */
int gd_store_worker_list(struct gd_store *s, struct gd_worker_info **out, int *n,
                         struct gc_error *err);

/* ---- metrics ---- */

/* One call writes a batch in one transaction, with the newest value of each name. kind
 * 0 = training metric, 1 = eval figure. A point stored already (a run continued after a
 * crash trains the steps after its newest checkpoint again) keeps its first value. */
int gd_store_metrics_put(struct gd_store *s, int64_t run, int kind, int64_t step,
                         const char *const *names, const double *values, int n,
                         struct gc_error *err);
/* The newest value of every name of this kind, by name; *out malloc'ed. */
int gd_store_metrics_latest(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                            struct gc_error *err);
/* The newest value of every name of both kinds of each of the nruns runs, by run and
 * name, in one read (a page of the run list); *out malloc'ed. */
int gd_store_metrics_latest_runs(struct gd_store *s, const int64_t *runs, int nruns,
                                 struct gd_kv **out, int *n, struct gc_error *err);
/* The figures of this kind logged at exactly this step, by name; *out malloc'ed. */
int gd_store_metrics_at(struct gd_store *s, int64_t run, int kind, int64_t step, struct gd_kv **out,
                        int *n, struct gc_error *err);
/* Points of one name between from and to (inclusive; to < 0: no bound), ascending by
 * step, at most max_points (<= 0: all). When there are more, the points taken are the
 * first at or after evenly spaced steps from the first point's to the last point's, so
 * the first and the last are always kept; this reads O(max_points) rows. *steps and
 * *values malloc'ed. */
int gd_store_metrics_series(struct gd_store *s, int64_t run, const char *name, int64_t from,
                            int64_t to, int max_points, int64_t **steps, double **values, int *n,
                            struct gc_error *err);
/* The names a run has (both kinds), sorted; *names malloc'ed array of malloc'ed
 * strings. */
int gd_store_metrics_names(struct gd_store *s, int64_t run, char ***names, int *n,
                           struct gc_error *err);

/* ---- samples ---- */

int gd_store_sample_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *png,
                        size_t len, struct gc_error *err);
int gd_store_sample_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                          struct gc_error *err);
/* step < 0: the newest. *png malloc'ed. */
int gd_store_sample_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **png, size_t *len,
                        int64_t *got_step, struct gc_error *err);

/* The plane of a 2D run's sample (core/gan_plane.h bytes), kept with the sample of that
 * step: put after the sample; GC_ENOTFOUND when the step has no sample. */
int gd_store_plane_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                       size_t len, struct gc_error *err);
int gd_store_plane_steps(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                         struct gc_error *err);
/* step < 0: the newest. *bytes malloc'ed. */
int gd_store_plane_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                       int64_t *got_step, struct gc_error *err);

/* ---- checkpoints: the blob and the run's step in one transaction; then keeps the
 * newest `keep` checkpoints of the run (keep <= 0: all) ---- */
struct gd_ckpt_info {
    int64_t step;
    int64_t bytes;
    char sha256[65];
    char created_at[32];
};
int gd_store_ckpt_put(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                      size_t len, int keep, struct gc_error *err);
int gd_store_ckpt_list(struct gd_store *s, int64_t run, struct gd_ckpt_info **out, int *n,
                       struct gc_error *err);
/* step < 0: the newest. GC_ENOTFOUND when none. *bytes malloc'ed. */
int gd_store_ckpt_get(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                      int64_t *got_step, struct gc_error *err);

/* ---- events: (id, run, type, step); the payload is rebuilt from the store when sent.
 * Ids increase in the order events become visible, across every daemon of the store,
 * so a stream that has read up to id N has seen every event <= N. ---- */
struct gd_event {
    int64_t id;
    int64_t run;
    char type[16]; /* status, metrics, sample, eval, checkpoint, alert */
    int64_t step;
    char created_at[32];
};
int gd_store_event_put(struct gd_store *s, int64_t run, const char *type, int64_t step, int64_t *id,
                       struct gc_error *err);
/* Events with id > after (run <= 0: all runs), ascending, at most limit. */
int gd_store_event_list(struct gd_store *s, int64_t run, int64_t after, int limit,
                        struct gd_event **out, int *n, struct gc_error *err);
/* The id of the newest event ever stored (0 when none), so a new bus starts from it. */
int gd_store_event_last(struct gd_store *s, int64_t *id, struct gc_error *err);

/* Sweeps: a definition (the JSON body as sent) and the runs it made, created together
 * in one transaction. The objective (metric, goal) and early stopping are columns so
 * that the scheduler can rank configurations without the body. */
struct gd_sweep {
    int64_t id;
    char name[129];
    char *body; /* the sweep as sent, normalized; owned, free with gd_sweep_fini() */
    char metric[32];
    int goal_max; /* 1: higher is better */
    int early_stopping;
    int configurations;
    char created_at[32];
};
void gd_sweep_fini(struct gd_sweep *w);
/* One run of a new sweep. */
struct gd_sweep_run {
    const char *name;
    const char *spec_json; /* normalized */
    int64_t steps;
    int config;
};
/* Inserts the sweep and its n runs (queued) in one transaction; run_ids (n) gets their
 * ids, in order. */
int gd_store_sweep_insert(struct gd_store *s, const struct gd_sweep *w,
                          const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *run_ids,
                          struct gc_error *err);
int gd_store_sweep_get(struct gd_store *s, int64_t id, struct gd_sweep *out, struct gc_error *err);
/* Every sweep, newest first; *out malloc'ed (gd_sweep_fini each, then free). */
int gd_store_sweep_list(struct gd_store *s, struct gd_sweep **out, int *n, struct gc_error *err);
/* A sweep's runs, by id. */
struct gd_sweep_member {
    int64_t run;
    int config;
    enum gd_status status;
    int64_t step;
};
int gd_store_sweep_runs(struct gd_store *s, int64_t sweep, struct gd_sweep_member **out, int *n,
                        struct gc_error *err);

/* The watchdog's records: what was detected at which step and what was done (action
 * "alert", or "rollback" to the checkpoint of to_step with the learning rates scaled
 * by lr_scale). */
struct gd_watch_record {
    int64_t id, run, step;
    char kind[24];
    char action[16];
    int64_t to_step; /* -1: none */
    double lr_scale; /* 0: none */
    char message[384];
    char created_at[32];
};
int gd_store_watch_put(struct gd_store *s, const struct gd_watch_record *r, int64_t *id,
                       struct gc_error *err);
/* A run's records, oldest first; *out malloc'ed. */
int gd_store_watch_list(struct gd_store *s, int64_t run, struct gd_watch_record **out, int *n,
                        struct gc_error *err);
/* The records of each of the nruns runs, by run and then oldest first, in one read (a
 * page of the run list); *out malloc'ed. */
int gd_store_watch_list_runs(struct gd_store *s, const int64_t *runs, int nruns,
                             struct gd_watch_record **out, int *n, struct gc_error *err);

/* What other processes changed in the store since the last call. */
struct gd_store_news {
    int events;   /* new events were stored */
    int queue;    /* a run became claimable (queued or resumed) */
    int requests; /* a pause or cancel was asked for a running run */
};
/* Waits up to timeout_ms for news from other processes (PostgreSQL: LISTEN/NOTIFY on a
 * connection of its own; SQLite has no such channel and returns at once with none, the
 * caller polls). For one thread at a time (the daemon's keeper). 0, or GC_EUNAVAIL
 * while the server cannot be reached (after waiting out the timeout). */
int gd_store_news_wait(struct gd_store *s, int timeout_ms, struct gd_store_news *out,
                       struct gc_error *err);

/* ---- the store as a whole ---- */

/* For /metrics. */
struct gd_store_stats {
    int64_t runs_by_status[GD_NSTATUS];
    int64_t steps_total; /* sum of run steps */
    int64_t images_total;
    int64_t bytes; /* database size */
};
int gd_store_stats(struct gd_store *s, struct gd_store_stats *out, struct gc_error *err);

/* The health of the store, for /healthz. 0 while it works; GC_EIO from the moment a
 * write fails for lack of space or on an I/O error (also when the file cannot be
 * opened, is read-only or stays locked by another process), GC_EUNAVAIL while a
 * PostgreSQL server cannot be reached, until a write works again, with msg (when not
 * NULL) saying why, e.g. "disk full: store: put checkpoint: database or disk is full"
 * or "unreachable: ...". While failing and no write was tried for 2 s, a call makes a
 * small write (or a reconnection) itself to see whether the store is back. */
int gd_store_health(struct gd_store *s, char *msg, size_t cap);

#endif
