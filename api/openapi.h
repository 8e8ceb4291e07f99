/* openapi.h — GET /api/v1/openapi.json, the OpenAPI 3 description of the API.
 *
 * The handler, ga_route_openapi(), is declared in api/http.h (api/ only). */
#ifndef GA_OPENAPI_H
#define GA_OPENAPI_H

#include "api/server.h"

/* The document as JSON text (static storage). */
const char *ga_openapi_json(void);

#endif
