/* commands.c — what each ganctl verb does (see commands.h).
 *
 * Every command follows the same shape: parse its words, make one or a few requests,
 * and either print the API's object (--json) or a human view of it. A non-2xx answer
 * goes through ctl_problem_report(), the one place that turns problems into messages
 * and exit codes. Files are written next to their target and renamed into place, so a
 * failed download never leaves half a file under the name asked for. */
#include "cli/commands.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/problem.h"
#include "cli/spec.h"
#include "cli/table.h"
#include "cli/watch.h"

const struct ctl_opt ctl_global_opts[] = {
    {"addr", 0, 1, CTL_OPT_ADDR},       {"token-file", 0, 1, CTL_OPT_TOKEN_FILE},
    {"json", 0, 0, CTL_OPT_JSON},       {"help", 'h', 0, CTL_OPT_HELP},
    {"version", 0, 0, CTL_OPT_VERSION}, {NULL, 0, 0, 0},
};

int ctl_ctx_global(struct ctl_ctx *ctx, int id, const char *value)
{
    switch (id) {
    case CTL_OPT_ADDR:
        ctx->addr = value;
        return 1;
    case CTL_OPT_TOKEN_FILE:
        ctx->token_file = value;
        return 1;
    case CTL_OPT_JSON:
        ctx->json = 1;
        return 1;
    case CTL_OPT_HELP:    /* main() handles help before the command runs */
    case CTL_OPT_VERSION: /* and --version before any command */
        return 1;
    default:
        return 0;
    }
}

static int read_token_file(const char *path, char **out, struct ctl_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ctl_error_set(err, CTL_EIO, "token file %s: %s", path, strerror(errno));
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return ctl_error_set(err, CTL_EIO, "token file %s: read error", path);
    buf[n] = '\0';
    /* Files usually end in a newline; the token is the first line, trimmed. */
    char *s = buf;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    s[strcspn(s, "\r\n")] = '\0';
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        s[--len] = '\0';
    if (len == 0)
        return ctl_error_set(err, CTL_EUSAGE, "token file %s is empty", path);
    *out = strdup(s);
    return *out ? 0 : ctl_error_set(err, CTL_ENOMEM, "out of memory");
}

int ctl_ctx_client(struct ctl_ctx *ctx, struct ctl_client **out, struct ctl_error *err)
{
    if (!ctx->client) {
        if (!ctx->token) {
            const char *env = getenv("GANCTL_TOKEN");
            int rc = 0;
            if (ctx->token_file)
                rc = read_token_file(ctx->token_file, &ctx->token, err);
            else if (env && *env && !(ctx->token = strdup(env)))
                rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
            if (rc)
                return rc;
        }
        ctx->client = ctl_client_create(ctx->addr, ctx->token, err);
        if (!ctx->client)
            return err ? err->code : CTL_EFAIL;
    }
    *out = ctx->client;
    return 0;
}

void ctl_ctx_fini(struct ctl_ctx *ctx)
{
    ctl_client_destroy(ctx->client);
    ctx->client = NULL;
    free(ctx->token);
    ctx->token = NULL;
}

/* ---- shared helpers ---------------------------------------------------------------- */

static int usage(struct ctl_error *err, const char *cmd, const char *fmt, const char *arg)
{
    char msg[320];
    snprintf(msg, sizeof msg, fmt, arg);
    return ctl_error_set(err, CTL_EUSAGE, "%s: %s (see 'ganctl %s --help')", cmd, msg, cmd);
}

static int parse_id(const char *cmd, const char *s, int64_t *id, struct ctl_error *err)
{
    long long v;
    if (ctl_parse_i64(s, 1, INT64_MAX, &v))
        return usage(err, cmd, "the run ID must be a positive integer, not '%s'", s);
    *id = v;
    return 0;
}

/* Parses the words of a command that takes exactly one run ID and no options of its
 * own beyond opts (whose ids come back through *extra, one at a time, NULL opts: none). */
static int parse_id_only(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, int64_t *id,
                         struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0;
    ctl_args_init(&a, argc, argv, ctl_global_opts, NULL);
    while ((k = ctl_args_next(&a, &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return usage(err, cmd, "%s", err->msg);
        if (ctl_ctx_global(ctx, k, v))
            continue;
        if (have++)
            return usage(err, cmd, "unexpected argument '%s'", v);
        if (parse_id(cmd, v, id, err))
            return err->code;
    }
    if (!have)
        return usage(err, cmd, "%s", "missing the run ID");
    return 0;
}

/* Sends one request; 0 with *out (caller frees) for a 2xx, else the problem reported. */
static int call(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
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

/* Like call() for an answer that must be a JSON object; *out is a new reference. */
static int call_json(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
                     json_t **out, struct ctl_error *err)
{
    struct ctl_response r;
    json_error_t je;
    int rc = call(ctx, method, path, body, &r, err);
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

/* 15 significant digits, as the daemon writes them: the numbers come out as sent. */
static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
    }
    free(s);
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

/* Downloads path into file (or stdout for "-"). */
static int download(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
                    const char *file, struct ctl_error *err)
{
    struct ctl_response r;
    int rc = call(ctx, method, path, body, &r, err);
    if (rc)
        return rc;
    rc = write_file(file, r.body, r.len, err);
    if (rc == 0 && strcmp(file, "-") != 0)
        fprintf(stderr, "wrote %s (%zu bytes)\n", file, r.len);
    ctl_response_fini(&r);
    return rc;
}

/* RFC 3339 UTC ("2026-11-27T06:45:13Z", fractions and offsets allowed) to epoch. */
static int parse_time(const char *s, time_t *out)
{
    struct tm tm;
    int n = 0;
    memset(&tm, 0, sizeof tm);
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    const char *p = s + n;
    if (*p == '.')
        while (*++p >= '0' && *p <= '9')
            ;
    int oh, om;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
        t -= (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    *out = t;
    return 0;
}

static void fmt_age(const char *rfc3339, char *out, size_t cap)
{
    time_t t;
    if (parse_time(rfc3339, &t)) {
        snprintf(out, cap, "-");
        return;
    }
    long d = (long)difftime(time(NULL), t);
    if (d < 0)
        d = 0;
    if (d < 120)
        snprintf(out, cap, "%lds", d);
    else if (d < 7200)
        snprintf(out, cap, "%ldm", d / 60);
    else if (d < 172800)
        snprintf(out, cap, "%ldh", d / 3600);
    else
        snprintf(out, cap, "%ldd", d / 86400);
}

static void fmt_number(json_t *v, char *out, size_t cap)
{
    if (json_is_integer(v))
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_number(v))
        snprintf(out, cap, "%.4g", json_number_value(v));
    else
        snprintf(out, cap, "-");
}

/* ---- submit -------------------------------------------------------------------------- */

enum {
    S_DATASET = 100,
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
        return ctl_error_set(err, CTL_EUSAGE,
                             "submit: --%s wants an integer, not '%s' (see 'ganctl submit --help')",
                             flag, v);
    return ctl_spec_set(spec, path, json_integer(n), err);
}

static int apply_submit_opt(json_t *spec, int id, const char *v, struct ctl_error *err)
{
    switch (id) {
    case S_DATASET:
        return ctl_spec_set(spec, "dataset.name", json_string(v), err);
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
            return usage(err, "submit", "--label-smoothing wants LO,HI or one number, not '%s'", v);
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

static int cmd_submit(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v, *file = NULL;
    int k, dry = 0, watch = 0, rc;
    json_t *spec = NULL, *run = NULL;

    /* First pass: the spec file and the switches; the flags apply on top of the file. */
    ctl_args_init(&a, argc, argv, ctl_global_opts, submit_opts);
    while ((k = ctl_args_next(&a, &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return usage(err, "submit", "%s", err->msg);
        if (ctl_ctx_global(ctx, k, v))
            continue;
        if (k == CTL_ARG_POSITIONAL) {
            if (file)
                return usage(err, "submit", "one spec file only; '%s' is one too many", v);
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
    ctl_args_init(&a, argc, argv, ctl_global_opts, submit_opts);
    while ((k = ctl_args_next(&a, &v, err)) != CTL_ARG_END) {
        if ((rc = apply_submit_opt(spec, k, v, err)))
            goto out;
    }
    if (json_object_size(spec) == 0) {
        rc = usage(err, "submit", "%s", "give a SPEC.json file or at least --dataset");
        goto out;
    }
    /* 15 digits: what a user types as 0.7 goes out as 0.7, not 0.69999999999999996. */
    char *body = json_dumps(spec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (!body) {
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
        goto out;
    }
    if (dry) {
        char *pretty =
            json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        if (pretty)
            puts(pretty);
        free(pretty);
        free(body);
        rc = 0;
        goto out;
    }
    rc = call_json(ctx, "POST", "/api/v1/runs", body, &run, err);
    free(body);
    if (rc)
        goto out;
    json_t *id = json_object_get(run, "id");
    if (!json_is_integer(id)) {
        rc = ctl_error_set(err, CTL_EFAIL, "the daemon's run object has no id");
        goto out;
    }
    if (ctx->json)
        print_json(run);
    else
        printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(id));
    fflush(stdout);
    if (watch) {
        struct ctl_client *c;
        if ((rc = ctl_ctx_client(ctx, &c, err)))
            goto out;
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

/* ---- ls -------------------------------------------------------------------------- */

enum { L_STATUS = 100, L_LIMIT };

static const struct ctl_opt ls_opts[] = {
    {"status", 's', 1, L_STATUS},
    {"limit", 0, 1, L_LIMIT},
    {NULL, 0, 0, 0},
};

static void progress_cell(json_t *run, char *out, size_t cap)
{
    json_t *step = json_object_get(run, "step"), *steps = json_object_get(run, "steps");
    if (json_is_integer(step) && json_is_integer(steps) && json_integer_value(steps) > 0) {
        long long s = json_integer_value(step), n = json_integer_value(steps);
        snprintf(out, cap, "%lld/%lld %d%%", s, n, (int)(100.0 * (double)s / (double)n));
    } else if (json_is_integer(step)) {
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(step));
    } else {
        snprintf(out, cap, "-");
    }
}

static int cmd_ls(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v, *status = NULL;
    long long limit = 0;
    int k, rc = 0;

    ctl_args_init(&a, argc, argv, ctl_global_opts, ls_opts);
    while ((k = ctl_args_next(&a, &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return usage(err, "ls", "%s", err->msg);
        if (ctl_ctx_global(ctx, k, v))
            continue;
        if (k == L_STATUS)
            status = v;
        else if (k == L_LIMIT && ctl_parse_i64(v, 1, 1000000, &limit))
            return usage(err, "ls", "--limit wants a positive integer, not '%s'", v);
        else if (k == CTL_ARG_POSITIONAL)
            return usage(err, "ls", "unexpected argument '%s'", v);
    }

    json_t *all = json_array();
    char *cursor = NULL;
    char *status_q = status ? ctl_url_escape(status) : NULL;
    if (!all || (status && !status_q)) {
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
        goto out;
    }
    /* Follow the cursor to the end (or the limit); a cursor that repeats ends it too. */
    for (int page = 0; page < 100000; page++) {
        char path[512];
        long long want = limit ? limit - (long long)json_array_size(all) : 100;
        if (want <= 0)
            break;
        snprintf(path, sizeof path, "/api/v1/runs?limit=%lld%s%s%s%s", want > 100 ? 100 : want,
                 status_q ? "&status=" : "", status_q ? status_q : "", cursor ? "&cursor=" : "",
                 cursor ? cursor : "");
        json_t *res;
        if ((rc = call_json(ctx, "GET", path, NULL, &res, err)))
            goto out;
        json_t *runs = json_object_get(res, "runs");
        if (!json_is_array(runs)) {
            json_decref(res);
            rc = ctl_error_set(err, CTL_EFAIL, "the daemon's run list has no \"runs\" array");
            goto out;
        }
        size_t got = json_array_size(runs);
        if (json_array_extend(all, runs) != 0) {
            json_decref(res);
            rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
            goto out;
        }
        const char *next = json_string_value(json_object_get(res, "next_cursor"));
        char *next_q = next && *next ? ctl_url_escape(next) : NULL;
        int same = next_q && cursor && strcmp(next_q, cursor) == 0;
        free(cursor);
        cursor = next_q;
        json_decref(res);
        if (!cursor || same || got == 0)
            break;
    }
    while (limit && (long long)json_array_size(all) > limit)
        json_array_remove(all, json_array_size(all) - 1);

    if (ctx->json) {
        json_t *o = json_pack("{sOsn}", "runs", all, "next_cursor");
        print_json(o);
        json_decref(o);
        goto out;
    }
    if (json_array_size(all) == 0) {
        fprintf(stderr, "no runs%s%s\n", status ? " with status " : "", status ? status : "");
        goto out;
    }
    static const char *const headers[] = {"ID",     "NAME",   "STATUS", "PROGRESS",
                                          "LOSS_D", "LOSS_G", "AGE"};
    struct ctl_table *t = ctl_table_create(7, headers);
    if (!t) {
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
        goto out;
    }
    size_t i;
    json_t *run;
    json_array_foreach(all, i, run)
    {
        char id[32], prog[64], ld[32], lg[32], age[32];
        json_t *latest = json_object_get(run, "latest");
        fmt_number(json_object_get(run, "id"), id, sizeof id);
        progress_cell(run, prog, sizeof prog);
        fmt_number(json_object_get(latest, "loss_d"), ld, sizeof ld);
        fmt_number(json_object_get(latest, "loss_g"), lg, sizeof lg);
        fmt_age(json_string_value(json_object_get(run, "created_at")), age, sizeof age);
        const char *name = json_string_value(json_object_get(run, "name"));
        const char *st = json_string_value(json_object_get(run, "status"));
        const char *cells[] = {id, name && *name ? name : "-", st ? st : "-", prog, ld, lg, age};
        if ((rc = ctl_table_add(t, cells, err)))
            break;
    }
    if (rc == 0)
        ctl_table_print(t, stdout);
    ctl_table_destroy(t);
out:
    json_decref(all);
    free(cursor);
    free(status_q);
    return rc;
}

/* ---- show -------------------------------------------------------------------------- */

static void print_figures(const char *label, json_t *obj)
{
    const char *key;
    json_t *v;
    int first = 1;
    if (json_object_size(obj) == 0)
        return;
    printf("%-10s", label);
    json_object_foreach(obj, key, v)
    {
        char num[32];
        fmt_number(v, num, sizeof num);
        printf("%s%s %s", first ? "" : "  ", key, num);
        first = 0;
    }
    putchar('\n');
}

static void print_time(const char *label, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s) {
        printf("%-10s-\n", label);
        return;
    }
    char age[32];
    fmt_age(s, age, sizeof age);
    printf("%-10s%s (%s ago)\n", label, s, age);
}

static int cmd_show(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    int64_t id;
    json_t *run;
    char path[64];
    int rc = parse_id_only(ctx, "show", argc, argv, &id, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64, id);
    if ((rc = call_json(ctx, "GET", path, NULL, &run, err)))
        return rc;
    if (ctx->json) {
        print_json(run);
        json_decref(run);
        return 0;
    }
    char num[32], prog[64];
    const char *name = json_string_value(json_object_get(run, "name"));
    const char *status = json_string_value(json_object_get(run, "status"));
    const char *error = json_string_value(json_object_get(run, "error"));
    fmt_number(json_object_get(run, "id"), num, sizeof num);
    progress_cell(run, prog, sizeof prog);
    printf("%-10s%s\n", "id", num);
    printf("%-10s%s\n", "name", name && *name ? name : "-");
    printf("%-10s%s\n", "status", status ? status : "-");
    printf("%-10s%s\n", "progress", prog);
    print_time("created", json_object_get(run, "created_at"));
    print_time("started", json_object_get(run, "started_at"));
    print_time("finished", json_object_get(run, "finished_at"));
    if (error && *error)
        printf("%-10s%s\n", "error", error);
    print_figures("latest", json_object_get(run, "latest"));
    print_figures("eval", json_object_get(run, "eval"));
    json_t *spec = json_object_get(run, "spec");
    if (spec) {
        char *s = json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        printf("spec      %s\n", s ? s : "?");
        free(s);
    }
    json_decref(run);
    return 0;
}

/* ---- watch -------------------------------------------------------------------------- */

enum { W_RETRY = 100 };

static const struct ctl_opt watch_opts[] = {
    {"retry-for", 0, 1, W_RETRY},
    {NULL, 0, 0, 0},
};

static int cmd_watch(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0, rc;
    long long retry = 300;
    int64_t id = 0;

    ctl_args_init(&a, argc, argv, ctl_global_opts, watch_opts);
    while ((k = ctl_args_next(&a, &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return usage(err, "watch", "%s", err->msg);
        if (ctl_ctx_global(ctx, k, v))
            continue;
        if (k == W_RETRY && ctl_parse_i64(v, 0, 86400 * 365, &retry))
            return usage(err, "watch", "--retry-for wants seconds (0: forever), not '%s'", v);
        if (k == CTL_ARG_POSITIONAL) {
            if (have++)
                return usage(err, "watch", "unexpected argument '%s'", v);
            if ((rc = parse_id("watch", v, &id, err)))
                return rc;
        }
    }
    if (!have)
        return usage(err, "watch", "%s", "missing the run ID");
    struct ctl_client *c;
    if ((rc = ctl_ctx_client(ctx, &c, err)))
        return rc;
    struct ctl_watch_opts wo = {
        .run = id,
        .json = ctx->json,
        .fancy = ctx->fancy && !ctx->json,
        .retry_for_s = (int)retry,
        .token = ctx->token,
    };
    return ctl_watch(c, &wo, err);
}

/* ---- cancel, pause, resume, rm -------------------------------------------------------- */

/* done: the statuses that mean the action has taken effect (a cancel or pause of a
 * running run lands within a step, so the answer may still say running). */
static int run_action(struct ctl_ctx *ctx, const char *cmd, const char *action, const char *done,
                      int argc, char **argv, struct ctl_error *err)
{
    int64_t id;
    json_t *run;
    char path[96];
    int rc = parse_id_only(ctx, cmd, argc, argv, &id, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/%s", id, action);
    if ((rc = call_json(ctx, "POST", path, NULL, &run, err)))
        return rc;
    if (ctx->json) {
        print_json(run);
    } else {
        const char *status = json_string_value(json_object_get(run, "status"));
        if (!status)
            status = "?";
        if (strstr(done, status))
            fprintf(stderr, "run %" PRId64 ": %s\n", id, status);
        else
            fprintf(stderr, "run %" PRId64 ": %s requested (now %s)\n", id, cmd, status);
    }
    json_decref(run);
    return 0;
}

static int cmd_cancel(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    return run_action(ctx, "cancel", "cancel", "canceled", argc, argv, err);
}

static int cmd_pause(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    return run_action(ctx, "pause", "pause", "paused", argc, argv, err);
}

static int cmd_resume(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    return run_action(ctx, "resume", "resume", "queued running", argc, argv, err);
}

static int cmd_rm(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    int64_t id;
    struct ctl_response r;
    char path[64];
    int rc = parse_id_only(ctx, "rm", argc, argv, &id, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64, id);
    if ((rc = call(ctx, "DELETE", path, NULL, &r, err)))
        return rc;
    ctl_response_fini(&r);
    fprintf(stderr, "run %" PRId64 ": deleted\n", id);
    return 0;
}

/* ---- metrics ---------------------------------------------------------------------- */

enum { M_CSV = 100, M_FROM, M_TO, M_MAX };

static const struct ctl_opt metrics_opts[] = {
    {"csv", 0, 0, M_CSV},    {"from-step", 0, 1, M_FROM},
    {"to-step", 0, 1, M_TO}, {"max-points", 0, 1, M_MAX},
    {NULL, 0, 0, 0},
};

struct point {
    long long step;
    double value;
};

static int cmp_point(const void *a, const void *b)
{
    long long x = ((const struct point *)a)->step, y = ((const struct point *)b)->step;
    return (x > y) - (x < y);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* One table row per step that any series has, one column per series. */
static int metrics_table(json_t *metrics, struct ctl_table **out, struct ctl_error *err)
{
    size_t ncols = json_object_size(metrics), total = 0, c = 0;
    const char *key;
    json_t *series;
    int rc = 0;
    struct point **cols = calloc(ncols + 1, sizeof *cols);
    size_t *lens = calloc(ncols + 1, sizeof *lens);
    const char **headers = calloc(ncols + 1, sizeof *headers);
    long long *steps = NULL;
    const char **cells = calloc(ncols + 1, sizeof *cells);
    char *text = calloc(ncols + 1, 32);
    if (!cols || !lens || !headers || !cells || !text)
        goto oom;
    headers[0] = "step";
    json_object_foreach(metrics, key, series)
    {
        size_t n = json_array_size(series), m = 0;
        headers[c + 1] = key;
        cols[c] = calloc(n + 1, sizeof **cols);
        if (!cols[c])
            goto oom;
        for (size_t i = 0; i < n; i++) {
            json_t *p = json_array_get(series, i);
            json_t *s = json_array_get(p, 0), *v = json_array_get(p, 1);
            if (!json_is_number(s))
                continue;
            cols[c][m].step = (long long)json_number_value(s);
            /* null marks a value that could not be stored as a number (NaN, Inf). */
            cols[c][m].value = json_is_number(v) ? json_number_value(v) : NAN;
            m++;
        }
        qsort(cols[c], m, sizeof **cols, cmp_point);
        lens[c] = m;
        total += m;
        c++;
    }
    steps = malloc((total + 1) * sizeof *steps);
    if (!steps)
        goto oom;
    size_t ns = 0;
    for (c = 0; c < ncols; c++)
        for (size_t i = 0; i < lens[c]; i++)
            steps[ns++] = cols[c][i].step;
    qsort(steps, ns, sizeof *steps, cmp_ll);
    *out = ctl_table_create((int)ncols + 1, headers);
    if (!*out)
        goto oom;
    size_t *pos = calloc(ncols + 1, sizeof *pos);
    if (!pos)
        goto oom;
    for (size_t i = 0; i < ns && rc == 0; i++) {
        if (i > 0 && steps[i] == steps[i - 1])
            continue;
        char stepbuf[32];
        snprintf(stepbuf, sizeof stepbuf, "%lld", steps[i]);
        cells[0] = stepbuf;
        for (c = 0; c < ncols; c++) {
            /* Both are sorted by step: walk each column along with the steps. */
            while (pos[c] < lens[c] && cols[c][pos[c]].step < steps[i])
                pos[c]++;
            char *cell = text + 32 * (c + 1);
            if (pos[c] < lens[c] && cols[c][pos[c]].step == steps[i])
                snprintf(cell, 32, "%.6g", cols[c][pos[c]].value);
            else
                cell[0] = '\0';
            cells[c + 1] = cell;
        }
        rc = ctl_table_add(*out, cells, err);
    }
    free(pos);
    goto done;
oom:
    rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
done:
    for (c = 0; cols && c < ncols; c++)
        free(cols[c]);
    free(cols);
    free(lens);
    free(headers);
    free(steps);
    free(cells);
    free(text);
    if (rc) {
        ctl_table_destroy(*out);
        *out = NULL;
    }
    return rc;
}

static int append(char **buf, size_t *len, size_t *cap, const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b);
    if (*len + n + 1 > *cap) {
        size_t c = (*cap + n + 1) * 2;
        char *p = realloc(*buf, c);
        if (!p)
            return -1;
        *buf = p;
        *cap = c;
    }
    *len += (size_t)sprintf(*buf + *len, "%s%s", a, b);
    return 0;
}

static int cmd_metrics(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0, csv = 0, rc = 0;
    int64_t id = 0;
    long long num;
    char *path = NULL;
    size_t len = 0, cap = 0;
    char *esc = NULL;
    json_t *res = NULL;

    /* The path grows as names come; "?" first, then "&". */
    ctl_args_init(&a, argc, argv, ctl_global_opts, metrics_opts);
    while ((k = ctl_args_next(&a, &v, err)) != CTL_ARG_END) {
        if (k < 0) {
            rc = usage(err, "metrics", "%s", err->msg);
            goto out;
        }
        if (ctl_ctx_global(ctx, k, v))
            continue;
        const char *param = NULL;
        if (k == M_CSV) {
            csv = 1;
        } else if (k == M_FROM || k == M_TO || k == M_MAX) {
            if (ctl_parse_i64(v, k == M_MAX ? 1 : 0, INT64_MAX, &num)) {
                rc = usage(err, "metrics",
                           "--from-step, --to-step and --max-points want a "
                           "number, not '%s'",
                           v);
                goto out;
            }
            param = k == M_FROM ? "from_step=" : k == M_TO ? "to_step=" : "max_points=";
        } else if (k == CTL_ARG_POSITIONAL && !have) {
            have = 1;
            if ((rc = parse_id("metrics", v, &id, err)))
                goto out;
            continue;
        } else if (k == CTL_ARG_POSITIONAL) {
            param = "name=";
        }
        if (param) {
            free(esc);
            if (!(esc = ctl_url_escape(v)) || append(&path, &len, &cap, len ? "&" : "?", param) ||
                append(&path, &len, &cap, "", esc)) {
                rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
                goto out;
            }
        }
    }
    if (!have) {
        rc = usage(err, "metrics", "%s", "missing the run ID");
        goto out;
    }
    char full[4096];
    if (snprintf(full, sizeof full, "/api/v1/runs/%" PRId64 "/metrics%s", id, path ? path : "") >=
        (int)sizeof full) {
        rc = usage(err, "metrics", "%s", "too many metric names");
        goto out;
    }
    if ((rc = call_json(ctx, "GET", full, NULL, &res, err)))
        goto out;
    if (ctx->json) {
        print_json(res);
        goto out;
    }
    json_t *metrics = json_object_get(res, "metrics");
    if (!json_is_object(metrics)) {
        rc = ctl_error_set(err, CTL_EFAIL, "the daemon's answer has no \"metrics\" object");
        goto out;
    }
    struct ctl_table *t = NULL;
    if ((rc = metrics_table(metrics, &t, err)))
        goto out;
    if (csv)
        ctl_table_print_csv(t, stdout);
    else if (ctl_table_rows(t) == 0)
        fprintf(stderr, "no metrics yet\n");
    else
        ctl_table_print(t, stdout);
    ctl_table_destroy(t);
out:
    json_decref(res);
    free(path);
    free(esc);
    return rc;
}

/* ---- samples, generate, checkpoint ----------------------------------------------------- */

enum { F_STEP = 100, F_OUT, F_N, F_SEED, F_FORMAT };

static const struct ctl_opt samples_opts[] = {
    {"step", 0, 1, F_STEP},
    {"output", 'o', 1, F_OUT},
    {NULL, 0, 0, 0},
};

static const struct ctl_opt generate_opts[] = {
    {"output", 'o', 1, F_OUT},    {"count", 'n', 1, F_N}, {"seed", 0, 1, F_SEED},
    {"format", 'f', 1, F_FORMAT}, {NULL, 0, 0, 0},
};

struct file_args {
    int64_t id;
    long long step;
    int have_step;
    const char *out;
    long long n;
    long long seed;
    int have_seed;
    const char *format;
};

static int parse_file_args(struct ctl_ctx *ctx, const char *cmd, const struct ctl_opt *opts,
                           int argc, char **argv, struct file_args *fa, struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0;
    ctl_args_init(&a, argc, argv, ctl_global_opts, opts);
    while ((k = ctl_args_next(&a, &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return usage(err, cmd, "%s", err->msg);
        if (ctl_ctx_global(ctx, k, v))
            continue;
        switch (k) {
        case CTL_ARG_POSITIONAL:
            if (have++)
                return usage(err, cmd, "unexpected argument '%s'", v);
            if (parse_id(cmd, v, &fa->id, err))
                return err->code;
            break;
        case F_STEP:
            if (ctl_parse_i64(v, 0, INT64_MAX, &fa->step))
                return usage(err, cmd, "--step wants a step number, not '%s'", v);
            fa->have_step = 1;
            break;
        case F_OUT:
            fa->out = v;
            break;
        case F_N:
            if (ctl_parse_i64(v, 1, 1000000, &fa->n))
                return usage(err, cmd, "-n wants a positive count, not '%s'", v);
            break;
        case F_SEED:
            if (ctl_parse_i64(v, INT64_MIN, INT64_MAX, &fa->seed))
                return usage(err, cmd, "--seed wants an integer, not '%s'", v);
            fa->have_seed = 1;
            break;
        case F_FORMAT:
            if (strcmp(v, "png") && strcmp(v, "idx") && strcmp(v, "json"))
                return usage(err, cmd, "--format is png, idx or json, not '%s'", v);
            fa->format = v;
            break;
        default:
            break;
        }
    }
    if (!have)
        return usage(err, cmd, "%s", "missing the run ID");
    return 0;
}

static int cmd_samples(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct file_args fa = {0};
    char path[128];
    int rc = parse_file_args(ctx, "samples", samples_opts, argc, argv, &fa, err);
    if (rc)
        return rc;
    if (fa.out) {
        if (fa.have_step)
            snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/samples/%lld.png", fa.id,
                     fa.step);
        else
            snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/samples/latest.png", fa.id);
        return download(ctx, "GET", path, NULL, fa.out, err);
    }
    /* Without -o: the list of sample grids there are. */
    json_t *res;
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/samples", fa.id);
    if ((rc = call_json(ctx, "GET", path, NULL, &res, err)))
        return rc;
    if (ctx->json) {
        print_json(res);
        json_decref(res);
        return 0;
    }
    static const char *const headers[] = {"STEP", "URL"};
    struct ctl_table *t = ctl_table_create(2, headers);
    if (!t) {
        json_decref(res);
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    }
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(res, "samples"), i, s)
    {
        char step[32];
        fmt_number(json_object_get(s, "step"), step, sizeof step);
        const char *url = json_string_value(json_object_get(s, "url"));
        const char *cells[] = {step, url ? url : "-"};
        if ((rc = ctl_table_add(t, cells, err)))
            break;
    }
    if (rc == 0 && ctl_table_rows(t) == 0)
        fprintf(stderr, "no samples yet\n");
    else if (rc == 0)
        ctl_table_print(t, stdout);
    ctl_table_destroy(t);
    json_decref(res);
    return rc;
}

static const char *ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0 ? s : NULL;
}

static int cmd_generate(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct file_args fa = {.n = 64};
    char path[96], body[160];
    int rc = parse_file_args(ctx, "generate", generate_opts, argc, argv, &fa, err);
    if (rc)
        return rc;
    const char *format = fa.format;
    if (!format && fa.out && ends_with(fa.out, ".json"))
        format = "json";
    else if (!format && fa.out && (ends_with(fa.out, ".idx") || ends_with(fa.out, "-ubyte")))
        format = "idx";
    else if (!format)
        format = fa.out ? "png" : "json";
    if (!fa.out && strcmp(format, "json") != 0)
        return usage(err, "generate", "%s", "-o FILE is needed for png and idx (-o - for stdout)");
    snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/generate", fa.id);
    if (fa.have_seed)
        snprintf(body, sizeof body, "{\"n\":%lld,\"seed\":%lld,\"format\":\"%s\"}", fa.n, fa.seed,
                 format);
    else
        snprintf(body, sizeof body, "{\"n\":%lld,\"format\":\"%s\"}", fa.n, format);
    if (strcmp(format, "json") == 0 && (!fa.out || strcmp(fa.out, "-") == 0)) {
        json_t *points;
        if ((rc = call_json(ctx, "POST", path, body, &points, err)))
            return rc;
        print_json(points);
        json_decref(points);
        return 0;
    }
    return download(ctx, "POST", path, body, fa.out, err);
}

static const struct ctl_opt checkpoint_opts[] = {
    {"step", 0, 1, F_STEP},
    {"output", 'o', 1, F_OUT},
    {NULL, 0, 0, 0},
};

static int cmd_checkpoint(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err)
{
    struct file_args fa = {0};
    char path[128];
    json_t *res = NULL;
    int rc = parse_file_args(ctx, "checkpoint", checkpoint_opts, argc, argv, &fa, err);
    if (rc)
        return rc;
    if (!fa.out || !fa.have_step) {
        snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/checkpoints", fa.id);
        if ((rc = call_json(ctx, "GET", path, NULL, &res, err)))
            return rc;
    }
    json_t *list = json_object_get(res, "checkpoints");
    size_t i;
    json_t *cp;
    if (fa.out) {
        if (!fa.have_step) {
            /* The newest one is the one with the highest step. */
            json_array_foreach(list, i, cp)
            {
                json_t *s = json_object_get(cp, "step");
                if (json_is_integer(s) && (!fa.have_step || json_integer_value(s) > fa.step)) {
                    fa.step = json_integer_value(s);
                    fa.have_step = 1;
                }
            }
            json_decref(res);
            if (!fa.have_step) {
                ctl_warn("run %" PRId64 " has no checkpoint yet", fa.id);
                return CTL_ENOTFOUND;
            }
        }
        snprintf(path, sizeof path, "/api/v1/runs/%" PRId64 "/checkpoints/%lld", fa.id, fa.step);
        return download(ctx, "GET", path, NULL, fa.out, err);
    }
    if (ctx->json) {
        print_json(res);
        json_decref(res);
        return 0;
    }
    static const char *const headers[] = {"STEP", "BYTES", "SHA256", "CREATED"};
    struct ctl_table *t = ctl_table_create(4, headers);
    if (!t) {
        json_decref(res);
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    }
    json_array_foreach(list, i, cp)
    {
        char step[32], bytes[32];
        fmt_number(json_object_get(cp, "step"), step, sizeof step);
        fmt_number(json_object_get(cp, "bytes"), bytes, sizeof bytes);
        const char *sha = json_string_value(json_object_get(cp, "sha256"));
        const char *at = json_string_value(json_object_get(cp, "created_at"));
        const char *cells[] = {step, bytes, sha ? sha : "-", at ? at : "-"};
        if ((rc = ctl_table_add(t, cells, err)))
            break;
    }
    if (rc == 0 && ctl_table_rows(t) == 0)
        fprintf(stderr, "no checkpoints yet\n");
    else if (rc == 0)
        ctl_table_print(t, stdout);
    ctl_table_destroy(t);
    json_decref(res);
    return rc;
}

/* ---- the table of commands ---------------------------------------------------------- */

#define GLOBAL_HELP                                                                                \
    "\nGlobal options:\n"                                                                          \
    "  --addr URL          the daemon (default $GANCTL_ADDR, else " CTL_DEFAULT_ADDR ")\n"         \
    "  --token-file FILE   read the API token from FILE (default $GANCTL_TOKEN)\n"                 \
    "  --json              print the API's objects as JSON on stdout\n"                            \
    "  -h, --help          show this help\n"

const struct ctl_command ctl_commands[] = {
    {"submit", cmd_submit, "queue a new training run",
     "Usage: ganctl submit [SPEC.json|-] [options]\n"
     "\n"
     "Queues a run and prints its id (the run object with --json). The spec is read from\n"
     "SPEC.json (- for stdin) when given; the options below apply on top of it, in order.\n"
     "\n"
     "Options:\n"
     "  --dataset NAME          fashion-mnist, idx, png-dir, ring8 or grid25\n"
     "  --loss L                minimax, nonsaturating, wasserstein, least-squares, hinge\n"
     "  --arch A                mlp or dcgan\n"
     "  --steps N               training steps\n"
     "  --batch-size N          batch size\n"
     "  --seed N                random seed\n"
     "  --label-smoothing LO,HI real labels drawn from [LO,HI] (or one fixed number)\n"
     "  --feature-matching      train G to match D's features\n"
     "  --unrolled-steps K      unroll D K steps for G's loss\n"
     "  --generators K          K generators (MAD-GAN)\n"
     "  --patch                 PatchGAN discriminator\n"
     "  --name S                the run's name\n"
     "  --set PATH=VALUE        set any spec field, e.g. --set every.sample=50; VALUE is\n"
     "                          read as JSON (numbers, true, false, null, [..]) or else a\n"
     "                          string; may be repeated\n"
     "  --dry-run               print the spec that would be sent and stop\n"
     "  -w, --watch             follow the new run like 'ganctl watch'\n" GLOBAL_HELP},
    {"ls", cmd_ls, "list runs, newest first",
     "Usage: ganctl ls [--status S] [--limit N]\n"
     "\n"
     "Lists runs, newest first: id, name, status, progress, latest losses and age.\n"
     "\n"
     "Options:\n"
     "  -s, --status S   only runs in status S (queued, running, paused, succeeded,\n"
     "                   failed, canceled)\n"
     "  --limit N        at most N runs\n" GLOBAL_HELP},
    {"show", cmd_show, "show one run with its spec and latest figures",
     "Usage: ganctl show ID\n\nShows the run: status, progress, times, latest metrics, "
     "evaluation and spec.\n" GLOBAL_HELP},
    {"watch", cmd_watch, "follow a run's progress until it ends",
     "Usage: ganctl watch ID [--retry-for SECONDS]\n"
     "\n"
     "Follows the run's event stream. On a terminal: a progress bar with step, rate, ETA\n"
     "and the latest losses; otherwise one line per event (--json: each event as a JSON\n"
     "line on stdout). A dropped connection is resumed where it left off.\n"
     "Exits 0 when the run succeeds and 5 when it fails or is canceled.\n"
     "\n"
     "Options:\n"
     "  --retry-for SECONDS   give up when the daemon stays unreachable this long\n"
     "                        (default 300; 0: never)\n" GLOBAL_HELP},
    {"cancel", cmd_cancel, "cancel a queued, running or paused run",
     "Usage: ganctl cancel ID\n\nCancels the run.\n" GLOBAL_HELP},
    {"pause", cmd_pause, "pause a running run (it keeps a checkpoint)",
     "Usage: ganctl pause ID\n\nPauses the run after a checkpoint; 'ganctl resume' goes "
     "on from there.\n" GLOBAL_HELP},
    {"resume", cmd_resume, "queue a paused run again",
     "Usage: ganctl resume ID\n\nQueues the paused run again.\n" GLOBAL_HELP},
    {"rm", cmd_rm, "delete a finished run and everything it stored",
     "Usage: ganctl rm ID\n\nDeletes the run with its metrics, samples and checkpoints.\n"
     "A queued or running run must be canceled first.\n" GLOBAL_HELP},
    {"metrics", cmd_metrics, "print a run's metrics as a table or CSV",
     "Usage: ganctl metrics ID [NAME...] [--csv] [--from-step N] [--to-step N]\n"
     "                      [--max-points N]\n"
     "\n"
     "Prints the run's metrics (all, or the NAMEs: loss_d, loss_g, d_real, d_fake, ...),\n"
     "one row per step.\n"
     "\n"
     "Options:\n"
     "  --csv             CSV: step,NAME1,NAME2,...\n"
     "  --from-step N     from step N on\n"
     "  --to-step N       up to step N\n"
     "  --max-points N    downsample to at most N points per metric\n" GLOBAL_HELP},
    {"samples", cmd_samples, "list or download a run's sample grids",
     "Usage: ganctl samples ID [--step N] -o FILE.png\n"
     "       ganctl samples ID\n"
     "\n"
     "Downloads the sample grid of step N (default: the newest) to FILE.png (- for\n"
     "stdout); without -o lists the steps that have one.\n"
     "\n"
     "Options:\n"
     "  --step N          the sample of step N\n"
     "  -o, --output FILE where to write it\n" GLOBAL_HELP},
    {"generate", cmd_generate, "draw new samples from a run's newest checkpoint",
     "Usage: ganctl generate ID [-n N] [--seed S] [--format png|idx|json] -o FILE\n"
     "\n"
     "Generates N samples (default 64) from the newest checkpoint: a PNG grid (a scatter\n"
     "plot for 2D sets), an IDX file of the images, or JSON points (2D sets). The\n"
     "format follows FILE's extension (.png, .idx, .json) unless --format says; JSON\n"
     "goes to stdout without -o.\n"
     "\n"
     "Options:\n"
     "  -n, --count N     how many samples\n"
     "  --seed S          the noise seed\n"
     "  -f, --format F    png, idx or json\n"
     "  -o, --output FILE where to write them (- for stdout)\n" GLOBAL_HELP},
    {"checkpoint", cmd_checkpoint, "list or download a run's checkpoints",
     "Usage: ganctl checkpoint ID [--step N] -o FILE\n"
     "       ganctl checkpoint ID\n"
     "\n"
     "Downloads the checkpoint of step N (default: the newest) to FILE (- for stdout);\n"
     "without -o lists the checkpoints kept.\n"
     "\n"
     "Options:\n"
     "  --step N          the checkpoint of step N\n"
     "  -o, --output FILE where to write it\n" GLOBAL_HELP},
    {NULL, NULL, NULL, NULL},
};

const struct ctl_command *ctl_command_find(const char *name)
{
    /* A few names people type from habit (gh, kubectl, docker). */
    static const char *const aliases[][2] = {
        {"list", "ls"},
        {"get", "show"},
        {"delete", "rm"},
        {"create", "submit"},
        {"checkpoints", "checkpoint"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(name, aliases[i][0]) == 0)
            name = aliases[i][1];
    }
    for (const struct ctl_command *c = ctl_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}
