/* generate.c — what a run's generator makes, from its newest checkpoint: samples
 * (POST /api/v1/runs/{id}/generate), the generator as an ONNX model
 * (GET /api/v1/runs/{id}/export?format=onnx), and the planes of a 2D run
 * (GET /api/v1/runs/{id}/planes, /planes/{step}) (docs/api.md).
 *
 * A trainer is built for each request from the stored spec without its data (one
 * compute thread), restored from the newest checkpoint, used and destroyed: requests
 * share nothing, and no lock of ours is held while it runs. */
#include "api/generate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "api/request.h"
#include "api/run_trainer.h"
#include "api/runs.h"
#include "api/spec_json.h"
#include "core/gan.h"
#include "daemon/version.h"

#define GENERATE_MAX 1024

/* The run's spec and its trainer restored from its newest checkpoint (api/run_trainer.h);
 * NULL with the reply queued in *ret (404 no run, 409 no checkpoint yet, 500 a spec or
 * checkpoint that does not load). */
static struct gc_trainer *restored(struct ga_req *r, int64_t id, struct gc_spec *spec,
                                   enum MHD_Result *ret)
{
    if (ga_run_spec(r, id, spec, ret) != 0)
        return NULL;
    return ga_run_trainer(r, id, spec, "serve", ret);
}

/* ---- generate ------------------------------------------------------------------ */

struct gen_req {
    json_int_t n, seed;
    const char *format;
    json_t *z; /* borrowed from the body: the noise vectors given, or NULL */
};

static void field_problem(json_t *errors, const char *field, const char *message)
{
    json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", message));
}

/* The body's fields into g, every problem into errors. */
static void read_generate(json_t *body, struct gen_req *g, json_t *errors)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "n") && strcmp(key, "seed") && strcmp(key, "format") && strcmp(key, "z"))
            field_problem(errors, key, "unknown field; expected one of: n, seed, format, z");
    }
    if ((v = json_object_get(body, "n"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > GENERATE_MAX)
            field_problem(errors, "n", "must be an integer between 1 and 1024");
        else
            g->n = json_integer_value(v);
    }
    if ((v = json_object_get(body, "seed"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > GC_MAX_SEED)
            field_problem(errors, "seed", "must be an integer between 0 and 9007199254740992");
        else
            g->seed = json_integer_value(v);
    }
    if ((v = json_object_get(body, "format"))) {
        const char *f = json_string_value(v);
        if (!f || (strcmp(f, "png") && strcmp(f, "idx") && strcmp(f, "json")))
            field_problem(errors, "format", "must be one of png, idx, json");
        else
            g->format = !strcmp(f, "png") ? "png" : !strcmp(f, "idx") ? "idx" : "json";
    }
    if ((v = json_object_get(body, "z"))) {
        if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > GENERATE_MAX)
            field_problem(errors, "z", "must be an array of 1 to 1024 noise vectors");
        else if (json_object_get(body, "n") || json_object_get(body, "seed"))
            field_problem(errors, "z", "gives the noise itself: leave out n and seed");
        else
            g->z = v;
    }
}

/* The noise vectors of z (checked against z_dim) into a malloc'ed n x z_dim array;
 * NULL with the problem in errors. */
static float *read_noise(json_t *z, int zdim, json_t *errors)
{
    size_t n = json_array_size(z);
    float *out = malloc(n * (size_t)zdim * sizeof(float));
    if (!out) {
        field_problem(errors, "z", "too large");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(z, i);
        char at[48], msg[96];
        snprintf(at, sizeof at, "z[%zu]", i);
        if (!json_is_array(row) || json_array_size(row) != (size_t)zdim) {
            snprintf(msg, sizeof msg, "must be an array of model.z_dim = %d numbers", zdim);
            field_problem(errors, at, msg);
            break;
        }
        for (int j = 0; j < zdim; j++) {
            json_t *x = json_array_get(row, (size_t)j);
            if (!json_is_number(x)) {
                snprintf(at, sizeof at, "z[%zu][%d]", i, j);
                field_problem(errors, at, "must be a number");
                break;
            }
            out[i * (size_t)zdim + (size_t)j] = (float)json_number_value(x);
        }
        if (json_array_size(errors))
            break;
    }
    if (json_array_size(errors)) {
        free(out);
        return NULL;
    }
    return out;
}

static enum MHD_Result bad_request(struct ga_req *r, json_t *errors, const char *what)
{
    json_t *first = json_array_get(errors, 0);
    char detail[256];
    snprintf(detail, sizeof detail, "%s: %s", json_string_value(json_object_get(first, "field")),
             json_string_value(json_object_get(first, "message")));
    return ga_reply_problem(r, 400, errors, "invalid %s request: %s", what, detail);
}

/* The samples as JSON: points for 2D sets, else images as flat (C, H, W) arrays. */
static json_t *samples_json(const float *out, int n, int c, int h, int w, int is2d)
{
    json_t *list = json_array();
    size_t per = (size_t)c * h * w;
    for (int i = 0; i < n; i++) {
        json_t *s = json_array();
        for (size_t j = 0; j < (is2d ? 2 : per); j++)
            json_array_append_new(s, ga_json_number(out[(size_t)i * per + j]));
        json_array_append_new(list, s);
    }
    if (is2d)
        return json_pack("{s:o}", "points", list);
    return json_pack("{s:o,s:[i,i,i]}", "images", list, "shape", c, h, w);
}

enum MHD_Result ga_route_run_generate(struct ga_req *r)
{
    int64_t id = r->id;
    enum MHD_Result ret;
    json_t *body = ga_body_json(r, 1, &ret);
    if (!body)
        return ret;
    json_t *errors = json_array();
    struct gen_req g = {.n = 64, .seed = 1, .format = "png", .z = NULL};
    read_generate(body, &g, errors);
    if (json_array_size(errors)) {
        json_decref(body);
        return bad_request(r, errors, "generate");
    }
    struct gc_spec spec;
    struct gc_trainer *t = NULL;
    if (ga_run_spec(r, id, &spec, &ret) == 0) {
        if (spec.task.on) /* nothing to draw from noise: its generator translates */
            ret = ga_reply_problem(r, 409, NULL,
                                   "run %lld is a %s run: it translates images "
                                   "(POST /api/v1/runs/%lld/translate) and draws nothing from "
                                   "noise",
                                   (long long)id, gc_task_name(spec.task.kind), (long long)id);
        else
            t = ga_run_trainer(r, id, &spec, "generate from", &ret);
    }
    if (!t) {
        json_decref(body);
        json_decref(errors);
        return ret;
    }
    int is2d = gc_dataset_is_2d(spec.dataset.kind);
    if (!strcmp(g.format, "idx") && is2d) {
        gc_trainer_destroy(t);
        json_decref(body);
        json_decref(errors);
        return ga_reply_problem(r, 400, ga_field_error("format", "idx is for image sets"),
                                "format: idx returns images and needs an image set, not %s",
                                gc_dataset_name(spec.dataset.kind));
    }
    float *noise = NULL;
    if (g.z) {
        noise = read_noise(g.z, spec.model.z_dim, errors);
        g.n = (json_int_t)json_array_size(g.z);
    }
    json_decref(body);
    if (json_array_size(errors)) {
        gc_trainer_destroy(t);
        return bad_request(r, errors, "generate");
    }
    json_decref(errors);

    struct gc_error err = {0};
    int c = 0, h = 0, w = 0, rc = 0;
    gc_trainer_sample_shape(t, &c, &h, &w);
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    float *out = malloc(sizeof(float) * per * (size_t)g.n);
    uint8_t *enc = NULL;
    size_t elen = 0;
    if (!out)
        rc = gc_error_set(&err, GC_ENOMEM, "cannot hold %lld samples", (long long)g.n);
    else if (noise)
        rc = gc_trainer_generate_from(t, (int)g.n, noise, out, &err);
    else
        rc = gc_trainer_generate(t, (int)g.n, (uint64_t)g.seed, out, &err);
    free(noise);
    if (rc == 0 && !strcmp(g.format, "png"))
        rc = gc_trainer_encode_png(t, out, (int)g.n, &enc, &elen, &err);
    else if (rc == 0 && !strcmp(g.format, "idx"))
        rc = gc_trainer_encode_idx(t, out, (int)g.n, &enc, &elen, &err);
    gc_trainer_destroy(t);
    if (rc != 0) {
        free(out);
        return ga_reply_error(r, &err);
    }
    if (!strcmp(g.format, "json")) {
        json_t *o = samples_json(out, (int)g.n, c, h, w, is2d);
        free(out);
        return ga_reply_json(r, 200, o);
    }
    free(out);
    return ga_reply_bytes(
        r, 200, !strcmp(g.format, "png") ? "image/png" : "application/octet-stream", enc, elen);
}

/* ---- export -------------------------------------------------------------------- */

enum MHD_Result ga_route_run_export(struct ga_req *r)
{
    int64_t id = r->id;
    enum MHD_Result ret;
    const char *format = ga_query(r, "format");
    if (format && strcmp(format, "onnx") != 0)
        return ga_reply_problem(r, 400, ga_field_error("format", "must be onnx"),
                                "format: '%.40s' is not an export format; the one there is: onnx",
                                format);
    int64_t k = 0;
    const char *gen = ga_query(r, "generator");
    if (gen && ga_parse_i64(gen, 0, GC_MAX_GENERATORS - 1, &k) != 0)
        return ga_reply_problem(r, 400,
                                ga_field_error("generator", "must be a generator index 0 to 15"),
                                "generator: '%.40s' is not a generator index", gen);
    struct gc_spec spec;
    struct gc_trainer *t = restored(r, id, &spec, &ret);
    if (!t)
        return ret;
    if (k >= spec.tricks.generators) {
        gc_trainer_destroy(t);
        return ga_reply_problem(r, 400, ga_field_error("generator", "beyond the run's generators"),
                                "generator: run %lld has %d generator%s (0 to %d), not %lld",
                                (long long)id, spec.tricks.generators,
                                spec.tricks.generators > 1 ? "s" : "", spec.tricks.generators - 1,
                                (long long)k);
    }
    char version[96];
    snprintf(version, sizeof version, "%s (%s)", GD_VERSION, gd_build_commit);
    uint8_t *bytes = NULL;
    size_t len = 0;
    struct gc_error err = {0};
    int64_t step = gc_trainer_step(t);
    int rc = gc_trainer_export_onnx(t, (int)k, version, &bytes, &len, &err);
    gc_trainer_destroy(t);
    if (rc != 0)
        return ga_reply_error(r, &err);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, bytes, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(bytes);
        return MHD_NO;
    }
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"run-%lld-step-%lld-g%lld.onnx\"",
             (long long)id, (long long)step, (long long)k);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/onnx");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    return ga_reply(r, 200, resp);
}

/* ---- the planes of 2D runs --------------------------------------------------- */

enum MHD_Result ga_route_run_planes(struct ga_req *r)
{
    return ga_reply_run_steps(r, gd_store_plane_steps, "planes", "/api/v1/runs/%lld/planes/%lld");
}

/* size x size floats of a plane's array as rows of numbers. */
static json_t *rows(const uint8_t *arr, int size)
{
    json_t *out = json_array();
    for (int i = 0; i < size; i++) {
        json_t *row = json_array();
        for (int j = 0; j < size; j++)
            json_array_append_new(row,
                                  ga_json_number(gc_plane_f32(arr, (size_t)i * size + (size_t)j)));
        json_array_append_new(out, row);
    }
    return out;
}

enum MHD_Result ga_route_run_plane(struct ga_req *r)
{
    int64_t id = r->id, step = r->step;
    enum MHD_Result ret;
    if (ga_need_run(r, id, NULL, &ret) != 0)
        return ret;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int64_t got = 0;
    struct gc_error err = {0};
    if (gd_store_plane_get(r->srv->store, id, step, &bytes, &len, &got, &err) != 0) {
        if (err.code == GC_ENOTFOUND)
            gc_error_set(&err, GC_ENOTFOUND,
                         "run %lld has no plane at step %lld (only 2D runs "
                         "have them, at their sample steps)",
                         (long long)id, (long long)step);
        return ga_reply_error(r, &err);
    }
    struct gc_plane p;
    if (gc_plane_parse(bytes, len, &p, &err) != 0) {
        free(bytes);
        gc_error_set(&err, GC_EIO, "the plane of run %lld at step %lld is damaged: %s",
                     (long long)id, (long long)got, err.msg);
        return ga_reply_error(r, &err);
    }
    json_t *modes = json_array();
    for (int i = 0; i < p.k; i++)
        json_array_append_new(
            modes, json_pack("[o,o]", ga_json_number(gc_plane_f32(p.centers, 2 * (size_t)i)),
                             ga_json_number(gc_plane_f32(p.centers, 2 * (size_t)i + 1))));
    json_t *o = json_pack("{s:I,s:i,s:f,s:f,s:o,s:s,s:o,s:o}", "step", (json_int_t)got, "size",
                          p.size, "range", (double)p.range, "sigma", (double)p.sigma, "modes",
                          modes, "d_output", p.raw ? "score" : "probability", "density",
                          rows(p.density, p.size), "d", rows(p.d, p.size));
    free(bytes);
    return ga_reply_json(r, 200, o);
}
