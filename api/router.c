/* router.c — the route table, path matching, auth and the dispatcher (see router.h). */
#include "api/router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/catalog.h"
#include "api/generate.h"
#include "api/health.h"
#include "api/openapi.h"
#include "api/prom.h"
#include "api/reply.h"
#include "api/request.h"
#include "api/runs.h"
#include "api/sse.h"
#include "api/static.h"
#include "api/sweeps.h"
#include "api/translate.h"
#include "api/workers.h"

#define READ (GA_GET | GA_HEAD)

/* Keep api/openapi.json in step: tests/integration/test_openapi.py fails on any path
 * or method one has and the other lacks. */
const struct ga_route ga_routes[] = {
    {READ, "/healthz", ga_route_healthz, 0},
    {READ, "/metrics", ga_route_prometheus, 0},
    {READ, "/", ga_route_index, 0},
    {READ, "/index.html", ga_route_index, 0},
    {READ, "/static/{file}", ga_route_static, 0},
    {READ, "/api/v1/openapi.json", ga_route_openapi, 0},
    {READ, "/api/v1/catalog", ga_route_catalog, 0},
    {READ, "/api/v1/spec/defaults", ga_route_spec_defaults, 0},
    {GA_GET, "/api/v1/events", ga_route_events, 0},
    {READ, "/api/v1/workers", ga_route_workers, 0},
    {READ, "/api/v1/runs", ga_route_runs_list, 1},
    {GA_POST, "/api/v1/runs", ga_route_runs_create, 1},
    {READ, "/api/v1/runs/{id}", ga_route_run_get, 0},
    {GA_DELETE, "/api/v1/runs/{id}", ga_route_run_delete, 0},
    {GA_POST, "/api/v1/runs/{id}/cancel", ga_route_run_cancel, 0},
    {GA_POST, "/api/v1/runs/{id}/pause", ga_route_run_pause, 0},
    {GA_POST, "/api/v1/runs/{id}/resume", ga_route_run_resume, 0},
    {READ, "/api/v1/runs/{id}/metrics", ga_route_run_metrics, 0},
    {READ, "/api/v1/runs/{id}/samples", ga_route_run_samples, 0},
    {READ, "/api/v1/runs/{id}/samples/latest.png", ga_route_run_sample, 0},
    {READ, "/api/v1/runs/{id}/samples/{step}.png", ga_route_run_sample, 0},
    {READ, "/api/v1/runs/{id}/checkpoints", ga_route_run_checkpoints, 0},
    {READ, "/api/v1/runs/{id}/checkpoints/{step}", ga_route_run_checkpoint, 0},
    {GA_POST, "/api/v1/runs/{id}/generate", ga_route_run_generate, 0},
    {READ, "/api/v1/runs/{id}/export", ga_route_run_export, 0},
    {READ, "/api/v1/runs/{id}/planes", ga_route_run_planes, 0},
    {READ, "/api/v1/runs/{id}/planes/{step}", ga_route_run_plane, 0},
    {GA_POST, "/api/v1/runs/{id}/translate", ga_route_run_translate, 0},
    {GA_GET, "/api/v1/runs/{id}/events", ga_route_events, 0},
    {READ, "/api/v1/sweeps", ga_route_sweeps_list, 1},
    {GA_POST, "/api/v1/sweeps", ga_route_sweeps_create, 1},
    {READ, "/api/v1/sweeps/{id}", ga_route_sweep_get, 0},
};
const int ga_route_count = (int)(sizeof ga_routes / sizeof ga_routes[0]);

static const char *const method_names[] = {"GET", "HEAD", "POST", "DELETE"};
#define NMETHODS (int)(sizeof method_names / sizeof method_names[0])

static unsigned method_bit(const char *m)
{
    for (int i = 0; i < NMETHODS; i++)
        if (strcmp(m, method_names[i]) == 0)
            return 1u << i;
    return 0;
}

char *ga_methods_text(unsigned methods, const char *sep, char *out, size_t cap)
{
    out[0] = 0;
    for (int i = 0; i < NMETHODS; i++) {
        if (!(methods & (1u << i)))
            continue;
        if (out[0])
            strncat(out, sep, cap - strlen(out) - 1);
        strncat(out, method_names[i], cap - strlen(out) - 1);
    }
    return out;
}

/* ---- matching ------------------------------------------------------------------ */

/* The value of a {name} parameter, text[0..n), into m; 0 ok, -1 when it is not one. */
static int take_param(const char *name, size_t name_len, const char *text, size_t n,
                      struct ga_match *m)
{
    char v[48];
    if (n >= sizeof v)
        n = sizeof v - 1; /* longer than any number still: ga_parse_i64 refuses it */
    memcpy(v, text, n);
    v[n] = 0;
    if (name_len == 2 && strncmp(name, "id", 2) == 0) {
        if (ga_parse_i64(v, 1, INT64_MAX, &m->id) == 0)
            return 0;
        snprintf(m->detail, sizeof m->detail, "run ids are positive integers, not '%.40s'", v);
        return -1;
    }
    if (name_len == 4 && strncmp(name, "step", 4) == 0)
        return ga_parse_i64(v, 0, INT64_MAX, &m->step);
    return -1;
}

/* 1 when path matches pattern (the parameters then set in m), 0 when not. */
static int match_pattern(const char *pattern, const char *path, struct ga_match *m)
{
    const char *p = pattern, *u = path;
    while (*p) {
        if (*p != '{') {
            if (*p != *u)
                return 0;
            p++, u++;
            continue;
        }
        const char *name = p + 1;
        const char *close = strchr(name, '}');
        size_t name_len = (size_t)(close - name);
        p = close + 1;
        if (name_len == 4 && strncmp(name, "file", 4) == 0) {
            m->file = u;
            u += strlen(u);
            continue;
        }
        /* the value runs to the end of the path's segment, less the literal that ends
         * the pattern's segment (".png") */
        const char *pend = strchr(p, '/');
        size_t suffix = pend ? (size_t)(pend - p) : strlen(p);
        const char *uend = strchr(u, '/');
        size_t n = uend ? (size_t)(uend - u) : strlen(u);
        if (n < suffix || strncmp(u + n - suffix, p, suffix) != 0)
            return 0;
        if (take_param(name, name_len, u, n - suffix, m) != 0)
            return 0;
        u += n - suffix;
    }
    return *u == 0;
}

void ga_route_match(const char *path, const char *method, struct ga_match *m)
{
    memset(m, 0, sizeof *m);
    unsigned want = method_bit(method);
    size_t len = strlen(path);
    for (int i = 0; i < ga_route_count; i++) {
        const struct ga_route *rt = &ga_routes[i];
        struct ga_match one = {.step = -1};
        int hit = match_pattern(rt->pattern, path, &one);
        if (!hit && rt->trailing_slash && len > 1 && path[len - 1] == '/' &&
            strlen(rt->pattern) == len - 1 && strncmp(rt->pattern, path, len - 1) == 0)
            hit = 1; /* a pattern with no parameters, one '/' longer */
        if (!hit) {
            if (one.detail[0] && !m->detail[0])
                memcpy(m->detail, one.detail, sizeof m->detail);
            continue;
        }
        m->allow |= rt->methods;
        if (!m->route && (rt->methods & want)) {
            m->route = rt;
            m->id = one.id;
            m->step = one.step;
            m->file = one.file;
        }
    }
    if (m->allow)
        m->detail[0] = 0;
    if (!m->route)
        m->id = 0, m->step = -1, m->file = NULL;
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

/* ---- dispatch ------------------------------------------------------------------ */

enum MHD_Result ga_route_request(struct ga_req *r)
{
    if (strncmp(r->url, "/api/", 5) == 0 && r->srv->token_len && !authorized(r))
        return ga_reply_problem(r, 401, NULL,
                                "this daemon needs 'Authorization: Bearer TOKEN' on /api/ "
                                "requests");
    struct ga_match m;
    ga_route_match(r->url, r->method, &m);
    if (!m.allow) {
        if (m.detail[0])
            return ga_reply_problem(r, 404, NULL, "%s", m.detail);
        return ga_reply_problem(r, 404, NULL, "no route for %s", r->url);
    }
    if (!m.route) {
        char allow[64], detail[256];
        ga_methods_text(m.allow, ", ", allow, sizeof allow);
        snprintf(detail, sizeof detail, "%.16s is not allowed on %.100s; allowed: %s", r->method,
                 r->url, allow);
        struct MHD_Response *resp = ga_problem_response(405, detail);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        return ga_reply(r, 405, resp);
    }
    /* libmicrohttpd drops the body of HEAD responses itself */
    r->id = m.id;
    r->step = m.step;
    r->file = m.file;
    return m.route->handler(r);
}
