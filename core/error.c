/* error.c — filling struct gc_error. Never allocates, never prints. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gc_error_set(struct gc_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int gc_error_prefix(struct gc_error *err, const char *fmt, ...)
{
    if (!err)
        return GC_EINVAL;
    char buf[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err->code;
    size_t pl = (size_t)n < sizeof buf - 3 ? (size_t)n : sizeof buf - 3;
    buf[pl++] = ':';
    buf[pl++] = ' ';
    /* the old message fills what is left and is cut at the end if it must be */
    size_t room = sizeof buf - pl - 1, ol = strlen(err->msg);
    if (ol > room)
        ol = room;
    memcpy(buf + pl, err->msg, ol);
    buf[pl + ol] = '\0';
    memcpy(err->msg, buf, sizeof buf);
    return err->code;
}

void gc_error_clear(struct gc_error *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}

const char *gc_strerror(int code)
{
    switch (code) {
    case GC_OK:
        return "ok";
    case GC_EINVAL:
        return "invalid argument";
    case GC_ENOMEM:
        return "out of memory";
    case GC_EIO:
        return "I/O error";
    case GC_ECORRUPT:
        return "corrupt data";
    case GC_ENOTFOUND:
        return "not found";
    case GC_ESTATE:
        return "not allowed in this state";
    case GC_ENUMERIC:
        return "numeric failure";
    case GC_ESTOPPED:
        return "stopped";
    case GC_ETOOBIG:
        return "too large";
    case GC_EUNSUPPORTED:
        return "unsupported";
    case GC_EUNAVAIL:
        return "unavailable";
    case GC_ESTALE:
        return "taken over";
    case GC_ECOMM:
        return "rank failure";
    }
    return "unknown error";
}
