/* generate.h — the handlers of what a run's generator makes (docs/api.md): samples,
 * the ONNX export, and the planes of 2D runs.
 *
 * Internal to api/: the router calls them with the path's {id} and {step} in r->id and
 * r->step. Each replies itself. */
#ifndef GA_GENERATE_H
#define GA_GENERATE_H

#include "api/http.h"

/* POST /api/v1/runs/{id}/generate: samples from the newest checkpoint, body {"n",
 * "seed", "format": png|idx|json} or {"z": [[...], ...], "format"} (the noise itself);
 * a conditional run also takes "class": K or "classes": [K, ...] (n of each). */
enum MHD_Result ga_route_run_generate(struct ga_req *r);
/* GET /api/v1/runs/{id}/export?format=onnx[&generator=K]: generator K of the newest
 * checkpoint as an ONNX model (application/onnx). */
enum MHD_Result ga_route_run_export(struct ga_req *r);
/* GET /api/v1/runs/{id}/planes: the steps that have a plane (2D runs). */
enum MHD_Result ga_route_run_planes(struct ga_req *r);
/* GET /api/v1/runs/{id}/planes/{step}: G's density and D's output over the plane. */
enum MHD_Result ga_route_run_plane(struct ga_req *r);

#endif
