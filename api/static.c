/* static.c — the dashboard's files, served from the web folder by file descriptor.
 *
 * A path must stay inside the folder: its segments may not be "..", "." or empty, and
 * its resolved real path must lie under the folder's (a symlink out is refused). Only
 * regular files up to MAX_STATIC bytes are served, with a type from their extension and
 * X-Content-Type-Options: nosniff. */
#include "api/static.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/reply.h"

#define MAX_STATIC (16 * 1024 * 1024)

static const char placeholder_index[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>ganctl</title></head>\n<body><h1>ganctl</h1>\n"
    "<p>The dashboard is not installed. The API lives under <a href=\"/api/v1/runs\">"
    "/api/v1/runs</a>; its description is <a href=\"/api/v1/openapi.json\">"
    "/api/v1/openapi.json</a>.</p></body></html>\n";

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
        {".woff2", "font/woff2"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Path segments of rel may not be "..", "." or empty and may hold no NUL, backslash or
 * control bytes; libmicrohttpd has already decoded %XX, so this also catches %2e%2e. */
static int safe_relative(const char *rel)
{
    if (!*rel || *rel == '/')
        return 0;
    const char *seg = rel;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == '\\' || seg[i] == 0x7f)
                return 0;
        if (!end)
            return 1;
        seg = end + 1;
    }
}

/* Opens web_dir/rel when it resolves to a regular file inside web_dir; -1 otherwise. */
static int open_inside(const char *web_dir, const char *rel, struct stat *st)
{
    char joined[PATH_MAX], real[PATH_MAX];
    if (snprintf(joined, sizeof joined, "%s/%s", web_dir, rel) >= (int)sizeof joined)
        return -1;
    if (!realpath(joined, real))
        return -1;
    size_t n = strlen(web_dir);
    if (strncmp(real, web_dir, n) != 0 || real[n] != '/')
        return -1;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > MAX_STATIC) {
        close(fd);
        return -1;
    }
    return fd;
}

static enum MHD_Result reply_file(struct ga_req *r, int fd, const struct stat *st, const char *rel)
{
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st->st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(rel));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    return ga_reply(r, 200, resp);
}

enum MHD_Result ga_route_index(struct ga_req *r)
{
    struct stat st;
    int fd = r->srv->web_dir[0] ? open_inside(r->srv->web_dir, "index.html", &st) : -1;
    if (fd < 0)
        return ga_reply_text(r, 200, "text/html; charset=utf-8", placeholder_index);
    return reply_file(r, fd, &st, "index.html");
}

enum MHD_Result ga_route_static(struct ga_req *r)
{
    const char *rel = r->file ? r->file : "";
    if (!safe_relative(rel))
        return ga_reply_problem(r, 404, NULL, "no such file: %s", r->url);
    struct stat st;
    int fd = -1;
    if (r->srv->web_dir[0]) {
        char alt[PATH_MAX];
        if (snprintf(alt, sizeof alt, "static/%s", rel) < (int)sizeof alt)
            fd = open_inside(r->srv->web_dir, alt, &st);
        if (fd < 0)
            fd = open_inside(r->srv->web_dir, rel, &st);
    }
    if (fd < 0 && strcmp(rel, "index.html") == 0)
        return ga_route_index(r); /* the placeholder when there is no dashboard */
    if (fd < 0)
        return ga_reply_problem(r, 404, NULL, "no such file: %s", r->url);
    return reply_file(r, fd, &st, rel);
}
