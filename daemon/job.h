/* job.h — one run trained by one worker, and what the jobs of one scheduler share.
 *
 * Internal to the scheduler: only sched.c and job.c include it. sched.c decides which
 * run a worker takes next and carries out the user's verbs (sched.h); job.c is what
 * the worker then does with that run, from reading it out of the store to writing its
 * final status.
 *
 * DESIGN: the scheduler's mutex mu guards the active list, each job's fields marked
 * below, the stopping flag and the counters (and, in sched.c, the queue, so a run
 * moves from the queue onto the active list in one step). ctl_mu serializes the
 * user's state changes with a job's final status; it is taken before mu, never the
 * other way round. Neither is held across training; mu is never held across the
 * store or a log call either. */
#ifndef GD_JOB_H
#define GD_JOB_H

#include <pthread.h>
#include <stdint.h>

#include "daemon/events.h"
#include "daemon/sched.h"
#include "daemon/store.h"

struct gc_trainer;

/* What the user asked of a training run; the worker acts on it within one step. */
enum gd_job_request { GD_REQ_NONE = 0, GD_REQ_PAUSE, GD_REQ_CANCEL };

/* What every job of one scheduler shares with it. */
struct gd_jobs {
    /* set when the scheduler is created, read-only afterwards */
    struct gd_store *store;
    struct gd_events *ev;   /* NULL: no events */
    struct gd_sched *sched; /* the scheduler itself, for a sweep's early stopping */
    struct gd_sched_opts opts;
    char *cache_dir;     /* the classifier cache; NULL: none */
    int threads_per_run; /* compute threads of one run */

    pthread_mutex_t ctl_mu; /* serializes cancel/pause/resume/delete and final statuses */
    pthread_mutex_t mu;
    /* guarded by mu */
    struct gd_job *active; /* the runs training now, newest first */
    int stopping;          /* shutdown began: jobs checkpoint and end as queued */
    int64_t steps_trained, images_trained;
};

/* One run on the active list. */
struct gd_job {
    int64_t id;
    struct gd_jobs *s;
    /* the worker's alone */
    struct gc_trainer *t;
    int batch;         /* images per step, for the counters */
    int64_t steps;     /* the spec's train.steps */
    int64_t counted;   /* steps already added to the counters */
    int healthy_tries; /* failed writes while the store looked healthy */
    char name[129];    /* the run's name, for the alert webhook */
    int64_t sweep;     /* the sweep it belongs to (0: none) and its configuration */
    int config;
    /* guarded by s->mu */
    enum gd_job_request request;
    char stop_reason[320]; /* why a cancel came, shown as the run's error ("" for a user's) */
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

/* The active job of run id, or NULL. Called with mu held. */
struct gd_job *gd_jobs_find(struct gd_jobs *s, int64_t id);
/* Puts a new job for run id on the active list; NULL when out of memory. Called with
 * mu held. */
struct gd_job *gd_jobs_add(struct gd_jobs *s, int64_t id);

/* Trains the job's run on the calling thread until it ends, stops or fails, writes
 * its final status, takes the job off the active list and frees it; returns the
 * status written. Never takes the daemon down: every failure ends as a failed run
 * with its message. Called with no lock held. */
enum gd_status gd_job_run(struct gd_job *job);

#endif
