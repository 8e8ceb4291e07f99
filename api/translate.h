/* translate.h — the handler of POST /api/v1/runs/{id}/translate (docs/api.md).
 *
 * Internal to api/: the router calls it with the path's {id} in r->id. It replies
 * itself: 200 with the output PNG, 400 for a picture that is not a PNG or not what the
 * run's task takes (the message says which), 404 no run, 409 a run without a task or
 * without a checkpoint yet, 413 a body over 1 MiB or a picture too large, 415 a body
 * that is not sent as image/png. */
#ifndef GA_TRANSLATE_H
#define GA_TRANSLATE_H

#include "api/http.h"

enum MHD_Result ga_route_run_translate(struct ga_req *r);

#endif
