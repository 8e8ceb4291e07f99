/* store_pg.c — the PostgreSQL store's connections: opening them (and again after they
 * broke), migrating the schema, running prepared statements, telling an unreachable
 * server from a failing query, the health for /healthz, and the keeper's LISTEN
 * connection for news from other daemons. The queries live in the other store_pg_*.c
 * files; the locks are described in store_pg.h.
 *
 * The URI goes to libpq as given (with defaults before it, which it overrides: a
 * connect timeout, TCP keepalives, an application name); the password, when not in the
 * URI, comes from libpq's usual places (~/.pgpass, PGPASSFILE, a service file).
 * Messages name the store by gd_store_where(), the URI without its password. */
#include "daemon/store_pg.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/migrations.h"

/* How long a store found down waits before an operation tries to connect again. */
#define RETRY_MS 1000
/* The channel of the store's news, and the lock its migrations take. */
#define NEWS_CHANNEL "ganctl"
#define MIGRATE_LOCK "4711"

static int64_t ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* ---- values ---- */

const char *gd_pg_i64(char *buf, int64_t v)
{
    snprintf(buf, 24, "%lld", (long long)v);
    return buf;
}

int64_t gd_pg_get_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

void gd_pg_copy_text(char *dst, size_t cap, const PGresult *r, int row, int col)
{
    snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

char *gd_pg_dup_text(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

double gd_pg_get_double(const PGresult *r, int row, int col)
{
    /* float8 text is exact ("shortest-precise"), and reads back NaN and Infinity */
    return PQgetisnull(r, row, col) ? __builtin_nan("") : strtod(PQgetvalue(r, row, col), NULL);
}

int64_t gd_pg_get_i64_binary(const PGresult *r, int row, int col)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

int gd_pg_rows(PGresult *r, size_t sz, gd_pg_row_fn fill, void **out, int *n, struct gc_error *err)
{
    int rows = PQntuples(r);
    char *a = calloc((size_t)(rows ? rows : 1), sz);
    if (!a) {
        PQclear(r);
        return gd_pg_no_memory(err);
    }
    for (int i = 0; i < rows; i++)
        fill(r, i, a + (size_t)i * sz);
    PQclear(r);
    *out = a;
    *n = rows;
    return 0;
}

char *gd_pg_id_array(const int64_t *ids, int n)
{
    char *out = malloc((size_t)n * 22 + 3), *p = out;
    if (!out)
        return NULL;
    *p++ = '{';
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s%lld", i ? "," : "", (long long)ids[i]);
    *p++ = '}';
    *p = '\0';
    return out;
}

static void fill_id(const PGresult *r, int row, void *elem)
{
    *(int64_t *)elem = gd_pg_get_i64(r, row, 0);
}

int gd_pg_ids(PGresult *r, int64_t **out, int *n, struct gc_error *err)
{
    return gd_pg_rows(r, sizeof(**out), fill_id, (void **)out, n, err);
}

/* ---- health ---- */

/* The store is down: why, for /healthz and every operation until it is back. */
static void mark_down(struct gd_pg *s, const char *why)
{
    pthread_mutex_lock(&s->hmu);
    if (!s->down)
        snprintf(s->down_msg, sizeof s->down_msg, "unreachable: %s", why);
    s->down = 1;
    pthread_mutex_unlock(&s->hmu);
}

static void mark_up(struct gd_pg *s)
{
    pthread_mutex_lock(&s->hmu);
    s->down = 0;
    pthread_mutex_unlock(&s->hmu);
}

/* libpq's message of a connection, on one line, without the trailing newline. */
static void conn_message(PGconn *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s", c ? PQerrorMessage(c) : "out of memory");
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = *(p + 1) ? ' ' : '\0';
}

/* ---- connections ---- */

/* The server's notices (and the FATAL it sends as it shuts a connection) would go to
 * stderr: every failure they could tell of reaches the log through the error of the
 * call it failed instead. */
static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

/* A new connection to the server; NULL with the reason in why. */
static PGconn *connect_to(struct gd_pg *s, int bulk, char *why, size_t cap)
{
    static const char *const keys[] = {
        "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
        "keepalives_count", "application_name", "dbname",          NULL};
    const char *vals[] = {"5", "1", "10", "5", "3", "ganctld", s->uri, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        conn_message(c, why, cap);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    /* the bulk connections commit metric points and events without waiting for the
     * disk; times are sent and read in UTC */
    PGresult *r = PQexec(c, bulk ? "SET synchronous_commit = off; SET TIME ZONE 'UTC'"
                                 : "SET TIME ZONE 'UTC'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        conn_message(c, why, cap);
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Connects c unless it is; honours the retry interval while the store is down. */
static int ensure(struct gd_pg *s, struct gd_pg_conn *c, struct gc_error *err)
{
    if (c->c && PQstatus(c->c) == CONNECTION_OK)
        return 0;
    PQfinish(c->c);
    c->c = NULL;
    c->prepared = 0;
    pthread_mutex_lock(&s->hmu);
    int wait = s->down && ms_since(&s->last_try) < RETRY_MS;
    char msg[300];
    snprintf(msg, sizeof msg, "%s", s->down_msg);
    if (!wait)
        clock_gettime(CLOCK_MONOTONIC, &s->last_try);
    pthread_mutex_unlock(&s->hmu);
    if (wait)
        return gc_error_set(err, GC_EUNAVAIL, "store %s: %s", s->base.where, msg);
    char why[256];
    c->c = connect_to(s, c->bulk, why, sizeof why);
    if (!c->c) {
        mark_down(s, why);
        return gc_error_set(err, GC_EUNAVAIL, "store %s: unreachable: %s", s->base.where, why);
    }
    mark_up(s);
    return 0;
}

struct gd_pg_conn *gd_pg_acquire(struct gd_pg *s, int bulk, struct gc_error *err)
{
    int lo = bulk ? 0 : GD_PG_BULK, cnt = bulk ? GD_PG_BULK : GD_PG_POOL - GD_PG_BULK;
    unsigned start = atomic_fetch_add(&s->next, 1u);
    struct gd_pg_conn *c = NULL;
    for (int k = 0; k < cnt && !c; k++) {
        struct gd_pg_conn *t = &s->pool[lo + (int)((start + (unsigned)k) % (unsigned)cnt)];
        if (pthread_mutex_trylock(&t->mu) == 0)
            c = t;
    }
    if (!c) {
        c = &s->pool[lo + (int)(start % (unsigned)cnt)];
        pthread_mutex_lock(&c->mu);
    }
    if (ensure(s, c, err)) {
        pthread_mutex_unlock(&c->mu);
        return NULL;
    }
    return c;
}

void gd_pg_release(struct gd_pg_conn *c)
{
    pthread_mutex_unlock(&c->mu);
}

/* ---- statements ---- */

/* A failed result on c: GC_EUNAVAIL (c closed) when the server went away, else GC_EIO
 * with its message. The store is marked down only by a connection that cannot be
 * made (ensure): a connection broken by a restart of the server is made again by the
 * next operation on it. */
static int failure(struct gd_pg *s, struct gd_pg_conn *c, PGresult *r, struct gc_error *err,
                   const char *what)
{
    (void)s;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c->c));
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = *(p + 1) ? ' ' : '\0';
    /* class 08: connection exceptions; 57P01-57P03: the server shuts down or starts */
    int gone =
        PQstatus(c->c) != CONNECTION_OK || (state && !strncmp(state, "08", 2)) ||
        (state && (!strcmp(state, "57P01") || !strcmp(state, "57P02") || !strcmp(state, "57P03")));
    if (gone) {
        PQfinish(c->c);
        c->c = NULL;
        c->prepared = 0;
        return gc_error_set(err, GC_EUNAVAIL, "store: %s: unreachable: %s", what,
                            msg[0] ? msg : "the connection broke");
    }
    return gc_error_set(err, GC_EIO, "store: %s: %s", what, msg);
}

/* The statements that only read: run again once on a new connection when the one
 * they were sent on turns out to have broken since its last use (the server
 * restarted), so a restart costs no reader a failure. Writes are not: one may have
 * committed before the connection broke. */
static int read_only(enum gd_pg_stmt id)
{
    switch (id) {
    case GD_PG_RUN_GET:
    case GD_PG_RUN_LIST:
    case GD_PG_RUN_IDS:
    case GD_PG_RUN_COUNT:
    case GD_PG_RUN_REQUESTED:
    case GD_PG_WORKER_LIST:
    case GD_PG_STATS_STATUS:
    case GD_PG_STATS_STEPS:
    case GD_PG_METRIC_LATEST:
    case GD_PG_METRIC_LATEST_RUNS:
    case GD_PG_METRIC_AT:
    case GD_PG_METRIC_SERIES:
    case GD_PG_METRIC_LAST:
    case GD_PG_METRIC_SEEK:
    case GD_PG_METRIC_NAMES:
    case GD_PG_SAMPLE_STEPS:
    case GD_PG_SAMPLE_GET:
    case GD_PG_CKPT_LIST:
    case GD_PG_CKPT_GET:
    case GD_PG_EVENT_LIST:
    case GD_PG_EVENT_LIST_RUN:
    case GD_PG_EVENT_LAST:
        return 1;
    default:
        return 0;
    }
}

static PGresult *exec_once(struct gd_pg *s, struct gd_pg_conn *c, enum gd_pg_stmt id,
                           const char *sql, int n, const char *const *vals, const int *lens,
                           const int *fmts, int binary, struct gc_error *err, const char *what);

PGresult *gd_pg_exec(struct gd_pg *s, struct gd_pg_conn *c, enum gd_pg_stmt id, const char *sql,
                     int n, const char *const *vals, const int *lens, const int *fmts, int binary,
                     struct gc_error *err, const char *what)
{
    int retry = c->c && read_only(id) && PQtransactionStatus(c->c) == PQTRANS_IDLE;
    struct gc_error e = {0};
    PGresult *r = exec_once(s, c, id, sql, n, vals, lens, fmts, binary, &e, what);
    if (!r && retry && e.code == GC_EUNAVAIL && !ensure(s, c, NULL))
        r = exec_once(s, c, id, sql, n, vals, lens, fmts, binary, &e, what);
    if (!r && err)
        *err = e;
    return r;
}

static PGresult *exec_once(struct gd_pg *s, struct gd_pg_conn *c, enum gd_pg_stmt id,
                           const char *sql, int n, const char *const *vals, const int *lens,
                           const int *fmts, int binary, struct gc_error *err, const char *what)
{
    if (!c->c) {
        gc_error_set(err, GC_EUNAVAIL, "store: %s: unreachable: the connection broke", what);
        return NULL;
    }
    char name[16];
    snprintf(name, sizeof name, "g%d", (int)id);
    if (!(c->prepared & (1ull << id))) {
        PGresult *p = PQprepare(c->c, name, sql, n, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK) {
            failure(s, c, p, err, what);
            PQclear(p);
            return NULL;
        }
        PQclear(p);
        c->prepared |= 1ull << id;
    }
    PGresult *r = PQexecPrepared(c->c, name, n, vals, lens, fmts, binary);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        failure(s, c, r, err, what);
        PQclear(r);
        return NULL;
    }
    return r;
}

PGresult *gd_pg_query(struct gd_pg *s, int bulk, enum gd_pg_stmt id, const char *sql, int n,
                      const char *const *vals, const int *lens, const int *fmts, int binary,
                      struct gc_error *err, const char *what)
{
    struct gd_pg_conn *c = gd_pg_acquire(s, bulk, err);
    if (!c)
        return NULL;
    PGresult *r = gd_pg_exec(s, c, id, sql, n, vals, lens, fmts, binary, err, what);
    gd_pg_release(c);
    return r;
}

int gd_pg_command(struct gd_pg *s, struct gd_pg_conn *c, const char *sql, struct gc_error *err,
                  const char *what)
{
    if (!c->c)
        return gc_error_set(err, GC_EUNAVAIL, "store: %s: unreachable: the connection broke", what);
    PGresult *r = PQexec(c->c, sql);
    int ret = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        ret = failure(s, c, r, err, what);
    PQclear(r);
    return ret;
}

void gd_pg_rollback(struct gd_pg *s, struct gd_pg_conn *c)
{
    if (c->c)
        gd_pg_command(s, c, "ROLLBACK", NULL, "rollback");
}

int gd_pg_do(struct gd_pg *s, struct gd_pg_conn *c, enum gd_pg_stmt id, const char *sql, int n,
             const char *const *vals, const int *lens, const int *fmts, struct gc_error *err,
             const char *what)
{
    PGresult *r = gd_pg_exec(s, c, id, sql, n, vals, lens, fmts, 0, err, what);
    if (!r)
        return gd_pg_fail(err);
    PQclear(r);
    return 0;
}

struct gd_pg_conn *gd_pg_begin(struct gd_pg *s, int64_t run, enum gd_request *req, int *ret,
                               struct gc_error *err, const char *what)
{
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, err);
    if (!c) {
        *ret = GC_EUNAVAIL;
        return NULL;
    }
    if ((*ret = gd_pg_command(s, c, "BEGIN", err, what)) ||
        (run > 0 && (*ret = gd_pg_lock_run(s, c, run, req, err)))) {
        gd_pg_rollback(s, c);
        gd_pg_release(c);
        return NULL;
    }
    return c;
}

int gd_pg_end(struct gd_pg *s, struct gd_pg_conn *c, int ret, struct gc_error *err,
              const char *what)
{
    if (!ret)
        ret = gd_pg_command(s, c, "COMMIT", err, what);
    if (ret)
        gd_pg_rollback(s, c);
    gd_pg_release(c);
    return ret;
}

/* ---- migrations ---- */

/* The schema version: 0 for a database without the table. */
static int read_version(struct gd_pg *s, PGconn *c, int *v, struct gc_error *err)
{
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_version");
    int ret = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        *v = atoi(PQgetvalue(r, 0, 0));
    else
        ret = gc_error_set(err, GC_EIO, "store %s: read schema_version: %s", s->base.where,
                           PQresultErrorMessage(r));
    PQclear(r);
    return ret;
}

/* One statement (or several) of a migration on c, inside its transaction. */
static int run_sql(struct gd_pg *s, PGconn *c, const char *sql, struct gc_error *err)
{
    PGresult *r = PQexec(c, sql);
    int ret = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
        for (char *p = msg; *p; p++)
            if (*p == '\n')
                *p = ' ';
        ret = gc_error_set(err, GC_EIO, "store %s: %s", s->base.where, msg);
    }
    PQclear(r);
    return ret;
}

/* Brings the schema up to this binary's migrations, one transaction each. Every
 * transaction first takes an advisory lock, so daemons starting together migrate one
 * after the other, and each sees what the one before did. */
static int migrate(struct gd_pg *s, PGconn *c, struct gc_error *err)
{
    const struct gd_migration *ms = gd_migrations_pg;
    int count = gd_migrations_pg_count;
    int known = count > 0 ? ms[count - 1].version : 0;
    for (;;) {
        int have = 0, ret;
        if ((ret = run_sql(s, c,
                           "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ");"
                           " CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)",
                           err)) ||
            (ret = read_version(s, c, &have, err)))
            goto undo;
        if (have > known) {
            ret = gc_error_set(err, GC_ESTATE,
                               "database version %d is newer than this ganctld (knows %d); "
                               "upgrade ganctld",
                               have, known);
            goto undo;
        }
        const struct gd_migration *m = NULL;
        for (int i = 0; i < count && !m; i++)
            if (ms[i].version > have)
                m = &ms[i];
        if (!m)
            return run_sql(s, c, "COMMIT", err);
        char set[96];
        snprintf(set, sizeof set,
                 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)", m->version);
        if ((ret = run_sql(s, c, m->sql, err)) || (ret = run_sql(s, c, set, err)) ||
            (ret = run_sql(s, c, "COMMIT", err))) {
            gc_error_prefix(err, "migration %s", m->name);
            goto undo;
        }
        continue;
    undo:
        PQclear(PQexec(c, "ROLLBACK"));
        return ret;
    }
}

/* ---- opening ---- */

static void pg_close(struct gd_store *st)
{
    struct gd_pg *s = gd_pg_of(st);
    for (int i = 0; i < GD_PG_POOL; i++) {
        PQfinish(s->pool[i].c);
        pthread_mutex_destroy(&s->pool[i].mu);
    }
    PQfinish(s->listen);
    pthread_mutex_destroy(&s->hmu);
    gd_store_base_fini(&s->base);
    if (s->uri) {
        memset(s->uri, 0, strlen(s->uri));
        free(s->uri);
    }
    free(s);
}

struct gd_store *gd_store_pg_open(const char *uri, struct gc_error *err)
{
    struct gd_pg *s = calloc(1, sizeof(*s));
    if (!s) {
        gd_pg_no_memory(err);
        return NULL;
    }
    gd_store_base_init(&s->base, &gd_pg_ops, uri);
    pthread_mutex_init(&s->hmu, NULL);
    for (int i = 0; i < GD_PG_POOL; i++) {
        pthread_mutex_init(&s->pool[i].mu, NULL);
        s->pool[i].bulk = i < GD_PG_BULK;
    }
    atomic_init(&s->next, 0u);
    s->uri = strdup(uri);
    if (!s->uri) {
        gd_pg_no_memory(err);
        goto fail;
    }
    /* the first connection migrates; it stays in the pool */
    char why[256];
    struct gd_pg_conn *c = &s->pool[GD_PG_BULK];
    c->c = connect_to(s, 0, why, sizeof why);
    if (!c->c) {
        gc_error_set(err, GC_EUNAVAIL, "store %s: cannot connect: %s", s->base.where, why);
        goto fail;
    }
    if (migrate(s, c->c, err))
        goto fail;
    return &s->base;
fail:
    pg_close(&s->base);
    return NULL;
}

static int pg_version(struct gd_store *st)
{
    struct gd_pg *s = gd_pg_of(st);
    struct gd_pg_conn *c = gd_pg_acquire(s, 0, NULL);
    int v = -1;
    if (c) {
        read_version(s, c->c, &v, NULL);
        gd_pg_release(c);
    }
    return v;
}

/* ---- health ---- */

static int pg_health(struct gd_store *st, char *msg, size_t cap)
{
    struct gd_pg *s = gd_pg_of(st);
    pthread_mutex_lock(&s->hmu);
    int down = s->down, probe = down && ms_since(&s->last_try) >= 2 * RETRY_MS;
    pthread_mutex_unlock(&s->hmu);
    if (probe) {
        /* nothing else tried for a while: see whether the server is back */
        struct gd_pg_conn *c = gd_pg_acquire(s, 0, NULL);
        if (c) {
            gd_pg_command(s, c, "SELECT 1", NULL, "probe");
            gd_pg_release(c);
        }
    }
    pthread_mutex_lock(&s->hmu);
    down = s->down;
    if (msg && cap)
        snprintf(msg, cap, "%s", down ? s->down_msg : "");
    pthread_mutex_unlock(&s->hmu);
    return down ? GC_EUNAVAIL : 0;
}

/* ---- news: the keeper's LISTEN connection ---- */

static int pg_news_wait(struct gd_store *st, int timeout_ms, struct gd_store_news *out,
                        struct gc_error *err)
{
    struct gd_pg *s = gd_pg_of(st);
    if (!s->listen || PQstatus(s->listen) != CONNECTION_OK) {
        PQfinish(s->listen);
        char why[256];
        s->listen = connect_to(s, 0, why, sizeof why);
        PGresult *r = s->listen ? PQexec(s->listen, "LISTEN " NEWS_CHANNEL) : NULL;
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (s->listen && !ok)
            conn_message(s->listen, why, sizeof why);
        PQclear(r);
        if (!ok) {
            PQfinish(s->listen);
            s->listen = NULL;
            usleep((useconds_t)timeout_ms * 1000);
            return gc_error_set(err, GC_EUNAVAIL, "store %s: news: unreachable: %s", s->base.where,
                                why);
        }
        /* what happened while not listening is unknown: say everything may have */
        out->events = out->queue = out->requests = 1;
        return 0;
    }
    struct pollfd pfd = {.fd = PQsocket(s->listen), .events = POLLIN};
    int pr = poll(&pfd, 1, timeout_ms);
    if (pr < 0 && errno != EINTR)
        return gc_error_set(err, GC_EIO, "store: news: poll: %s", strerror(errno));
    if (pr > 0 && !PQconsumeInput(s->listen)) {
        PQfinish(s->listen);
        s->listen = NULL;
        return gc_error_set(err, GC_EUNAVAIL, "store %s: news: the connection broke",
                            s->base.where);
    }
    PGnotify *n;
    while ((n = PQnotifies(s->listen))) {
        out->events |= n->extra[0] == 'e';
        out->queue |= n->extra[0] == 'q';
        out->requests |= n->extra[0] == 'r';
        PQfreemem(n);
    }
    return 0;
}

const struct gd_store_ops gd_pg_ops = {
    .kind = "postgresql",
    .close = pg_close,
    .version = pg_version,
    .run_insert = gd_pg_run_insert,
    .run_get = gd_pg_run_get,
    .run_list = gd_pg_run_list,
    .run_set_status = gd_pg_run_set_status,
    .run_set_step = gd_pg_run_set_step,
    .run_set_classes = gd_pg_run_set_classes,
    .run_set_provenance = gd_pg_run_set_provenance,
    .run_rewind = gd_pg_run_rewind,
    .run_delete = gd_pg_run_delete,
    .run_ids = gd_pg_run_ids,
    .run_count = gd_pg_run_count,
    .run_claim = gd_pg_run_claim,
    .run_recover = gd_pg_run_recover,
    .run_act = gd_pg_run_act,
    .run_requested = gd_pg_run_requested,
    .worker_beat = gd_pg_worker_beat,
    .worker_leave = gd_pg_worker_leave,
    .worker_list = gd_pg_worker_list,
    .metrics_put = gd_pg_metrics_put,
    .metrics_latest = gd_pg_metrics_latest,
    .metrics_latest_runs = gd_pg_metrics_latest_runs,
    .metrics_at = gd_pg_metrics_at,
    .metrics_series = gd_pg_metrics_series,
    .metrics_names = gd_pg_metrics_names,
    .sample_put = gd_pg_sample_put,
    .sample_steps = gd_pg_sample_steps,
    .sample_get = gd_pg_sample_get,
    .plane_put = gd_pg_plane_put,
    .plane_steps = gd_pg_plane_steps,
    .plane_get = gd_pg_plane_get,
    .ckpt_put = gd_pg_ckpt_put,
    .ckpt_list = gd_pg_ckpt_list,
    .ckpt_get = gd_pg_ckpt_get,
    .event_put = gd_pg_event_put,
    .event_list = gd_pg_event_list,
    .event_last = gd_pg_event_last,
    .news_wait = pg_news_wait,
    .sweep_insert = gd_pg_sweep_insert,
    .sweep_get = gd_pg_sweep_get,
    .sweep_list = gd_pg_sweep_list,
    .sweep_runs = gd_pg_sweep_runs,
    .watch_put = gd_pg_watch_put,
    .watch_list = gd_pg_watch_list,
    .stats = gd_pg_stats,
    .health = pg_health,
};
