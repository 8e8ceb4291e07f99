/* catalog.h — GET /api/v1/catalog (the names of metrics and spec values) and
 * GET /api/v1/spec/defaults (the normalized spec a dataset and loss get by default).
 *
 * Internal to api/. */
#ifndef GA_CATALOG_H
#define GA_CATALOG_H

#include "api/http.h"

/* GET /api/v1/catalog: metrics (from core/metrics.h) and the spec's enumerated values. */
enum MHD_Result ga_route_catalog(struct ga_req *r);
/* GET /api/v1/spec/defaults?dataset=NAME[&loss=NAME]: the whole normalized spec. */
enum MHD_Result ga_route_spec_defaults(struct ga_req *r);

#endif
