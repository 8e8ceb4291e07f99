/* sweep.h — a sweep's early stopping: successive halving, run by the scheduler's
 * workers as evaluations arrive (docs/api.md: sweeps).
 *
 * Asynchronous successive halving with a factor of 2 (the rule of ASHA, Li et al.
 * 2020): when a run of a sweep with early_stopping evaluates at step E, its
 * configuration's objective at E (the mean over its seeds that reached E) is ranked
 * against every configuration of the sweep that reached E. A configuration outside
 * the better half (rank > ceil(n / 2)) is stopped: its runs still queued, running or
 * paused are canceled, each with the reason as its error. The first configuration to
 * reach a step always goes on, so runs trained one after the other compare with those
 * before them, and two workers compare runs side by side.
 *
 * Called on a worker's thread with no lock held; reads the store, acts through the
 * scheduler (gd_sched_stop). */
#ifndef GD_SWEEP_H
#define GD_SWEEP_H

#include <stdint.h>

#include "daemon/job.h"

/* After run (configuration config of sweep) stored its evaluation of step. Failures
 * are logged; training goes on. */
void gd_sweep_after_eval(struct gd_jobs *s, int64_t sweep, int64_t run, int config, int64_t step);

#endif
