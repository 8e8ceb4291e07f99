/* http.h — the client's one connection to ganctld: JSON requests, downloads and the
 * server-sent event stream, over libcurl.
 *
 * The daemon's address is a base URL (http://127.0.0.1:8080); paths are appended to
 * it. With a token every request carries `Authorization: Bearer TOKEN`. One client is
 * one curl handle, so consecutive requests reuse the connection. Not thread-safe: one
 * client per thread. curl_global_init() must have been called (main does). */
#ifndef CTL_HTTP_H
#define CTL_HTTP_H

#include <stddef.h>

#include "cli/error.h"

/* The client's version: `ganctl --version` and the User-Agent header. */
#define CTL_VERSION "0.1.0"

struct ctl_client;

/* What the daemon answered. body is NUL-terminated (also for binary bodies, after len
 * bytes) and owned by the struct; ctl_response_fini() frees it. */
struct ctl_response {
    long status;
    char *body;
    size_t len;
};

void ctl_response_fini(struct ctl_response *r);

/* addr: "http://host:port", "host:port" (http:// is assumed) or with a trailing '/'.
 * token: NULL or "" for none; copied. Returns NULL with err set on a bad address or
 * token. The caller owns the client. */
struct ctl_client *ctl_client_create(const char *addr, const char *token, struct ctl_error *err);
void ctl_client_destroy(struct ctl_client *c);
/* The normalized base URL, as shown in messages. Borrowed. */
const char *ctl_client_addr(const struct ctl_client *c);

/* One request. body: NULL for none, else sent as application/json. Returns 0 when the
 * daemon answered, whatever the status (resp filled, caller calls ctl_response_fini),
 * CTL_ECONNECT with "cannot reach ganctld at ADDR: REASON" when it could not be
 * reached or the connection broke, CTL_ENOMEM. */
int ctl_client_request(struct ctl_client *c, const char *method, const char *path, const char *body,
                       struct ctl_response *resp, struct ctl_error *err);
/* The same with a body of len bytes sent as ctype (an image), answered with anything. */
int ctl_client_request_bytes(struct ctl_client *c, const char *method, const char *path,
                             const char *ctype, const void *body, size_t len,
                             struct ctl_response *resp, struct ctl_error *err);

/* Callbacks of a stream. on_data gets the body bytes as they come (only for a 200
 * answer); on_tick is called about once a second, also while nothing arrives. A
 * non-zero return from either ends the stream with CTL_ESTOPPED. */
struct ctl_stream_ops {
    int (*on_data)(void *user, const char *data, size_t len);
    int (*on_tick)(void *user);
    void *user;
};

/* GET path as text/event-stream, with `Last-Event-ID: last_event_id` when that is not
 * NULL or "". A stream silent for idle_timeout_s seconds counts as dropped. Returns 0
 * when the daemon ended the response (resp->status says how; a non-200 answer's body
 * is in resp, not passed to on_data), CTL_ESTOPPED when a callback stopped it,
 * CTL_ECONNECT when it could not connect or the connection dropped. */
int ctl_client_stream(struct ctl_client *c, const char *path, const char *last_event_id,
                      int idle_timeout_s, const struct ctl_stream_ops *ops,
                      struct ctl_response *resp, struct ctl_error *err);

/* s escaped for a URL query or path segment; malloc'ed, the caller frees; NULL on OOM. */
char *ctl_url_escape(const char *s);

#endif
