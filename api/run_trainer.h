/* run_trainer.h — a run's generator served from its newest checkpoint: the stored
 * spec, and a trainer restored without its data (POST .../generate, .../translate).
 *
 * Internal to api/. Both reply themselves on failure (404 no run, 409 no checkpoint
 * yet, 500 a stored spec or checkpoint that does not load), set *ret and return -1 or
 * NULL. Called on the request's connection thread; the trainer has one compute thread
 * and belongs to the caller. */
#ifndef GA_RUN_TRAINER_H
#define GA_RUN_TRAINER_H

#include "api/http.h"
#include "core/gan.h"

/* The stored spec of run id into *spec; 0, or -1 after replying. */
int ga_run_spec(struct ga_req *r, int64_t id, struct gc_spec *spec, enum MHD_Result *ret);
/* A trainer of spec restored from run id's newest checkpoint; verb ("generate from",
 * "translate with") says in the 409 what needed the checkpoint. */
struct gc_trainer *ga_run_trainer(struct ga_req *r, int64_t id, const struct gc_spec *spec,
                                  const char *verb, enum MHD_Result *ret);

#endif
