/* run_trainer.c — a run's spec and its generator restored from the newest checkpoint,
 * for the endpoints that serve a trained G (see run_trainer.h). */
#include "api/run_trainer.h"

#include <stdlib.h>

#include "api/reply.h"
#include "api/spec_json.h"
#include "daemon/store.h"

int ga_run_spec(struct ga_req *r, int64_t id, struct gc_spec *spec, enum MHD_Result *ret)
{
    struct gd_run run = {0};
    struct gc_error err = {0};
    if (gd_store_run_get(r->srv->store, id, &run, &err) != 0) {
        if (err.code == GC_ENOTFOUND)
            gc_error_set(&err, GC_ENOTFOUND, "no run %lld", (long long)id);
        *ret = ga_reply_error(r, &err);
        return -1;
    }
    int rc = ga_spec_parse_stored(run.spec_json, r->srv->datasets_dir, spec, &err);
    gd_run_fini(&run);
    if (rc != 0) {
        gc_error_set(&err, GC_EIO, "the stored spec of run %lld does not parse", (long long)id);
        *ret = ga_reply_error(r, &err);
        return -1;
    }
    return 0;
}

struct gc_trainer *ga_run_trainer(struct ga_req *r, int64_t id, const struct gc_spec *spec,
                                  const char *verb, enum MHD_Result *ret)
{
    uint8_t *ckpt = NULL;
    size_t clen = 0;
    int64_t got = 0;
    struct gc_error err = {0};
    if (gd_store_ckpt_get(r->srv->store, id, -1, &ckpt, &clen, &got, &err) != 0) {
        if (err.code == GC_ENOTFOUND)
            gc_error_set(&err, GC_ESTATE, "run %lld has no checkpoint yet to %s", (long long)id,
                         verb);
        *ret = ga_reply_error(r, &err);
        return NULL;
    }
    struct gc_trainer_opts topts = {.threads = 1, .cache_dir = NULL, .load_data = 0};
    struct gc_trainer *t = gc_trainer_create(spec, &topts, &err);
    if (t && gc_trainer_restore(t, ckpt, clen, &err) != 0) {
        gc_trainer_destroy(t);
        t = NULL;
        if (err.code == GC_ECORRUPT) /* our own bytes: the store's fault, not the user's */
            gc_error_set(&err, GC_EIO, "the checkpoint of run %lld does not restore: %s",
                         (long long)id, err.msg);
    }
    free(ckpt);
    if (!t)
        *ret = ga_reply_error(r, &err);
    return t;
}
