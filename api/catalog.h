/* catalog.h — GET /api/v1/catalog (the names of metrics and spec values) and
 * GET /api/v1/spec/defaults (the normalized spec a dataset and loss get by default).
 *
 * The handlers, ga_route_catalog() and ga_route_spec_defaults(), are declared in
 * api/http.h (api/ only). */
#ifndef GA_CATALOG_H
#define GA_CATALOG_H

#include "api/server.h"

#endif
