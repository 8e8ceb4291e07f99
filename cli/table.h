/* table.h — plain text tables and CSV for the client's listings.
 *
 * Cells are copied in; columns are as wide as their widest cell, two spaces apart,
 * numbers right-aligned; the last column is not padded so lines carry no trailing
 * blanks. CSV follows RFC 4180 (quotes only where a cell needs them). */
#ifndef CTL_TABLE_H
#define CTL_TABLE_H

#include <stdio.h>

#include "cli/error.h"

struct ctl_table;

/* ncols column headers, copied. Returns NULL on OOM. */
struct ctl_table *ctl_table_create(int ncols, const char *const *headers);
void ctl_table_destroy(struct ctl_table *t);
/* Appends a row of ncols cells (NULL prints as empty); copied. CTL_ENOMEM on OOM. */
int ctl_table_add(struct ctl_table *t, const char *const *cells, struct ctl_error *err);
int ctl_table_rows(const struct ctl_table *t);
/* Aligned text with a header line. */
void ctl_table_print(const struct ctl_table *t, FILE *out);
/* CSV with a header line. */
void ctl_table_print_csv(const struct ctl_table *t, FILE *out);

#endif
