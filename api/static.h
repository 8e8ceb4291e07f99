/* static.h — the dashboard's files: GET / (and /index.html) and GET /static/{file}.
 *
 * Internal to api/. Files are read from the web folder (srv->web_dir) and never from
 * outside it; without one, / serves a placeholder page that points at the API. */
#ifndef GA_STATIC_H
#define GA_STATIC_H

#include "api/http.h"

/* GET / and /index.html: web/index.html, or the placeholder. */
enum MHD_Result ga_route_index(struct ga_req *r);
/* GET /static/{file}: web/static/FILE when it exists, else web/FILE. */
enum MHD_Result ga_route_static(struct ga_req *r);

#endif
