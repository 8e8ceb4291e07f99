/* store.h — the store's contract: the one place that keeps a run and everything it
 * produces (docs/architecture.md).
 *
 * Runs (with the normalized spec as JSON text), metrics, samples (PNG blobs),
 * checkpoints (blobs), events: the rows below and the functions that write and read
 * them. Callers see only this header. The SQLite store implements it (store_sqlite*.c,
 * one file in WAL mode); store.c holds what needs no database, and is where a choice
 * between backends would go.
 *
 * Threads: every function may be called from any thread; the store serializes them
 * itself. No caller lock is held while these run.
 * Errors: GC_EIO for a failure of the database (with its message), GC_ENOTFOUND for a
 * missing row, GC_ESTATE for a database newer than this binary. */
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
    int64_t step;    /* steps done (of the newest checkpoint, or live while running) */
    int64_t steps;   /* spec's train.steps */
    char created_at[32], started_at[32], finished_at[32];
    char *error;   /* NULL when none */
    char *classes; /* a conditional run's classes once it started (core/data.h's text
                    * form, gc_class_list_from_text reads it); NULL otherwise */
    int64_t sweep; /* the sweep it belongs to, 0 when none */
    int config;    /* its configuration's index in the sweep, -1 when none */
    int has_provenance;
    struct gd_provenance prov;
};
void gd_run_fini(struct gd_run *r);

/* A name/value pair read back from the store. */
struct gd_kv {
    char name[32];
    double value;
    int64_t step;
};

/* Opens (creating when missing, mode 0600) and migrates the database at path.
 * Refuses a database whose user_version is newer than the binary's migrations. */
struct gd_store *gd_store_open(const char *path, struct gc_error *err);
void gd_store_close(struct gd_store *s);
int gd_store_version(struct gd_store *s); /* PRAGMA user_version */

/* Runs. */
int gd_store_run_insert(struct gd_store *s, const char *name, const char *spec_json, int64_t steps,
                        int64_t *id, struct gc_error *err);
int gd_store_run_get(struct gd_store *s, int64_t id, struct gd_run *out, struct gc_error *err);
/* Newest first. status < 0: any. cursor: return runs with id < cursor (0 = from the
 * newest). Fills *out (malloc'ed array, caller frees each with gd_run_fini and the
 * array with free) and *n; *next is the cursor of the next page or 0 when none. */
int gd_store_run_list(struct gd_store *s, int status, int limit, int64_t cursor,
                      struct gd_run **out, int *n, int64_t *next, struct gc_error *err);
/* Sets the status and, with it, started_at (RUNNING, first time), finished_at
 * (SUCCEEDED/FAILED/CANCELED) and error (NULL clears it). */
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
/* Ids of runs in a status, oldest first (the scheduler re-queues RUNNING/QUEUED at start). */
int gd_store_run_ids(struct gd_store *s, enum gd_status st, int64_t **ids, int *n,
                     struct gc_error *err);

/* Metrics: one call writes a batch in one transaction. kind 0 = training metric,
 * 1 = eval figure. */
int gd_store_metrics_put(struct gd_store *s, int64_t run, int kind, int64_t step,
                         const char *const *names, const double *values, int n,
                         struct gc_error *err);
/* The newest value of every name of this kind; *out malloc'ed. */
int gd_store_metrics_latest(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                            struct gc_error *err);
/* Points of one name between from and to (inclusive; to < 0: no bound), ascending by step,
 * at most max_points (evenly downsampled; the last point always kept). *steps and *values
 * malloc'ed. */
int gd_store_metrics_series(struct gd_store *s, int64_t run, const char *name, int64_t from,
                            int64_t to, int max_points, int64_t **steps, double **values, int *n,
                            struct gc_error *err);
/* The names a run has (both kinds); *names malloc'ed array of malloc'ed strings. */
int gd_store_metrics_names(struct gd_store *s, int64_t run, char ***names, int *n,
                           struct gc_error *err);

/* Samples. */
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

/* Checkpoints: the blob and the run's step in one transaction; then keeps the newest
 * `keep` checkpoints of the run (keep <= 0: all). */
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

/* Events: (id, run, type, step). The payload is rebuilt from the store when sent. */
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

/* For /metrics. */
struct gd_store_stats {
    int64_t runs_by_status[GD_NSTATUS];
    int64_t steps_total; /* sum of run steps */
    int64_t images_total;
    int64_t bytes; /* database file size */
};
int gd_store_stats(struct gd_store *s, struct gd_store_stats *out, struct gc_error *err);

/* The health of the store's writes, for /healthz. 0 while writes work; GC_EIO from
 * the moment a write fails for lack of space or on an I/O error (also when the file
 * cannot be opened, is read-only or stays locked by another process) until a write
 * works again, with msg (when not NULL) saying why, e.g. "disk full: store: put
 * checkpoint: database or disk is full". While failing and no write was tried for 2 s,
 * a call makes a small write itself to see whether space has returned. */
int gd_store_health(struct gd_store *s, char *msg, size_t cap);

#endif
