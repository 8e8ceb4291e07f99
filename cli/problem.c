/* problem.c — printing API problems and local errors (see problem.h). */
#include "cli/problem.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ctl_warn(const char *fmt, ...)
{
    va_list ap;
    fputs("ganctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int ctl_report(const struct ctl_error *err)
{
    if (err->code != CTL_OK && err->code != CTL_ESTOPPED && err->msg[0])
        ctl_warn("%s", err->msg);
    return err->code;
}

static int code_for_status(long status)
{
    if (status == 404)
        return CTL_ENOTFOUND;
    if (status == 401 || status == 403)
        return CTL_EAUTH;
    return CTL_EFAIL;
}

int ctl_problem_report(const struct ctl_response *r)
{
    json_t *j = r->body && r->len ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    const char *detail = NULL, *title = NULL;
    json_t *errors = NULL;
    if (json_is_object(j)) {
        detail = json_string_value(json_object_get(j, "detail"));
        title = json_string_value(json_object_get(j, "title"));
        errors = json_object_get(j, "errors");
    }
    if (detail && *detail && title && *title && strstr(detail, title) == NULL &&
        json_array_size(errors) == 0)
        ctl_warn("%s: %s (HTTP %ld)", title, detail, r->status);
    else if (detail && *detail)
        ctl_warn("%s (HTTP %ld)", detail, r->status);
    else if (title && *title)
        ctl_warn("%s (HTTP %ld)", title, r->status);
    else if (!j && r->body && r->len) {
        size_t n = strcspn(r->body, "\r\n");
        ctl_warn("HTTP %ld: %.*s", r->status, (int)(n > 200 ? 200 : n), r->body);
    } else {
        ctl_warn("the daemon answered HTTP %ld", r->status);
    }
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        fprintf(stderr, "  %s: %s\n", field ? field : "(spec)", msg ? msg : "invalid");
    }
    if (r->status == 401)
        fprintf(stderr, "  (the daemon wants a token: set GANCTL_TOKEN or pass --token-file)\n");
    json_decref(j);
    return code_for_status(r->status);
}
