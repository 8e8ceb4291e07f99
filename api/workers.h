/* workers.h — GET /api/v1/workers: the daemons that train the store's runs.
 *
 * Internal to api/: the router calls it. */
#ifndef GA_WORKERS_H
#define GA_WORKERS_H

#include "api/http.h"

/* {"self": this daemon's name, "workers": [{name, heartbeat_at, started_at, alive,
 * running: [run ids], workers, threads, lease_s}]}, by name; 503 while the store cannot
 * be reached. */
enum MHD_Result ga_route_workers(struct ga_req *r);

#endif
