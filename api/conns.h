/* conns.h — the open connections: how many are served at once, and how long a request
 * may take to arrive.
 *
 * Internal to api/. ga_conns_accept and ga_conns_notify are libmicrohttpd callbacks
 * (cls: the struct ga_server), called on its threads; the others are called by
 * api/request.c and api/server.c. The list of connections is guarded by
 * srv->conns_mu. */
#ifndef GA_CONNS_H
#define GA_CONNS_H

#include "api/http.h"
#include "core/error.h"

/* libmicrohttpd's limit is set this far above max_connections, so a connection past the
 * limit still gets its 503 (api/server.c sizes the daemon by it). */
#define GA_REFUSE_ROOM 32

/* Initializes srv->conns_mu and starts the reaper thread, which closes connections past
 * their deadline; 0 or an error code with err set. srv->timeout_s must be set. */
int ga_conns_start(struct ga_server *srv, struct gc_error *err);
/* Joins the reaper (srv->stopping must be set) and destroys the mutex; after
 * MHD_stop_daemon, when no notification can come any more. Safe after a failed
 * ga_conns_start. */
void ga_conns_stop(struct ga_server *srv);

/* libmicrohttpd's accept policy: past max_connections + GA_REFUSE_ROOM open, a new
 * connection is closed at once. */
enum MHD_Result ga_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* libmicrohttpd's connection notification: keeps the list of open connections, each
 * with its deadline, and marks those opened past max_connections. */
void ga_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode toe);

/* 1 when conn was opened while max_connections others were open. */
int ga_conns_over_limit(struct MHD_Connection *conn);
/* The 503 with Retry-After for a connection past the limit; the connection closes. */
enum MHD_Result ga_conns_refuse(struct ga_req *r);
/* waiting 1: conn now waits for (the rest of) a request and gets a deadline; 0: its
 * request has come whole and is being answered, no deadline. */
void ga_conns_deadline(struct ga_server *srv, struct MHD_Connection *conn, int waiting);

#endif
