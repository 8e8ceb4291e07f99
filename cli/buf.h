/* buf.h — text the client builds a piece at a time: a growing byte buffer (response
 * bodies, the event-stream parser's lines, query strings) and appending to a fixed
 * one (the progress bar and one-line messages). */
#ifndef CTL_BUF_H
#define CTL_BUF_H

#include <stddef.h>

/* A zeroed struct is an empty buffer. s is NULL until the first put, then always
 * NUL-terminated after len bytes (which may hold NULs of their own, for binary
 * bodies). The buffer owns s; ctl_buf_fini() frees it. */
struct ctl_buf {
    char *s;
    size_t len, cap;
};

/* Appends n bytes; 0 or CTL_ENOMEM (the buffer is unchanged then). */
int ctl_buf_put(struct ctl_buf *b, const char *data, size_t n);
/* Appends a C string; 0 or CTL_ENOMEM. */
int ctl_buf_puts(struct ctl_buf *b, const char *s);
/* Empties the buffer and keeps its memory. */
void ctl_buf_clear(struct ctl_buf *b);
void ctl_buf_fini(struct ctl_buf *b);

/* printf into buf (cap bytes) at offset *n, advancing *n; what does not fit is cut
 * off and buf stays NUL-terminated. */
void ctl_appendf(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
