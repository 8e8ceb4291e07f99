/* conns.c — the connection limit and request deadlines.
 *
 * The limit. libmicrohttpd's own limit stops accepting, so a client past it waits in
 * the listen backlog until it gives up: no answer at all. Instead libmicrohttpd's limit
 * is set GA_REFUSE_ROOM above max_connections: a connection opened while
 * max_connections others are open gets 503 with Retry-After on its request and is
 * closed, and past the room the accept policy closes new connections at once.
 *
 * The deadlines. libmicrohttpd's connection timeout counts idle time only, so a client
 * that sends its headers a byte a second holds a connection, and its thread, for as long
 * as it likes. Each connection therefore also has a deadline: its request must have
 * come whole (headers and body) within timeout_s of the connection opening or of its
 * previous response going out. A reaper thread shuts the socket of a connection past
 * its deadline down; libmicrohttpd then sees the end of the stream and closes it as
 * usual. While a response is being sent (an event stream for hours) there is none.
 *
 * DESIGN: the list is kept by the connection notifications; libmicrohttpd sends CLOSED
 * before it closes the socket, and the reaper shuts sockets down with conns_mu held, so
 * it never touches a descriptor that was closed and reused. */
#include "api/conns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api/reply.h"

struct ga_conn {
    int fd;
    int over_limit;  /* opened while max_connections others were open */
    double deadline; /* CLOCK_MONOTONIC seconds; 0: none (a response is going out) */
    struct ga_conn *prev, *next;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the limit ----------------------------------------------------------------- */

enum MHD_Result ga_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr, (void)addrlen;
    struct ga_server *srv = cls;
    return atomic_load(&srv->open_connections) >= srv->max_connections + GA_REFUSE_ROOM ? MHD_NO
                                                                                        : MHD_YES;
}

static struct ga_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

int ga_conns_over_limit(struct MHD_Connection *conn)
{
    const struct ga_conn *c = conn_of(conn);
    return c && c->over_limit;
}

enum MHD_Result ga_conns_refuse(struct ga_req *r)
{
    char detail[128];
    snprintf(detail, sizeof detail, "the daemon serves %d connections at once; retry later",
             r->srv->max_connections);
    struct MHD_Response *resp = ga_problem_response(503, detail);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    return ga_reply(r, 503, resp);
}

/* ---- the list of connections --------------------------------------------------- */

void ga_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                     enum MHD_ConnectionNotificationCode toe)
{
    struct ga_server *srv = cls;
    struct ga_conn *c = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        int open = atomic_fetch_add(&srv->open_connections, 1) + 1;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c = calloc(1, sizeof *c);
        *socket_context = c;
        if (!c || !ci) /* out of memory: this one has the idle timeout only */
            return;
        c->fd = ci->connect_fd;
        c->over_limit = open > srv->max_connections;
        pthread_mutex_lock(&srv->conns_mu);
        c->deadline = mono_s() + srv->timeout_s;
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        pthread_mutex_unlock(&srv->conns_mu);
        return;
    }
    atomic_fetch_sub(&srv->open_connections, 1);
    if (!c)
        return;
    pthread_mutex_lock(&srv->conns_mu);
    if (c->next || c->prev || srv->conns == c) {
        if (c->prev)
            c->prev->next = c->next;
        else
            srv->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    pthread_mutex_unlock(&srv->conns_mu);
    free(c);
    *socket_context = NULL;
}

/* ---- deadlines ----------------------------------------------------------------- */

void ga_conns_deadline(struct ga_server *srv, struct MHD_Connection *conn, int waiting)
{
    struct ga_conn *c = conn_of(conn);
    if (!c)
        return;
    pthread_mutex_lock(&srv->conns_mu);
    c->deadline = waiting ? mono_s() + srv->timeout_s : 0;
    pthread_mutex_unlock(&srv->conns_mu);
}

static void *reaper_main(void *arg)
{
    struct ga_server *srv = arg;
    while (!atomic_load(&srv->stopping)) {
        struct timespec slice = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
        nanosleep(&slice, NULL);
        double now = mono_s();
        pthread_mutex_lock(&srv->conns_mu);
        for (struct ga_conn *c = srv->conns; c; c = c->next) {
            if (c->deadline > 0 && now > c->deadline && c->fd >= 0) {
                shutdown(c->fd, SHUT_RDWR);
                c->deadline = 0;
            }
        }
        pthread_mutex_unlock(&srv->conns_mu);
    }
    return NULL;
}

int ga_conns_start(struct ga_server *srv, struct gc_error *err)
{
    pthread_mutex_init(&srv->conns_mu, NULL);
    int rc = pthread_create(&srv->reaper, NULL, reaper_main, srv);
    if (rc)
        return gc_error_set(err, GC_ENOMEM, "cannot start a thread: %s", strerror(rc));
    srv->reaper_started = 1;
    return 0;
}

void ga_conns_stop(struct ga_server *srv)
{
    if (srv->reaper_started)
        pthread_join(srv->reaper, NULL);
    srv->reaper_started = 0;
    pthread_mutex_destroy(&srv->conns_mu);
}
