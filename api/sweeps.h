/* sweeps.h — the handlers of /api/v1/sweeps (docs/api.md) and the sweep object.
 *
 * Internal to api/: the router calls them with the path's {id} in r->id. Each replies
 * itself: the sweep, or a problem (400 with every problem of every spec the sweep
 * would make, 404 no such sweep, 503 while the store cannot write). */
#ifndef GA_SWEEPS_H
#define GA_SWEEPS_H

#include <stdint.h>

#include "api/http.h"
#include "core/error.h"

/* POST /api/v1/sweeps: validates every configuration, creates and queues every run at
 * once; 201 with the sweep object and a Location header. */
enum MHD_Result ga_route_sweeps_create(struct ga_req *r);
/* GET /api/v1/sweeps: every sweep, newest first, as a summary. */
enum MHD_Result ga_route_sweeps_list(struct ga_req *r);
/* GET /api/v1/sweeps/{id}: the sweep object. */
enum MHD_Result ga_route_sweep_get(struct ga_req *r);

/* {id, name, status (queued, running, finished), created_at, spec, axes, seeds,
 * objective {metric, goal}, early_stopping, random, configurations [{index, values,
 * runs, objective {mean, std, best, n} or null, finished, stopped}], best (the
 * configuration with the best mean, or null)}, rebuilt from the store; the caller owns
 * it. NULL with err set (GC_ENOTFOUND "no sweep N"). */
json_t *ga_sweep_object(struct gd_store *store, int64_t id, struct gc_error *err);

#endif
