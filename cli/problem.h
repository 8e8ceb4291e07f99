/* problem.h — the one funnel for what the client tells the user went wrong.
 *
 * Error answers of the API are application/problem+json (docs/api.md):
 * {"type","title","status","detail","errors":[{"field","message"}]}. They are printed
 * to stderr as "ganctl: DETAIL" and one "  FIELD: MESSAGE" line per field error, and
 * the HTTP status becomes the CTL_E* code that decides the exit status. */
#ifndef CTL_PROBLEM_H
#define CTL_PROBLEM_H

#include "cli/error.h"
#include "cli/http.h"

/* Prints r (a non-2xx answer) and returns CTL_ENOTFOUND for 404, CTL_EAUTH for 401 and
 * 403, CTL_EFAIL otherwise. A body that is not a problem object is printed as it is
 * (its first line), so a proxy's error page still says something. */
int ctl_problem_report(const struct ctl_response *r);

/* "ganctl: MSG" on stderr. */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints err's message (unless it is empty or CTL_ESTOPPED) and returns err->code. */
int ctl_report(const struct ctl_error *err);

#endif
