/* sse.h — a parser for text/event-stream (the WHATWG server-sent events format).
 *
 * Bytes go in as they arrive, split anywhere; each complete event comes out through a
 * callback with its type ("message" when the stream named none), data (the data:
 * lines joined by '\n') and the last event id seen. Lines end in LF, CRLF or CR;
 * lines starting with ':' are comments (heartbeats). The last id survives
 * ctl_sse_reset(), so a reconnect can send it as Last-Event-ID. */
#ifndef CTL_SSE_H
#define CTL_SSE_H

#include <stddef.h>

#include "cli/error.h"

struct ctl_sse_event {
    const char *id;   /* the last id: field seen so far ("" before any) */
    const char *type; /* event: field, or "message" */
    const char *data;
};

/* A non-zero return stops the parser; ctl_sse_feed() returns that value. */
typedef int (*ctl_sse_fn)(void *user, const struct ctl_sse_event *ev);

struct ctl_sse;

/* NULL on OOM. */
struct ctl_sse *ctl_sse_create(ctl_sse_fn fn, void *user);
void ctl_sse_destroy(struct ctl_sse *p);
/* 0 when all of data was consumed; the callback's non-zero value when it stopped;
 * CTL_ENOMEM; CTL_EFAIL for a line over 1 MiB. */
int ctl_sse_feed(struct ctl_sse *p, const char *data, size_t len);
/* A new connection: forgets a half-read line and event, keeps the last id. */
void ctl_sse_reset(struct ctl_sse *p);
/* Borrowed; "" before any id. */
const char *ctl_sse_last_id(const struct ctl_sse *p);
/* The server's retry: hint in milliseconds, or -1. */
long ctl_sse_retry_ms(const struct ctl_sse *p);
/* Lines read so far (events, comments, fields), to tell a live stream from a dead one. */
long ctl_sse_lines(const struct ctl_sse *p);

#endif
