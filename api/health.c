/* health.c — GET /healthz: whether the daemon serves and its store takes writes. */
#include "api/health.h"

#include "api/reply.h"
#include "api/utf8.h"

enum MHD_Result ga_route_healthz(struct ga_req *r)
{
    char why[320];
    if (gd_store_health(r->srv->store, why, sizeof why) == 0)
        return ga_reply_text(r, 200, "application/json", "{\"status\":\"ok\"}");
    ga_utf8_scrub(why);
    return ga_reply_json(r, 200, json_pack("{s:s,s:s}", "status", "degraded", "store", why));
}
