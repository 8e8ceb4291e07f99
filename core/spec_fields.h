/* spec_fields.h — every field of the run spec in one table: its path in the JSON spec,
 * its type, where it lives in struct gc_spec, its limits and what it is for.
 *
 * The table is the spec's one vocabulary: gc_spec_check (core/spec.c) checks the
 * limits from it, api/spec_json.c parses JSON (unknown keys, types, null) and writes
 * the normalized spec by walking it, and docs/spec.md is tested against it. A new
 * field is one row here plus whatever ties it to other fields (a rule in
 * gc_spec_check) and its default (gc_spec_defaults).
 *
 * Rows come in the order of the normalized JSON. A section ("train") is a row of type
 * GC_FIELD_OBJECT before its fields; a field's parent is the row named by its path
 * without the last component. Plain constant data, safe to read from any thread. */
#ifndef GC_SPEC_FIELDS_H
#define GC_SPEC_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/spec.h"

enum gc_field_type {
    GC_FIELD_OBJECT, /* a section: the rows under its path */
    GC_FIELD_INT,    /* int; JSON integer (beyond int: clamped, so the range check names it) */
    GC_FIELD_INT64,  /* int64_t; JSON integer */
    GC_FIELD_U64,    /* uint64_t; JSON integer >= 0 */
    GC_FIELD_FLOAT,  /* float; JSON number */
    GC_FIELD_BOOL,   /* int 0 or 1; JSON true or false (with GC_NULL_DEFAULT, -1 is null) */
    GC_FIELD_ENUM,   /* an enum (or int) indexing names[]; JSON string (with
                      * GC_NULL_DEFAULT, -1 is null) */
    GC_FIELD_STRING, /* char[size] of printable text; JSON string */
    /* The special shapes: their rows say where they live, api/spec_json.c reads and
     * writes each with its own code. */
    GC_FIELD_PATH,      /* dataset.path, dataset.labels_path, char[GC_PATH_MAX]: a file
                         * or folder, resolved inside the dataset root */
    GC_FIELD_CLASSES,   /* dataset.classes, uint32_t bit mask: [3, 5] is 1 << 3 | 1 << 5 */
    GC_FIELD_SMOOTHING, /* tricks.label_smoothing: enum gc_smoothing at offset, with
                         * smooth_lo and smooth_hi; JSON 0.9 or [0.8, 1.0] */
    GC_FIELD_FLAGS,     /* unsigned bit mask, bit k for names[k]; JSON a string of
                         * comma-separated names, each at most once ("color,cutout"),
                         * written in names[] order */
};

/* What JSON null means for a field. */
enum gc_field_null {
    GC_NULL_NEVER,   /* a type error */
    GC_NULL_DEFAULT, /* keeps the default; a zero or empty value is written as null */
    GC_NULL_OFF,     /* turns the feature off: the value becomes 0 (an object: the int at
                      * offset, its on flag, becomes 0); written as null when off. A given
                      * 0 is refused (off_msg), since off is spelled null. */
};

/* flags */
#define GC_FIELD_PICKS_DEFAULTS 0x1u /* read before the rest: gc_spec_defaults depends on it */
#define GC_FIELD_MIN_OPEN 0x2u       /* FLOAT: fmin itself is out of range */
#define GC_FIELD_MAX_OPEN 0x4u       /* FLOAT: fmax itself is out of range */

struct gc_spec_field {
    const char *path; /* "train.lr_decay.start" */
    enum gc_field_type type;
    enum gc_field_null null;
    size_t offset, size;      /* of the value in struct gc_spec (a GC_NULL_OFF object: its on
                               * flag; another object: 0, 0) */
    unsigned flags;           /* GC_FIELD_* */
    int64_t min, max;         /* INT, INT64, U64: the inclusive range; STRING: its length in
                               * bytes; both 0: no limit from the table */
    double fmin, fmax;        /* FLOAT: the range (open ends by flags); both 0: no limit */
    const char *const *names; /* ENUM: the JSON names of the values 0 .. n_names - 1 */
    int n_names;
    const char *range_msg; /* a value beyond the limits; NULL: "must be between 1 and 16",
                            * "must be in (0, 1]", "must be one of: a, b" */
    const char *off_msg;   /* GC_NULL_OFF numbers: a given 0 or less */
    const char *accepts;   /* the JSON value a type error asks for; NULL: from the type
                            * ("an integer"), after "null or " when null is allowed */
    const char *doc;       /* what the field does, in one line */
};

/* The whole table, in the order of the normalized JSON; *n is set to its length. */
const struct gc_spec_field *gc_spec_fields(int *n);
/* The row with exactly this path, or NULL. */
const struct gc_spec_field *gc_spec_field_find(const char *path);
/* The row's key in its JSON object: the path's last component ("start"). */
const char *gc_spec_field_key(const struct gc_spec_field *f);
/* 1 when f sits directly in the section `parent` ("" is the spec's top level). */
int gc_spec_field_in(const struct gc_spec_field *f, const char *parent);
/* An ENUM row's names as a list for a message, "linear, step", cut to fit cap. */
void gc_spec_field_names(const struct gc_spec_field *f, char *out, size_t cap);

#endif
