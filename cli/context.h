/* context.h — what every ganctl command runs with, and reading its words.
 *
 * The context holds the global options (--addr, --token-file, --json, given before
 * the command or among its own words), whether stderr can take a progress bar, and
 * the one client, created on first use. Each command reads its words with
 * ctl_ctx_next(), which applies the global options on the way, so `ganctl --json ls`
 * and `ganctl ls --json` are the same. A bad command line is reported as
 * "CMD: WHAT (see 'ganctl CMD --help')" with CTL_EUSAGE (exit 2). */
#ifndef CTL_CONTEXT_H
#define CTL_CONTEXT_H

#include <stdint.h>

#include "cli/args.h"
#include "cli/error.h"
#include "cli/http.h"

#define CTL_DEFAULT_ADDR "http://127.0.0.1:8080"

/* The global options' ids. */
enum {
    CTL_OPT_ADDR = 1,
    CTL_OPT_TOKEN_FILE,
    CTL_OPT_JSON,
    CTL_OPT_HELP,
    CTL_OPT_VERSION,
};

/* The global option table ({NULL} terminated). */
extern const struct ctl_opt ctl_global_opts[];

struct ctl_ctx {
    const char *addr;          /* --addr, else $GANCTL_ADDR, else CTL_DEFAULT_ADDR; borrowed */
    const char *token_file;    /* --token-file; borrowed */
    int json;                  /* --json */
    int fancy;                 /* stderr is a terminal, TERM is not dumb, NO_COLOR is unset */
    char *token;               /* read on first use; owned */
    struct ctl_client *client; /* created on first use; owned */
};

/* Fills ctx from the environment; ctl_ctx_fini() frees what it gathers later. */
void ctl_ctx_init(struct ctl_ctx *ctx);
void ctl_ctx_fini(struct ctl_ctx *ctx);

/* Applies a global option; 1 when id was one. */
int ctl_ctx_global(struct ctl_ctx *ctx, int id, const char *value);

/* The client, created on first use with the token from --token-file or $GANCTL_TOKEN.
 * Borrowed: ctx owns it. CTL_EIO or CTL_EUSAGE for an unreadable or empty token
 * file, CTL_EUSAGE for a bad address. */
int ctl_ctx_client(struct ctl_ctx *ctx, struct ctl_client **out, struct ctl_error *err);

/* The next of command cmd's words that is not a global option (those are applied to
 * ctx): the option's id with *value set as ctl_args_next() does, CTL_ARG_POSITIONAL,
 * CTL_ARG_END, or CTL_EUSAGE with err set. */
int ctl_ctx_next(struct ctl_ctx *ctx, struct ctl_args *a, const char *cmd, const char **value,
                 struct ctl_error *err);

/* Reads the words of a command that takes one run ID and no options of its own. */
int ctl_ctx_run_id(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv, int64_t *id,
                   struct ctl_error *err);

/* A positive run ID from word, else CTL_EUSAGE. */
int ctl_parse_run_id(const char *cmd, const char *word, int64_t *id, struct ctl_error *err);

/* Sets err to "CMD: MESSAGE (see 'ganctl CMD --help')" and returns CTL_EUSAGE. The
 * arguments may point into err. */
int ctl_usage(struct ctl_error *err, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
