/* request.h — a command's requests to the daemon, through the context's client.
 *
 * A 2xx answer comes back to the command; any other is reported on stderr by
 * ctl_problem_report() (problem.h), whose CTL_E* code is returned, so a command only
 * handles success. Downloads are written next to their target and renamed into place:
 * a failed one never leaves half a file under the name asked for. */
#ifndef CTL_REQUEST_H
#define CTL_REQUEST_H

#include <jansson.h>

#include "cli/context.h"
#include "cli/error.h"
#include "cli/http.h"

/* One request (body: NULL or JSON). 0 with *out filled for a 2xx (the caller calls
 * ctl_response_fini); otherwise the problem was reported, or err says why the daemon
 * could not be asked. */
int ctl_call(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
             struct ctl_response *out, struct ctl_error *err);

/* Like ctl_call() for an answer that must be a JSON object (CTL_EFAIL when it is
 * not); *out is a new reference. */
int ctl_call_json(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
                  json_t **out, struct ctl_error *err);

/* The most bytes a request body may have (the daemon answers 413 beyond). */
#define CTL_MAX_UPLOAD (1024 * 1024)

/* Writes an answer's body to file ("-": standard output) and says on stderr what was
 * written. */
int ctl_write_answer(const struct ctl_response *r, const char *file, struct ctl_error *err);
/* Writes the answer's body to file ("-": standard output), then says on stderr what
 * was written. CTL_EIO when the file cannot be written. */
int ctl_download(struct ctl_ctx *ctx, const char *method, const char *path, const char *body,
                 const char *file, struct ctl_error *err);

#endif
