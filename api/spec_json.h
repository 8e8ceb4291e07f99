/* spec_json.h — the run spec as JSON <-> struct gc_spec.
 *
 * The public entry points (ga_spec_parse, ga_spec_normalize, ga_spec_to_json) are
 * declared in api/server.h; this header adds the jansson-level helper the routes use. */
#ifndef GA_SPEC_JSON_H
#define GA_SPEC_JSON_H

#include <jansson.h>

#include "api/server.h"

#define GA_SPEC_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* The normalized spec as a jansson object; user_path (may be NULL) replaces
 * spec->dataset.path in dataset.path. The caller owns the result. */
json_t *ga_spec_to_value(const struct gc_spec *spec, const char *user_path);

#endif
