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

/* The spec as JSON <-> struct (strict: unknown fields, wrong types and out-of-range
 * values are errors naming the field path). On error *errors_json (malloc'ed, caller
 * frees; may be NULL) is the JSON array of {"field","message"} objects. base_dir is
 * the dataset root that relative paths resolve inside (NULL: no check of the path). */
int ga_spec_parse(const char *json, size_t len, const char *base_dir, struct gc_spec *out,
                  char **errors_json, struct gc_error *err);
/* ga_spec_parse that also returns the normalized spec as JSON (every default filled in,
 * dataset.path as the user gave it, not resolved) in *normalized (malloc'ed, caller
 * frees). This is what POST /api/v1/runs stores. */
int ga_spec_normalize(const char *json, size_t len, const char *base_dir, struct gc_spec *out,
                      char **normalized, char **errors_json, struct gc_error *err);
/* A spec read back from the store. One from the API keeps dataset.path as the user
 * gave it, relative to the dataset root, so it is resolved (and checked) inside
 * datasets_dir again; one from `ganctld train` holds an absolute path, used as is. */
int ga_spec_parse_stored(const char *json, const char *datasets_dir, struct gc_spec *out,
                         struct gc_error *err);
/* The normalized spec with every default filled in; malloc'ed, the caller frees. */
char *ga_spec_to_json(const struct gc_spec *spec);

#endif
