/* commands.h — the verbs of ganctl and what they share.
 *
 * Each command gets the words after its name (options and arguments mixed; the
 * global options are accepted there too), prints data on stdout and messages on
 * stderr, and returns 0 or a CTL_E* code that main() turns into the exit status.
 * Problems the API reports are printed where they happen (problem.h); local errors
 * come back in err for main() to print. */
#ifndef CTL_COMMANDS_H
#define CTL_COMMANDS_H

#include "cli/args.h"
#include "cli/error.h"
#include "cli/http.h"

#define CTL_DEFAULT_ADDR "http://127.0.0.1:8080"

/* The global options' ids, shared by every command's parser. */
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
    const char *addr;       /* --addr, else $GANCTL_ADDR, else CTL_DEFAULT_ADDR */
    const char *token_file; /* --token-file */
    int json;               /* --json */
    int fancy;              /* stderr is a terminal and NO_COLOR is unset */
    char *token;            /* read on first use; owned */
    struct ctl_client *client;
};

/* Applies a global option; 1 when id was one. */
int ctl_ctx_global(struct ctl_ctx *ctx, int id, const char *value);
/* The client, created on first use (token from --token-file or $GANCTL_TOKEN). */
int ctl_ctx_client(struct ctl_ctx *ctx, struct ctl_client **out, struct ctl_error *err);
void ctl_ctx_fini(struct ctl_ctx *ctx);

struct ctl_command {
    const char *name;
    int (*run)(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
    const char *summary; /* one line for `ganctl --help` */
    const char *help;    /* the whole text for `ganctl CMD --help` */
};

/* The table of commands, ended by a {NULL} entry. */
extern const struct ctl_command ctl_commands[];
const struct ctl_command *ctl_command_find(const char *name);

#endif
