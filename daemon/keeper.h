/* keeper.h — the scheduler's keeper thread: this daemon's place among the store's
 * workers. Internal to the scheduler (sched.c starts and stops it).
 *
 * Every round (at most KEEPER_ROUND_MS apart, sooner when another daemon's news
 * arrives) the keeper: raises the event bus to the store's newest event, so the event
 * streams follow runs trained anywhere; pokes the idle workers, so they claim runs
 * queued elsewhere or whose owner's lease ran out; asks the jobs to poll the store at
 * once when a request arrived; and every heartbeat_s seconds records this daemon's
 * heartbeat, which renews the leases of the runs it trains. */
#ifndef GD_KEEPER_H
#define GD_KEEPER_H

#include <pthread.h>

#include "core/error.h"
#include "daemon/job.h"

/* Starts the keeper on s (after a first heartbeat, which registers this daemon). */
int gd_keeper_start(struct gd_jobs *s, pthread_t *th, struct gc_error *err);
/* Stops and joins it. */
void gd_keeper_stop(struct gd_jobs *s, pthread_t th);

#endif
