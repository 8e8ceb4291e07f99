/* cmd_export.c — `ganctl export` and `ganctl reproduce` (see cmd_export.h). */
#include "cli/cmd_export.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "cli/request.h"
#include "cli/watch.h"

enum { E_OUT = 100, E_GEN, R_NO_WAIT };

static const struct ctl_opt export_opts[] = {
    {"output", 'o', 1, E_OUT},
    {"generator", 'g', 1, E_GEN},
    {NULL, 0, 0, 0},
};

int ctl_cmd_export(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v, *out = NULL;
    long long gen = 0;
    int64_t id = 0;
    int k, have = 0, rc;
    ctl_args_init(&a, argc, argv, ctl_global_opts, export_opts);
    while ((k = ctl_ctx_next(ctx, &a, "export", &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (k == E_OUT) {
            out = v;
        } else if (k == E_GEN) {
            if (ctl_parse_i64(v, 0, 15, &gen))
                return ctl_usage(err, "export", "--generator wants 0 to 15, not '%s'", v);
        } else if (k == CTL_ARG_POSITIONAL) {
            if (have++)
                return ctl_usage(err, "export", "unexpected argument '%s'", v);
            if ((rc = ctl_parse_run_id("export", v, &id, err)))
                return rc;
        }
    }
    if (!have)
        return ctl_usage(err, "export", "missing the run ID");
    char path[128], file[64];
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/export?format=onnx&generator=%lld", id,
             gen);
    if (!out) {
        snprintf(file, sizeof file, "run-%" PRId64 ".onnx", id);
        out = file;
    }
    return ctl_download(ctx, "GET", path, NULL, out, err);
}

/* ---- reproduce ----------------------------------------------------------------------- */

static const struct ctl_opt reproduce_opts[] = {
    {"retry-for", 0, 1, R_NO_WAIT},
    {NULL, 0, 0, 0},
};

/* The sha256 of the run's checkpoint at its last step ("" when it has none). */
static int final_sha(struct ctl_ctx *ctx, int64_t id, long long steps, char *out, size_t cap,
                     struct ctl_error *err)
{
    char path[96];
    json_t *res;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/checkpoints", id);
    int rc = ctl_call_json(ctx, "GET", path, NULL, &res, err);
    if (rc)
        return rc;
    out[0] = '\0';
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(res, "checkpoints"), i, c)
    {
        json_t *step = json_object_get(c, "step");
        const char *sha = json_string_value(json_object_get(c, "sha256"));
        if (json_is_integer(step) && json_integer_value(step) == steps && sha)
            snprintf(out, cap, "%s", sha);
    }
    json_decref(res);
    return 0;
}

static const char *const INPUTS[] = {"version", "commit",  "compiler",
                                     "blas",    "threads", "spec_hash"};

int ctl_cmd_reproduce(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    long long retry = 300;
    int64_t id = 0;
    int k, have = 0, rc;
    ctl_args_init(&a, argc, argv, ctl_global_opts, reproduce_opts);
    while ((k = ctl_ctx_next(ctx, &a, "reproduce", &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (k == R_NO_WAIT && ctl_parse_i64(v, 0, 86400 * 365, &retry))
            return ctl_usage(err, "reproduce", "--retry-for wants seconds, not '%s'", v);
        if (k == CTL_ARG_POSITIONAL) {
            if (have++)
                return ctl_usage(err, "reproduce", "unexpected argument '%s'", v);
            if ((rc = ctl_parse_run_id("reproduce", v, &id, err)))
                return rc;
        }
    }
    if (!have)
        return ctl_usage(err, "reproduce", "missing the run ID");

    char path[96];
    json_t *orig = NULL, *made = NULL, *again = NULL;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64, id);
    if ((rc = ctl_call_json(ctx, "GET", path, NULL, &orig, err)))
        return rc;
    const char *status = json_string_value(json_object_get(orig, "status"));
    long long steps = json_integer_value(json_object_get(orig, "steps"));
    if (!status || strcmp(status, "succeeded") != 0) {
        rc = ctl_error_set(err, CTL_EFAIL,
                           "run %" PRId64 " is %s: only a run that succeeded has a final "
                           "checkpoint to compare with",
                           id, status ? status : "?");
        goto out;
    }
    /* the same normalized spec; the name says what it is (the spec hash leaves it out) */
    json_t *spec = json_deep_copy(json_object_get(orig, "spec"));
    char name[160];
    snprintf(name, sizeof name, "reproduce of #%" PRId64, id);
    json_object_set_new(spec, "name", json_string(name));
    char *body = json_dumps(spec, JSON_COMPACT);
    json_decref(spec);
    if (!body) {
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
        goto out;
    }
    rc = ctl_call_json(ctx, "POST", "/api/v1/runs", body, &made, err);
    free(body);
    if (rc)
        goto out;
    int64_t nid = json_integer_value(json_object_get(made, "id"));
    fprintf(stderr, "run %" PRId64 ": training the spec of run %" PRId64 " again\n", nid, id);
    struct ctl_client *c;
    if ((rc = ctl_ctx_client(ctx, &c, err)))
        goto out;
    struct ctl_watch_opts wo = {
        .run = nid,
        .json = 0,
        .fancy = ctx->fancy && !ctx->json,
        .retry_for_s = (int)retry,
        .token = ctx->token,
    };
    if ((rc = ctl_watch(c, &wo, err)))
        goto out;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64, nid);
    if ((rc = ctl_call_json(ctx, "GET", path, NULL, &again, err)))
        goto out;
    char sha_a[80], sha_b[80];
    if ((rc = final_sha(ctx, id, steps, sha_a, sizeof sha_a, err)) ||
        (rc = final_sha(ctx, nid, steps, sha_b, sizeof sha_b, err)))
        goto out;
    int same = sha_a[0] && strcmp(sha_a, sha_b) == 0;
    json_t *pa = json_object_get(orig, "provenance"), *pb = json_object_get(again, "provenance");
    json_t *diff = json_array();
    for (size_t i = 0; i < sizeof INPUTS / sizeof INPUTS[0]; i++)
        if (!json_equal(json_object_get(pa, INPUTS[i]), json_object_get(pb, INPUTS[i])))
            json_array_append_new(diff, json_string(INPUTS[i]));
    if (ctx->json) {
        json_t *o =
            json_pack("{s:I,s:I,s:b,s:s,s:s,s:O,s:O,s:O}", "run", (json_int_t)id, "reproduction",
                      (json_int_t)nid, "identical", same, "sha256", sha_a, "reproduction_sha256",
                      sha_b, "differing_inputs", diff, "provenance", pa ? pa : json_null(),
                      "reproduction_provenance", pb ? pb : json_null());
        ctl_print_json(o);
        json_decref(o);
    } else if (same) {
        printf("identical: the final checkpoints of runs %" PRId64 " and %" PRId64
               " (step %lld) are byte for byte the same\n  sha256 %s\n",
               id, nid, steps, sha_a);
    } else {
        printf("different: the final checkpoints of runs %" PRId64 " and %" PRId64
               " (step %lld) differ\n  %" PRId64 "  sha256 %s\n  %" PRId64 "  sha256 %s\n",
               id, nid, steps, id, sha_a[0] ? sha_a : "(none)", nid, sha_b[0] ? sha_b : "(none)");
        if (json_array_size(diff) == 0) {
            printf("  the recorded inputs (version, commit, compiler, BLAS, threads, spec) are "
                   "all the same\n");
        }
        size_t i;
        json_t *input;
        json_array_foreach(diff, i, input)
        {
            const char *key = json_string_value(input);
            char va[160], vb[160];
            json_t *x = json_object_get(pa, key), *y = json_object_get(pb, key);
            if (json_is_string(x))
                snprintf(va, sizeof va, "%s", json_string_value(x));
            else
                ctl_fmt_number(x, va, sizeof va);
            if (json_is_string(y))
                snprintf(vb, sizeof vb, "%s", json_string_value(y));
            else
                ctl_fmt_number(y, vb, sizeof vb);
            printf("  %-10s %s -> %s\n", key, va, vb);
        }
    }
    json_decref(diff);
    if (!same)
        rc = CTL_ENOTSAME;
out:
    json_decref(orig);
    json_decref(made);
    json_decref(again);
    return rc;
}
