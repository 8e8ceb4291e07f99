/* request.h — one request's arrival: libmicrohttpd's access handler, completed callback
 * and %XX decoder, and the readers of what a request carries (its JSON body, its query
 * values, whole numbers).
 *
 * Internal to api/. ga_request_access, ga_request_completed and ga_request_unescape are
 * the callbacks api/server.c gives MHD_start_daemon; the readers are for route handlers,
 * on the connection's own thread. */
#ifndef GA_REQUEST_H
#define GA_REQUEST_H

#include "api/http.h"

/* libmicrohttpd's access handler (cls: the struct ga_server). The first call only
 * allocates the struct ga_req in *req_cls; later calls append body chunks (draining,
 * not keeping, what passes GA_MAX_BODY); the last one (no data) routes the request. */
enum MHD_Result ga_request_access(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls);
/* libmicrohttpd's completed callback (cls: the struct ga_server): frees the request and
 * starts the connection's wait for its next one. */
void ga_request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe);
/* libmicrohttpd's unescape callback: %XX in a path or a query value, decoded in place,
 * except %00 (kept as the three characters). Returns the new length. */
size_t ga_request_unescape(void *cls, struct MHD_Connection *conn, char *s);

/* jansson load of the request body with JSON_REJECT_DUPLICATES; on failure replies 400
 * (or 413) itself, sets *replied and returns NULL. An empty body gives an empty object
 * when empty_ok. The caller owns the result. */
json_t *ga_body_json(struct ga_req *r, int empty_ok, enum MHD_Result *replied);
/* The query value of key; NULL when absent or empty. Borrowed from the connection. */
const char *ga_query(struct ga_req *r, const char *key);
/* Parses a whole decimal number in [lo, hi]; 0 ok, -1 otherwise. */
int ga_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);

#endif
