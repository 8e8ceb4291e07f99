/* buf.c — the growing buffer and the fixed-buffer append of buf.h. */
#include "cli/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/error.h"

int ctl_buf_put(struct ctl_buf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            return CTL_ENOMEM;
        b->s = s;
        b->cap = cap;
    }
    if (n)
        memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

int ctl_buf_puts(struct ctl_buf *b, const char *s)
{
    return ctl_buf_put(b, s, strlen(s));
}

void ctl_buf_clear(struct ctl_buf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

void ctl_buf_fini(struct ctl_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

void ctl_appendf(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    if (*n >= cap - 1)
        return;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k > 0)
        *n = *n + (size_t)k < cap - 1 ? *n + (size_t)k : cap - 1;
}
