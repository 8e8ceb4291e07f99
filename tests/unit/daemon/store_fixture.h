/* store_fixture.h — a store in a fresh scratch folder for the daemon's unit tests:
 * open it in setup, close it and remove the folder (and whatever the test wrote
 * there: WAL files, checkpoints, caches) in teardown. Included by test_store.c and
 * test_sched.c. */
#ifndef TEST_STORE_FIXTURE_H
#define TEST_STORE_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

#include "daemon/store.h"

struct fx_store {
    char dir[64];   /* the scratch folder */
    char path[128]; /* dir/ganctl.db */
    struct gd_store *st;
};

/* Makes /tmp/NAME.XXXXXX and opens a store in it; 0 on success, -1 with the reason
 * printed on failure (cmocka setup functions fail with a number only). */
static inline int fx_store_open(struct fx_store *s, const char *name)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/%s.XXXXXX", name);
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(s->path, sizeof s->path, "%s/ganctl.db", s->dir);
    struct gc_error err = {0};
    s->st = gd_store_open(s->path, &err);
    if (!s->st) {
        fprintf(stderr, "open %s: %s\n", s->path, err.msg);
        return -1;
    }
    return 0;
}

static inline int fx_remove_one(const char *path, const struct stat *sb, int type,
                                struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    return remove(path);
}

/* Closes the store (NULL is fine: a test may have closed it) and removes the folder
 * with everything in it. */
static inline int fx_store_close(struct fx_store *s)
{
    gd_store_close(s->st);
    s->st = NULL;
    return nftw(s->dir, fx_remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

#endif
