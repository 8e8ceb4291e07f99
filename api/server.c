/* server.c — the HTTP server: libmicrohttpd setup, reading request bodies, auth,
 * routing, the dashboard's static files and the one reply funnel.
 *
 * DESIGN: libmicrohttpd runs one thread per connection plus an internal polling
 * thread, so a handler (and an event stream's content callback) may block. The access
 * handler is called at least twice per request: the first call only allocates the
 * per-request state in *req_cls, later calls append body chunks (draining what passes
 * GA_MAX_BODY), and the last call (upload size 0) routes. The completed callback frees
 * the state. Every response goes through ga_reply(), which also counts it for
 * /metrics. */
#include "api/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_CONNECTIONS 256
#define REFUSE_ROOM 32 /* connections past the limit that still get their 503 */
#define PER_IP_LIMIT 128
#define DEFAULT_TIMEOUT_S 60
#define CONNECTION_MEMORY (128 * 1024)
#define MAX_STATIC (16 * 1024 * 1024)
#define MAX_DRAIN (64 * 1024 * 1024) /* bytes of an oversized body read before closing */

/* ---- the reply funnel ---------------------------------------------------------- */

unsigned ga_http_status(int code)
{
    static const struct {
        int code;
        unsigned status;
    } table[] = {
        {GC_OK, 200},       {GC_EINVAL, 400},    {GC_ENOMEM, 500},       {GC_EIO, 500},
        {GC_ECORRUPT, 500}, {GC_ENOTFOUND, 404}, {GC_ESTATE, 409},       {GC_ENUMERIC, 500},
        {GC_ESTOPPED, 409}, {GC_ETOOBIG, 413},   {GC_EUNSUPPORTED, 400},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == code)
            return table[i].status;
    return 500;
}

static const char *reason(unsigned status)
{
    const char *s = MHD_get_reason_phrase_for(status);
    return s && *s ? s : "Error";
}

enum MHD_Result ga_reply(struct ga_req *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    if (status < 600)
        atomic_fetch_add(&r->srv->http_counts[status], 1);
    enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result ga_reply_bytes(struct ga_req *r, unsigned status, const char *ctype, void *buf,
                               size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(buf);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return ga_reply(r, status, resp);
}

enum MHD_Result ga_reply_text(struct ga_req *r, unsigned status, const char *ctype,
                              const char *text)
{
    size_t n = strlen(text);
    char *copy = malloc(n + 1);
    if (!copy)
        return MHD_NO;
    memcpy(copy, text, n + 1);
    return ga_reply_bytes(r, status, ctype, copy, n);
}

struct MHD_Response *ga_json_response(json_t *obj, const char *ctype)
{
    char *s = obj ? json_dumps(obj, GA_DUMP_FLAGS) : NULL;
    json_decref(obj);
    if (!s)
        return NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(s);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    return resp;
}

enum MHD_Result ga_reply_json(struct ga_req *r, unsigned status, json_t *obj)
{
    char *s = obj ? json_dumps(obj, GA_DUMP_FLAGS) : NULL;
    json_decref(obj);
    if (!s)
        return ga_reply_problem(r, 500, NULL, "could not encode the response");
    return ga_reply_bytes(r, status, "application/json", s, strlen(s));
}

/* Replaces the bytes of s that are not UTF-8 (they come from URLs) with '?' in place. */
static void utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80             ? 0
                : (*p & 0xe0) == 0xc0 ? 1
                : (*p & 0xf0) == 0xe0 ? 2
                : (*p & 0xf8) == 0xf0 ? 3
                                      : -1;
        int ok = n >= 0;
        for (int i = 1; ok && i <= n; i++)
            ok = (p[i] & 0xc0) == 0x80;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n + 1;
    }
}

enum MHD_Result ga_reply_problem(struct ga_req *r, unsigned status, json_t *errors, const char *fmt,
                                 ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    utf8_scrub(detail);
    json_t *p = json_object();
    json_object_set_new(p, "type", json_string("about:blank"));
    json_object_set_new(p, "title", json_string(reason(status)));
    json_object_set_new(p, "status", json_integer(status));
    json_t *d = json_string(detail); /* fails only on overlong or surrogate forms */
    json_object_set_new(p, "detail", d ? d : json_string("(detail not valid UTF-8)"));
    json_object_set_new(p, "errors", errors ? errors : json_array());
    struct MHD_Response *resp = ga_json_response(p, "application/problem+json");
    if (resp && status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return ga_reply(r, status, resp);
}

/* A problem with a fixed detail and no field errors, as application/problem+json, for
 * the replies that add headers of their own; NULL when out of memory. */
static struct MHD_Response *problem_response(unsigned status, const char *detail)
{
    json_t *p = json_pack("{s:s,s:s,s:i,s:s,s:[]}", "type", "about:blank", "title", reason(status),
                          "status", (int)status, "detail", detail, "errors");
    return ga_json_response(p, "application/problem+json");
}

enum MHD_Result ga_reply_error(struct ga_req *r, const struct gc_error *err)
{
    unsigned status = ga_http_status(err->code);
    json_t *errors = json_array();
    /* "field.path: message" names the field; keep it apart in errors[] */
    const char *sep = strstr(err->msg, ": ");
    if (sep && status < 500) {
        size_t n = (size_t)(sep - err->msg);
        int is_field = n > 0 && n < 64;
        for (size_t i = 0; i < n && is_field; i++) {
            char c = err->msg[i];
            is_field = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        }
        if (is_field) {
            json_t *e = json_object();
            json_object_set_new(e, "field", json_stringn(err->msg, n));
            json_object_set_new(e, "message", json_string(sep + 2));
            json_array_append_new(errors, e);
        }
    }
    return ga_reply_problem(r, status, errors, "%s",
                            err->msg[0] ? err->msg : gc_strerror(err->code));
}

int ga_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !*s || strlen(s) > 20)
        return -1;
    int neg = 0;
    const char *p = s;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!*p)
        return -1;
    long long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (neg)
        v = -v;
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

json_t *ga_body_json(struct ga_req *r, int empty_ok, enum MHD_Result *replied)
{
    if (r->too_big) {
        *replied =
            ga_reply_problem(r, 413, NULL, "the request body is larger than %d bytes", GA_MAX_BODY);
        return NULL;
    }
    size_t i = 0;
    while (i < r->len &&
           (r->body[i] == ' ' || r->body[i] == '\n' || r->body[i] == '\r' || r->body[i] == '\t'))
        i++;
    if (i == r->len) {
        if (empty_ok)
            return json_object();
        *replied = ga_reply_problem(r, 400, NULL,
                                    "the request body is empty; a JSON object "
                                    "is expected");
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        json_t *errors = json_array();
        json_t *e = json_object();
        json_object_set_new(e, "field", json_string(""));
        json_t *m = json_string(je.text);
        json_object_set_new(e, "message", m ? m : json_string("malformed JSON"));
        json_array_append_new(errors, e);
        *replied = ga_reply_problem(r, 400, errors,
                                    "the request body is not valid JSON: %s (line %d, column %d)",
                                    je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *replied = ga_reply_problem(r, 400, NULL, "the request body must be a JSON object");
        return NULL;
    }
    return root;
}

/* ---- static files -------------------------------------------------------------- */

static const char placeholder_index[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>ganctl</title></head>\n<body><h1>ganctl</h1>\n"
    "<p>The dashboard is not installed. The API lives under <a href=\"/api/v1/runs\">"
    "/api/v1/runs</a>; its description is <a href=\"/api/v1/openapi.json\">"
    "/api/v1/openapi.json</a>.</p></body></html>\n";

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
        {".woff2", "font/woff2"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Path segments of rel may not be "..", "." or empty and may hold no NUL, backslash or
 * control bytes; libmicrohttpd has already decoded %XX, so this also catches %2e%2e. */
static int safe_relative(const char *rel)
{
    if (!*rel || *rel == '/')
        return 0;
    const char *seg = rel;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == '\\' || seg[i] == 0x7f)
                return 0;
        if (!end)
            return 1;
        seg = end + 1;
    }
}

/* Opens web_dir/rel when it resolves to a regular file inside web_dir; -1 otherwise. */
static int open_inside(const char *web_dir, const char *rel, struct stat *st)
{
    char joined[PATH_MAX], real[PATH_MAX];
    if (snprintf(joined, sizeof joined, "%s/%s", web_dir, rel) >= (int)sizeof joined)
        return -1;
    if (!realpath(joined, real))
        return -1;
    size_t n = strlen(web_dir);
    if (strncmp(real, web_dir, n) != 0 || real[n] != '/')
        return -1;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > MAX_STATIC) {
        close(fd);
        return -1;
    }
    return fd;
}

static enum MHD_Result serve_static(struct ga_req *r, const char *rel)
{
    if (!safe_relative(rel))
        return ga_reply_problem(r, 404, NULL, "no such file: %s", r->url);
    struct stat st;
    int fd = -1;
    if (r->srv->web_dir[0]) {
        /* /static/x is web/static/x when that exists, else web/x */
        char alt[PATH_MAX];
        if (strncmp(r->url, "/static/", 8) == 0 &&
            snprintf(alt, sizeof alt, "static/%s", rel) < (int)sizeof alt)
            fd = open_inside(r->srv->web_dir, alt, &st);
        if (fd < 0)
            fd = open_inside(r->srv->web_dir, rel, &st);
    }
    if (fd < 0) {
        if (strcmp(rel, "index.html") == 0)
            return ga_reply_text(r, 200, "text/html; charset=utf-8", placeholder_index);
        return ga_reply_problem(r, 404, NULL, "no such file: %s", r->url);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(rel));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    return ga_reply(r, 200, resp);
}

/* ---- auth ---------------------------------------------------------------------- */

/* Constant time in the length of the configured token: every byte is compared. */
static int token_ok(const struct ga_server *srv, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (!header || strncmp(header, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *given = header + sizeof prefix - 1;
    size_t glen = strlen(given);
    unsigned char diff = (unsigned char)(glen != srv->token_len);
    for (size_t i = 0; i < srv->token_len; i++) {
        unsigned char g = i < glen ? (unsigned char)given[i] : 0;
        diff |= g ^ (unsigned char)srv->token[i];
    }
    return diff == 0;
}

static enum MHD_Result count_auth(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind, (void)value;
    if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
        ++*(int *)cls;
    return MHD_YES;
}

/* Exactly one Authorization header with the token: with two, which one counts would
 * depend on who reads them (a proxy in front may add its own). */
static int authorized(struct ga_req *r)
{
    int n = 0;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_auth, &n);
    return n == 1 && token_ok(r->srv, MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                                  MHD_HTTP_HEADER_AUTHORIZATION));
}

/* ---- routing ------------------------------------------------------------------- */

enum route_kind {
    R_HEALTHZ,
    R_PROM,
    R_OPENAPI,
    R_CATALOG,
    R_SPEC_DEFAULTS,
    R_RUNS,
    R_RUN,
    R_ACTION,
    R_METRICS,
    R_SAMPLES,
    R_SAMPLE,
    R_CKPTS,
    R_CKPT,
    R_GENERATE,
    R_RUN_EVENTS,
    R_EVENTS,
    R_STATIC,
    R_NONE,
};

struct route {
    enum route_kind kind;
    const char *allow; /* methods, for 405's Allow header */
    int64_t id, step;
    const char *action;
    const char *rel; /* static file */
    char detail[160];
};

static int is_method(const char *allow, const char *m)
{
    size_t n = strlen(m);
    for (const char *p = allow; (p = strstr(p, m)); p += n)
        if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == 0))
            return 1;
    return 0;
}

/* Splits /api/v1/runs/{id}/... into the route; ids and steps must be decimal. */
static void match(const char *url, struct route *rt)
{
    rt->kind = R_NONE;
    rt->allow = NULL;
    rt->detail[0] = 0;
    if (strcmp(url, "/healthz") == 0) {
        rt->kind = R_HEALTHZ, rt->allow = "GET, HEAD";
        return;
    }
    if (strcmp(url, "/metrics") == 0) {
        rt->kind = R_PROM, rt->allow = "GET, HEAD";
        return;
    }
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
        rt->kind = R_STATIC, rt->allow = "GET, HEAD", rt->rel = "index.html";
        return;
    }
    if (strncmp(url, "/static/", 8) == 0) {
        rt->kind = R_STATIC, rt->allow = "GET, HEAD", rt->rel = url + 8;
        return;
    }
    if (strcmp(url, "/api/v1/openapi.json") == 0) {
        rt->kind = R_OPENAPI, rt->allow = "GET, HEAD";
        return;
    }
    if (strcmp(url, "/api/v1/catalog") == 0) {
        rt->kind = R_CATALOG, rt->allow = "GET, HEAD";
        return;
    }
    if (strcmp(url, "/api/v1/spec/defaults") == 0) {
        rt->kind = R_SPEC_DEFAULTS, rt->allow = "GET, HEAD";
        return;
    }
    if (strcmp(url, "/api/v1/events") == 0) {
        rt->kind = R_EVENTS, rt->allow = "GET";
        return;
    }
    if (strcmp(url, "/api/v1/runs") == 0 || strcmp(url, "/api/v1/runs/") == 0) {
        rt->kind = R_RUNS, rt->allow = "GET, HEAD, POST";
        return;
    }
    if (strncmp(url, "/api/v1/runs/", 13) != 0)
        return;
    char seg[4][64];
    int nseg = 0;
    const char *p = url + 13;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (nseg == 4 || n == 0 || n >= sizeof seg[0])
            return;
        memcpy(seg[nseg], p, n);
        seg[nseg++][n] = 0;
        p = end ? end + 1 : p + n;
        if (end && !*p)
            return; /* trailing slash */
    }
    if (nseg == 0)
        return;
    if (ga_parse_i64(seg[0], 1, INT64_MAX, &rt->id) != 0) {
        snprintf(rt->detail, sizeof rt->detail, "run ids are positive integers, not '%.40s'",
                 seg[0]);
        return;
    }
    if (nseg == 1) {
        rt->kind = R_RUN, rt->allow = "GET, HEAD, DELETE";
        return;
    }
    const char *s1 = seg[1];
    if (nseg == 2) {
        if (!strcmp(s1, "cancel") || !strcmp(s1, "pause") || !strcmp(s1, "resume")) {
            rt->kind = R_ACTION, rt->allow = "POST";
            rt->action = !strcmp(s1, "cancel")  ? "cancel"
                         : !strcmp(s1, "pause") ? "pause"
                                                : "resume";
        } else if (!strcmp(s1, "metrics")) {
            rt->kind = R_METRICS, rt->allow = "GET, HEAD";
        } else if (!strcmp(s1, "samples")) {
            rt->kind = R_SAMPLES, rt->allow = "GET, HEAD";
        } else if (!strcmp(s1, "checkpoints")) {
            rt->kind = R_CKPTS, rt->allow = "GET, HEAD";
        } else if (!strcmp(s1, "generate")) {
            rt->kind = R_GENERATE, rt->allow = "POST";
        } else if (!strcmp(s1, "events")) {
            rt->kind = R_RUN_EVENTS, rt->allow = "GET";
        }
        return;
    }
    if (nseg == 3 && !strcmp(s1, "samples")) {
        size_t n = strlen(seg[2]);
        if (n < 5 || strcmp(seg[2] + n - 4, ".png") != 0)
            return;
        seg[2][n - 4] = 0;
        if (!strcmp(seg[2], "latest"))
            rt->step = -1;
        else if (ga_parse_i64(seg[2], 0, INT64_MAX, &rt->step) != 0)
            return;
        rt->kind = R_SAMPLE, rt->allow = "GET, HEAD";
        return;
    }
    if (nseg == 3 && !strcmp(s1, "checkpoints")) {
        if (ga_parse_i64(seg[2], 0, INT64_MAX, &rt->step) != 0)
            return;
        rt->kind = R_CKPT, rt->allow = "GET, HEAD";
    }
}

/* 200 while the daemon serves. {"status":"ok"} while the store takes writes;
 * {"status":"degraded","store":"disk full: ..."} while its writes fail (reads are
 * still served, training runs wait), until a write works again. */
static enum MHD_Result healthz(struct ga_req *r)
{
    char why[320];
    if (gd_store_health(r->srv->store, why, sizeof why) == 0)
        return ga_reply_text(r, 200, "application/json", "{\"status\":\"ok\"}");
    utf8_scrub(why);
    return ga_reply_json(r, 200, json_pack("{s:s,s:s}", "status", "degraded", "store", why));
}

static enum MHD_Result dispatch(struct ga_req *r)
{
    struct route rt;
    match(r->url, &rt);
    int is_api = strncmp(r->url, "/api/", 5) == 0;
    if (is_api && r->srv->token_len && !authorized(r))
        return ga_reply_problem(r, 401, NULL,
                                "this daemon needs 'Authorization: Bearer TOKEN' on /api/ "
                                "requests");
    if (rt.kind == R_NONE) {
        if (rt.detail[0])
            return ga_reply_problem(r, 404, NULL, "%s", rt.detail);
        return ga_reply_problem(r, 404, NULL, "no route for %s", r->url);
    }
    const char *m = r->method;
    int head = strcmp(m, "HEAD") == 0;
    if (!is_method(rt.allow, m)) {
        char detail[200];
        snprintf(detail, sizeof detail, "%.16s is not allowed on %.100s; allowed: %s", m, r->url,
                 rt.allow);
        struct MHD_Response *resp = problem_response(405, detail);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rt.allow);
        return ga_reply(r, 405, resp);
    }
    int post = strcmp(m, "POST") == 0;
    int del = strcmp(m, "DELETE") == 0;
    (void)head; /* libmicrohttpd drops the body of HEAD responses itself */
    switch (rt.kind) {
    case R_HEALTHZ:
        return healthz(r);
    case R_PROM:
        return ga_route_prometheus(r);
    case R_OPENAPI:
        return ga_route_openapi(r);
    case R_CATALOG:
        return ga_route_catalog(r);
    case R_SPEC_DEFAULTS:
        return ga_route_spec_defaults(r);
    case R_STATIC:
        return serve_static(r, rt.rel);
    case R_RUNS:
        return post ? ga_route_runs_create(r) : ga_route_runs_list(r);
    case R_RUN:
        return del ? ga_route_run_delete(r, rt.id) : ga_route_run_get(r, rt.id);
    case R_ACTION:
        return ga_route_run_action(r, rt.id, rt.action);
    case R_METRICS:
        return ga_route_run_metrics(r, rt.id);
    case R_SAMPLES:
        return ga_route_run_samples(r, rt.id);
    case R_SAMPLE:
        return ga_route_run_sample(r, rt.id, rt.step);
    case R_CKPTS:
        return ga_route_run_checkpoints(r, rt.id);
    case R_CKPT:
        return ga_route_run_checkpoint(r, rt.id, rt.step);
    case R_GENERATE:
        return ga_route_run_generate(r, rt.id);
    case R_RUN_EVENTS:
        return ga_route_events(r, rt.id);
    case R_EVENTS:
        return ga_route_events(r, 0);
    case R_NONE:
        break;
    }
    return ga_reply_problem(r, 404, NULL, "no route for %s", r->url);
}

/* ---- request deadlines --------------------------------------------------------
 *
 * libmicrohttpd's connection timeout counts idle time only, so a client that sends
 * its headers a byte a second holds a connection, and its thread, for as long as it
 * likes. Each connection therefore also has a deadline: its request must have come
 * whole (headers and body) within timeout_s of the connection opening or of its
 * previous response going out. A reaper thread shuts the socket of a connection past
 * its deadline down; libmicrohttpd then sees the end of the stream and closes it as
 * usual. While a response is being sent (an event stream for hours) there is none.
 *
 * The list is kept by the connection notifications; libmicrohttpd sends CLOSED before
 * it closes the socket, and the reaper shuts sockets down with conns_mu held, so it
 * never touches a descriptor that was closed and reused. */

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

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
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

/* waiting 1: the connection waits for (the rest of) a request; 0: it is answered. */
static void conn_deadline(struct ga_server *srv, struct MHD_Connection *conn, int waiting)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct ga_conn *c = ci ? ci->socket_context : NULL;
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

/* ---- URL decoding -------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes %XX in a URL path or a query value in place, as libmicrohttpd does, except
 * %00: the NUL would cut the string short where we read it ("/static/app.js%00.png"
 * served app.js, "/api/v1/runs/%00" listed the runs, "?status=%00" meant no filter),
 * so it stays as the three characters and the route or value is refused as unknown. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls, (void)conn;
    char *w = s;
    for (const char *p = s; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0 && (hi | lo)) {
            *w++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* ---- request framing ----------------------------------------------------------- */

struct framing {
    int lengths, differ, chunked;
    const char *first;
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->lengths++ == 0)
            f->first = value ? value : "";
        else if (strcmp(f->first, value ? value : "") != 0)
            f->differ = 1;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->chunked = 1;
    }
    return MHD_YES;
}

/* A request whose body length two readers could see differently: Content-Length
 * headers that disagree, or Content-Length next to Transfer-Encoding. A proxy in front
 * may frame it one way and we the other (request smuggling), so it is refused and the
 * connection closed (RFC 9112, section 6.3). */
static int ambiguous_framing(struct MHD_Connection *conn)
{
    struct framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_header, &f);
    return f.differ || (f.lengths && f.chunked);
}

static enum MHD_Result reply_bad_framing(struct ga_req *r)
{
    struct MHD_Response *resp = problem_response(
        400, "the request has conflicting Content-Length or Transfer-Encoding headers");
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return ga_reply(r, 400, resp);
}

/* ---- the connection limit ------------------------------------------------------
 *
 * libmicrohttpd's own limit stops accepting, so a client past it waits in the listen
 * backlog until it gives up: no answer at all. Instead libmicrohttpd's limit is set
 * REFUSE_ROOM above max_connections: a connection opened while max_connections others
 * are open gets 503 with Retry-After on its request and is closed, and past the room
 * the accept policy closes new connections at once. */

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr, (void)addrlen;
    struct ga_server *srv = cls;
    return atomic_load(&srv->open_connections) >= srv->max_connections + REFUSE_ROOM ? MHD_NO
                                                                                     : MHD_YES;
}

static enum MHD_Result reply_over_limit(struct ga_req *r)
{
    char detail[128];
    snprintf(detail, sizeof detail, "the daemon serves %d connections at once; retry later",
             r->srv->max_connections);
    struct MHD_Response *resp = problem_response(503, detail);
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    return ga_reply(r, 503, resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct ga_req *r = *req_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->srv = cls;
        r->conn = conn;
        r->bad_framing = ambiguous_framing(conn);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        const struct ga_conn *c = ci ? ci->socket_context : NULL;
        r->over_limit = c && c->over_limit;
        *req_cls = r;
        return MHD_YES;
    }
    r->method = method;
    r->url = url;
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->bad_framing)
            return MHD_YES; /* not kept: the request is refused as a whole */
        if (r->too_big || r->len + n > GA_MAX_BODY) {
            /* drain the rest so that clients which send the whole body before reading
             * see the 413; a body that goes on and on just loses its connection */
            r->drained += n;
            if (r->drained > MAX_DRAIN)
                return MHD_NO;
            r->too_big = 1;
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + n + 1)
                cap *= 2;
            char *b = realloc(r->body, cap);
            if (!b)
                return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = 0;
        return MHD_YES;
    }
    conn_deadline(r->srv, conn, 0);
    if (r->bad_framing)
        return reply_bad_framing(r);
    if (r->over_limit)
        return reply_over_limit(r);
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    /* a kept-alive connection has until the deadline to send its next request */
    conn_deadline(cls, conn, 1);
    struct ga_req *r = *req_cls;
    if (r) {
        free(r->body);
        free(r);
        *req_cls = NULL;
    }
}

/* ---- start and stop ------------------------------------------------------------ */

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
    if (opts->web_dir && !realpath(opts->web_dir, srv->web_dir))
        srv->web_dir[0] = 0; /* no dashboard: the placeholder index is served */
    if (opts->datasets_dir && snprintf(srv->datasets_dir, sizeof srv->datasets_dir, "%s",
                                       opts->datasets_dir) >= (int)sizeof srv->datasets_dir) {
        free(srv);
        gc_error_set(err, GC_EINVAL, "datasets: path too long");
        return NULL;
    }
    if (opts->token && opts->token[0]) {
        size_t n = strlen(opts->token);
        if (n >= sizeof srv->token) {
            free(srv);
            gc_error_set(err, GC_EINVAL, "token: longer than %zu bytes", sizeof srv->token - 1);
            return NULL;
        }
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
    pthread_mutex_init(&srv->conns_mu, NULL);

    /* libmicrohttpd's idle timeout also ends an event stream that is quiet between two
     * heartbeats, so it stays past twice the heartbeat; requests still have timeout_s to
     * come whole, and kept-alive connections to send the next one (the reaper) */
    unsigned idle_s = (unsigned)srv->timeout_s;
    if (idle_s < (unsigned)(2 * srv->heartbeat_ms / 1000 + 1))
        idle_s = (unsigned)(2 * srv->heartbeat_ms / 1000 + 1);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->max_connections =
        opts->max_connections > 0 ? opts->max_connections : DEFAULT_MAX_CONNECTIONS;
    atomic_init(&srv->open_connections, 0);
    /* twice the room: libmicrohttpd counts a connection a little longer than we do */
    unsigned maxc = (unsigned)srv->max_connections + 2 * REFUSE_ROOM;
    srv->mhd = MHD_start_daemon(
        flags, 0, on_accept, srv, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, maxc, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT, idle_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!srv->mhd) {
        gc_error_set(err, GC_EIO,
                     "listen: cannot listen on %s (address in use or not "
                     "available?)",
                     opts->listen ? opts->listen : "127.0.0.1:8080");
        pthread_mutex_destroy(&srv->conns_mu);
        free(srv);
        return NULL;
    }
    int rc = pthread_create(&srv->reaper, NULL, reaper_main, srv);
    if (rc) {
        gc_error_set(err, GC_ENOMEM, "cannot start a thread: %s", strerror(rc));
        ga_server_stop(srv);
        return NULL;
    }
    srv->reaper_started = 1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : 0;
    return srv;
}

void ga_server_stop(struct ga_server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->stopping, 1);
    /* wake the event streams at once; they also poll `stopping` */
    if (srv->ev)
        gd_events_shutdown(srv->ev);
    if (srv->reaper_started)
        pthread_join(srv->reaper, NULL);
    MHD_stop_daemon(srv->mhd);
    pthread_mutex_destroy(&srv->conns_mu);
    free(srv);
}

int ga_server_port(const struct ga_server *srv)
{
    return srv ? srv->port : 0;
}
