/* translate.c — POST /api/v1/runs/{id}/translate: a PNG in, the run's generator's
 * output PNG back, from its newest checkpoint (docs/api.md, translate).
 *
 * The body is the picture itself (Content-Type: image/png), not JSON; what it must be
 * (its size, the alpha of an inpainting hole) depends on the run's task and is checked
 * by core (gc_trainer_translate_png), whose messages say what was wrong. Runs on the
 * request's connection thread with a trainer of its own (api/run_trainer.h). */
#include "api/translate.h"

#include <string.h>
#include <strings.h>

#include "api/reply.h"
#include "api/run_trainer.h"

/* 1 when the Content-Type names image/png (parameters after ';' allowed). */
static int is_png_type(struct ga_req *r)
{
    const char *ct =
        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("image/png");
    return strncasecmp(ct, "image/png", n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

enum MHD_Result ga_route_run_translate(struct ga_req *r)
{
    enum MHD_Result ret;
    if (r->too_big)
        return ga_reply_problem(r, 413, NULL, "the image is larger than %d bytes", GA_MAX_BODY);
    if (!is_png_type(r))
        return ga_reply_problem(r, 415, ga_field_error("Content-Type", "must be image/png"),
                                "translate takes a PNG image as the body, sent with "
                                "Content-Type: image/png");
    if (r->len == 0)
        return ga_reply_problem(r, 400, ga_field_error("body", "empty"),
                                "the request body is empty; send the PNG image to translate");
    struct gc_spec spec;
    if (ga_run_spec(r, r->id, &spec, &ret) != 0)
        return ret;
    if (!spec.task.on)
        return ga_reply_problem(r, 409, NULL,
                                "run %lld has no task: it generates from noise "
                                "(POST /api/v1/runs/%lld/generate) and translates nothing",
                                (long long)r->id, (long long)r->id);
    struct gc_trainer *t = ga_run_trainer(r, r->id, &spec, "translate with", &ret);
    if (!t)
        return ret;
    struct gc_error err = {0};
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = gc_trainer_translate_png(t, (const uint8_t *)r->body, r->len, &png, &len, &err);
    gc_trainer_destroy(t);
    if (rc == GC_ECORRUPT || rc == GC_EINVAL) /* the user's picture, not our data */
        return ga_reply_problem(r, 400, ga_field_error("body", err.msg), "%s", err.msg);
    if (rc == GC_ETOOBIG)
        return ga_reply_problem(r, 413, ga_field_error("body", err.msg), "%s", err.msg);
    if (rc != 0)
        return ga_reply_error(r, &err);
    return ga_reply_bytes(r, 200, "image/png", png, len);
}
