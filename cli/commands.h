/* commands.h — the table of ganctl's commands and its help texts.
 *
 * Each command gets the words after its name (options and arguments mixed; the
 * global options are accepted there too), prints data on stdout and messages on
 * stderr, and returns 0 or a CTL_E* code that main() turns into the exit status.
 * Problems the API reports are printed where they happen (problem.h); local errors
 * come back in err for main() to print. */
#ifndef CTL_COMMANDS_H
#define CTL_COMMANDS_H

#include <stdio.h>

#include "cli/context.h"
#include "cli/error.h"

struct ctl_command {
    const char *name;
    int (*run)(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_error *err);
    const char *summary; /* one line for `ganctl --help` */
    const char *help;    /* the whole text for `ganctl CMD --help` */
};

/* The table of commands, ended by a {NULL} entry. */
extern const struct ctl_command ctl_commands[];

/* The command called name, or one of the habitual other names for it (list, get,
 * delete, create, checkpoints); NULL when there is none. */
const struct ctl_command *ctl_command_find(const char *name);

/* `ganctl --help`: usage, the commands with their summaries, the global options and
 * the exit statuses. */
void ctl_commands_help(FILE *out);

#endif
