/* output.h — how the commands print what the daemon sent.
 *
 * With --json a command prints the API's object as it came, pretty-printed with 15
 * significant digits (the daemon's own precision, so numbers come out as sent).
 * Otherwise it prints a human view: numbers as integers or 4 significant digits, times
 * as ages ("45s", "12m", "3h", "2d"), and lists as tables (table.h) on stdout, with a
 * line on stderr instead when a list is empty. */
#ifndef CTL_OUTPUT_H
#define CTL_OUTPUT_H

#include <jansson.h>
#include <stddef.h>

#include "cli/error.h"

/* j as indented JSON, keys in order; malloc'ed, the caller frees; NULL on OOM. */
char *ctl_json_pretty(json_t *j);
/* ctl_json_pretty(j) and a newline on stdout. */
void ctl_print_json(json_t *j);

/* An integer as it is, another number with 4 significant digits, anything else "-". */
void ctl_fmt_number(json_t *v, char *out, size_t cap);
/* The age of an RFC 3339 time ("2026-11-27T06:45:13Z"; fractions and offsets allowed),
 * "-" when rfc3339 is NULL or not such a time. */
void ctl_fmt_age(const char *rfc3339, char *out, size_t cap);

/* The room for one cell's text in a row function. */
#define CTL_CELL 64

/* Fills the cells of item's row: each one points into item or into text[its index]. */
typedef void (*ctl_row_fn)(json_t *item, const char **cells, char (*text)[CTL_CELL]);

/* The items of the array list, one row each, as a table with ncols (at most 8)
 * headers on stdout; `empty` and a newline on stderr when there are none. 0 or
 * CTL_ENOMEM. */
int ctl_print_rows(json_t *list, int ncols, const char *const *headers, ctl_row_fn row,
                   const char *empty, struct ctl_error *err);

#endif
