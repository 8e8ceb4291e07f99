/* prom.c — GET /metrics: the daemon's figures in the Prometheus text format 0.0.4.
 *
 * Families: ganctl_runs{status} (gauge), ganctl_steps_total and ganctl_images_total
 * (counters since the daemon started), per running run the newest value of each
 * training metric that core/metrics.h gives a Prometheus family (loss_d as
 * ganctl_run_discriminator_loss, ...) as a gauge with run="ID",
 * ganctl_run_watch_alerts{run,kind} (gauge: the watchdog's alerts of a running run),
 * ganctl_run_watch_alerts{run,kind} (gauge: the watchdog's alerts of a running run),
 * ganctl_http_requests_total{code} (counter), ganctl_store_bytes (gauge). Every family
 * has its HELP and TYPE lines, even with no samples; a per-run family's HELP is the
 * metric's help from the same table. */
#include "api/prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/reply.h"
#include "core/metrics.h"
#include "core/watch.h"

#define MAX_RUNNING 500

static void value(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", f);
    else
        fprintf(f, "%.17g", v);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A per-run family's HELP line: the table's help, escaped as the format wants (a
 * backslash and a line break are the two characters it escapes in HELP). */
static void run_family(FILE *f, const struct gc_metric_info *m)
{
    fprintf(f, "# HELP %s ", m->prom);
    for (const char *p = m->help; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
    fprintf(f, " Newest value of a running run (metric %s).\n# TYPE %s gauge\n", m->name, m->prom);
}

/* The metrics exported per running run, in table order; returns how many. */
static int exported(enum gc_metric_id ids[GC_M_COUNT])
{
    int n = 0;
    for (int i = 0; i < GC_M_COUNT; i++)
        if (gc_metric_info((enum gc_metric_id)i)->prom)
            ids[n++] = (enum gc_metric_id)i;
    return n;
}

enum MHD_Result ga_route_prometheus(struct ga_req *r)
{
    struct ga_server *srv = r->srv;
    struct gd_store_stats st;
    memset(&st, 0, sizeof st);
    struct gc_error err = {0};
    if (gd_store_stats(srv->store, &st, &err) != 0)
        return ga_reply_error(r, &err);
    struct gd_sched_stats ss;
    memset(&ss, 0, sizeof ss);
    if (srv->sched)
        gd_sched_stats(srv->sched, &ss);

    /* figures of the running runs, read before formatting */
    struct gd_run *runs = NULL;
    int nrun = 0;
    int64_t next = 0;
    if (gd_store_run_list(srv->store, GD_RUNNING, MAX_RUNNING, 0, &runs, &nrun, &next, &err) != 0)
        return ga_reply_error(r, &err);
    enum gc_metric_id ids[GC_M_COUNT];
    int nfam = exported(ids);
    double(*g)[GC_M_COUNT] = nrun ? calloc((size_t)nrun, sizeof *g) : NULL;
    int(*have)[GC_M_COUNT] = nrun ? calloc((size_t)nrun, sizeof *have) : NULL;
    if (nrun && (!g || !have)) {
        for (int i = 0; i < nrun; i++)
            gd_run_fini(&runs[i]);
        free(runs), free(g), free(have);
        return ga_reply_problem(r, 500, NULL, "out of memory");
    }
    for (int i = 0; i < nrun; i++) {
        for (int kind = GC_METRIC_TRAIN; kind <= GC_METRIC_EVAL; kind++) {
            struct gd_kv *kv = NULL;
            int n = 0;
            if (gd_store_metrics_latest(srv->store, runs[i].id, kind, &kv, &n, NULL) == 0)
                for (int k = 0; k < n; k++)
                    for (int j = 0; j < nfam; j++)
                        if (strcmp(kv[k].name, gc_metric_name(ids[j])) == 0)
                            g[i][j] = kv[k].value, have[i][j] = 1;
            free(kv);
        }
        /* the throughput of this moment, not that of the last logged step */
        struct gd_live live;
        int live_ok = srv->sched && gd_sched_live(srv->sched, runs[i].id, &live) == 0 &&
                      live.images_per_s > 0;
        for (int j = 0; j < nfam && live_ok; j++)
            if (ids[j] == GC_M_IMAGES_PER_S)
                g[i][j] = live.images_per_s, have[i][j] = 1;
    }

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        for (int i = 0; i < nrun; i++)
            gd_run_fini(&runs[i]);
        free(runs), free(g), free(have);
        return ga_reply_problem(r, 500, NULL, "out of memory");
    }
    family(f, "ganctl_runs", "gauge", "Runs in the store by status.");
    for (int s = 0; s < GD_NSTATUS; s++)
        fprintf(f, "ganctl_runs{status=\"%s\"} %lld\n", gd_status_name((enum gd_status)s),
                (long long)st.runs_by_status[s]);
    family(f, "ganctl_steps_total", "counter", "Training steps run since the daemon started.");
    fprintf(f, "ganctl_steps_total %lld\n", (long long)ss.steps_trained);
    family(f, "ganctl_images_total", "counter",
           "Images (or points) trained on since the daemon started.");
    fprintf(f, "ganctl_images_total %lld\n", (long long)ss.images_trained);
    for (int j = 0; j < nfam; j++) {
        const struct gc_metric_info *m = gc_metric_info(ids[j]);
        run_family(f, m);
        for (int i = 0; i < nrun; i++) {
            if (!have[i][j])
                continue;
            fprintf(f, "%s{run=\"%lld\"} ", m->prom, (long long)runs[i].id);
            value(f, g[i][j]);
            fputc('\n', f);
        }
    }
    /* the watchdog: alerts of each kind raised so far by each running run */
    family(f, "ganctl_run_watch_alerts", "gauge",
           "Alerts the collapse watchdog raised for a running run, by kind (divergence, "
           "d_winning, mode_collapse), rollbacks included.");
    int64_t *rid = malloc((size_t)(nrun ? nrun : 1) * sizeof(*rid));
    struct gd_watch_record *rec = NULL;
    int nrec = 0;
    for (int i = 0; rid && i < nrun; i++)
        rid[i] = runs[i].id;
    /* every running run's records in one read */
    int have_rec = rid && gd_store_watch_list_runs(srv->store, rid, nrun, &rec, &nrec, NULL) == 0;
    for (int i = 0; have_rec && i < nrun; i++) {
        for (int k = 0; k < GC_WATCH_KINDS; k++) {
            const char *kind = gc_watch_kind_name((enum gc_watch_kind)k);
            int count = 0;
            for (int j = 0; j < nrec; j++)
                count += rec[j].run == runs[i].id && strcmp(rec[j].kind, kind) == 0;
            fprintf(f, "ganctl_run_watch_alerts{run=\"%lld\",kind=\"%s\"} %d\n",
                    (long long)runs[i].id, kind, count);
        }
    }
    free(rec);
    free(rid);
    family(f, "ganctl_http_requests_total", "counter",
           "HTTP responses sent since the daemon started, by status code.");
    /* this response is counted too, so the family is never empty */
    atomic_fetch_add(&srv->http_counts[200], 1);
    for (int c = 100; c < 600; c++) {
        long long n = atomic_load(&srv->http_counts[c]);
        if (n)
            fprintf(f, "ganctl_http_requests_total{code=\"%d\"} %lld\n", c, n);
    }
    family(f, "ganctl_store_bytes", "gauge",
           "Size of the store (the SQLite file or the PostgreSQL database) in bytes.");
    fprintf(f, "ganctl_store_bytes %lld\n", (long long)st.bytes);
    fclose(f);
    for (int i = 0; i < nrun; i++)
        gd_run_fini(&runs[i]);
    free(runs), free(g), free(have);
    if (!text)
        return MHD_NO;
    /* counted above already: queue directly */
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}
