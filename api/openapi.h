/* openapi.h — GET /api/v1/openapi.json, the OpenAPI 3.1 description of the API.
 *
 * The document is api/openapi.json, a file of its own that linters and client
 * generators read; the build embeds it (scripts/embed-openapi.sh writes
 * build/gen/openapi.c, which defines ga_openapi_doc). Internal to api/. */
#ifndef GA_OPENAPI_H
#define GA_OPENAPI_H

#include "api/http.h"

/* The document's text, NUL-terminated (defined in the generated build/gen/openapi.c). */
extern const char ga_openapi_doc[];

/* GET /api/v1/openapi.json: the document, as application/json. */
enum MHD_Result ga_route_openapi(struct ga_req *r);

#endif
