/* run_object.h — the run object: one run as the API serves it (GET /api/v1/runs/{id},
 * the list, the event streams' status events) and `ganctld train` prints; see
 * docs/api.md and the Run schema of api/openapi.json.
 *
 * {id, name, status, spec, step, steps, created_at, started_at, finished_at, error,
 * worker, latest: {metric: value}, eval: {figure: value}, sweep: ID or null,
 * provenance: {version, commit, compiler, blas, threads, spec_hash} or null before it
 * first trained, watch: [{step, kind, action, message, created_at, to_step?,
 * lr_scale?}], classes: [{index, name}] or null}, rebuilt from the store on every call (a handful
 * of indexed reads, whatever the run's history), with the live step of a training run from the
 * scheduler when this daemon trains it (sched may be NULL), else the newest step its
 * worker logged.
 * Thread-safe: it reads the store and the scheduler, both thread-safe. */
#ifndef GA_RUN_OBJECT_H
#define GA_RUN_OBJECT_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "daemon/sched.h"
#include "daemon/store.h"

/* The run object as a jansson value, owned by the caller; NULL with err set (GC_ENOTFOUND
 * "no run N" for a run that does not exist). err may be NULL. */
json_t *ga_run_object(struct gd_store *store, struct gd_sched *sched, int64_t id,
                      struct gc_error *err);
/* The run object of a run already read (a page of the list), with kv the newest values
 * and watch the watchdog's records read for it (gd_store_metrics_latest_runs,
 * gd_store_watch_list_runs; entries of other runs are skipped). */
json_t *ga_run_object_of(struct gd_sched *sched, const struct gd_run *run, const struct gd_kv *kv,
                         int nkv, const struct gd_watch_record *watch, int nwatch);
/* One watchdog record as the run object and the alert events show it. */
json_t *ga_watch_record(const struct gd_watch_record *r);
/* The same as compact JSON text; malloc'ed, the caller frees. */
char *ga_run_json(struct gd_store *store, struct gd_sched *sched, int64_t id, struct gc_error *err);

#endif
