/* sched.h — the worker threads that train this daemon's share of the store's queue
 * (docs/architecture.md: the life of a run).
 *
 * The queue is the store: queued runs, oldest first, shared by every daemon on it.
 * --workers threads each claim the oldest claimable run (gd_store_run_claim), build its
 * trainer (restoring the newest checkpoint when there is one), train it through
 * core/gan.h and write what the hooks report to the store, publishing an event for
 * each. Compute threads are shared out so that the runs training at once never use
 * more threads than the machine has cores. A keeper thread keeps this daemon's place
 * among the store's workers: its heartbeat renews the leases of the runs it trains,
 * and news from other daemons (runs queued, events stored, requests) wakes the workers,
 * the event streams and the jobs. sched.c keeps the workers and the verbs, keeper.c
 * the keeper, job.c the training of one run.
 *
 * States: queued -> running -> succeeded | failed | canceled; running -> paused
 * (checkpoint written, slot freed) -> queued on resume; queued/paused -> canceled.
 * Cancel and pause, sent to any daemon, take effect within one training step on this
 * one, and within half a second of training on another.
 *
 * Threads: all functions are thread-safe. The scheduler's mutex guards the live state
 * of each active run; it is never held across training, the store or HTTP. */
#ifndef GD_SCHED_H
#define GD_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "core/comm.h"
#include "core/error.h"
#include "core/spec.h"
#include "daemon/events.h"
#include "daemon/store.h"

struct gd_sched;
struct gd_webhook;

/* Turns a stored spec back into a struct (the daemon passes api/'s parser). */
typedef int (*gd_spec_parse_fn)(const char *json, struct gc_spec *out, struct gc_error *err);
/* The SHA-256 (64 hex digits and a NUL into out) of a stored spec with its name left
 * out, for the run's provenance (the daemon passes api/'s). */
typedef int (*gd_spec_hash_fn)(const char *json, char out[65]);

/* Log levels of gd_log_fn, as syslog numbers them. */
enum { GD_LOG_ERR = 3, GD_LOG_WARN = 4, GD_LOG_INFO = 6, GD_LOG_DEBUG = 7 };
/* Receives what happens to runs (started, finished, failed with why) and, at DEBUG,
 * each logged training step. Called from worker threads; run is 0 when none. */
typedef void (*gd_log_fn)(void *ctx, int level, int64_t run, const char *msg);
/* Takes a run's final status (with error, or NULL) instead of the store: rank 0 of a
 * run the daemon launched reports it to the daemon, which writes it (launch.c). */
typedef void (*gd_final_fn)(void *ctx, int64_t run, enum gd_status st, int64_t step,
                            const char *error);
/* How rank 0 reports it on stdout: "ganctld-final RUN STATUS STEP [ERROR]", one line. */
#define GD_FINAL_TAG "ganctld-final"

struct gd_sched_opts {
    const char *name;     /* this daemon among the store's workers (--name) */
    int heartbeat_s;      /* the keeper's heartbeat (default 10) */
    int lease_s;          /* a claim lasts this long without a heartbeat (default 30) */
    int workers;          /* >= 1 */
    int threads;          /* compute threads for all runs together (default: cores) */
    const char *data_dir; /* the classifier cache lives under it */
    int keep_checkpoints; /* newest N kept per run (the last one always) */
    gd_spec_parse_fn parse_spec;
    gd_spec_hash_fn spec_hash;  /* NULL: provenance without spec_hash */
    struct gd_webhook *webhook; /* the watchdog's alerts go there too (borrowed); NULL: none */
    gd_log_fn log;              /* NULL: silent */
    void *log_ctx;
    /* runs of several ranks (train.ranks > 1) */
    const char *mpirun;       /* the daemon: the command that starts their ranks in a child
                               * process (launch.c); NULL or "": such runs are refused */
    const char *datasets_dir; /* passed on to the ranks with mpirun */
    const char *store_uri;    /* --store, passed on to the ranks (NULL, "": the SQLite file
                               * in data_dir) */
    int rank_timeout;         /* seconds, passed on to the ranks with mpirun */
    int verbose;              /* the ranks log every step too */
    struct gc_comm *comm;     /* rank 0 of `ganctld train` under mpirun: the ranks its one
                               * job trains with (core/comm.h); NULL otherwise */
    gd_final_fn final;        /* NULL: final statuses go to the store */
    void *final_ctx;
};

/* Borrows store and events. Does not start threads. */
struct gd_sched *gd_sched_create(struct gd_store *store, struct gd_events *ev,
                                 const struct gd_sched_opts *opts, struct gc_error *err);
/* Queues again the runs a previous life of this daemon left running, registers it
 * among the store's workers and starts the keeper and the workers. */
int gd_sched_start(struct gd_sched *s, struct gc_error *err);
/* Registers this process among the store's workers and starts the keeper alone, no
 * workers (`ganctld train`: its one run trains on the caller's thread, and its lease
 * must be renewed meanwhile). */
int gd_sched_start_keeper(struct gd_sched *s, struct gc_error *err);
/* Stops taking work; running jobs finish their step and write a checkpoint and go
 * back to queued in the store, so the next start (or another daemon) continues them;
 * joins the workers, then the keeper, and leaves the store's workers. */
void gd_sched_shutdown(struct gd_sched *s);
void gd_sched_destroy(struct gd_sched *s);

/* Whether this scheduler can train spec: 0, or GC_EINVAL with the field's problem
 * added to fe (a spec of several ranks on a daemon without --mpirun). */
int gd_sched_admit(struct gd_sched *s, const struct gc_spec *spec, struct gc_field_errors *fe);

/* Hands final statuses to fn instead of the store (rank 0 of a launched run). Call
 * before the first job starts. */
void gd_sched_report_final(struct gd_sched *s, gd_final_fn fn, void *ctx);

/* Stores a new run (spec_json is the normalized spec) and queues it; GC_EINVAL when
 * gd_sched_admit refuses it. */
int gd_sched_submit(struct gd_sched *s, const struct gc_spec *spec, const char *spec_json,
                    int64_t *id, struct gc_error *err);
/* Stores a new run already claimed by this daemon (for gd_sched_run_now: no other
 * daemon may take it first). */
int gd_sched_submit_claimed(struct gd_sched *s, const struct gc_spec *spec, const char *spec_json,
                            int64_t *id, struct gc_error *err);
/* Stores a sweep and its n runs at once (store.h) queued, for any worker to claim, oldest first;
 * ids gets the runs' ids. */
int gd_sched_submit_sweep(struct gd_sched *s, const struct gd_sweep *w,
                          const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *ids,
                          struct gc_error *err);
/* Cancels a queued, running or paused run for a reason that its run object then shows
 * as its error (a sweep's early stopping); 0 also when it had ended already. */
int gd_sched_stop(struct gd_sched *s, int64_t id, const char *reason, struct gc_error *err);
/* GC_ENOTFOUND for an unknown run, GC_ESTATE when the state forbids it. */
int gd_sched_cancel(struct gd_sched *s, int64_t id, struct gc_error *err);
int gd_sched_pause(struct gd_sched *s, int64_t id, struct gc_error *err);
int gd_sched_resume(struct gd_sched *s, int64_t id, struct gc_error *err);
int gd_sched_delete(struct gd_sched *s, int64_t id, struct gc_error *err);

/* Live figures of a run that is training now; 0 when found, GC_ENOTFOUND otherwise. */
struct gd_live {
    int64_t step;
    double images_per_s;
};
int gd_sched_live(struct gd_sched *s, int64_t id, struct gd_live *out);

/* The store error a training run waits on: a write of its metrics, samples,
 * checkpoints or final status failed for lack of space or on I/O, and the run keeps its
 * place and tries again every second instead of failing. Copies it into msg (when not
 * NULL) and returns 0 while there is one; GC_ENOTFOUND otherwise. */
int gd_sched_live_error(struct gd_sched *s, int64_t id, char *msg, size_t cap);

/* Runs one stored run to its end on the calling thread, exactly as a worker would
 * (used by `ganctld train`): a run this daemon claimed (gd_sched_submit_claimed, or a
 * launching daemon's claim taken over with gd_store_claim_adopt), or a queued one,
 * which it claims first. Returns 0 when it succeeded; otherwise the engine's code
 * (GC_ESTOPPED for a stopped run, GC_ENUMERIC, GC_ECOMM, ...) with the run's error. */
int gd_sched_run_now(struct gd_sched *s, int64_t id, struct gc_error *err);

/* This daemon among the store's workers. */
const struct gd_worker_self *gd_sched_self(const struct gd_sched *s);
/* Names it, before gd_sched_start (the default name waits for the port HTTP got). */
void gd_sched_set_name(struct gd_sched *s, const char *name);

/* Counters for /metrics and the systemd STATUS line. */
struct gd_sched_stats {
    int running;            /* runs this daemon trains */
    int queued;             /* queued runs in the store, for every daemon */
    int64_t steps_trained;  /* since start */
    int64_t images_trained; /* since start */
};
void gd_sched_stats(struct gd_sched *s, struct gd_sched_stats *out);

#endif
