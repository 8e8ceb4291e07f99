/* webhook.c — the alert webhook's queue and sender (see webhook.h).
 *
 * The sender speaks just enough HTTP/1.1: one POST with Content-Type application/json,
 * Content-Length and Connection: close, then the status line of the answer. Names are
 * resolved with getaddrinfo on the sender's thread, so a slow resolver delays only
 * alerts. */
#include "daemon/webhook.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 5000
#define TRIES 4

struct post {
    int64_t run;
    char *body;
};

struct gd_webhook {
    char host[256], port[8], path[1024];
    gd_log_fn log;
    void *log_ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    /* guarded by mu */
    struct post queue[GD_WEBHOOK_QUEUE];
    int head, count;
    int stopping;
};

static void wlog(struct gd_webhook *w, int level, int64_t run, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void wlog(struct gd_webhook *w, int level, int64_t run, const char *fmt, ...)
{
    if (!w->log)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->log(w->log_ctx, level, run, msg);
}

/* Splits http://HOST[:PORT][/PATH] into w (w may be NULL: only check). */
static int parse_url(const char *url, struct gd_webhook *w, struct gc_error *err)
{
    static const char scheme[] = "http://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        return gc_error_set(err, GC_EINVAL,
                            "--alert-webhook: '%.100s' is not an http:// URL (HTTPS goes "
                            "through a local relay)",
                            url);
    const char *h = url + sizeof scheme - 1;
    const char *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    char hostport[300];
    if (hl == 0 || hl >= sizeof hostport)
        return gc_error_set(err, GC_EINVAL, "--alert-webhook: no host in '%.100s'", url);
    memcpy(hostport, h, hl);
    hostport[hl] = '\0';
    const char *path = slash ? slash : "/";
    if (strlen(path) >= 1024 || strpbrk(path, " \r\n"))
        return gc_error_set(err, GC_EINVAL, "--alert-webhook: bad path in '%.100s'", url);
    char host[256] = "", port[8] = "80";
    char *colon = hostport[0] == '[' ? strstr(hostport, "]:") : strrchr(hostport, ':');
    if (colon && hostport[0] == '[')
        colon++;
    if (colon) {
        *colon = '\0';
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (*end || p < 1 || p > 65535)
            return gc_error_set(err, GC_EINVAL, "--alert-webhook: bad port in '%.100s'", url);
        snprintf(port, sizeof port, "%ld", p);
    }
    const char *hs = hostport;
    size_t n = strlen(hs);
    if (hs[0] == '[' && n > 2 && hs[n - 1] == ']') {
        hs++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof host)
        return gc_error_set(err, GC_EINVAL, "--alert-webhook: bad host in '%.100s'", url);
    memcpy(host, hs, n);
    host[n] = '\0';
    if (w) {
        snprintf(w->host, sizeof w->host, "%s", host);
        snprintf(w->port, sizeof w->port, "%s", port);
        snprintf(w->path, sizeof w->path, "%s", path);
    }
    return 0;
}

int gd_webhook_check_url(const char *url, struct gc_error *err)
{
    return parse_url(url, NULL, err);
}

void gd_json_escape(char *out, size_t cap, const char *s)
{
    size_t n = strlen(out);
    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
}

/* Sends all of buf[0..n) within the deadline; 0 or -1. */
static int send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, TIMEOUT_MS) != 1)
            return -1;
        ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

/* One POST; 0 with *status the answer's status, or -1 with why in why. */
static int post_once(struct gd_webhook *w, const char *body, int *status, char *why, size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int rc = getaddrinfo(w->host, w->port, &hints, &ai);
    if (rc) {
        snprintf(why, cap, "%s: %s", w->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            close(fd);
            fd = -1;
            continue;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (poll(&p, 1, TIMEOUT_MS) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) ||
            soerr) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        snprintf(why, cap, "cannot connect to %s:%s", w->host, w->port);
        return -1;
    }
    char head[1600];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: ganctld\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      w->path, w->host, w->port, strlen(body));
    char answer[256];
    size_t got = 0;
    int ok = send_all(fd, head, (size_t)hn) == 0 && send_all(fd, body, strlen(body)) == 0;
    while (ok && got < sizeof answer - 1 && !memchr(answer, '\n', got)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, TIMEOUT_MS) != 1)
            break;
        ssize_t k = recv(fd, answer + got, sizeof answer - 1 - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    answer[got] = '\0';
    if (!ok || sscanf(answer, "HTTP/1.%*d %d", status) != 1) {
        snprintf(why, cap, "no answer from %s:%s", w->host, w->port);
        return -1;
    }
    return 0;
}

static void deliver(struct gd_webhook *w, const struct post *p)
{
    char why[300] = "";
    for (int i = 0; i < TRIES; i++) {
        if (i)
            sleep(1u << (i - 1)); /* 1, 2, 4 s */
        int status = 0;
        if (post_once(w, p->body, &status, why, sizeof why) == 0) {
            if (status >= 200 && status < 300)
                return;
            snprintf(why, sizeof why, "HTTP %d", status);
        }
    }
    wlog(w, GD_LOG_WARN, p->run, "alert webhook: gave up after %d tries: %s", TRIES, why);
}

static void *sender(void *arg)
{
    struct gd_webhook *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->count && !w->stopping)
            pthread_cond_wait(&w->cond, &w->mu);
        if (!w->count) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        struct post p = w->queue[w->head];
        w->head = (w->head + 1) % GD_WEBHOOK_QUEUE;
        w->count--;
        pthread_mutex_unlock(&w->mu);
        deliver(w, &p);
        free(p.body);
    }
}

struct gd_webhook *gd_webhook_create(const char *url, gd_log_fn log, void *log_ctx,
                                     struct gc_error *err)
{
    struct gd_webhook *w = calloc(1, sizeof *w);
    if (!w) {
        gc_error_set(err, GC_ENOMEM, "webhook: out of memory");
        return NULL;
    }
    if (parse_url(url, w, err)) {
        free(w);
        return NULL;
    }
    w->log = log;
    w->log_ctx = log_ctx;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    int rc = pthread_create(&w->thread, NULL, sender, w);
    if (rc) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->mu);
        free(w);
        gc_error_set(err, GC_ENOMEM, "webhook: cannot start its thread: %s", strerror(rc));
        return NULL;
    }
    return w;
}

void gd_webhook_destroy(struct gd_webhook *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void gd_webhook_post(struct gd_webhook *w, int64_t run, const char *body)
{
    char *copy = strdup(body);
    if (!copy)
        return;
    struct post dropped = {0, NULL};
    pthread_mutex_lock(&w->mu);
    if (w->count == GD_WEBHOOK_QUEUE) {
        dropped = w->queue[w->head];
        w->head = (w->head + 1) % GD_WEBHOOK_QUEUE;
        w->count--;
    }
    w->queue[(w->head + w->count) % GD_WEBHOOK_QUEUE] = (struct post){run, copy};
    w->count++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    if (dropped.body) {
        wlog(w, GD_LOG_WARN, dropped.run, "alert webhook: queue full, an older alert dropped");
        free(dropped.body);
    }
}
