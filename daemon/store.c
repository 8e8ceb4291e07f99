/* store.c — the parts of store.h that are the same whatever keeps the rows: the names
 * of run statuses and the freeing of a run row. The SQLite store implements the rest
 * (store_sqlite*.c); these need no database. */
#include "daemon/store.h"

#include <stdlib.h>
#include <string.h>

static const char *const status_names[GD_NSTATUS] = {
    "queued", "running", "paused", "succeeded", "failed", "canceled",
};

const char *gd_status_name(enum gd_status s)
{
    return (unsigned)s < GD_NSTATUS ? status_names[s] : "unknown";
}

int gd_status_from_name(const char *s)
{
    for (int i = 0; s && i < GD_NSTATUS; i++)
        if (strcmp(s, status_names[i]) == 0)
            return i;
    return -1;
}

void gd_run_fini(struct gd_run *r)
{
    if (!r)
        return;
    free(r->spec_json);
    free(r->error);
    free(r->classes);
    r->spec_json = NULL;
    r->error = NULL;
    r->classes = NULL;
}
