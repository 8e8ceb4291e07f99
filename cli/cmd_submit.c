/* cmd_submit.c — `ganctl submit` (see cmd_submit.h).
 *
 * The words are read twice: first for the spec file and the switches, then to apply
 * every spec flag, in order, on top of the file (spec.h), so a flag always wins over
 * the file and a later --set over an earlier flag. */
#include "cli/cmd_submit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/output.h"
#include "cli/request.h"
#include "cli/spec.h"
#include "cli/watch.h"

enum {
    S_DATASET = 100,
    S_PRESET,
    S_LOSS,
    S_ARCH,
    S_STEPS,
    S_BATCH,
    S_SEED,
    S_SMOOTH,
    S_FM,
    S_UNROLL,
    S_GENS,
    S_PATCH,
    S_NAME,
    S_SET,
    S_DRY,
    S_WATCH,
};

static const struct ctl_opt submit_opts[] = {
    {"dataset", 0, 1, S_DATASET},
    {"preset", 0, 1, S_PRESET},
    {"loss", 0, 1, S_LOSS},
    {"arch", 0, 1, S_ARCH},
    {"steps", 0, 1, S_STEPS},
    {"batch-size", 0, 1, S_BATCH},
    {"seed", 0, 1, S_SEED},
    {"label-smoothing", 0, 1, S_SMOOTH},
    {"feature-matching", 0, 0, S_FM},
    {"unrolled-steps", 0, 1, S_UNROLL},
    {"generators", 0, 1, S_GENS},
    {"patch", 0, 0, S_PATCH},
    {"name", 0, 1, S_NAME},
    {"set", 0, 1, S_SET},
    {"dry-run", 0, 0, S_DRY},
    {"watch", 'w', 0, S_WATCH},
    {NULL, 0, 0, 0},
};

/* Only the type is checked here: the ranges are the daemon's to judge, and it names
 * the field when one is out of range. */
static int set_int(json_t *spec, const char *path, const char *flag, const char *v,
                   struct ctl_error *err)
{
    long long n;
    if (ctl_parse_i64(v, INT64_MIN, INT64_MAX, &n))
        return ctl_usage(err, "submit", "--%s wants an integer, not '%s'", flag, v);
    return ctl_spec_set(spec, path, json_integer(n), err);
}

static int apply_submit_opt(json_t *spec, int id, const char *v, struct ctl_error *err)
{
    switch (id) {
    case S_DATASET:
        return ctl_spec_set(spec, "dataset.name", json_string(v), err);
    case S_PRESET:
        return ctl_spec_set(spec, "preset", json_string(v), err);
    case S_LOSS:
        return ctl_spec_set(spec, "loss", json_string(v), err);
    case S_ARCH:
        return ctl_spec_set(spec, "model.arch", json_string(v), err);
    case S_STEPS:
        return set_int(spec, "train.steps", "steps", v, err);
    case S_BATCH:
        return set_int(spec, "train.batch_size", "batch-size", v, err);
    case S_SEED:
        return set_int(spec, "train.seed", "seed", v, err);
    case S_UNROLL:
        return set_int(spec, "tricks.unrolled_steps", "unrolled-steps", v, err);
    case S_GENS:
        return set_int(spec, "tricks.generators", "generators", v, err);
    case S_SMOOTH: {
        json_t *ls = ctl_spec_label_smoothing(v);
        if (!ls)
            return ctl_usage(err, "submit", "--label-smoothing wants LO,HI or one number, not '%s'",
                             v);
        return ctl_spec_set(spec, "tricks.label_smoothing", ls, err);
    }
    case S_FM:
        return ctl_spec_set(spec, "tricks.feature_matching", json_true(), err);
    case S_PATCH:
        return ctl_spec_set(spec, "model.patch", json_true(), err);
    case S_NAME:
        return ctl_spec_set(spec, "name", json_string(v), err);
    case S_SET:
        return ctl_spec_assign(spec, v, err);
    default:
        return 0;
    }
}

int ctl_cmd_submit(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v, *file = NULL;
    int k, dry = 0, watch = 0, rc;
    json_t *spec = NULL, *run = NULL;

    ctl_args_init(&a, argc, argv, ctl_global_opts, submit_opts);
    while ((k = ctl_ctx_next(ctx, &a, "submit", &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (k == CTL_ARG_POSITIONAL) {
            if (file)
                return ctl_usage(err, "submit", "one spec file only; '%s' is one too many", v);
            file = v;
        }
        dry |= k == S_DRY;
        watch |= k == S_WATCH;
    }
    if (file) {
        if ((rc = ctl_spec_load(file, &spec, err)))
            return rc;
    } else if (!(spec = json_object())) {
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    }
    /* Every word parsed in the first pass, so this one meets no errors. */
    ctl_args_init(&a, argc, argv, ctl_global_opts, submit_opts);
    while ((k = ctl_args_next(&a, &v, err)) != CTL_ARG_END) {
        if ((rc = apply_submit_opt(spec, k, v, err)))
            goto out;
    }
    if (json_object_size(spec) == 0) {
        rc = ctl_usage(err, "submit", "give a SPEC.json file or at least --dataset");
        goto out;
    }
    if (dry) {
        ctl_print_json(spec);
        rc = 0;
        goto out;
    }
    /* 15 digits: what a user types as 0.7 goes out as 0.7, not 0.69999999999999996. */
    char *body = json_dumps(spec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (!body) {
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
        goto out;
    }
    rc = ctl_call_json(ctx, "POST", "/api/v1/runs", body, &run, err);
    free(body);
    if (rc)
        goto out;
    json_t *id = json_object_get(run, "id");
    if (!json_is_integer(id)) {
        rc = ctl_error_set(err, CTL_EFAIL, "the daemon's run object has no id");
        goto out;
    }
    if (ctx->json)
        ctl_print_json(run);
    else
        printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(id));
    fflush(stdout);
    if (watch) {
        struct ctl_client *c;
        if ((rc = ctl_ctx_client(ctx, &c, err)))
            goto out;
        /* Plain lines, not JSON ones: stdout holds the new run's id or object. */
        struct ctl_watch_opts wo = {.run = json_integer_value(id),
                                    .json = 0,
                                    .fancy = ctx->fancy,
                                    .retry_for_s = 300,
                                    .token = ctx->token};
        rc = ctl_watch(c, &wo, err);
    }
out:
    json_decref(spec);
    json_decref(run);
    return rc;
}
