/* output.c — printing the daemon's objects, numbers, ages and lists (see output.h). */
#include "cli/output.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/table.h"

char *ctl_json_pretty(json_t *j)
{
    return json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
}

void ctl_print_json(json_t *j)
{
    char *s = ctl_json_pretty(j);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
    }
    free(s);
}

void ctl_fmt_number(json_t *v, char *out, size_t cap)
{
    if (json_is_integer(v))
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_number(v))
        snprintf(out, cap, "%.4g", json_number_value(v));
    else
        snprintf(out, cap, "-");
}

static int parse_time(const char *s, time_t *out)
{
    struct tm tm;
    int n = 0;
    memset(&tm, 0, sizeof tm);
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    const char *p = s + n;
    if (*p == '.')
        while (*++p >= '0' && *p <= '9')
            ;
    int oh, om;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
        t -= (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    *out = t;
    return 0;
}

void ctl_fmt_age(const char *rfc3339, char *out, size_t cap)
{
    time_t t;
    if (parse_time(rfc3339, &t)) {
        snprintf(out, cap, "-");
        return;
    }
    long d = (long)difftime(time(NULL), t);
    if (d < 0)
        d = 0;
    if (d < 120)
        snprintf(out, cap, "%lds", d);
    else if (d < 7200)
        snprintf(out, cap, "%ldm", d / 60);
    else if (d < 172800)
        snprintf(out, cap, "%ldh", d / 3600);
    else
        snprintf(out, cap, "%ldd", d / 86400);
}

int ctl_print_rows(json_t *list, int ncols, const char *const *headers, ctl_row_fn row,
                   const char *empty, struct ctl_error *err)
{
    enum { MAX_COLS = 8 };
    assert(ncols > 0 && ncols <= MAX_COLS);
    if (json_array_size(list) == 0) {
        fprintf(stderr, "%s\n", empty);
        return 0;
    }
    struct ctl_table *t = ctl_table_create(ncols, headers);
    if (!t)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    int rc = 0;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *cells[MAX_COLS];
        char text[MAX_COLS][CTL_CELL];
        row(item, cells, text);
        if ((rc = ctl_table_add(t, cells, err)))
            break;
    }
    if (rc == 0)
        ctl_table_print(t, stdout);
    ctl_table_destroy(t);
    return rc;
}
