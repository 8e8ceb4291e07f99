/* spec.h — builds the run spec (docs/spec.md) that `ganctl submit` sends.
 *
 * The spec starts from a SPEC.json file (or {}), then the flags and every
 * `--set path.to.field=value` are applied in order. The client checks only the shape
 * of what it is given; the daemon validates the fields and names any bad one. */
#ifndef CTL_SPEC_H
#define CTL_SPEC_H

#include <jansson.h>

#include "cli/error.h"

/* Reads a JSON object from path ("-": standard input). *out is a new reference.
 * CTL_EIO when the file cannot be read, CTL_EUSAGE when it is not a JSON object (with
 * line and column). */
int ctl_spec_load(const char *path, json_t **out, struct ctl_error *err);

/* Sets the dotted path ("train.steps") in spec to value, creating the objects on the
 * way. Steals value (also on failure). CTL_EUSAGE for an empty path segment or when a
 * part of the path is already something other than an object. */
int ctl_spec_set(json_t *spec, const char *path, json_t *value, struct ctl_error *err);

/* Applies "path.to.field=value". The value is read as JSON when it parses as JSON (a
 * number, true, false, null, an array or object, a quoted string), else taken as a
 * string. CTL_EUSAGE without '='. */
int ctl_spec_assign(json_t *spec, const char *assignment, struct ctl_error *err);

/* --label-smoothing: "LO,HI" is [LO, HI], one number is that number, "none" is null.
 * NULL when the text is none of those. New reference. */
json_t *ctl_spec_label_smoothing(const char *text);

#endif
