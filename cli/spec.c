/* spec.c — the run spec from a file, flags and --set assignments (see spec.h). */
#include "cli/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"

/* Control bytes of s become '?': jansson's message quotes the token it stopped at, which
 * can be an escape sequence bound for the user's terminal. */
static void no_controls(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

int ctl_spec_load(const char *path, json_t **out, struct ctl_error *err)
{
    json_error_t je;
    json_t *j;
    *out = NULL;
    if (strcmp(path, "-") == 0) {
        j = json_loadf(stdin, JSON_REJECT_DUPLICATES, &je);
    } else {
        FILE *f = fopen(path, "r");
        if (!f)
            return ctl_error_set(err, CTL_EIO, "%s: %s", path, strerror(errno));
        j = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
        fclose(f);
    }
    if (!j) {
        no_controls(je.text);
        return ctl_error_set(err, CTL_EUSAGE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return ctl_error_set(err, CTL_EUSAGE, "%s: the spec must be a JSON object", path);
    }
    *out = j;
    return 0;
}

/* The JSON value a command-line word stands for; NULL on OOM. */
static json_t *spec_value(const char *text)
{
    /* JSON_DECODE_ANY lets a bare 3, true or "x" through; anything that does not parse
     * (fashion-mnist, adam, 0x10) is meant as a string. */
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    return v ? v : json_string(text);
}

int ctl_spec_set(json_t *spec, const char *path, json_t *value, struct ctl_error *err)
{
    char *copy = strdup(path);
    json_t *obj = spec;
    int rc = 0;
    if (!copy || !value) {
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
        goto out;
    }
    char *part = copy;
    for (;;) {
        char *dot = strchr(part, '.');
        if (dot)
            *dot = '\0';
        if (*part == '\0') {
            rc = ctl_error_set(err, CTL_EUSAGE, "%s: empty field name in the path", path);
            goto out;
        }
        if (!dot) {
            if (json_object_set_new(obj, part, value) != 0)
                rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
            value = NULL; /* stolen by json_object_set_new either way */
            goto out;
        }
        json_t *next = json_object_get(obj, part);
        if (!next || json_is_null(next)) {
            next = json_object();
            if (!next || json_object_set_new(obj, part, next) != 0) {
                rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
                goto out;
            }
        } else if (!json_is_object(next)) {
            rc = ctl_error_set(err, CTL_EUSAGE, "%s: %s is not an object", path, part);
            goto out;
        }
        obj = next;
        part = dot + 1;
    }
out:
    json_decref(value);
    free(copy);
    return rc;
}

int ctl_spec_assign(json_t *spec, const char *assignment, struct ctl_error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return ctl_error_set(err, CTL_EUSAGE, "--set %s: expected path.to.field=value", assignment);
    char *path = strndup(assignment, (size_t)(eq - assignment));
    if (!path)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    int rc = ctl_spec_set(spec, path, spec_value(eq + 1), err);
    free(path);
    return rc;
}

json_t *ctl_spec_label_smoothing(const char *text)
{
    double lo, hi;
    if (strcmp(text, "none") == 0 || strcmp(text, "null") == 0)
        return json_null();
    const char *comma = strchr(text, ',');
    if (!comma)
        return ctl_parse_double(text, &lo) == 0 ? json_real(lo) : NULL;
    char *first = strndup(text, (size_t)(comma - text));
    int ok = first && ctl_parse_double(first, &lo) == 0 && ctl_parse_double(comma + 1, &hi) == 0;
    free(first);
    return ok ? json_pack("[ff]", lo, hi) : NULL;
}
