/* store_fixture.h — a store in a fresh scratch folder for the daemon's unit tests: open
 * it in setup, close it and remove the folder (and whatever the test wrote there: WAL
 * files, checkpoints, caches) in teardown. Included by test_store.c, test_store_claims.c
 * and test_sched.c.
 *
 * The store is the SQLite file DIR/ganctl.db, or, with GANCTL_TEST_STORE=postgres, a
 * new schema (the store's search_path, set in its URI) of one database of the process
 * on the PostgreSQL server at the socket folder GANCTL_TEST_PG_DIR and port
 * GANCTL_TEST_PG_PORT (tests/integration/pgserver.py run starts one and sets these),
 * dropped in teardown: a schema costs milliseconds where a database costs a second.
 * The same tests then run against both backends. */
#ifndef TEST_STORE_FIXTURE_H
#define TEST_STORE_FIXTURE_H

#include <ftw.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/store.h"

struct fx_store {
    char dir[64];    /* the scratch folder */
    char path[128];  /* dir/ganctl.db (SQLite) */
    char db[64];     /* the database (PostgreSQL) */
    char schema[64]; /* the test's schema in it */
    char where[512]; /* what gd_store_open() was given */
    int pg;
    struct gd_store *st;
};

/* 1 when the tests run against PostgreSQL. */
static inline int fx_pg(void)
{
    const char *e = getenv("GANCTL_TEST_STORE");
    return e && !strcmp(e, "postgres");
}

/* The URI of database db on the test server, with schema (when not NULL) first in the
 * search path. */
static inline void fx_pg_uri(const char *db, const char *schema, char *out, size_t cap)
{
    const char *dir = getenv("GANCTL_TEST_PG_DIR"), *port = getenv("GANCTL_TEST_PG_PORT");
    snprintf(out, cap, "postgresql://ganctl@/%s?host=%s&port=%s%s%s", db, dir ? dir : "/tmp",
             port ? port : "5432", schema ? "&options=-csearch_path%3D" : "", schema ? schema : "");
}

/* Runs sql on database db (in schema, when not NULL) of the test server; 0 on success,
 * -1 with the reason printed. */
static inline int fx_pg_exec(const char *db, const char *schema, const char *sql)
{
    char uri[512];
    fx_pg_uri(db, schema, uri, sizeof uri);
    PGconn *c = PQconnectdb(uri);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    } else {
        fprintf(stderr, "connect %s: %s", uri, PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Makes /tmp/NAME.XXXXXX and opens a store for it (a new database with PostgreSQL);
 * 0 on success, -1 with the reason printed on failure (cmocka setup functions fail with
 * a number only). */
static inline int fx_store_open(struct fx_store *s, const char *name)
{
    static int serial;
    snprintf(s->dir, sizeof s->dir, "/tmp/%s.XXXXXX", name);
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(s->path, sizeof s->path, "%s/ganctl.db", s->dir);
    s->pg = fx_pg();
    if (s->pg) {
        /* one database for the process, made by its first test */
        static int have_db;
        snprintf(s->db, sizeof s->db, "unit_%d", (int)getpid());
        char sql[160];
        if (!have_db) {
            snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", s->db);
            if (fx_pg_exec("postgres", NULL, sql))
                return -1;
            have_db = 1;
        }
        snprintf(s->schema, sizeof s->schema, "%s_%d", name, ++serial);
        snprintf(sql, sizeof sql, "CREATE SCHEMA \"%s\"", s->schema);
        if (fx_pg_exec(s->db, NULL, sql))
            return -1;
        fx_pg_uri(s->db, s->schema, s->where, sizeof s->where);
    } else {
        snprintf(s->where, sizeof s->where, "%s", s->path);
    }
    struct gc_error err = {0};
    s->st = gd_store_open(s->where, &err);
    if (!s->st) {
        fprintf(stderr, "open %s: %s\n", s->where, err.msg);
        return -1;
    }
    return 0;
}

/* Another store on the same file or database (another daemon, for claims). */
static inline struct gd_store *fx_store_another(const struct fx_store *s)
{
    struct gc_error err = {0};
    struct gd_store *st = gd_store_open(s->where, &err);
    if (!st)
        fprintf(stderr, "open %s: %s\n", s->where, err.msg);
    return st;
}

static inline int fx_remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    return remove(path);
}

/* Closes the store (NULL is fine: a test may have closed it) and removes the folder
 * with everything in it, and the schema. */
static inline int fx_store_close(struct fx_store *s)
{
    gd_store_close(s->st);
    s->st = NULL;
    if (s->pg) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS \"%s\" CASCADE", s->schema);
        fx_pg_exec(s->db, NULL, sql);
    }
    return nftw(s->dir, fx_remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* cmocka setup and teardown of a test with a store of its own in *state. */
static inline int fx_setup_named(void **state, const char *name)
{
    struct fx_store *f = calloc(1, sizeof(*f));
    if (!f || fx_store_open(f, name)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    struct fx_store *f = *state;
    int ret = fx_store_close(f);
    free(f);
    return ret;
}

#endif
