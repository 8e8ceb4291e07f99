/* server.c — starting and stopping the HTTP server: the listen address, the options
 * libmicrohttpd gets, and who is called for what.
 *
 * DESIGN: libmicrohttpd runs one thread per connection plus an internal polling thread.
 * A request goes api/conns.c (accept policy, connection list) -> api/request.c (body,
 * framing) -> api/router.c (auth, route table) -> a handler -> api/reply.c (the one
 * funnel). */
#include "api/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/conns.h"
#include "api/http.h"
#include "api/request.h"

#define DEFAULT_MAX_CONNECTIONS 256
#define PER_IP_LIMIT 128
#define DEFAULT_TIMEOUT_S 60
#define CONNECTION_MEMORY (128 * 1024)

static int parse_listen(const char *listen, struct sockaddr_storage *ss, struct gc_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host)
        return gc_error_set(err, GC_EINVAL, "listen: expected ADDR:PORT, got '%s'", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    int64_t port;
    if (ga_parse_i64(colon + 1, 0, 65535, &port) != 0)
        return gc_error_set(err, GC_EINVAL, "listen: bad port in '%s'", listen);
    memset(ss, 0, sizeof *ss);
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return gc_error_set(err, GC_EINVAL, "listen: bad IPv6 address in '%s'", listen);
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return gc_error_set(err, GC_EINVAL, "listen: bad IPv4 address in '%s'", listen);
    return 0;
}

/* The options that need no daemon yet; 0 or an error code with err set. */
static int configure(struct ga_server *srv, const struct ga_server_opts *opts, struct gc_error *err)
{
    if (opts->web_dir && !realpath(opts->web_dir, srv->web_dir))
        srv->web_dir[0] = 0; /* no dashboard: the placeholder index is served */
    if (opts->datasets_dir && snprintf(srv->datasets_dir, sizeof srv->datasets_dir, "%s",
                                       opts->datasets_dir) >= (int)sizeof srv->datasets_dir)
        return gc_error_set(err, GC_EINVAL, "datasets: path too long");
    if (opts->token && opts->token[0]) {
        size_t n = strlen(opts->token);
        if (n >= sizeof srv->token)
            return gc_error_set(err, GC_EINVAL, "token: longer than %zu bytes",
                                sizeof srv->token - 1);
        memcpy(srv->token, opts->token, n);
        srv->token_len = n;
    }
    srv->heartbeat_ms = 15000;
    const char *hb = getenv("GANCTL_HEARTBEAT_MS");
    int64_t v;
    if (hb && ga_parse_i64(hb, 10, 60000, &v) == 0)
        srv->heartbeat_ms = (int)v;
    atomic_init(&srv->stopping, 0);
    for (int i = 0; i < 600; i++)
        atomic_init(&srv->http_counts[i], 0);
    srv->timeout_s = opts->http_timeout_s > 0 ? opts->http_timeout_s : DEFAULT_TIMEOUT_S;
    srv->max_connections =
        opts->max_connections > 0 ? opts->max_connections : DEFAULT_MAX_CONNECTIONS;
    atomic_init(&srv->open_connections, 0);
    return 0;
}

struct ga_server *ga_server_start(const struct ga_server_opts *opts, struct gd_store *store,
                                  struct gd_sched *sched, struct gd_events *ev,
                                  struct gc_error *err)
{
    struct sockaddr_storage ss;
    if (parse_listen(opts->listen ? opts->listen : "127.0.0.1:8080", &ss, err) != 0)
        return NULL;
    struct ga_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        gc_error_set(err, GC_ENOMEM, "out of memory");
        return NULL;
    }
    srv->store = store;
    srv->sched = sched;
    srv->ev = ev;
    if (configure(srv, opts, err) != 0) {
        free(srv);
        return NULL;
    }
    if (ga_conns_start(srv, err) != 0)
        goto fail;

    /* libmicrohttpd's idle timeout also ends an event stream that is quiet between two
     * heartbeats, so it stays past twice the heartbeat; requests still have timeout_s to
     * come whole, and kept-alive connections to send the next one (the reaper) */
    unsigned idle_s = (unsigned)srv->timeout_s;
    if (idle_s < (unsigned)(2 * srv->heartbeat_ms / 1000 + 1))
        idle_s = (unsigned)(2 * srv->heartbeat_ms / 1000 + 1);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* twice the room: libmicrohttpd counts a connection a little longer than we do */
    unsigned maxc = (unsigned)srv->max_connections + 2 * GA_REFUSE_ROOM;
    srv->mhd = MHD_start_daemon(
        flags, 0, ga_conns_accept, srv, ga_request_access, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, maxc,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        idle_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_NOTIFY_COMPLETED, ga_request_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
        ga_conns_notify, srv, MHD_OPTION_UNESCAPE_CALLBACK, ga_request_unescape, NULL,
        MHD_OPTION_END);
    if (!srv->mhd) {
        gc_error_set(err, GC_EIO,
                     "listen: cannot listen on %s (address in use or not "
                     "available?)",
                     opts->listen ? opts->listen : "127.0.0.1:8080");
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : 0;
    return srv;
fail:
    atomic_store(&srv->stopping, 1);
    ga_conns_stop(srv);
    free(srv);
    return NULL;
}

void ga_server_stop(struct ga_server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->stopping, 1);
    /* wake the event streams at once; they also poll `stopping` */
    if (srv->ev)
        gd_events_shutdown(srv->ev);
    MHD_stop_daemon(srv->mhd);
    ga_conns_stop(srv);
    free(srv);
}

int ga_server_port(const struct ga_server *srv)
{
    return srv ? srv->port : 0;
}
