/* runs.h — the /api/v1/runs endpoints and the run object.
 *
 * The handlers (ga_route_run*) and ga_run_object are declared in api/http.h, which
 * only api/ sees; ga_run_json, the public form, is declared in api/server.h. */
#ifndef GA_RUNS_H
#define GA_RUNS_H

#include "api/server.h"

#endif
