/* health.h — GET /healthz, for load balancers and systemd's watchers.
 *
 * Internal to api/. */
#ifndef GA_HEALTH_H
#define GA_HEALTH_H

#include "api/http.h"

/* 200 while the daemon serves. {"status":"ok"} while the store takes writes;
 * {"status":"degraded","store":"disk full: ..."} while its writes fail (reads are still
 * served, training runs wait), until a write works again. */
enum MHD_Result ga_route_healthz(struct ga_req *r);

#endif
