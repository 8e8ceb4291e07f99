/* server.h — the HTTP side of the daemon: REST API, event streams, /metrics, the
 * dashboard's static files (libmicrohttpd, jansson).
 *
 * Threads: libmicrohttpd runs one thread per connection plus its polling thread;
 * handlers call the store and the scheduler (both thread-safe) and hold no lock
 * across them. */
#ifndef GA_SERVER_H
#define GA_SERVER_H

#include "core/error.h"
#include "core/spec.h"
#include "daemon/events.h"
#include "daemon/sched.h"
#include "daemon/store.h"

struct ga_server;

struct ga_server_opts {
    const char *listen;       /* "ADDR:PORT", e.g. 127.0.0.1:8080 */
    const char *web_dir;      /* the dashboard's files */
    const char *datasets_dir; /* dataset paths given over the API resolve inside it */
    const char *token;        /* NULL or "": no auth */
    int max_connections;      /* 0: default */
    int http_timeout_s;       /* a connection idle this long, or whose request has not come
                               * whole (headers and body) this long after the connection
                               * opened or its previous response went out, is closed;
                               * 0: 60 s */
};

/* Starts listening; returns NULL with err set (port taken, bad address, ...).
 * Borrows store, sched and events; they must outlive the server.
 * The event streams' comment heartbeat comes every 15 s; the environment variable
 * GANCTL_HEARTBEAT_MS (10..60000) changes it, for tests. */
struct ga_server *ga_server_start(const struct ga_server_opts *opts, struct gd_store *store,
                                  struct gd_sched *sched, struct gd_events *ev,
                                  struct gc_error *err);
/* Stops accepting, ends open event streams, joins the threads. NULL is a no-op. */
void ga_server_stop(struct ga_server *srv);
/* The port actually bound (useful with port 0). */
int ga_server_port(const struct ga_server *srv);

#endif
