/* store_backend.h — what a backend of the store provides: one table of functions, in
 * the order and with the meaning of store.h. Internal to the store files: store.c
 * dispatches every gd_store_* call through the table of the store it is given, and
 * each backend (store_sqlite*.c, store_pg*.c) fills one table.
 *
 * A backend's store struct begins with a struct gd_store, so a pointer to either is a
 * pointer to both. */
#ifndef GD_STORE_BACKEND_H
#define GD_STORE_BACKEND_H

#include <pthread.h>

#include "daemon/store.h"

struct gd_store_ops {
    const char *kind; /* "sqlite", "postgresql" */
    void (*close)(struct gd_store *s);
    int (*version)(struct gd_store *s);

    int (*run_insert)(struct gd_store *s, const struct gd_worker_self *claim_for, const char *name,
                      const char *spec_json, int64_t steps, int64_t *id, struct gc_error *err);
    int (*run_get)(struct gd_store *s, int64_t id, struct gd_run *out, struct gc_error *err);
    int (*run_list)(struct gd_store *s, int status, int limit, int64_t cursor, struct gd_run **out,
                    int *n, int64_t *next, struct gc_error *err);
    int (*run_set_status)(struct gd_store *s, int64_t id, enum gd_status st, const char *error,
                          struct gc_error *err);
    int (*run_set_step)(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err);
    int (*run_set_classes)(struct gd_store *s, int64_t id, const char *classes,
                           struct gc_error *err);
    int (*run_set_provenance)(struct gd_store *s, int64_t id, const struct gd_provenance *p,
                              struct gc_error *err);
    int (*run_rewind)(struct gd_store *s, int64_t id, int64_t step, struct gc_error *err);
    int (*run_delete)(struct gd_store *s, int64_t id, struct gc_error *err);
    int (*run_ids)(struct gd_store *s, enum gd_status st, int64_t **ids, int *n,
                   struct gc_error *err);
    int (*run_count)(struct gd_store *s, enum gd_status st, int64_t *n, struct gc_error *err);

    int (*run_claim)(struct gd_store *s, const struct gd_worker_self *me, int64_t want, int64_t *id,
                     char *taken_from, size_t cap, struct gc_error *err);
    int (*run_recover)(struct gd_store *s, const struct gd_worker_self *me, int64_t **ids, int *n,
                       struct gc_error *err);
    int (*run_act)(struct gd_store *s, int64_t id, enum gd_action act, const char *reason,
                   struct gd_act_result *out, struct gc_error *err);
    int (*run_requested)(struct gd_store *s, int64_t id, enum gd_request *req,
                         struct gc_error *err);

    int (*worker_beat)(struct gd_store *s, const struct gd_worker_self *me, struct gc_error *err);
    int (*worker_leave)(struct gd_store *s, const struct gd_worker_self *me, struct gc_error *err);
    int (*worker_list)(struct gd_store *s, struct gd_worker_info **out, int *n,
                       struct gc_error *err);

    int (*metrics_put)(struct gd_store *s, int64_t run, int kind, int64_t step,
                       const char *const *names, const double *values, int n, struct gc_error *err);
    int (*metrics_latest)(struct gd_store *s, int64_t run, int kind, struct gd_kv **out, int *n,
                          struct gc_error *err);
    int (*metrics_latest_runs)(struct gd_store *s, const int64_t *runs, int nruns,
                               struct gd_kv **out, int *n, struct gc_error *err);
    int (*metrics_at)(struct gd_store *s, int64_t run, int kind, int64_t step, struct gd_kv **out,
                      int *n, struct gc_error *err);
    int (*metrics_series)(struct gd_store *s, int64_t run, const char *name, int64_t from,
                          int64_t to, int max_points, int64_t **steps, double **values, int *n,
                          struct gc_error *err);
    int (*metrics_names)(struct gd_store *s, int64_t run, char ***names, int *n,
                         struct gc_error *err);

    int (*sample_put)(struct gd_store *s, int64_t run, int64_t step, const uint8_t *png, size_t len,
                      struct gc_error *err);
    int (*sample_steps)(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                        struct gc_error *err);
    int (*sample_get)(struct gd_store *s, int64_t run, int64_t step, uint8_t **png, size_t *len,
                      int64_t *got_step, struct gc_error *err);
    int (*plane_put)(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes,
                     size_t len, struct gc_error *err);
    int (*plane_steps)(struct gd_store *s, int64_t run, int64_t **steps, int *n,
                       struct gc_error *err);
    int (*plane_get)(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                     int64_t *got_step, struct gc_error *err);

    int (*ckpt_put)(struct gd_store *s, int64_t run, int64_t step, const uint8_t *bytes, size_t len,
                    int keep, const char *sha256, struct gc_error *err);
    int (*ckpt_list)(struct gd_store *s, int64_t run, struct gd_ckpt_info **out, int *n,
                     struct gc_error *err);
    int (*ckpt_get)(struct gd_store *s, int64_t run, int64_t step, uint8_t **bytes, size_t *len,
                    int64_t *got_step, struct gc_error *err);

    int (*event_put)(struct gd_store *s, int64_t run, const char *type, int64_t step, int64_t *id,
                     struct gc_error *err);
    int (*event_list)(struct gd_store *s, int64_t run, int64_t after, int limit,
                      struct gd_event **out, int *n, struct gc_error *err);
    int (*event_last)(struct gd_store *s, int64_t *id, struct gc_error *err);
    int (*news_wait)(struct gd_store *s, int timeout_ms, struct gd_store_news *out,
                     struct gc_error *err);

    int (*sweep_insert)(struct gd_store *s, const struct gd_sweep *w,
                        const struct gd_sweep_run *runs, int n, int64_t *id, int64_t *run_ids,
                        struct gc_error *err);
    int (*sweep_get)(struct gd_store *s, int64_t id, struct gd_sweep *out, struct gc_error *err);
    int (*sweep_list)(struct gd_store *s, struct gd_sweep **out, int *n, struct gc_error *err);
    int (*sweep_runs)(struct gd_store *s, int64_t sweep, struct gd_sweep_member **out, int *n,
                      struct gc_error *err);
    int (*watch_put)(struct gd_store *s, const struct gd_watch_record *r, int64_t *id,
                     struct gc_error *err);
    int (*watch_list)(struct gd_store *s, const int64_t *runs, int nruns,
                      struct gd_watch_record **out, int *n, struct gc_error *err);

    int (*stats)(struct gd_store *s, struct gd_store_stats *out, struct gc_error *err);
    int (*health)(struct gd_store *s, char *msg, size_t cap);
};

/* The runs a store claimed and the claim (a number the run's row carries, raised by
 * every claim) each holds: what fences the owner's writes. A fixed table: a daemon
 * trains at most 64 runs at once (--workers). Guarded by mu. */
#define GD_CLAIMS_MAX 80
struct gd_claims {
    pthread_mutex_t mu;
    int n;
    int64_t run[GD_CLAIMS_MAX];
    int64_t claim[GD_CLAIMS_MAX];
};

struct gd_store {
    const struct gd_store_ops *ops;
    char where[512]; /* the path or the URI without its password */
    struct gd_claims claims;
};

/* Sets up the common part of a backend's store (ops, where, the claims table). */
void gd_store_base_init(struct gd_store *s, const struct gd_store_ops *ops, const char *where);
void gd_store_base_fini(struct gd_store *s);

/* The claim this store holds on run (0 when none), and adding and dropping one. */
int64_t gd_claims_get(struct gd_store *s, int64_t run);
void gd_claims_set(struct gd_store *s, int64_t run, int64_t claim);
void gd_claims_drop(struct gd_store *s, int64_t run);

/* The status a stopping owner's final status becomes when the user asked for req
 * meanwhile: a cancel wins over a pause or a shutdown, a pause over a shutdown. */
enum gd_status gd_store_final_status(enum gd_status st, enum gd_request req);
/* "pause"/"cancel" as stored in a run's requested column, and back (GD_REQ_NONE for
 * NULL or anything else). */
const char *gd_request_name(enum gd_request r);
enum gd_request gd_request_from_name(const char *s);

/* What one of the user's verbs does to a run in status st with request req pending
 * (gd_store_run_act): the plan a backend carries out inside its transaction. */
struct gd_act_plan {
    int set_status; /* write status (and clear the request, the worker and the lease) */
    enum gd_status status;
    int set_request; /* leave request for the running run's owner */
    enum gd_request request;
    int del; /* delete the run */
};
/* 0 with the plan, or GC_ESTATE with a message naming the run's status. */
int gd_store_act_plan(int64_t id, enum gd_action act, enum gd_status st, enum gd_request req,
                      struct gd_act_plan *p, struct gc_error *err);

/* The step a downsampled series seeks for its point i of m (m >= 2) between the steps
 * lo and hi of its first and last point: lo + i * (hi - lo) / (m - 1), exact in
 * integers, so point 0 is lo and point m - 1 is hi. */
int64_t gd_series_target(int64_t lo, int64_t hi, int i, int m);

/* The backends' openers. */
struct gd_store *gd_store_sqlite_open(const char *path, struct gc_error *err);
struct gd_store *gd_store_pg_open(const char *uri, struct gc_error *err);

#endif
