/* prom.h — GET /metrics in the Prometheus text exposition format.
 *
 * The handler, ga_route_prometheus(), is declared in api/http.h (api/ only). */
#ifndef GA_PROM_H
#define GA_PROM_H

#include "api/server.h"

#endif
