/* args.h — a small command-line option parser shared by every ganctl command.
 *
 * GNU-style: `--name value`, `--name=value`, `-x value`, `-xvalue`, flags without a
 * value, `--` ends the options, `-` alone is a positional argument. Options and
 * positional arguments may be mixed. Two option tables are searched (the global one
 * and the command's), so `ganctl ls --json` and `ganctl --json ls` both work. */
#ifndef CTL_ARGS_H
#define CTL_ARGS_H

#include "cli/error.h"

struct ctl_opt {
    const char *name; /* long name without the dashes; NULL ends a table */
    char short_name;  /* 0: none */
    int has_value;    /* 1: the option takes a value */
    int id;           /* > 0; what ctl_args_next() returns for it */
};

enum {
    CTL_ARG_END = 0,
    CTL_ARG_POSITIONAL = 1 << 20, /* a positional argument; *value is it */
};

struct ctl_args {
    int argc;
    char **argv;
    int i; /* next argv index */
    const struct ctl_opt *tables[2];
    int stop_at_positional; /* return CTL_ARG_END before the first positional */
    int only_positional;    /* seen "--" */
};

/* argv[0] is not skipped: pass argc - k, argv + k. Tables are borrowed; either may be
 * NULL. */
void ctl_args_init(struct ctl_args *a, int argc, char **argv, const struct ctl_opt *t1,
                   const struct ctl_opt *t2);
/* The next option's id (with *value set for options that take one, NULL otherwise),
 * CTL_ARG_POSITIONAL with *value the argument, CTL_ARG_END, or CTL_EUSAGE with err
 * set (unknown option, missing value, value given to a flag). */
int ctl_args_next(struct ctl_args *a, const char **value, struct ctl_error *err);

/* 1 when argv (up to a "--") holds -h or --help. */
int ctl_args_wants_help(int argc, char **argv);

/* Strict number parsing for option values: the whole string must be the number. */
int ctl_parse_i64(const char *s, long long min, long long max, long long *out);
int ctl_parse_double(const char *s, double *out);

#endif
