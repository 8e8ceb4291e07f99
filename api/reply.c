/* reply.c — the reply funnel: ga_reply() and the replies built on it (JSON, bytes,
 * problems), and the table from error codes to HTTP statuses. */
#include "api/reply.h"

#include "api/utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned ga_http_status(int code)
{
    static const struct {
        int code;
        unsigned status;
    } table[] = {
        {GC_OK, 200},       {GC_EINVAL, 400},    {GC_ENOMEM, 500},       {GC_EIO, 500},
        {GC_ECORRUPT, 500}, {GC_ENOTFOUND, 404}, {GC_ESTATE, 409},       {GC_ENUMERIC, 500},
        {GC_ESTOPPED, 409}, {GC_ETOOBIG, 413},   {GC_EUNSUPPORTED, 400}, {GC_EUNAVAIL, 503},
        {GC_ESTALE, 409},   {GC_ECOMM, 500},
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

json_t *ga_json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* ---- problems ------------------------------------------------------------------ */

json_t *ga_field_error(const char *field, const char *message)
{
    return json_pack("[{s:s,s:s}]", "field", field, "message", message);
}

enum MHD_Result ga_reply_problem(struct ga_req *r, unsigned status, json_t *errors, const char *fmt,
                                 ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    ga_utf8_scrub(detail);
    json_t *p = json_object();
    json_object_set_new(p, "type", json_string("about:blank"));
    json_object_set_new(p, "title", json_string(reason(status)));
    json_object_set_new(p, "status", json_integer(status));
    json_object_set_new(p, "detail", json_string(detail));
    json_object_set_new(p, "errors", errors ? errors : json_array());
    struct MHD_Response *resp = ga_json_response(p, "application/problem+json");
    if (resp && status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return ga_reply(r, status, resp);
}

struct MHD_Response *ga_problem_response(unsigned status, const char *detail)
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
