/* request.c — one request's arrival, from its first byte to the route.
 *
 * DESIGN: libmicrohttpd runs one thread per connection plus an internal polling
 * thread, so a handler (and an event stream's content callback) may block. The access
 * handler is called at least twice per request: the first call only allocates the
 * per-request state in *req_cls, later calls append body chunks (draining what passes
 * GA_MAX_BODY), and the last call (upload size 0) refuses what must be refused (an
 * ambiguous framing, a connection past the limit) and hands the rest to the router. The
 * completed callback frees the state. */
#include "api/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/conns.h"
#include "api/reply.h"
#include "api/router.h"
#include "api/utf8.h"

#define MAX_DRAIN (64 * 1024 * 1024) /* bytes of an oversized body read before closing */

/* ---- URL decoding -------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* As libmicrohttpd decodes, except %00: the NUL would cut the string short where we
 * read it ("/static/app.js%00.png" served app.js, "/api/v1/runs/%00" listed the runs,
 * "?status=%00" meant no filter), so it stays as the three characters and the route or
 * value is refused as unknown. */
size_t ga_request_unescape(void *cls, struct MHD_Connection *conn, char *s)
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
    struct MHD_Response *resp = ga_problem_response(
        400, "the request has conflicting Content-Length or Transfer-Encoding headers");
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return ga_reply(r, 400, resp);
}

/* ---- the access handler -------------------------------------------------------- */

/* Appends a chunk of the body; MHD_NO closes the connection. */
static enum MHD_Result take_body(struct ga_req *r, const char *data, size_t n)
{
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
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = 0;
    return MHD_YES;
}

enum MHD_Result ga_request_access(void *cls, struct MHD_Connection *conn, const char *url,
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
        r->over_limit = ga_conns_over_limit(conn);
        *req_cls = r;
        return MHD_YES;
    }
    r->method = method;
    r->url = url;
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return take_body(r, upload_data, n);
    }
    ga_conns_deadline(r->srv, conn, 0);
    if (r->bad_framing)
        return reply_bad_framing(r);
    if (r->over_limit)
        return ga_conns_refuse(r);
    return ga_route_request(r);
}

void ga_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    /* a kept-alive connection has until the deadline to send its next request */
    ga_conns_deadline(cls, conn, 1);
    struct ga_req *r = *req_cls;
    if (r) {
        free(r->body);
        free(r);
        *req_cls = NULL;
    }
}

/* ---- what a request carries ---------------------------------------------------- */

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

const char *ga_query(struct ga_req *r, const char *key)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
    return v && *v ? v : NULL;
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
        ga_utf8_scrub(je.text); /* it quotes the body, and can end inside a character */
        json_t *errors = json_array();
        json_t *e = json_object();
        json_object_set_new(e, "field", json_string(""));
        json_object_set_new(e, "message", json_string(je.text));
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
