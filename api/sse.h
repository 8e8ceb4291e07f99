/* sse.h — server-sent event streams of run events.
 *
 * Internal to api/. */
#ifndef GA_SSE_H
#define GA_SSE_H

#include "api/http.h"

/* GET /api/v1/runs/{id}/events (r->id) and GET /api/v1/events (r->id 0: every run): a
 * text/event-stream of status, metrics, eval, sample and checkpoint events, from
 * Last-Event-ID (or ?last_event_id=) on, else from now. */
enum MHD_Result ga_route_events(struct ga_req *r);

#endif
