/* error.c — the client's error struct and the one table from codes to exit statuses. */
#include "cli/error.h"

#include <stdarg.h>
#include <stdio.h>

int ctl_error_set(struct ctl_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int ctl_exit_status(int code)
{
    switch (code) {
    case CTL_OK:
    case CTL_ESTOPPED:
        return CTL_EXIT_OK;
    case CTL_EUSAGE:
        return CTL_EXIT_USAGE;
    case CTL_ENOTFOUND:
        return CTL_EXIT_NOTFOUND;
    case CTL_EAUTH:
        return CTL_EXIT_AUTH;
    case CTL_ERUNFAILED:
        return CTL_EXIT_RUNFAILED;
    case CTL_ENOTSAME:
        return CTL_EXIT_NOTSAME;
    case CTL_EINTR:
        return CTL_EXIT_INTERRUPTED;
    default:
        return CTL_EXIT_ERROR;
    }
}
