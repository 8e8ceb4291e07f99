/* main.c — ganctl, the command-line client of ganctld.
 *
 *   ganctl [global options] COMMAND [arguments and options]
 *
 * Reads the global options that come before the command, finds the command and hands
 * it the rest; turns what it returns into the exit status (error.h). `ganctl runs ls`
 * is accepted as well as `ganctl ls`. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/error.h"
#include "cli/http.h"
#include "cli/problem.h"

static int run(int argc, char **argv)
{
    struct ctl_ctx ctx;
    struct ctl_error err = {0};
    struct ctl_args a;
    const char *v;
    int k, help = 0;

    ctl_ctx_init(&ctx);

    ctl_args_init(&a, argc - 1, argv + 1, ctl_global_opts, NULL);
    a.stop_at_positional = 1;
    while ((k = ctl_args_next(&a, &v, &err)) != CTL_ARG_END) {
        if (k < 0) {
            ctl_warn("%s (see 'ganctl --help')", err.msg);
            return CTL_EXIT_USAGE;
        }
        if (k == CTL_OPT_VERSION) {
            printf("ganctl %s\n", CTL_VERSION);
            return CTL_EXIT_OK;
        }
        if (k == CTL_OPT_HELP)
            help = 1;
        ctl_ctx_global(&ctx, k, v);
    }
    int rest = argc - 1 - a.i;
    char **words = argv + 1 + a.i;
    if (rest > 0 && strcmp(words[0], "runs") == 0) {
        rest--;
        words++;
    }
    if (rest == 0) {
        ctl_commands_help(help ? stdout : stderr);
        return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    }
    if (strcmp(words[0], "help") == 0) {
        const struct ctl_command *c = rest > 1 ? ctl_command_find(words[1]) : NULL;
        if (rest > 1 && !c) {
            ctl_warn("unknown command '%s' (see 'ganctl --help')", words[1]);
            return CTL_EXIT_USAGE;
        }
        if (c)
            fputs(c->help, stdout);
        else
            ctl_commands_help(stdout);
        return CTL_EXIT_OK;
    }
    if (strcmp(words[0], "version") == 0) {
        printf("ganctl %s\n", CTL_VERSION);
        return CTL_EXIT_OK;
    }
    const struct ctl_command *cmd = ctl_command_find(words[0]);
    if (!cmd) {
        ctl_warn("unknown command '%s' (see 'ganctl --help')", words[0]);
        return CTL_EXIT_USAGE;
    }
    if (help || ctl_args_wants_help(rest - 1, words + 1)) {
        fputs(cmd->help, stdout);
        return CTL_EXIT_OK;
    }

    int rc = cmd->run(&ctx, rest - 1, words + 1, &err);
    if (rc != CTL_OK && err.code == rc)
        ctl_report(&err);
    ctl_ctx_fini(&ctx);
    return ctl_exit_status(rc);
}

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ctl_warn("cannot initialize libcurl");
        return CTL_EXIT_ERROR;
    }
    int status = run(argc, argv);
    if (fflush(stdout) != 0 && status == CTL_EXIT_OK) {
        ctl_warn("cannot write to standard output");
        status = CTL_EXIT_ERROR;
    }
    curl_global_cleanup();
    return status;
}
