/* prom.h — GET /metrics in the Prometheus text exposition format.
 *
 * Internal to api/. */
#ifndef GA_PROM_H
#define GA_PROM_H

#include "api/http.h"

/* GET /metrics: the daemon's counters and gauges, text format 0.0.4. */
enum MHD_Result ga_route_prometheus(struct ga_req *r);

#endif
