/* sse.h — server-sent event streams of run events.
 *
 * The handler, ga_route_events(), is declared in api/http.h (api/ only). */
#ifndef GA_SSE_H
#define GA_SSE_H

#include "api/server.h"

#endif
