/* table.c — aligned text tables and CSV (see table.h). */
#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

struct ctl_table {
    int ncols;
    int nrows;
    int cap;
    char **cells; /* (nrows + 1) x ncols, row 0 the headers */
};

static char *dup_cell(const char *s)
{
    return strdup(s ? s : "");
}

struct ctl_table *ctl_table_create(int ncols, const char *const *headers)
{
    struct ctl_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    t->cap = 16;
    t->cells = calloc((size_t)t->cap * (size_t)ncols, sizeof *t->cells);
    if (!t->cells) {
        free(t);
        return NULL;
    }
    for (int c = 0; c < ncols; c++) {
        if (!(t->cells[c] = dup_cell(headers[c]))) {
            ctl_table_destroy(t);
            return NULL;
        }
    }
    return t;
}

void ctl_table_destroy(struct ctl_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < (t->nrows + 1) * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

int ctl_table_add(struct ctl_table *t, const char *const *cells, struct ctl_error *err)
{
    if (t->nrows + 2 > t->cap) {
        int cap = t->cap * 2;
        char **c = realloc(t->cells, (size_t)cap * (size_t)t->ncols * sizeof *c);
        if (!c)
            return ctl_error_set(err, CTL_ENOMEM, "out of memory");
        t->cells = c;
        t->cap = cap;
    }
    char **row = t->cells + (size_t)(t->nrows + 1) * (size_t)t->ncols;
    for (int c = 0; c < t->ncols; c++) {
        if (!(row[c] = dup_cell(cells[c]))) {
            for (int k = 0; k < c; k++)
                free(row[k]);
            return ctl_error_set(err, CTL_ENOMEM, "out of memory");
        }
    }
    t->nrows++;
    return 0;
}

int ctl_table_rows(const struct ctl_table *t)
{
    return t->nrows;
}

/* Numbers read better right-aligned: "12", "-0.693", "1.2e-05", "45%". */
static int is_number(const char *s)
{
    char *end;
    if (!*s)
        return 0;
    strtod(s, &end);
    return end != s && (*end == '\0' || (end[0] == '%' && end[1] == '\0'));
}

void ctl_table_print(const struct ctl_table *t, FILE *out)
{
    int *width = calloc((size_t)t->ncols, sizeof *width);
    int *right = calloc((size_t)t->ncols, sizeof *right);
    if (!width || !right) {
        free(width);
        free(right);
        return;
    }
    for (int c = 0; c < t->ncols; c++) {
        int numeric = t->nrows > 0;
        for (int r = 0; r <= t->nrows; r++) {
            const char *s = t->cells[r * t->ncols + c];
            int w = (int)strlen(s);
            if (w > width[c])
                width[c] = w;
            if (r > 0 && *s && !is_number(s))
                numeric = 0;
        }
        right[c] = numeric;
    }
    for (int r = 0; r <= t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            int last = c == t->ncols - 1;
            if (right[c])
                fprintf(out, "%*s", width[c], s);
            else if (last)
                fputs(s, out);
            else
                fprintf(out, "%-*s", width[c], s);
            fputs(last ? "\n" : "  ", out);
        }
    }
    free(width);
    free(right);
}

static void csv_cell(const char *s, FILE *out)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void ctl_table_print_csv(const struct ctl_table *t, FILE *out)
{
    for (int r = 0; r <= t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (c)
                fputc(',', out);
            csv_cell(t->cells[r * t->ncols + c], out);
        }
        fputc('\n', out);
    }
}
