/* sse.c — the event-stream parser of sse.h.
 *
 * A line buffer collects bytes until an end of line; each line is one field. The
 * event being built lives in three growing strings and is dispatched on an empty line
 * when it has data (an event without data lines is dropped, as the format says). */
#include "cli/sse.h"

#include <stdlib.h>
#include <string.h>

#include "cli/buf.h"

#define MAX_LINE (1 << 20)

struct ctl_sse {
    ctl_sse_fn fn;
    void *user;
    struct ctl_buf line;
    struct ctl_buf data;
    struct ctl_buf type;
    struct ctl_buf pending; /* the id: of the event being read */
    struct ctl_buf id;      /* the last event id, committed at the end of an event; kept
                             * across resets, so a half-read event's id is never resumed from */
    int has_data;
    int after_cr; /* the previous chunk ended in CR: a leading LF belongs to it */
    long retry_ms;
    long lines;
};

struct ctl_sse *ctl_sse_create(ctl_sse_fn fn, void *user)
{
    struct ctl_sse *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->fn = fn;
    p->user = user;
    p->retry_ms = -1;
    if (ctl_buf_put(&p->id, "", 0) || ctl_buf_put(&p->pending, "", 0) ||
        ctl_buf_put(&p->data, "", 0) || ctl_buf_put(&p->type, "", 0)) {
        ctl_sse_destroy(p);
        return NULL;
    }
    return p;
}

void ctl_sse_destroy(struct ctl_sse *p)
{
    if (!p)
        return;
    ctl_buf_fini(&p->line);
    ctl_buf_fini(&p->data);
    ctl_buf_fini(&p->type);
    ctl_buf_fini(&p->id);
    ctl_buf_fini(&p->pending);
    free(p);
}

void ctl_sse_reset(struct ctl_sse *p)
{
    ctl_buf_clear(&p->line);
    ctl_buf_clear(&p->data);
    ctl_buf_clear(&p->type);
    ctl_buf_clear(&p->pending);
    ctl_buf_put(&p->pending, p->id.s, p->id.len); /* fits: pending had room for it before */
    p->has_data = 0;
    p->after_cr = 0;
}

const char *ctl_sse_last_id(const struct ctl_sse *p)
{
    return p->id.s;
}

long ctl_sse_retry_ms(const struct ctl_sse *p)
{
    return p->retry_ms;
}

long ctl_sse_lines(const struct ctl_sse *p)
{
    return p->lines;
}

static int dispatch(struct ctl_sse *p)
{
    int rc = 0;
    /* The format commits the id at the end of every event, data or not. */
    ctl_buf_clear(&p->id);
    if (ctl_buf_put(&p->id, p->pending.s, p->pending.len))
        return CTL_ENOMEM;
    if (p->has_data) {
        struct ctl_sse_event ev = {
            .id = p->id.s,
            .type = p->type.len ? p->type.s : "message",
            .data = p->data.s,
        };
        rc = p->fn(p->user, &ev);
    }
    ctl_buf_clear(&p->data);
    ctl_buf_clear(&p->type);
    p->has_data = 0;
    return rc;
}

static int field(struct ctl_sse *p, const char *line, size_t len)
{
    p->lines++;
    if (len == 0)
        return dispatch(p);
    if (line[0] == ':')
        return 0;
    const char *colon = memchr(line, ':', len);
    size_t nlen = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t vlen = (size_t)(line + len - value);
    if (vlen > 0 && value[0] == ' ') {
        value++;
        vlen--;
    }
    if (nlen == 4 && memcmp(line, "data", 4) == 0) {
        if (p->has_data && ctl_buf_put(&p->data, "\n", 1))
            return CTL_ENOMEM;
        p->has_data = 1;
        return ctl_buf_put(&p->data, value, vlen);
    }
    if (nlen == 5 && memcmp(line, "event", 5) == 0) {
        ctl_buf_clear(&p->type);
        return ctl_buf_put(&p->type, value, vlen);
    }
    if (nlen == 2 && memcmp(line, "id", 2) == 0) {
        if (memchr(value, '\0', vlen))
            return 0; /* the format says to ignore such an id */
        ctl_buf_clear(&p->pending);
        return ctl_buf_put(&p->pending, value, vlen);
    }
    if (nlen == 5 && memcmp(line, "retry", 5) == 0) {
        long ms = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (value[i] < '0' || value[i] > '9' || ms > 100000000)
                return 0;
            ms = ms * 10 + (value[i] - '0');
        }
        if (vlen > 0)
            p->retry_ms = ms;
    }
    return 0; /* unknown fields are ignored */
}

int ctl_sse_feed(struct ctl_sse *p, const char *data, size_t len)
{
    size_t i = 0;
    if (p->after_cr && len > 0) {
        p->after_cr = 0;
        if (data[0] == '\n')
            i = 1;
    }
    while (i < len) {
        size_t j = i;
        while (j < len && data[j] != '\n' && data[j] != '\r')
            j++;
        if (p->line.len + (j - i) > MAX_LINE)
            return CTL_EFAIL;
        if (ctl_buf_put(&p->line, data + i, j - i))
            return CTL_ENOMEM;
        if (j == len)
            break; /* the line goes on in the next chunk */
        if (data[j] == '\r') {
            if (j + 1 < len && data[j + 1] == '\n')
                j++;
            else if (j + 1 == len)
                p->after_cr = 1;
        }
        int rc = field(p, p->line.s ? p->line.s : "", p->line.len);
        ctl_buf_clear(&p->line);
        if (rc)
            return rc;
        i = j + 1;
    }
    return 0;
}
