/* http.h — what the api/ modules share: the server's state, one request's state and
 * the reply funnel (every response, error or not, goes out through ga_reply()).
 *
 * Internal to api/: only the api/ sources include this header (it includes microhttpd.h and
 * jansson.h, which nothing outside api/ may see).
 *
 * Threads: struct ga_server is read-only after ga_server_start() except the request
 * counters (atomics) and `stopping` (atomic). struct ga_req belongs to the one
 * connection thread that serves it. */
#ifndef GA_HTTP_H
#define GA_HTTP_H

#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "api/server.h"

#define GA_MAX_BODY (1024 * 1024) /* request bodies above this get 413 */
#define GA_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

struct ga_server {
    struct MHD_Daemon *mhd;
    struct gd_store *store;
    struct gd_sched *sched;
    struct gd_events *ev;
    char web_dir[PATH_MAX];      /* realpath of the dashboard folder, "" when missing */
    char datasets_dir[PATH_MAX]; /* as configured (resolved when a spec is parsed) */
    char token[512];
    size_t token_len; /* 0: no auth */
    int heartbeat_ms; /* event stream comment heartbeat */
    int port;
    atomic_int stopping;           /* set by ga_server_stop: streams end */
    atomic_llong http_counts[600]; /* responses by status code */
    int timeout_s;                 /* idle limit and request deadline of a connection */
    pthread_mutex_t conns_mu;      /* guards conns and the deadline of each */
    struct ga_conn *conns;         /* the open connections (server.c) */
    pthread_t reaper;              /* closes connections past their deadline */
    int reaper_started;
    int max_connections;         /* served at once; more get 503 (server.c) */
    atomic_int open_connections; /* kept by the connection notifications */
};

/* One request: lives in *req_cls from the first call of the access handler until the
 * completed callback frees it. */
struct ga_req {
    struct ga_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    char *body;
    size_t len, cap;
    int too_big;     /* the body passed GA_MAX_BODY: it was drained, not kept */
    size_t drained;  /* bytes of the oversized body read so far */
    int bad_framing; /* conflicting Content-Length / Transfer-Encoding: 400 and close */
    int over_limit;  /* its connection came past max_connections: 503 and close */
};

/* The one table from GC_E* codes to HTTP statuses. */
unsigned ga_http_status(int code);

/* Queues resp with status, counts it for /metrics and releases resp. */
enum MHD_Result ga_reply(struct ga_req *r, unsigned status, struct MHD_Response *resp);
/* obj (stolen, may be NULL) dumped into a response of type ctype, not yet queued: for
 * replies that add headers of their own before ga_reply(). NULL when obj is NULL or
 * out of memory. */
struct MHD_Response *ga_json_response(json_t *obj, const char *ctype);
/* Dumps obj (stolen, may be NULL -> 500) as application/json. */
enum MHD_Result ga_reply_json(struct ga_req *r, unsigned status, json_t *obj);
/* Takes ownership of buf (malloc'ed). */
enum MHD_Result ga_reply_bytes(struct ga_req *r, unsigned status, const char *ctype, void *buf,
                               size_t len);
/* Copies text. */
enum MHD_Result ga_reply_text(struct ga_req *r, unsigned status, const char *ctype,
                              const char *text);
/* application/problem+json {type,title,status,detail,errors}; errors (stolen) may be NULL
 * (then []). */
enum MHD_Result ga_reply_problem(struct ga_req *r, unsigned status, json_t *errors, const char *fmt,
                                 ...) __attribute__((format(printf, 4, 5)));
/* A problem from err (status from the code table); a message "field: text" also fills
 * errors[] with that field. */
enum MHD_Result ga_reply_error(struct ga_req *r, const struct gc_error *err);

/* Parses a whole decimal number in [lo, hi]; 0 ok, -1 otherwise. */
int ga_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* jansson load of the request body with JSON_REJECT_DUPLICATES; on failure replies 400
 * (or 413) itself, sets *replied and returns NULL. An empty body gives an empty object
 * when empty_ok. */
json_t *ga_body_json(struct ga_req *r, int empty_ok, enum MHD_Result *replied);

/* Route handlers (api/runs.c, api/sse.c, api/prom.c, api/openapi.c, api/catalog.c). */
enum MHD_Result ga_route_runs_create(struct ga_req *r);
enum MHD_Result ga_route_runs_list(struct ga_req *r);
enum MHD_Result ga_route_run_get(struct ga_req *r, int64_t id);
enum MHD_Result ga_route_run_delete(struct ga_req *r, int64_t id);
enum MHD_Result ga_route_run_action(struct ga_req *r, int64_t id, const char *action);
enum MHD_Result ga_route_run_metrics(struct ga_req *r, int64_t id);
enum MHD_Result ga_route_run_samples(struct ga_req *r, int64_t id);
enum MHD_Result ga_route_run_sample(struct ga_req *r, int64_t id, int64_t step);
enum MHD_Result ga_route_run_checkpoints(struct ga_req *r, int64_t id);
enum MHD_Result ga_route_run_checkpoint(struct ga_req *r, int64_t id, int64_t step);
enum MHD_Result ga_route_run_generate(struct ga_req *r, int64_t id);
enum MHD_Result ga_route_events(struct ga_req *r, int64_t run);
enum MHD_Result ga_route_prometheus(struct ga_req *r);
enum MHD_Result ga_route_openapi(struct ga_req *r);
enum MHD_Result ga_route_catalog(struct ga_req *r);
enum MHD_Result ga_route_spec_defaults(struct ga_req *r);

/* The run object as a jansson value (NULL with err set). */
json_t *ga_run_object(struct gd_store *store, struct gd_sched *sched, int64_t id,
                      struct gc_error *err);

#endif
