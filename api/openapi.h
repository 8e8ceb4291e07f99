/* openapi.h — GET /api/v1/openapi.json, the OpenAPI 3.1 description of the API.
 *
 * Internal to api/. */
#ifndef GA_OPENAPI_H
#define GA_OPENAPI_H

#include "api/http.h"

/* GET /api/v1/openapi.json: the document, as application/json. */
enum MHD_Result ga_route_openapi(struct ga_req *r);

#endif
