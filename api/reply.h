/* reply.h — the one funnel every response goes out through, and the problem bodies.
 *
 * Every reply, error or not, is queued by ga_reply(), which counts it by status for
 * /metrics. Errors are application/problem+json (RFC 9457):
 * {type, title, status, detail, errors: [{field, message}]}; ga_http_status() is the one
 * table from GC_E* codes to HTTP statuses.
 *
 * Internal to api/. Each function is called on the connection's own thread. */
#ifndef GA_REPLY_H
#define GA_REPLY_H

#include "api/http.h"
#include "core/error.h"

/* The one table from GC_E* codes to HTTP statuses (500 for a code not in it). */
unsigned ga_http_status(int code);

/* Queues resp with status, counts it for /metrics and releases resp. NULL resp (out of
 * memory) gives MHD_NO: libmicrohttpd then closes the connection. */
enum MHD_Result ga_reply(struct ga_req *r, unsigned status, struct MHD_Response *resp);
/* obj (stolen, may be NULL) dumped into a response of type ctype, not yet queued: for
 * replies that add headers of their own before ga_reply(). NULL when obj is NULL or
 * out of memory. */
struct MHD_Response *ga_json_response(json_t *obj, const char *ctype);
/* Dumps obj (stolen, may be NULL -> 500) as application/json. */
enum MHD_Result ga_reply_json(struct ga_req *r, unsigned status, json_t *obj);
/* Takes ownership of buf (malloc'ed), also on failure. */
enum MHD_Result ga_reply_bytes(struct ga_req *r, unsigned status, const char *ctype, void *buf,
                               size_t len);
/* Copies text. */
enum MHD_Result ga_reply_text(struct ga_req *r, unsigned status, const char *ctype,
                              const char *text);

/* A problem with a fixed detail and no field errors, not yet queued: for the replies
 * that add headers of their own (Allow, Retry-After, Connection). NULL when out of
 * memory. */
struct MHD_Response *ga_problem_response(unsigned status, const char *detail);
/* application/problem+json {type,title,status,detail,errors}; errors (stolen) may be NULL
 * (then []). The detail's bytes that are not UTF-8 (they come from URLs) become '?'. A
 * 401 carries WWW-Authenticate: Bearer. */
enum MHD_Result ga_reply_problem(struct ga_req *r, unsigned status, json_t *errors, const char *fmt,
                                 ...) __attribute__((format(printf, 4, 5)));
/* A problem from err (status from the code table); a message "field: text" also fills
 * errors[] with that field. */
enum MHD_Result ga_reply_error(struct ga_req *r, const struct gc_error *err);
/* The one-element errors[] of a problem: [{"field": field, "message": message}]. */
json_t *ga_field_error(const char *field, const char *message);

/* A JSON number, or null for NaN and the infinities (JSON has neither). */
json_t *ga_json_number(double v);

#endif
