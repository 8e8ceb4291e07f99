/* spec_json.h — the run spec as JSON <-> struct gc_spec, and its field errors as JSON.
 *
 * Strict: unknown fields, wrong types and out-of-range values are errors naming the
 * field's path, all of them at once, in a struct gc_field_errors (core/spec.h). The
 * fields, their types and their place in the struct come from core/spec_fields.h.
 * Thread-safe: no state outside the arguments. */
#ifndef GA_SPEC_JSON_H
#define GA_SPEC_JSON_H

#include <stddef.h>

#include "core/error.h"
#include "core/spec.h"

struct json_t; /* jansson's json_t */

/* Parses a spec. On a bad spec returns GC_EINVAL with every problem in *fe (may be
 * NULL; emptied first) and the first one on a line in err ("train.steps: must be
 * between 1 and 10000000 (and 2 more)"); other codes (GC_ENOMEM) leave *fe empty.
 * base_dir is the dataset root that relative paths resolve inside (NULL: no check of
 * the path). */
int ga_spec_parse(const char *json, size_t len, const char *base_dir, struct gc_spec *out,
                  struct gc_field_errors *fe, struct gc_error *err);
/* ga_spec_parse that also returns the normalized spec as JSON (every default filled in,
 * dataset.path and dataset.labels_path as the user gave them, not resolved) in *normalized
 * (malloc'ed, caller frees). This is what POST /api/v1/runs stores. */
int ga_spec_normalize(const char *json, size_t len, const char *base_dir, struct gc_spec *out,
                      char **normalized, struct gc_field_errors *fe, struct gc_error *err);
/* A spec read back from the store. One from the API keeps its paths (dataset.path,
 * dataset.labels_path) as the user gave them, relative to the dataset root, so they
 * are resolved (and checked) inside datasets_dir again; one from `ganctld train`
 * holds absolute paths, used as they are. */
int ga_spec_parse_stored(const char *json, const char *datasets_dir, struct gc_spec *out,
                         struct gc_error *err);
/* The normalized spec with every default filled in; malloc'ed, the caller frees. */
char *ga_spec_to_json(const struct gc_spec *spec);
/* The normalized spec as a jansson object; the path fields (dataset.path,
 * dataset.labels_path) come from given when it is not NULL (the spec with its paths as
 * the user gave them, before they were resolved). The caller owns the result (NULL: no
 * memory). */
struct json_t *ga_spec_to_value(const struct gc_spec *spec, const struct gc_spec *given);
/* The SHA-256 of a stored (normalized) spec as 64 hex digits and a NUL: its JSON with
 * the name left out (it changes nothing that is trained), keys sorted, compact. 0, or
 * GC_EINVAL for text that is not a JSON object. */
int ga_spec_hash(const char *json, char out[65]);
/* The list as the "errors" array of a problem: [{"field": ..., "message": ...}]. The
 * caller owns the result (NULL: no memory). */
struct json_t *ga_field_errors_to_value(const struct gc_field_errors *fe);

#endif
