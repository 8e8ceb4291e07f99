/* run_object.h — the run object: one run as the API serves it (GET /api/v1/runs/{id},
 * the list, the event streams' status events) and `ganctld train` prints; see
 * docs/api.md and the Run schema of api/openapi.json.
 *
 * {id, name, status, spec, step, steps, created_at, started_at, finished_at, error,
 * latest: {metric: value}, eval: {figure: value}, sweep: ID or null, provenance: {version,
 * commit, compiler, blas, threads, spec_hash} or null before it first trained, watch:
 * [{step, kind, action, message, created_at, to_step?, lr_scale?}], classes: [{index,
 * name}] or null}, rebuilt from the store on every call, with the live step of a
 * training run from the scheduler (sched may be NULL).
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
/* One watchdog record as the run object and the alert events show it. */
json_t *ga_watch_record(const struct gd_watch_record *r);
/* The same as compact JSON text; malloc'ed, the caller frees. */
char *ga_run_json(struct gd_store *store, struct gd_sched *sched, int64_t id, struct gc_error *err);

#endif
