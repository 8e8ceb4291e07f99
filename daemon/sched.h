/* sched.h — the run queue and the pool of worker threads (docs/architecture.md: the
 * life of a run).
 *
 * A FIFO of queued runs and --workers threads. A worker takes the oldest queued run,
 * builds its trainer (restoring the newest checkpoint when there is one), trains it
 * through core/gan.h and writes what the hooks report to the store, publishing an
 * event for each. Compute threads are shared out so that the runs training at once
 * never use more threads than the machine has cores. sched.c keeps the queue and the
 * workers, job.c the training of one run.
 *
 * States: queued -> running -> succeeded | failed | canceled; running -> paused
 * (checkpoint written, slot freed) -> queued on resume; queued/paused -> canceled.
 * Cancel and pause take effect within one training step.
 *
 * Threads: all functions are thread-safe. The scheduler's mutex guards the queue and
 * the live state of each active run; it is never held across training, the store or
 * HTTP. */
#ifndef GD_SCHED_H
#define GD_SCHED_H

#include <stddef.h>
#include <stdint.h>

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

struct gd_sched_opts {
    int workers;          /* >= 1 */
    int threads;          /* compute threads for all runs together (default: cores) */
    const char *data_dir; /* the classifier cache lives under it */
    int keep_checkpoints; /* newest N kept per run (the last one always) */
    gd_spec_parse_fn parse_spec;
    gd_spec_hash_fn spec_hash;  /* NULL: provenance without spec_hash */
    struct gd_webhook *webhook; /* the watchdog's alerts go there too (borrowed); NULL: none */
    gd_log_fn log;              /* NULL: silent */
    void *log_ctx;
};

/* Borrows store and events. Does not start threads. */
struct gd_sched *gd_sched_create(struct gd_store *store, struct gd_events *ev,
                                 const struct gd_sched_opts *opts, struct gc_error *err);
/* Re-queues runs left running or queued in the store (oldest first) and starts the
 * workers. */
int gd_sched_start(struct gd_sched *s, struct gc_error *err);
/* Stops taking work; running jobs finish their step and write a checkpoint and go
 * back to queued in the store, so the next start continues them; joins the workers. */
void gd_sched_shutdown(struct gd_sched *s);
void gd_sched_destroy(struct gd_sched *s);

/* Stores a new run (spec_json is the normalized spec) and queues it. */
int gd_sched_submit(struct gd_sched *s, const struct gc_spec *spec, const char *spec_json,
                    int64_t *id, struct gc_error *err);
/* Stores a sweep and its n runs at once (store.h) and queues them in order; ids gets
 * the runs' ids. */
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

/* The store error a training run waits on: a write of its metrics, samples or
 * checkpoints failed for lack of space or on I/O, and the run keeps its place and tries
 * again every second instead of failing. Copies it into msg (when not NULL) and returns
 * 0 while there is one; GC_ENOTFOUND otherwise. */
int gd_sched_live_error(struct gd_sched *s, int64_t id, char *msg, size_t cap);

/* Runs one stored run to its end on the calling thread, exactly as a worker would
 * (used by `ganctld train`). Returns 0 when it succeeded. */
int gd_sched_run_now(struct gd_sched *s, int64_t id, struct gc_error *err);

/* Counters for /metrics and the systemd STATUS line. */
struct gd_sched_stats {
    int running, queued;
    int64_t steps_trained;  /* since start */
    int64_t images_trained; /* since start */
};
void gd_sched_stats(struct gd_sched *s, struct gd_sched_stats *out);

#endif
