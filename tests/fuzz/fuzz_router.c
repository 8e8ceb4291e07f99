/* fuzz_router.c — libFuzzer driver for the HTTP side of the daemon: api/request.c's
 * access handler (body collection, framing), api/router.c's route table (auth, path
 * parameters, 404 and 405) and every handler behind it, with a real store (SQLite in a
 * temporary folder), event hub and scheduler (not started, so created runs stay
 * queued).
 *
 * DESIGN: no socket. This file defines the dozen libmicrohttpd functions api/ calls, so
 * the program does not use the library: MHD_start_daemon hands us the access handler
 * and the completed callback, and each input is one request given to them the way
 * libmicrohttpd would (a first call, the body in chunks, a last call with no data).
 * Input format, like a raw request:
 *
 *     METHOD URL\n
 *     Header: value\n      (any number, up to 16)
 *     \n
 *     body
 *
 * The URL is split into path and query and %-decoded as libmicrohttpd does. The server
 * runs with the token "fuzz-token"; the seeds carry it.
 *
 * Checked for each request besides crashes, leaks and sanitizer reports: the handler
 * either queues exactly one response or refuses the connection (never both, never
 * neither: that would hang the client); the status is a valid HTTP status below 500
 * (the store works, so a 5xx means a bug); JSON bodies parse. */
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blas.h"
#include "api/router.h"
#include "api/server.h"
#include "api/spec_json.h"
#include "core/gan.h"
#include "daemon/events.h"
#include "daemon/sched.h"
#include "daemon/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_KV 32

/* ---- the libmicrohttpd stand-in ------------------------------------------------ */

struct kv {
    enum MHD_ValueKind kind;
    char *key, *value;
};

struct MHD_Response {
    int refs;
    void *buf;
    size_t len;
    enum MHD_ResponseMemoryMode mode;
    MHD_ContentReaderCallback crc;
    void *crc_cls;
    MHD_ContentReaderFreeCallback crfc;
    int fd;
    char ctype[128];
};

struct MHD_Connection {
    void *socket_context;
    struct kv kv[MAX_KV];
    int nkv;
    struct MHD_Response *resp;
    unsigned status;
    int queued;
};

struct MHD_Daemon {
    int unused;
};

static struct MHD_Daemon the_daemon;
static MHD_AccessHandlerCallback access_handler;
static void *access_cls;
static MHD_RequestCompletedCallback completed_cb;
static void *completed_cls;
static MHD_NotifyConnectionCallback connection_cb;
static void *connection_cls;
typedef size_t (*unescape_fn)(void *cls, struct MHD_Connection *c, char *s);
static unescape_fn unescape_cb;
static void *unescape_cls;

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    (void)flags, (void)port, (void)apc, (void)apc_cls;
    access_handler = dh;
    access_cls = dh_cls;
    va_list ap;
    va_start(ap, dh_cls);
    /* the options api/server.c passes; an unknown one means this stand-in is stale */
    for (;;) {
        enum MHD_OPTION o = va_arg(ap, enum MHD_OPTION);
        if (o == MHD_OPTION_END)
            break;
        switch (o) {
        case MHD_OPTION_SOCK_ADDR:
            (void)va_arg(ap, struct sockaddr *);
            break;
        case MHD_OPTION_CONNECTION_LIMIT:
        case MHD_OPTION_PER_IP_CONNECTION_LIMIT:
        case MHD_OPTION_CONNECTION_TIMEOUT:
            (void)va_arg(ap, unsigned int);
            break;
        case MHD_OPTION_CONNECTION_MEMORY_LIMIT:
            (void)va_arg(ap, size_t);
            break;
        case MHD_OPTION_NOTIFY_COMPLETED:
            completed_cb = va_arg(ap, MHD_RequestCompletedCallback);
            completed_cls = va_arg(ap, void *);
            break;
        case MHD_OPTION_NOTIFY_CONNECTION:
            connection_cb = va_arg(ap, MHD_NotifyConnectionCallback);
            connection_cls = va_arg(ap, void *);
            break;
        case MHD_OPTION_UNESCAPE_CALLBACK:
            unescape_cb = va_arg(ap, unescape_fn);
            unescape_cls = va_arg(ap, void *);
            break;
        default:
            fprintf(stderr, "fuzz_router: MHD option %d not known here\n", (int)o);
            abort();
        }
    }
    va_end(ap);
    return &the_daemon;
}

void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
    (void)daemon;
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
                                                enum MHD_DaemonInfoType info_type, ...)
{
    (void)daemon, (void)info_type;
    static union MHD_DaemonInfo info;
    info.port = 8080;
    return &info;
}

const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
                                                        enum MHD_ConnectionInfoType info_type, ...)
{
    static _Thread_local union MHD_ConnectionInfo info;
    memset(&info, 0, sizeof info);
    switch (info_type) {
    case MHD_CONNECTION_INFO_CONNECTION_FD:
        info.connect_fd = -1; /* no socket: nothing for a deadline to shut down */
        return &info;
    case MHD_CONNECTION_INFO_SOCKET_CONTEXT:
        info.socket_context = connection->socket_context;
        return &info;
    default:
        return NULL;
    }
}

const char *MHD_get_reason_phrase_for(unsigned int code)
{
    return code == 200 ? "OK" : code == 404 ? "Not Found" : "Some Reason";
}

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    for (int i = 0; i < connection->nkv; i++)
        if ((connection->kv[i].kind & kind) &&
            (kind == MHD_HEADER_KIND ? strcasecmp(connection->kv[i].key, key)
                                     : strcmp(connection->kv[i].key, key)) == 0)
            return connection->kv[i].value;
    return NULL;
}

int MHD_get_connection_values(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator iterator, void *iterator_cls)
{
    int n = 0;
    for (int i = 0; i < connection->nkv; i++) {
        if (!(connection->kv[i].kind & kind))
            continue;
        n++;
        if (iterator && iterator(iterator_cls, connection->kv[i].kind, connection->kv[i].key,
                                 connection->kv[i].value) != MHD_YES)
            break;
    }
    return n;
}

static struct MHD_Response *new_response(void)
{
    struct MHD_Response *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->refs = 1;
    r->fd = -1;
    return r;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = new_response();
    r->len = size;
    r->mode = mode;
    if (mode == MHD_RESPMEM_MUST_COPY) {
        r->buf = malloc(size ? size : 1);
        memcpy(r->buf, buffer, size);
    } else {
        r->buf = buffer;
    }
    return r;
}

struct MHD_Response *MHD_create_response_from_callback(uint64_t size, size_t block_size,
                                                       MHD_ContentReaderCallback crc, void *crc_cls,
                                                       MHD_ContentReaderFreeCallback crfc)
{
    (void)size, (void)block_size;
    struct MHD_Response *r = new_response();
    r->crc = crc;
    r->crc_cls = crc_cls;
    r->crfc = crfc;
    return r;
}

struct MHD_Response *MHD_create_response_from_fd(size_t size, int fd)
{
    struct MHD_Response *r = new_response();
    r->len = size;
    r->fd = fd;
    return r;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response, const char *header,
                                        const char *content)
{
    if (!header || !content || strchr(content, '\n') || strchr(content, '\r'))
        abort(); /* a header value with a line break splits the response */
    if (strcasecmp(header, "Content-Type") == 0)
        snprintf(response->ctype, sizeof response->ctype, "%s", content);
    return MHD_YES;
}

static void release(struct MHD_Response *r)
{
    if (--r->refs > 0)
        return;
    if (r->mode == MHD_RESPMEM_MUST_FREE || r->mode == MHD_RESPMEM_MUST_COPY)
        free(r->buf);
    if (r->crfc)
        r->crfc(r->crc_cls);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

void MHD_destroy_response(struct MHD_Response *response)
{
    release(response);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    if (connection->queued) {
        fprintf(stderr, "fuzz_router: a second response queued on one request\n");
        abort();
    }
    connection->queued = 1;
    connection->status = status_code;
    connection->resp = response;
    response->refs++;
    return MHD_YES;
}

/* ---- the daemon's state -------------------------------------------------------- */

static char dir[64];
static struct gd_store *store;
static struct gd_events *events;
static struct gd_sched *sched;
static struct ga_server *server;

static int parse_stored(const char *json, struct gc_spec *out, struct gc_error *err)
{
    return ga_spec_parse(json, strlen(json), dir, out, NULL, err);
}

static void cleanup(void)
{
    ga_server_stop(server);
    gd_sched_destroy(sched);
    gd_events_destroy(events);
    gd_store_close(store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_router: could not remove %s\n", dir);
}

static void die(const char *what, const struct gc_error *err)
{
    fprintf(stderr, "fuzz_router: %s: %s\n", what, err->msg);
    abort();
}

/* Run 1: a small finished ring8 run with metrics, a sample, a checkpoint and an event,
 * so the read routes and generate have something to find. */
static void seed_store(void)
{
    static const char spec_json[] = "{\"name\":\"seed\",\"dataset\":{\"name\":\"ring8\"},"
                                    "\"model\":{\"hidden\":8,\"layers\":2,\"z_dim\":2},"
                                    "\"train\":{\"steps\":2,\"batch_size\":4}}";
    struct gc_error err = {0};
    struct gc_spec spec;
    char *norm = NULL;
    if (ga_spec_normalize(spec_json, strlen(spec_json), dir, &spec, &norm, NULL, &err) != 0)
        die("seed spec", &err);
    int64_t id;
    if (gd_store_run_insert(store, "seed", norm, spec.train.steps, &id, &err) != 0)
        die("insert", &err);
    free(norm);
    struct gc_trainer_opts opts = {.threads = 1, .cache_dir = NULL, .load_data = 1};
    struct gc_trainer *t = gc_trainer_create(&spec, &opts, &err);
    uint8_t *ck = NULL;
    size_t cklen = 0;
    if (!t || gc_trainer_checkpoint(t, &ck, &cklen, &err) != 0)
        die("trainer", &err);
    gc_trainer_destroy(t);
    if (gd_store_ckpt_put(store, id, 2, ck, cklen, 3, &err) != 0)
        die("checkpoint", &err);
    free(ck);
    static const char *const names[] = {"loss_d", "loss_g", "images_per_s"};
    double vals[] = {0.7, 0.69, 1000};
    static const char png[] = "\x89PNG\r\n\x1a\n";
    if (gd_store_metrics_put(store, id, 0, 1, names, vals, 3, &err) != 0 ||
        gd_store_metrics_put(store, id, 0, 2, names, vals, 3, &err) != 0 ||
        gd_store_sample_put(store, id, 2, (const uint8_t *)png, 8, &err) != 0 ||
        gd_store_run_set_step(store, id, 2, &err) != 0 ||
        gd_store_run_set_status(store, id, GD_SUCCEEDED, NULL, &err) != 0)
        die("seed rows", &err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    gc_blas_init(); /* as ganctld does at its start */
    struct gc_error err = {0};
    snprintf(dir, sizeof dir, "/tmp/fuzz-router-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    char db[128];
    snprintf(db, sizeof db, "%s/ganctl.db", dir);
    if (!(store = gd_store_open(db, &err)) || !(events = gd_events_create(store, &err)))
        die("store", &err);
    struct gd_sched_opts so = {.workers = 1,
                               .threads = 1,
                               .data_dir = dir,
                               .keep_checkpoints = 3,
                               .parse_spec = parse_stored};
    if (!(sched = gd_sched_create(store, events, &so, &err)))
        die("sched", &err);
    seed_store();
    setenv("GANCTL_HEARTBEAT_MS", "10", 1);
    struct ga_server_opts o = {.listen = "127.0.0.1:0",
                               .web_dir = "web",
                               .datasets_dir = dir,
                               .token = "fuzz-token",
                               .max_connections = 0};
    if (!(server = ga_server_start(&o, store, sched, events, &err)))
        die("server", &err);
    if (!access_handler || !completed_cb)
        abort();
    atexit(cleanup);
    return 0;
}

/* ---- one request --------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* %XX decoding in place, as libmicrohttpd does for paths and (with plus) arguments. */
static void unescape(char *s, int plus)
{
    char *w = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *w++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else {
            *w++ = plus && *p == '+' ? ' ' : *p;
        }
    }
    *w = 0;
}

/* What libmicrohttpd does to a path (plus = 0) or a query key or value (plus = 1):
 * '+' to space for the query, then the server's unescape callback or its own %XX. */
static void decode(struct MHD_Connection *c, char *s, int plus)
{
    if (!unescape_cb) {
        unescape(s, plus);
        return;
    }
    if (plus)
        for (char *p = s; *p; p++)
            if (*p == '+')
                *p = ' ';
    size_t n = unescape_cb(unescape_cls, c, s);
    s[n] = 0;
}

static void add_kv(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *k, size_t kn,
                   const char *v, size_t vn)
{
    if (c->nkv == MAX_KV)
        return;
    struct kv *e = &c->kv[c->nkv++];
    e->kind = kind;
    e->key = strndup(k, kn);
    e->value = strndup(v, vn);
    if (!e->key || !e->value)
        abort();
    if (kind == MHD_GET_ARGUMENT_KIND) {
        decode(c, e->key, 1);
        decode(c, e->value, 1);
    }
}

static void check_body(const struct MHD_Response *r, unsigned status)
{
    if (status < 100 || status > 599) {
        fprintf(stderr, "fuzz_router: status %u\n", status);
        abort();
    }
    if (status >= 500) {
        fprintf(stderr, "fuzz_router: %u: %.*s\n", status, (int)(r->buf ? r->len : 0),
                r->buf ? (const char *)r->buf : "");
        abort();
    }
    int is_json = strcmp(r->ctype, "application/json") == 0 ||
                  strcmp(r->ctype, "application/problem+json") == 0;
    if (is_json && r->buf) {
        json_error_t je;
        json_t *v = json_loadb(r->buf, r->len, 0, &je);
        if (!v) {
            fprintf(stderr, "fuzz_router: bad JSON body: %s\n", je.text);
            abort();
        }
        json_decref(v);
    }
}

/* The answer agrees with the route table: 405 only on a path some row matches but none
 * for this method; a path no row matches gets 404 (or 400 or 401, which come first). */
static void check_route(const char *url, const char *method, unsigned status)
{
    struct ga_match m;
    ga_route_match(url, method, &m);
    int ok = status == 405 ? m.allow && !m.route
             : !m.allow    ? status == 404 || status == 400 || status == 401
                           : 1;
    if (!ok) {
        fprintf(stderr, "fuzz_router: %s %s -> %u against the route table (allow %#x)\n", method,
                url, status, m.allow);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *end = in + size;
    const char *nl = memchr(in, '\n', size);
    if (!nl)
        return 0;
    const char *sp = memchr(in, ' ', (size_t)(nl - in));
    if (!sp || sp == in || memchr(in, 0, (size_t)(nl - in)))
        return -1;
    char *method = strndup(in, (size_t)(sp - in));
    char *url = strndup(sp + 1, (size_t)(nl - sp - 1));
    struct MHD_Connection conn;
    memset(&conn, 0, sizeof conn);

    char *q = strchr(url, '?');
    if (q) {
        *q++ = 0;
        while (*q) {
            char *amp = strchr(q, '&');
            size_t n = amp ? (size_t)(amp - q) : strlen(q);
            char *eq = memchr(q, '=', n);
            if (eq)
                add_kv(&conn, MHD_GET_ARGUMENT_KIND, q, (size_t)(eq - q), eq + 1,
                       n - (size_t)(eq - q) - 1);
            else
                add_kv(&conn, MHD_GET_ARGUMENT_KIND, q, n, "", 0);
            q += n + (amp != NULL);
        }
    }
    decode(&conn, url, 0);

    const char *p = nl + 1;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (!e)
            e = end;
        if (e == p) {
            p++;
            break;
        }
        const char *colon = memchr(p, ':', (size_t)(e - p));
        if (colon && !memchr(p, 0, (size_t)(e - p))) {
            const char *v = colon + 1;
            while (v < e && *v == ' ')
                v++;
            add_kv(&conn, MHD_HEADER_KIND, p, (size_t)(colon - p), v, (size_t)(e - v));
        }
        p = e < end ? e + 1 : e;
    }

    if (connection_cb)
        connection_cb(connection_cls, &conn, &conn.socket_context, MHD_CONNECTION_NOTIFY_STARTED);
    void *req_cls = NULL;
    size_t zero = 0;
    enum MHD_Result rc =
        access_handler(access_cls, &conn, url, method, "HTTP/1.1", NULL, &zero, &req_cls);
    /* the body in chunks of at most 700 bytes, as it may come off the socket */
    while (rc == MHD_YES && p < end) {
        size_t n = (size_t)(end - p) < 700 ? (size_t)(end - p) : 700;
        size_t left = n;
        rc = access_handler(access_cls, &conn, url, method, "HTTP/1.1", p, &left, &req_cls);
        if (left != 0)
            abort(); /* the handler must take every byte it is given */
        p += n;
    }
    if (rc == MHD_YES) {
        zero = 0;
        rc = access_handler(access_cls, &conn, url, method, "HTTP/1.1", NULL, &zero, &req_cls);
        if (rc == MHD_YES && !conn.queued) {
            fprintf(stderr, "fuzz_router: no response and the connection kept open\n");
            abort();
        }
    }
    if (conn.queued) {
        struct MHD_Response *r = conn.resp;
        if (r->crc) {
            /* an event stream: its first block is ready at once */
            char buf[4096];
            ssize_t n = r->crc(r->crc_cls, 0, buf, sizeof buf);
            if (n <= 0)
                abort();
        }
        if (getenv("FUZZ_ROUTER_TRACE"))
            fprintf(stderr, "fuzz_router: %s %s -> %u %s\n", method, url, conn.status, r->ctype);
        check_body(r, conn.status);
        check_route(url, method, conn.status);
        release(r);
    }
    completed_cb(completed_cls, &conn, &req_cls, MHD_REQUEST_TERMINATED_COMPLETED_OK);
    if (connection_cb)
        connection_cb(connection_cls, &conn, &conn.socket_context, MHD_CONNECTION_NOTIFY_CLOSED);
    for (int i = 0; i < conn.nkv; i++) {
        free(conn.kv[i].key);
        free(conn.kv[i].value);
    }
    free(method);
    free(url);
    return 0;
}
