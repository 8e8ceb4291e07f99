/* context.c — the context of a command and the reading of its words (see context.h). */
#include "cli/context.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct ctl_opt ctl_global_opts[] = {
    {"addr", 0, 1, CTL_OPT_ADDR},       {"token-file", 0, 1, CTL_OPT_TOKEN_FILE},
    {"json", 0, 0, CTL_OPT_JSON},       {"help", 'h', 0, CTL_OPT_HELP},
    {"version", 0, 0, CTL_OPT_VERSION}, {NULL, 0, 0, 0},
};

/* Whether stderr can take a progress bar. */
static int fancy_terminal(void)
{
    const char *no_color = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    if (no_color && *no_color)
        return 0;
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    return isatty(STDERR_FILENO);
}

void ctl_ctx_init(struct ctl_ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->addr = getenv("GANCTL_ADDR");
    if (!ctx->addr || !*ctx->addr)
        ctx->addr = CTL_DEFAULT_ADDR;
    ctx->fancy = fancy_terminal();
}

void ctl_ctx_fini(struct ctl_ctx *ctx)
{
    ctl_client_destroy(ctx->client);
    ctx->client = NULL;
    free(ctx->token);
    ctx->token = NULL;
}

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

int ctl_usage(struct ctl_error *err, const char *cmd, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ctl_error_set(err, CTL_EUSAGE, "%s: %s (see 'ganctl %s --help')", cmd, msg, cmd);
}

int ctl_ctx_next(struct ctl_ctx *ctx, struct ctl_args *a, const char *cmd, const char **value,
                 struct ctl_error *err)
{
    int k;
    while ((k = ctl_args_next(a, value, err)) != CTL_ARG_END) {
        if (k < 0)
            return ctl_usage(err, cmd, "%s", err->msg);
        if (!ctl_ctx_global(ctx, k, *value))
            return k;
    }
    return CTL_ARG_END;
}

int ctl_parse_run_id(const char *cmd, const char *word, int64_t *id, struct ctl_error *err)
{
    long long v;
    if (ctl_parse_i64(word, 1, INT64_MAX, &v))
        return ctl_usage(err, cmd, "the run ID must be a positive integer, not '%s'", word);
    *id = v;
    return 0;
}

int ctl_ctx_run_id(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, int64_t *id,
                   struct ctl_error *err)
{
    struct ctl_args a;
    const char *v;
    int k, have = 0;
    ctl_args_init(&a, argc, argv, ctl_global_opts, NULL);
    while ((k = ctl_ctx_next(ctx, &a, cmd, &v, err)) != CTL_ARG_END) {
        if (k < 0)
            return k;
        if (have++)
            return ctl_usage(err, cmd, "unexpected argument '%s'", v);
        if (ctl_parse_run_id(cmd, v, id, err))
            return err->code;
    }
    if (!have)
        return ctl_usage(err, cmd, "missing the run ID");
    return 0;
}
