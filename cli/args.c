/* args.c — the option parser of args.h. */
#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ctl_args_init(struct ctl_args *a, int argc, char **argv, const struct ctl_opt *t1,
                   const struct ctl_opt *t2)
{
    memset(a, 0, sizeof *a);
    a->argc = argc;
    a->argv = argv;
    a->tables[0] = t1;
    a->tables[1] = t2;
}

static const struct ctl_opt *find_long(const struct ctl_args *a, const char *name, size_t len)
{
    for (int t = 0; t < 2; t++) {
        for (const struct ctl_opt *o = a->tables[t]; o && o->name; o++) {
            if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
                return o;
        }
    }
    return NULL;
}

static const struct ctl_opt *find_short(const struct ctl_args *a, char c)
{
    for (int t = 0; t < 2; t++) {
        for (const struct ctl_opt *o = a->tables[t]; o && o->name; o++) {
            if (o->short_name && o->short_name == c)
                return o;
        }
    }
    return NULL;
}

int ctl_args_next(struct ctl_args *a, const char **value, struct ctl_error *err)
{
    *value = NULL;
    if (a->i >= a->argc)
        return CTL_ARG_END;
    const char *arg = a->argv[a->i];

    if (a->only_positional || arg[0] != '-' || arg[1] == '\0') {
        if (a->stop_at_positional)
            return CTL_ARG_END;
        a->i++;
        *value = arg;
        return CTL_ARG_POSITIONAL;
    }
    a->i++;
    if (strcmp(arg, "--") == 0) {
        a->only_positional = 1;
        return ctl_args_next(a, value, err);
    }

    const struct ctl_opt *o;
    const char *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        o = find_long(a, name, len);
        if (!o)
            return ctl_error_set(err, CTL_EUSAGE, "unknown option --%.*s", (int)len, name);
        if (eq) {
            if (!o->has_value)
                return ctl_error_set(err, CTL_EUSAGE, "option --%s takes no value", o->name);
            inline_value = eq + 1;
        }
    } else {
        o = find_short(a, arg[1]);
        if (!o)
            return ctl_error_set(err, CTL_EUSAGE, "unknown option -%c", arg[1]);
        if (arg[2] != '\0') {
            if (!o->has_value)
                return ctl_error_set(err, CTL_EUSAGE, "option -%c takes no value", arg[1]);
            inline_value = arg + 2;
        }
    }

    if (o->has_value) {
        if (inline_value) {
            *value = inline_value;
        } else if (a->i < a->argc) {
            /* The next word is the value even when it starts with '-' (--seed -1). */
            *value = a->argv[a->i++];
        } else {
            return ctl_error_set(err, CTL_EUSAGE, "option --%s needs a value", o->name);
        }
    }
    return o->id;
}

int ctl_args_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int ctl_parse_i64(const char *s, long long min, long long max, long long *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int ctl_parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}
