/* openapi.c — GET /api/v1/openapi.json: serves the document embedded from
 * api/openapi.json (see openapi.h). */
#include "api/openapi.h"

#include "api/reply.h"

enum MHD_Result ga_route_openapi(struct ga_req *r)
{
    return ga_reply_text(r, 200, "application/json", ga_openapi_doc);
}
