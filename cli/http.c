/* http.c — requests to ganctld over libcurl (see http.h).
 *
 * One easy handle per client, reset before each request so no option leaks from one
 * request into the next while the connection itself stays cached. Bodies are
 * collected in memory: the largest thing the API sends is a checkpoint, which fits. */
#include "cli/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/buf.h"

struct ctl_client {
    CURL *curl;
    char *addr; /* base URL without a trailing '/' */
    char *auth; /* "Authorization: Bearer ..." or NULL */
    char errbuf[CURL_ERROR_SIZE];
};

/* What the curl callbacks of one transfer share. */
struct transfer {
    struct ctl_client *c;
    struct ctl_buf body;
    const struct ctl_stream_ops *ops; /* NULL: collect the body */
    int stopped;                      /* a callback asked to stop */
    int oom;
};

void ctl_response_fini(struct ctl_response *r)
{
    if (!r)
        return;
    free(r->body);
    memset(r, 0, sizeof *r);
}

struct ctl_client *ctl_client_create(const char *addr, const char *token, struct ctl_error *err)
{
    if (!addr || !*addr) {
        ctl_error_set(err, CTL_EUSAGE, "empty daemon address");
        return NULL;
    }
    if (token) {
        for (const char *p = token; *p; p++) {
            /* A newline in the token would smuggle a second header into the request. */
            if (iscntrl((unsigned char)*p) || *p == ' ') {
                ctl_error_set(err, CTL_EUSAGE, "the token holds a space or control character");
                return NULL;
            }
        }
    }
    struct ctl_client *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    const char *scheme = strstr(addr, "://") ? "" : "http://";
    size_t len = strlen(scheme) + strlen(addr) + 1;
    c->addr = malloc(len);
    if (!c->addr)
        goto oom;
    snprintf(c->addr, len, "%s%s", scheme, addr);
    while (strlen(c->addr) > 0 && c->addr[strlen(c->addr) - 1] == '/')
        c->addr[strlen(c->addr) - 1] = '\0';
    if (strncmp(c->addr, "http://", 7) != 0 && strncmp(c->addr, "https://", 8) != 0) {
        ctl_error_set(err, CTL_EUSAGE, "daemon address %s: only http:// and https:// work", addr);
        ctl_client_destroy(c);
        return NULL;
    }
    if (token && *token) {
        size_t n = strlen(token) + 32;
        c->auth = malloc(n);
        if (!c->auth)
            goto oom;
        snprintf(c->auth, n, "Authorization: Bearer %s", token);
    }
    c->curl = curl_easy_init();
    if (!c->curl)
        goto oom;
    return c;
oom:
    ctl_client_destroy(c);
    ctl_error_set(err, CTL_ENOMEM, "out of memory");
    return NULL;
}

void ctl_client_destroy(struct ctl_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->addr);
    free(c->auth);
    free(c);
}

const char *ctl_client_addr(const struct ctl_client *c)
{
    return c->addr;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *user)
{
    struct transfer *t = user;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(t->c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (t->ops && status == 200) {
        if (t->ops->on_data(t->ops->user, data, n)) {
            t->stopped = 1;
            return 0; /* makes curl end the transfer with CURLE_WRITE_ERROR */
        }
        return n;
    }
    if (ctl_buf_put(&t->body, data, n)) {
        t->oom = 1;
        return 0;
    }
    return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    struct transfer *t = user;
    if (t->ops && t->ops->on_tick && t->ops->on_tick(t->ops->user)) {
        t->stopped = 1;
        return 1;
    }
    return 0;
}

/* "cannot reach ganctld at ADDR: connection refused" and friends. */
static int connect_error(struct ctl_client *c, CURLcode rc, struct ctl_error *err)
{
    long os_errno = 0;
    char reason[CURL_ERROR_SIZE + 32];
    curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
    if (rc == CURLE_COULDNT_CONNECT && os_errno) {
        snprintf(reason, sizeof reason, "%s", strerror((int)os_errno));
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(reason, sizeof reason, "timed out");
    } else if (c->errbuf[0]) {
        snprintf(reason, sizeof reason, "%s", c->errbuf);
    } else {
        snprintf(reason, sizeof reason, "%s", curl_easy_strerror(rc));
    }
    /* strerror() capitalizes; the message reads as one sentence. */
    reason[0] = (char)tolower((unsigned char)reason[0]);
    size_t n = strlen(reason);
    while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == '.'))
        reason[--n] = '\0';
    return ctl_error_set(err, CTL_ECONNECT, "cannot reach ganctld at %s: %s", c->addr, reason);
}

/* curl_slist_append() returns NULL on OOM and leaves the list as it was. */
static int add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (!l)
        return -1;
    *list = l;
    return 0;
}

/* body: NULL for none, else blen bytes of ctype. */
static int perform(struct ctl_client *c, const char *method, const char *path, const char *body,
                   size_t blen, const char *ctype, const char *accept, const char *last_event_id,
                   int idle_timeout_s, const struct ctl_stream_ops *ops, struct ctl_response *resp,
                   struct ctl_error *err)
{
    CURL *h = c->curl;
    struct transfer t = {.c = c, .ops = ops};
    struct curl_slist *headers = NULL;
    char line[256];
    int rc = 0;

    memset(resp, 0, sizeof *resp);
    size_t ulen = strlen(c->addr) + strlen(path) + 1;
    char *url = malloc(ulen);
    if (!url)
        return ctl_error_set(err, CTL_ENOMEM, "out of memory");
    snprintf(url, ulen, "%s%s", c->addr, path);

    snprintf(line, sizeof line, "Accept: %s", accept);
    if (add_header(&headers, line) || (c->auth && add_header(&headers, c->auth)))
        goto oom;
    /* No 100-continue round trip: the bodies are small. */
    snprintf(line, sizeof line, "Content-Type: %s", ctype ? ctype : "application/json");
    if (body && (add_header(&headers, line) || add_header(&headers, "Expect:")))
        goto oom;
    if (last_event_id && *last_event_id) {
        snprintf(line, sizeof line, "Last-Event-ID: %s", last_event_id);
        if (add_header(&headers, line))
            goto oom;
    }

    curl_easy_reset(h);
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ganctl/" CTL_VERSION);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    /* Slow answers (generating a large grid) are fine; a silent dead peer is not. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(idle_timeout_s > 0 ? idle_timeout_s : 120));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (ops) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    }
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") == 0 && !body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);

    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (t.oom) {
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
    } else if (t.stopped) {
        rc = CTL_ESTOPPED;
    } else if (cc != CURLE_OK) {
        rc = connect_error(c, cc, err);
    }
    /* Callers may always read body as a string, an empty answer too. */
    if (rc == 0 && ctl_buf_put(&t.body, "", 0))
        rc = ctl_error_set(err, CTL_ENOMEM, "out of memory");
    resp->body = t.body.s;
    resp->len = t.body.len;
    if (rc != 0 && rc != CTL_ESTOPPED)
        ctl_response_fini(resp);
    curl_slist_free_all(headers);
    free(url);
    return rc;
oom:
    curl_slist_free_all(headers);
    free(url);
    return ctl_error_set(err, CTL_ENOMEM, "out of memory");
}

int ctl_client_request(struct ctl_client *c, const char *method, const char *path, const char *body,
                       struct ctl_response *resp, struct ctl_error *err)
{
    return perform(c, method, path, body, body ? strlen(body) : 0, NULL, "application/json", NULL,
                   0, NULL, resp, err);
}

int ctl_client_request_bytes(struct ctl_client *c, const char *method, const char *path,
                             const char *ctype, const void *body, size_t len,
                             struct ctl_response *resp, struct ctl_error *err)
{
    return perform(c, method, path, len ? body : "", len, ctype, "*/*", NULL, 0, NULL, resp, err);
}

int ctl_client_stream(struct ctl_client *c, const char *path, const char *last_event_id,
                      int idle_timeout_s, const struct ctl_stream_ops *ops,
                      struct ctl_response *resp, struct ctl_error *err)
{
    return perform(c, "GET", path, NULL, 0, NULL, "text/event-stream", last_event_id,
                   idle_timeout_s, ops, resp, err);
}

char *ctl_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}
