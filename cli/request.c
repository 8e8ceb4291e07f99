/* request.c — requests, JSON answers and downloads for the commands (see request.h). */
#include "cli/request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/problem.h"

int ctl_call(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
             struct ctl_response *out, struct ctl_error *err)
{
    struct ctl_client *c;
    int rc = ctl_ctx_client(ctx, &c, err);
    if (rc)
        return rc;
    rc = ctl_client_request(c, method, path, body, out, err);
    if (rc)
        return rc;
    if (out->status < 200 || out->status >= 300) {
        rc = ctl_problem_report(out);
        ctl_response_fini(out);
        return rc;
    }
    return 0;
}

int ctl_call_json(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
                  json_t **out, struct ctl_error *err)
{
    struct ctl_response r;
    json_error_t je;
    int rc = ctl_call(ctx, method, path, body, &r, err);
    if (rc)
        return rc;
    *out = json_loadb(r.body, r.len, 0, &je);
    ctl_response_fini(&r);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ctl_error_set(err, CTL_EFAIL, "%s %s: the daemon's answer is not a JSON object",
                             method, path);
    }
    return 0;
}

static int write_file(const char *path, const char *data, size_t len, struct ctl_error *err)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return ctl_error_set(err, CTL_EIO, "standard output: %s", strerror(errno));
        return 0;
    }
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.part-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int rc = ctl_error_set(err, CTL_EIO, "%s: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    int ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int rc = ctl_error_set(err, CTL_EIO, "%s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return 0;
}

int ctl_write_answer(const struct ctl_response *r, const char *file, struct ctl_error *err)
{
    int rc = write_file(file, r->body, r->len, err);
    if (rc == 0 && strcmp(file, "-") != 0)
        fprintf(stderr, "wrote %s (%zu bytes)\n", file, r->len);
    return rc;
}

int ctl_download(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
                 const char *file, struct ctl_error *err)
{
    struct ctl_response r;
    int rc = ctl_call(ctx, method, path, body, &r, err);
    if (rc)
        return rc;
    rc = ctl_write_answer(&r, file, err);
    ctl_response_fini(&r);
    return rc;
}
