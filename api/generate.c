/* generate.c — what a run's generator makes, from its newest checkpoint: samples
 * (POST /api/v1/runs/{id}/generate), the generator as an ONNX model
 * (GET /api/v1/runs/{id}/export?format=onnx), and the planes of a 2D run
 * (GET /api/v1/runs/{id}/planes, /planes/{step}) (docs/api.md). A conditional run's
 * samples are of the classes asked, checked against the classes of its checkpoint.
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
#include "core/data.h"
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
    json_t *z;   /* borrowed from the body: the noise vectors given, or NULL */
    json_t *cls; /* borrowed: "class" (one) or "classes" (an array), or NULL */
    int m;       /* the number of classes asked (0: none) */
};

static void field_problem(json_t *errors, const char *field, const char *message)
{
    json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", message));
}

/* The body's class (one) or classes (an array) into g, type-checked: each a class index
 * (an integer) or name (a string); whether the run has them is known once its trainer
 * is restored. */
static void read_classes(json_t *body, struct gen_req *g, json_t *errors)
{
    json_t *one = json_object_get(body, "class"), *many = json_object_get(body, "classes");
    if (one && many) {
        field_problem(errors, "classes", "give class or classes, not both");
        return;
    }
    if (one) {
        if (!json_is_integer(one) && !json_is_string(one)) {
            field_problem(errors, "class",
                          "must be a class index (an integer) or a class name (a string)");
            return;
        }
        g->cls = one;
        g->m = 1;
        return;
    }
    if (!many)
        return;
    if (!json_is_array(many) || json_array_size(many) < 1 || json_array_size(many) > GENERATE_MAX) {
        field_problem(errors, "classes", "must be an array of 1 to 1024 class indices or names");
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(many, i, e)
    {
        if (!json_is_integer(e) && !json_is_string(e)) {
            char f[32];
            snprintf(f, sizeof f, "classes[%zu]", i);
            field_problem(errors, f,
                          "must be a class index (an integer) or a class name (a string)");
            return;
        }
    }
    g->cls = many;
    g->m = (int)json_array_size(many);
}

/* A class given as its index (a JSON integer: its number in the data) or its name. */
static int class_place(const struct gc_class_list *cl, const json_t *v)
{
    if (json_is_integer(v)) {
        json_int_t k = json_integer_value(v);
        return k >= 0 && k < 256 ? gc_class_list_find_label(cl, (int)k) : -1;
    }
    return gc_class_list_find_name(cl, json_string_value(v));
}

/* "the run has no class 'Hat'; its classes are 0 (T-shirt/top), 1 (Trouser), ..." */
static void no_such_class(const struct gc_class_list *cl, const json_t *v, char *out, size_t cap)
{
    char what[96];
    if (json_is_integer(v))
        snprintf(what, sizeof what, "%lld", (long long)json_integer_value(v));
    else
        snprintf(what, sizeof what, "'%.80s'", json_string_value(v));
    int len = snprintf(out, cap, "the run has no class %s; its classes are", what);
    for (int i = 0; i < cl->n && len > 0 && (size_t)len < cap; i++) {
        if ((size_t)len > cap - 64) {
            snprintf(out + len, cap - (size_t)len, ", ... (%d in all)", cl->n);
            return;
        }
        char num[16];
        snprintf(num, sizeof num, "%d", cl->c[i].label);
        if (strcmp(num, cl->c[i].name) == 0) /* idx and the mixtures: named by number */
            len += snprintf(out + len, cap - (size_t)len, "%s %s", i ? "," : "", num);
        else
            len += snprintf(out + len, cap - (size_t)len, "%s %s (%s)", i ? "," : "", num,
                            cl->c[i].name);
    }
}

/* The places (in the trainer's class list) of the m classes asked, n samples of each in
 * turn, into a malloc'ed m x n array; NULL with the problem in errors (a class the run
 * does not have) or, for no memory, nothing in errors. */
static int *class_places(const struct gc_class_list *cl, const struct gen_req *g, int n,
                         json_t *errors)
{
    int *places = malloc(sizeof(int) * (size_t)g->m * (size_t)n);
    for (int j = 0; places && j < g->m; j++) {
        const json_t *v = json_is_array(g->cls) ? json_array_get(g->cls, (size_t)j) : g->cls;
        int k = class_place(cl, v);
        if (k < 0) {
            char msg[512], f[32];
            no_such_class(cl, v, msg, sizeof msg);
            if (json_is_array(g->cls))
                snprintf(f, sizeof f, "classes[%d]", j);
            else
                snprintf(f, sizeof f, "class");
            field_problem(errors, f, msg);
            free(places);
            return NULL;
        }
        for (int i = 0; i < n; i++)
            places[(size_t)j * n + i] = k;
    }
    return places;
}

/* The body's fields into g, every problem into errors. */
static void read_generate(json_t *body, struct gen_req *g, json_t *errors)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "n") && strcmp(key, "seed") && strcmp(key, "format") && strcmp(key, "z") &&
            strcmp(key, "class") && strcmp(key, "classes"))
            field_problem(errors, key,
                          "unknown field; expected one of: n, seed, format, z, class, classes");
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
    read_classes(body, g, errors);
    json_int_t n = g->z ? (json_int_t)json_array_size(g->z) : g->n;
    if (g->m > 1 && n * g->m > GENERATE_MAX) {
        char msg[128];
        snprintf(msg, sizeof msg, "%lld of each of %d classes makes %lld samples, more than 1024",
                 (long long)n, g->m, (long long)(n * g->m));
        field_problem(errors, g->z ? "z" : "n", msg);
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
    struct gen_req g = {.n = 64, .seed = 1, .format = "png", .z = NULL, .cls = NULL, .m = 0};
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
    if (g.m && !gc_trainer_classes(t)) {
        const char *f = json_is_array(g.cls) ? "classes" : "class";
        gc_trainer_destroy(t);
        json_decref(body);
        json_decref(errors);
        return ga_reply_problem(r, 400, ga_field_error(f, "the run is not conditional"),
                                "%s: run %lld is not conditional (its spec has "
                                "model.conditional false), so it takes no class",
                                f, (long long)id);
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
    /* n samples of each class asked, class after class */
    int *places = NULL, total = (int)(g.m ? g.n * g.m : g.n);
    if (g.m && !json_array_size(errors) &&
        !(places = class_places(gc_trainer_classes(t), &g, (int)g.n, errors)) &&
        !json_array_size(errors))
        field_problem(errors, "classes", "too many to hold");
    json_decref(body);
    if (json_array_size(errors)) {
        free(noise);
        gc_trainer_destroy(t);
        return bad_request(r, errors, "generate");
    }
    json_decref(errors);

    struct gc_error err = {0};
    int c = 0, h = 0, w = 0, rc = 0;
    gc_trainer_sample_shape(t, &c, &h, &w);
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    float *out = malloc(sizeof(float) * per * (size_t)total);
    uint8_t *enc = NULL;
    size_t elen = 0;
    /* several classes: one row of n per class, the same noise down each column */
    int cols = g.m ? (int)g.n : 0;
    if (!out)
        rc = gc_error_set(&err, GC_ENOMEM, "cannot hold %d samples", total);
    else if (noise)
        rc = gc_trainer_generate_from_classes(t, total, noise, (int)g.n, places, out, &err);
    else
        rc = gc_trainer_generate_classes(t, total, (uint64_t)g.seed, places, cols, out, &err);
    free(noise);
    free(places);
    if (rc == 0 && !strcmp(g.format, "png") && g.m > 1)
        rc = gc_trainer_encode_grid(t, out, total, cols, &enc, &elen, &err);
    else if (rc == 0 && !strcmp(g.format, "png"))
        rc = gc_trainer_encode_png(t, out, total, &enc, &elen, &err);
    else if (rc == 0 && !strcmp(g.format, "idx"))
        rc = gc_trainer_encode_idx(t, out, total, &enc, &elen, &err);
    gc_trainer_destroy(t);
    if (rc != 0) {
        free(out);
        return ga_reply_error(r, &err);
    }
    if (!strcmp(g.format, "json")) {
        json_t *o = samples_json(out, total, c, h, w, is2d);
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
