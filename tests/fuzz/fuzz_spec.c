/* fuzz_spec.c — libFuzzer driver for the run-spec parser and validator (ga_spec_parse,
 * ga_spec_normalize, ga_spec_to_json, gc_spec_check).
 *
 * Besides "no crash, no leak, no sanitizer report" it checks three properties: a spec
 * that parses normalizes to JSON that parses again to the very same normalized JSON,
 * so what POST /api/v1/runs stores always reads back; a spec that does not parse gets
 * at least one field error and a list that stays within its bounds; and every error
 * turns into the problem body's "errors" array with each field and message (whole
 * UTF-8, so nothing is lost). Dataset paths are resolved against a temporary root so
 * the path checks run too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "api/spec_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

static void remove_root(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/sub", root);
    rmdir(p);
    rmdir(root);
}

static const char *dataset_root(void)
{
    if (!root[0]) {
        snprintf(root, sizeof root, "/tmp/fuzz-spec-XXXXXX");
        if (!mkdtemp(root))
            abort();
        char p[128];
        snprintf(p, sizeof p, "%s/sub", root);
        mkdir(p, 0700);
        atexit(remove_root);
    }
    return root;
}

/* The list of a failed parse: not empty, within bounds, and every entry survives the
 * trip into JSON with its own field and message. */
static void check_errors(const struct gc_field_errors *fe)
{
    if (fe->n < 1 || fe->n > GC_MAX_FIELD_ERRORS || fe->dropped < 0 ||
        (fe->dropped && fe->n != GC_MAX_FIELD_ERRORS))
        abort();
    json_t *a = ga_field_errors_to_value(fe);
    if (!a || json_array_size(a) != (size_t)fe->n)
        abort();
    for (int i = 0; i < fe->n; i++) {
        json_t *e = json_array_get(a, i);
        const char *f = json_string_value(json_object_get(e, "field"));
        const char *m = json_string_value(json_object_get(e, "message"));
        if (!f || !m || strcmp(f, fe->e[i].field) != 0 || strcmp(m, fe->e[i].message) != 0 || !m[0])
            abort();
    }
    json_decref(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    struct gc_spec spec;
    struct gc_error err = {0};
    struct gc_field_errors fe;
    char *norm = NULL;

    /* without a dataset root: no path check */
    int rc = ga_spec_normalize(json, size, NULL, &spec, &norm, &fe, &err);
    if (rc == 0) {
        if (!norm || fe.n || fe.dropped)
            abort();
        if (gc_spec_check(&spec, NULL) != 0)
            abort(); /* the parser let through a spec the engine refuses */
        struct gc_spec again;
        char *norm2 = NULL;
        if (ga_spec_normalize(norm, strlen(norm), NULL, &again, &norm2, NULL, &err) != 0)
            abort();
        if (strcmp(norm, norm2) != 0)
            abort();
        char *a = ga_spec_to_json(&spec), *b = ga_spec_to_json(&again);
        if (!a || !b || strcmp(a, b) != 0)
            abort();
        free(a);
        free(b);
        free(norm2);
    } else if (rc == GC_EINVAL) {
        check_errors(&fe);
    } else if (rc > 0) {
        abort(); /* errors are negative codes */
    }
    free(norm);

    /* with one: relative paths must stay inside it */
    if (ga_spec_parse(json, size, dataset_root(), &spec, &fe, &err) == GC_EINVAL)
        check_errors(&fe);
    return 0;
}
