/* sse.c — server-sent event streams: GET /api/v1/runs/{id}/events and /api/v1/events.
 *
 * DESIGN: one response per subscriber, produced by a libmicrohttpd content callback on
 * the connection's own thread (thread-per-connection mode, so it may block). The
 * callback keeps a cursor, the id of the last event it has looked at. It waits on the
 * event bus (gd_events_wait) in short slices, reads the newer events from the store
 * with no lock held, rebuilds each payload from the store and writes
 *   id: N\nevent: TYPE\ndata: JSON\n\n
 * (TYPE status, metrics, eval, sample, checkpoint or alert)
 * A comment line ": ping" goes out when nothing was sent for the heartbeat interval
 * (15 s; GANCTL_HEARTBEAT_MS overrides it for tests). The stream ends when the server
 * stops or the bus shuts down, so shutdown never waits on an open stream. After the
 * response is created, its free callback owns the stream state. */
#include "api/sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/reply.h"
#include "api/request.h"
#include "api/run_object.h"
#include "core/metrics.h"

#define EVENT_BATCH 64
#define WAIT_SLICE_MS 250

struct stream {
    struct ga_server *srv;
    int64_t run;    /* 0: every run */
    int64_t cursor; /* newest event id looked at */
    char *buf;
    size_t len, off, cap;
    int64_t last_write_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int append(struct stream *s, const char *text, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return -1;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, text, n);
    s->len += n;
    return 0;
}

/* The figures of one kind that a run logged at exactly this step. */
static json_t *figures_at(struct gd_store *store, int64_t run, int64_t step, int eval)
{
    json_t *o = json_object();
    struct gd_kv *kv = NULL;
    int n = 0;
    if (gd_store_metrics_at(store, run, eval ? GC_METRIC_EVAL : GC_METRIC_TRAIN, step, &kv, &n,
                            NULL) == 0)
        for (int i = 0; i < n; i++)
            json_object_set_new(o, kv[i].name, ga_json_number(kv[i].value));
    free(kv);
    return o;
}

/* The payload of one event, rebuilt from the store; NULL when its run is gone. */
static json_t *payload(struct ga_server *srv, const struct gd_event *e)
{
    if (strcmp(e->type, "status") == 0)
        return ga_run_object(srv->store, srv->sched, e->run, NULL);
    if (strcmp(e->type, "metrics") == 0 || strcmp(e->type, "eval") == 0) {
        int eval = e->type[0] == 'e';
        return json_pack("{s:I,s:I,s:o}", "run", (json_int_t)e->run, "step", (json_int_t)e->step,
                         eval ? "eval" : "metrics", figures_at(srv->store, e->run, e->step, eval));
    }
    if (strcmp(e->type, "sample") == 0) {
        char url[96];
        snprintf(url, sizeof url, "/api/v1/runs/%lld/samples/%lld.png", (long long)e->run,
                 (long long)e->step);
        return json_pack("{s:I,s:I,s:s}", "run", (json_int_t)e->run, "step", (json_int_t)e->step,
                         "url", url);
    }
    if (strcmp(e->type, "alert") == 0) {
        /* the watchdog's records of this step (usually one) */
        json_t *list = json_array();
        struct gd_watch_record *r = NULL;
        int n = 0;
        if (gd_store_watch_list(srv->store, e->run, &r, &n, NULL) == 0)
            for (int i = 0; i < n; i++)
                if (r[i].step == e->step)
                    json_array_append_new(list, ga_watch_record(&r[i]));
        free(r);
        return json_pack("{s:I,s:I,s:o}", "run", (json_int_t)e->run, "step", (json_int_t)e->step,
                         "alerts", list);
    }
    if (strcmp(e->type, "checkpoint") == 0) {
        json_t *o = json_pack("{s:I,s:I,s:n,s:n}", "run", (json_int_t)e->run, "step",
                              (json_int_t)e->step, "bytes", "sha256");
        struct gd_ckpt_info *c = NULL;
        int n = 0;
        if (gd_store_ckpt_list(srv->store, e->run, &c, &n, NULL) == 0)
            for (int i = 0; i < n; i++)
                if (c[i].step == e->step) {
                    json_object_set_new(o, "bytes", json_integer(c[i].bytes));
                    json_object_set_new(o, "sha256", json_string(c[i].sha256));
                }
        free(c);
        return o;
    }
    return json_pack("{s:I,s:I}", "run", (json_int_t)e->run, "step", (json_int_t)e->step);
}

/* Formats the events after the cursor (up to newest) into the buffer; -1 when the
 * store cannot be read (the stream then ends and the client resumes with Last-Event-ID,
 * rather than this thread spinning on a store that keeps failing). */
static int fill(struct stream *s, int64_t newest)
{
    struct gd_event *ev = NULL;
    int n = 0;
    if (gd_store_event_list(s->srv->store, s->run, s->cursor, EVENT_BATCH, &ev, &n, NULL) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        s->cursor = ev[i].id;
        json_t *data = payload(s->srv, &ev[i]);
        if (!data)
            continue;
        char *js = json_dumps(data, GA_DUMP_FLAGS);
        json_decref(data);
        if (!js)
            continue;
        char head[96];
        int hn = snprintf(head, sizeof head, "id: %lld\nevent: %s\ndata: ", (long long)ev[i].id,
                          ev[i].type);
        append(s, head, (size_t)hn);
        append(s, js, strlen(js));
        append(s, "\n\n", 2);
        free(js);
    }
    /* a short page means every event up to newest has been seen (events of other
     * runs included) */
    if (n < EVENT_BATCH && newest > s->cursor)
        s->cursor = newest;
    free(ev);
    return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    for (;;) {
        if (s->off < s->len) {
            size_t n = s->len - s->off < max ? s->len - s->off : max;
            memcpy(out, s->buf + s->off, n);
            s->off += n;
            s->last_write_ms = now_ms();
            return (ssize_t)n;
        }
        s->off = s->len = 0;
        if (atomic_load(&s->srv->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        int slice = s->srv->heartbeat_ms < WAIT_SLICE_MS ? s->srv->heartbeat_ms : WAIT_SLICE_MS;
        int64_t newest = gd_events_wait(s->srv->ev, s->cursor, slice);
        if (newest < 0 || atomic_load(&s->srv->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (newest > s->cursor && fill(s, newest) != 0 && s->len == 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (s->len == 0 && now_ms() - s->last_write_ms >= s->srv->heartbeat_ms)
            append(s, ": ping\n\n", 8);
    }
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    free(s->buf);
    free(s);
}

enum MHD_Result ga_route_events(struct ga_req *r)
{
    int64_t run = r->id;
    if (run > 0) {
        struct gd_run tmp;
        memset(&tmp, 0, sizeof tmp);
        struct gc_error err = {0};
        if (gd_store_run_get(r->srv->store, run, &tmp, &err) != 0) {
            if (err.code == GC_ENOTFOUND)
                gc_error_set(&err, GC_ENOTFOUND, "no run %lld", (long long)run);
            return ga_reply_error(r, &err);
        }
        gd_run_fini(&tmp);
    }
    /* browsers' EventSource cannot set headers on the first request: a query
     * parameter does the same */
    const char *last = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
    const char *field = "Last-Event-ID";
    if (!last || !*last) {
        last = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "last_event_id");
        field = "last_event_id";
    }
    int64_t cursor;
    if (last && *last) {
        if (ga_parse_i64(last, 0, INT64_MAX, &cursor) != 0)
            return ga_reply_problem(r, 400,
                                    ga_field_error(field, "must be a non-negative event id"),
                                    "%s: '%.40s' is not an event id", field, last);
    } else {
        cursor = gd_events_wait(r->srv->ev, INT64_MAX, 0); /* now: no replay */
        if (cursor < 0)
            return ga_reply_problem(r, 503, NULL, "the daemon is shutting down");
    }
    struct stream *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    s->srv = r->srv;
    s->run = run;
    s->cursor = cursor;
    s->last_write_ms = now_ms();
    /* the first bytes make clients see the headers at once */
    if (append(s, ": stream open\n\n", 15) != 0) {
        stream_free(s);
        return MHD_NO;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    if (!resp) {
        stream_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return ga_reply(r, 200, resp);
}
