/* runs.h — the handlers of /api/v1/runs and everything under it (docs/api.md).
 *
 * Internal to api/: the router (api/router.c) calls them with the path's {id} and
 * {step} in r->id and r->step. Each replies itself: the resource, or a problem (400 bad
 * query or body, 404 no such run or thing, 409 a state that forbids it, 413, 503). */
#ifndef GA_RUNS_H
#define GA_RUNS_H

#include "api/http.h"

/* POST /api/v1/runs: validates the spec, queues the run; 201 with the run object and a
 * Location header. */
enum MHD_Result ga_route_runs_create(struct ga_req *r);
/* GET /api/v1/runs?status=&limit=&cursor=: runs newest first, a page at a time. */
enum MHD_Result ga_route_runs_list(struct ga_req *r);
/* GET /api/v1/runs/{id}: the run object. */
enum MHD_Result ga_route_run_get(struct ga_req *r);
/* DELETE /api/v1/runs/{id}: the run and everything stored of it; 204. */
enum MHD_Result ga_route_run_delete(struct ga_req *r);
/* POST /api/v1/runs/{id}/cancel, /pause, /resume: the run object after the action. */
enum MHD_Result ga_route_run_cancel(struct ga_req *r);
enum MHD_Result ga_route_run_pause(struct ga_req *r);
enum MHD_Result ga_route_run_resume(struct ga_req *r);
/* GET /api/v1/runs/{id}/metrics?name=&from_step=&to_step=&max_points=: series. */
enum MHD_Result ga_route_run_metrics(struct ga_req *r);
/* GET /api/v1/runs/{id}/samples: the steps that have a sample grid, with their URLs. */
enum MHD_Result ga_route_run_samples(struct ga_req *r);
/* GET /api/v1/runs/{id}/samples/{step}.png (r->step; -1: latest.png, the newest). */
enum MHD_Result ga_route_run_sample(struct ga_req *r);
/* GET /api/v1/runs/{id}/checkpoints: the checkpoints kept. */
enum MHD_Result ga_route_run_checkpoints(struct ga_req *r);
/* GET /api/v1/runs/{id}/checkpoints/{step}: one checkpoint's bytes. */
enum MHD_Result ga_route_run_checkpoint(struct ga_req *r);
/* The steps a run has of something (sample grids, planes) as {KEY: [{step, url}]}, the
 * url from url_fmt with the run id and the step (two %lld); 404 for no such run. */
typedef int (*ga_steps_fn)(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                           struct gc_error *err);
enum MHD_Result ga_reply_run_steps(struct ga_req *r, ga_steps_fn get, const char *key,
                                   const char *url_fmt);
/* The run id into *out (NULL: only whether it exists): 0, or -1 with a 404 (no such
 * run) or an error already replied in *ret. *out is the caller's to gd_run_fini. */
int ga_need_run(struct ga_req *r, int64_t id, struct gd_run *out, enum MHD_Result *ret);

#endif
