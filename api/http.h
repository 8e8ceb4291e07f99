/* http.h — the state the api/ modules share: the server's and one request's.
 *
 * Internal to api/: only the api/ sources include this header (it includes microhttpd.h
 * and jansson.h, which nothing outside api/ may see). The functions that work on this
 * state live in the module that owns each job: api/request.h (reading a request),
 * api/router.h (the route table), api/reply.h (every response), api/conns.h
 * (connection limits and deadlines), and one header per group of route handlers.
 *
 * Threads: struct ga_server is read-only after ga_server_start() except the request
 * counters (atomics), `stopping` (atomic) and the connection list (conns_mu). struct
 * ga_req belongs to the one connection thread that serves it. */
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

struct ga_conn;

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
    struct ga_conn *conns;         /* the open connections (api/conns.c) */
    pthread_t reaper;              /* closes connections past their deadline */
    int reaper_started;
    int max_connections;         /* served at once; more get 503 (api/conns.c) */
    atomic_int open_connections; /* kept by the connection notifications */
};

/* One request: lives in *req_cls from the first call of the access handler until the
 * completed callback frees it (api/request.c). */
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
    /* the path's parameters, set by the router (api/router.c) from its route */
    int64_t id;       /* {id}; 0 when the path has none (/api/v1/events: every run) */
    int64_t step;     /* {step}; -1 when the path has none (samples/latest.png: newest) */
    const char *file; /* {file}, the rest of the path (points into url); NULL if none */
};

#endif
