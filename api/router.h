/* router.h — the route table: every path the daemon serves, the methods each takes and
 * the handler that answers; and the one dispatcher that applies auth, 404 and 405.
 *
 * A path pattern is literal text with parameters in braces:
 *   {id}    a run id, a decimal integer >= 1, up to the next '/'
 *   {step}  a step, a decimal integer >= 0, up to the next '/' less the literal that
 *           follows it in the pattern (".png")
 *   {file}  the rest of the path, slashes included (possibly empty)
 * A matched route sets r->id, r->step and r->file (api/http.h) before its handler runs.
 * The table is what api/openapi.json documents; tests compare the two.
 *
 * Internal to api/ (and the tests). The table is constant: thread-safe. */
#ifndef GA_ROUTER_H
#define GA_ROUTER_H

#include "api/http.h"

/* Methods, as bits of a set. HEAD goes with GET wherever a body can be computed ahead;
 * the event streams take GET only. */
enum ga_method {
    GA_GET = 1 << 0,
    GA_HEAD = 1 << 1,
    GA_POST = 1 << 2,
    GA_DELETE = 1 << 3,
};

typedef enum MHD_Result (*ga_handler)(struct ga_req *r);

struct ga_route {
    unsigned methods;    /* enum ga_method bits */
    const char *pattern; /* "/api/v1/runs/{id}/samples/{step}.png" */
    ga_handler handler;
    int trailing_slash; /* the path also answers with one '/' appended */
};

/* The table, ga_route_count rows; several rows may share a pattern (one per handler). */
extern const struct ga_route ga_routes[];
extern const int ga_route_count;

/* What a path matched. */
struct ga_match {
    const struct ga_route *route; /* the row for the method; NULL if none takes it */
    unsigned allow;               /* the methods of every row the path matched; 0: none */
    int64_t id, step;             /* as in struct ga_req */
    const char *file;
    char detail[160]; /* why no row matched when there is more to say than "no route" */
};

/* Matches path (decoded, without the query) and method ("GET", ...) against the table. */
void ga_route_match(const char *path, const char *method, struct ga_match *m);
/* The methods of a set as an Allow header lists them: "GET, HEAD, POST"; sep between
 * them (", "). Returns out. */
char *ga_methods_text(unsigned methods, const char *sep, char *out, size_t cap);

/* Serves r: 401 on /api/ without the token (when the daemon has one), 404 for a path no
 * row matches, 405 with Allow for a method none of its rows takes, else the handler. */
enum MHD_Result ga_route_request(struct ga_req *r);

#endif
