/* webhook.h — the alert webhook: POSTs a JSON body to --alert-webhook URL for every
 * alert of the watchdog, from a thread of its own, retried, never blocking training.
 *
 * The URL is http://HOST[:PORT][/PATH] (plain HTTP/1.1; a TLS endpoint goes behind a
 * local relay). A post is queued (at most GD_WEBHOOK_QUEUE; when full the oldest is
 * dropped with a log line) and sent with a 5 s timeout; a failure (no connection, a
 * status other than 2xx) is tried again after 1, 2 and 4 s, then given up with a log
 * line.
 *
 * DESIGN: one mutex and one condition variable guard the queue and the stop flag; the
 * sender takes a body off the queue under the mutex and sends it without. Posting
 * only takes the mutex for a copy into the queue. */
#ifndef GD_WEBHOOK_H
#define GD_WEBHOOK_H

#include <stddef.h>

#include "core/error.h"
#include "daemon/sched.h"

#define GD_WEBHOOK_QUEUE 64

struct gd_webhook;

/* Checks the URL and starts the sender; log (may be NULL) gets its failures. NULL with
 * err set (GC_EINVAL) for a URL it cannot send to. */
struct gd_webhook *gd_webhook_create(const char *url, gd_log_fn log, void *log_ctx,
                                     struct gc_error *err);
/* Sends what is queued (each post's tries at most), then stops the sender. NULL: no-op. */
void gd_webhook_destroy(struct gd_webhook *w);
/* Queues body (copied) for run (for the log lines). Thread-safe; never blocks on the
 * network. */
void gd_webhook_post(struct gd_webhook *w, int64_t run, const char *body);
/* Checks a URL as create does: 0, or GC_EINVAL with what is wrong. */
int gd_webhook_check_url(const char *url, struct gc_error *err);

/* s as the inside of a JSON string (quotes, backslashes and control characters
 * escaped) appended to out (cap bytes, always NUL-terminated). */
void gd_json_escape(char *out, size_t cap, const char *s);

#endif
