/* workers.c — GET /api/v1/workers (see workers.h): every worker the store knows, with
 * its heartbeat, whether it is alive (its heartbeat younger than its lease), the runs
 * it trains and its capacity. With SQLite the one worker is this daemon (and a
 * `ganctld train` on the same file while it runs). */
#include "api/workers.h"

#include <stdlib.h>

#include "api/reply.h"

static json_t *time_or_null(const char *t)
{
    return t[0] ? json_string(t) : json_null();
}

enum MHD_Result ga_route_workers(struct ga_req *r)
{
    struct gd_worker_info *w = NULL;
    int n = 0;
    struct gc_error err = {0};
    if (gd_store_worker_list(r->srv->store, &w, &n, &err) != 0)
        return ga_reply_error(r, &err);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *running = json_array();
        for (int k = 0; k < w[i].nrunning; k++)
            json_array_append_new(running, json_integer(w[i].running[k]));
        json_array_append_new(arr,
                              json_pack("{s:s,s:o,s:o,s:b,s:o,s:i,s:i,s:i}", "name", w[i].name,
                                        "heartbeat_at", time_or_null(w[i].heartbeat_at),
                                        "started_at", time_or_null(w[i].started_at), "alive",
                                        w[i].alive, "running", running, "workers", w[i].workers,
                                        "threads", w[i].threads, "lease_s", w[i].lease_s));
    }
    free(w);
    const char *self = r->srv->sched ? gd_sched_self(r->srv->sched)->name : "";
    return ga_reply_json(r, 200, json_pack("{s:s,s:o}", "self", self, "workers", arr));
}
