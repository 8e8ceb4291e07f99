/* job.h — one run trained by one worker, and what the jobs of one scheduler share.
 *
 * Internal to the scheduler: only sched.c, keeper.c, job.c, job_store.c and launch.c
 * include it. sched.c claims runs for its workers and carries out the user's verbs
 * (sched.h); keeper.c keeps this daemon's place among the store's workers (heartbeat,
 * leases, news from other daemons); job.c is what a worker does with the run it
 * claimed, from reading it out of the store to writing its final status; job_store.c
 * how the job's reports reach the store when the store fails; launch.c does the job
 * for a run of several ranks, which trains in a child process started by the --mpirun
 * command under this daemon's claim.
 *
 * DESIGN: the scheduler's mutex mu guards the active list, each job's fields marked
 * below, the stopping flags, the pokes and the counters, and goes with the condition
 * variable wake that idle workers sleep on (until a poke says a run may have become
 * claimable, or shutdown) and the keeper waits on between its rounds. Neither mu nor
 * anything else of ours is held across training, the store or a log call. */
#ifndef GD_JOB_H
#define GD_JOB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/spec.h"
#include "daemon/events.h"
#include "daemon/sched.h"
#include "daemon/store.h"

struct gc_trainer;

/* What a job was asked: the store's requests (GD_REQ_NONE, GD_REQ_PAUSE, GD_REQ_CANCEL)
 * and, beyond them, giving the run up: another worker took it over, so it stops
 * without writing anything more. */
#define GD_REQ_GIVE_UP 3

/* What every job of one scheduler shares with it. */
struct gd_jobs {
    /* set when the scheduler is created, read-only afterwards */
    struct gd_store *store;
    struct gd_events *ev;   /* NULL: no events */
    struct gd_sched *sched; /* the scheduler itself, for a sweep's early stopping */
    struct gd_sched_opts opts;
    struct gd_worker_self me; /* this daemon among the store's workers */
    char *cache_dir;          /* the classifier cache; NULL: none */
    int threads_per_run;      /* compute threads of one run */
    char exe[4096];           /* this binary, which launch.c starts on the ranks */

    pthread_mutex_t mu;
    pthread_cond_t wake; /* with mu: a poke, a job ended, or stopping */
    /* guarded by mu */
    struct gd_job *active; /* the runs training now, newest first */
    int stopping;          /* shutdown began: jobs checkpoint and end as queued */
    int keeper_stop;       /* the keeper ends (after the workers) */
    uint64_t pokes;        /* raised whenever a run may have become claimable */
    int64_t steps_trained, images_trained;
    /* runs of several ranks whose launches ended without a final status: the newest
     * checkpoint's step at the last such end and how many ended in a row without a
     * newer one (launch.c) */
    struct gd_relaunch {
        int64_t id, step;
        int ends;
    } * relaunch;
    int nrelaunch;
};

/* A report of a training run waiting for the store (it could not be reached). */
struct gd_pending;

/* One run on the active list. */
struct gd_job {
    int64_t id;
    struct gd_jobs *s;
    /* the worker's alone */
    struct gc_trainer *t;
    int batch;                  /* images per step, for the counters */
    int64_t steps;              /* the spec's train.steps */
    int64_t counted;            /* steps already added to the counters */
    int healthy_tries;          /* failed writes while the store looked healthy */
    struct timespec polled;     /* when the store was last asked for a request */
    struct timespec tried;      /* when kept reports were last tried */
    struct gd_pending *pending; /* reports kept while the store is unreachable, oldest first */
    struct gd_pending *pending_tail;
    size_t pending_bytes;
    int npending;
    char name[129]; /* the run's name, for the alert webhook */
    int64_t sweep;  /* the sweep it belongs to (0: none) and its configuration */
    int config;
    /* guarded by s->mu */
    int request;           /* GD_REQ_* */
    char stop_reason[320]; /* why a cancel came, shown as the run's error ("" for a user's) */
    int poll_now;          /* the keeper heard of a request: ask the store at the next step */
    int finished;          /* final status being written: no longer live */
    int64_t step;
    double images_per_s;
    char store_error[256]; /* a training write waiting for the store, "" when none */
    struct gd_job *next;
};

/* Logs through opts.log (a no-op without one); run is 0 when none. */
void gd_jobs_log(struct gd_jobs *s, int level, int64_t run, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Publishes an event; a failure is logged, not returned (the row it is about is
 * already stored). */
void gd_jobs_publish(struct gd_jobs *s, int64_t run, const char *type, int64_t step);
/* Wakes the idle workers (a run may have become claimable) and the keeper. Takes mu. */
void gd_jobs_poke(struct gd_jobs *s);
/* The CLOCK_MONOTONIC time ms from now, for a timed wait on wake. */
struct timespec gd_jobs_deadline(int ms);

/* The active job of run id, or NULL. Called with mu held. */
struct gd_job *gd_jobs_find(struct gd_jobs *s, int64_t id);
/* Puts a new job for run id on the active list; NULL when out of memory. Called with
 * mu held. */
struct gd_job *gd_jobs_add(struct gd_jobs *s, int64_t id);

/* Trains the job's run, which this store has claimed, on the calling thread until it
 * ends, stops or fails, writes its final status, takes the job off the active list and
 * frees it; returns the status written (GD_RUNNING when the run was given up to
 * another worker and nothing was written). Never takes the daemon down: every failure
 * ends as a failed run with its message. A run whose ranks failed ends queued
 * (GC_ECOMM: a rank died or hung), claimable again unless the daemon is stopping.
 * *train_rc (when not NULL) gets what the engine returned (0, GC_ESTOPPED,
 * GC_ENUMERIC, GC_ECOMM, ...), or the error that kept it from training. Called with no
 * lock held. */
enum gd_status gd_job_run(struct gd_job *job, int *train_rc);

/* Writes a job's final status (and step, when set_step), or hands it to opts.final
 * when set (rank 0 of a launched run), and takes the job off the active list; nothing
 * is written for a run given up to another worker. Returns the status written
 * (GD_RUNNING when none was). */
enum gd_status gd_job_finish(struct gd_jobs *s, struct gd_job *job, enum gd_status st,
                             const char *error, int64_t step, int set_step);
/* Adds steps done by the job (up to step, images of batch each) to the counters and
 * publishes step as the job's live step. */
void gd_job_progress(struct gd_job *job, int64_t step);

/* launch.c: trains the job's run of spec->train.ranks ranks in a child process started
 * by the --mpirun command (`ganctld train --run ID --control-stdin --claim N` on the
 * ranks, rank 0 writing the store under this daemon's claim, whose lease the keeper
 * renews meanwhile), passing the user's verbs and a stopping daemon on to it, and
 * returns the run's final status. A launch that ends without a final status (a rank
 * died, hung or could not start) leaves the run queued, to be claimed again, until
 * GD_MAX_FRUITLESS launches in a row ended so without a newer checkpoint: then it
 * fails with what the ranks said last. Called by gd_job_run. */
#define GD_MAX_FRUITLESS 3
enum gd_status gd_job_launch(struct gd_job *job, const struct gc_spec *spec,
                             const struct gd_run *run);

/* ---- the job's writes (job_store.c) ---- */

/* A report of the trainer, and the event that goes out once it is stored: metrics or
 * eval figures, a sample, a checkpoint, the plane of a 2D run's sample (no event), a
 * watchdog's rollback to the checkpoint of step (blob: that checkpoint, kept again; no
 * event) and its record (blob: a struct gd_watch_record; event "alert"). */
enum gd_report_kind {
    GD_REPORT_METRICS,
    GD_REPORT_EVAL,
    GD_REPORT_SAMPLE,
    GD_REPORT_CKPT,
    GD_REPORT_PLANE,
    GD_REPORT_REWIND,
    GD_REPORT_WATCH,
};
struct gd_report {
    enum gd_report_kind kind;
    int64_t step;
    const char *const *names; /* figures */
    const double *values;
    int n;
    const uint8_t *blob; /* sample PNG or checkpoint */
    size_t len;
};

/* Stores a report and publishes its event. While the store's disk is full or failing,
 * tries again every second (training waits, the error shows on the run); while the
 * store cannot be reached, keeps the report in memory (up to a bound, then waits) and
 * writes it, in order, once the store is back. 0, GC_ESTOPPED when a stop request
 * ended a wait, GC_ESTALE when another worker took the run over, or the store's
 * error. */
int gd_job_store(struct gd_job *job, const struct gd_report *r, struct gc_error *err);
/* Before the final status: waits until the store takes writes and every kept report
 * is written. Returns at once, dropping what is kept (it was never acknowledged), when
 * the daemon stops or the run was taken over. 0 when all was written. */
int gd_job_drain(struct gd_job *job);
/* Writes the run's final status (and its step first, with set_step). While the disk is
 * full or failing, or the store's server cannot be reached, tries again every second,
 * the error showing on the run, which stays running in the store; returns the last
 * error when the daemon stops or the run was taken over meanwhile. 0 when written. */
int gd_job_store_status(struct gd_job *job, enum gd_status st, const char *error, int64_t step,
                        int set_step, struct gc_error *err);
/* Frees what is kept. */
void gd_job_pending_free(struct gd_job *job);
/* Once a step: asks the store, at most every 500 ms (at once after a poke of the
 * keeper), whether the user asked this run to pause or cancel through any daemon, or
 * whether another worker took it over; sets job->request accordingly. */
void gd_job_poll_request(struct gd_job *job);

#endif
