/* prom.c — GET /metrics: the daemon's figures in the Prometheus text format 0.0.4.
 *
 * Families: ganctl_runs{status} (gauge), ganctl_steps_total and ganctl_images_total
 * (counters since the daemon started), per running run the newest loss_d, loss_g,
 * d_real, d_fake and images_per_s as gauges with run="ID", ganctl_http_requests_total{code}
 * (counter), ganctl_store_bytes (gauge). Every family has its HELP and TYPE lines, even
 * with no samples.
 *
 * The per-run gauges spell their names out (ganctl_run_discriminator_loss, not
 * ganctl_run_loss_d): promtool's lint reads a "_d" or "_s" name part as an abbreviated
 * unit (days, seconds) and fails `promtool check metrics`, which the contract requires
 * to pass. The HELP line names the API metric each one mirrors. */
#include "api/prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

#define RUN_GAUGES 5
#define MAX_RUNNING 500

static const char *const run_gauges[RUN_GAUGES] = {"loss_d", "loss_g", "d_real", "d_fake",
                                                   "images_per_s"};
static const char *const run_family[RUN_GAUGES] = {
    "ganctl_run_discriminator_loss",      "ganctl_run_generator_loss",
    "ganctl_run_discriminator_real_mean", "ganctl_run_discriminator_fake_mean",
    "ganctl_run_images_per_second",
};
static const char *const run_help[RUN_GAUGES] = {
    "Newest discriminator loss of a running run (metric loss_d).",
    "Newest generator loss of a running run (metric loss_g).",
    "Newest mean D(x) on real data of a running run (metric d_real).",
    "Newest mean D(G(z)) on generated data of a running run (metric d_fake).",
    ("Training throughput of a running run in images (or points) per second (metric "
     "images_per_s)."),
};

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
    double(*g)[RUN_GAUGES] = nrun ? calloc((size_t)nrun, sizeof *g) : NULL;
    int(*have)[RUN_GAUGES] = nrun ? calloc((size_t)nrun, sizeof *have) : NULL;
    if (nrun && (!g || !have)) {
        for (int i = 0; i < nrun; i++)
            gd_run_fini(&runs[i]);
        free(runs), free(g), free(have);
        return ga_reply_problem(r, 500, NULL, "out of memory");
    }
    for (int i = 0; i < nrun; i++) {
        struct gd_kv *kv = NULL;
        int n = 0;
        if (gd_store_metrics_latest(srv->store, runs[i].id, 0, &kv, &n, NULL) == 0)
            for (int k = 0; k < n; k++)
                for (int j = 0; j < RUN_GAUGES; j++)
                    if (strcmp(kv[k].name, run_gauges[j]) == 0)
                        g[i][j] = kv[k].value, have[i][j] = 1;
        free(kv);
        struct gd_live live;
        if (srv->sched && gd_sched_live(srv->sched, runs[i].id, &live) == 0 &&
            live.images_per_s > 0)
            g[i][4] = live.images_per_s, have[i][4] = 1;
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
    for (int j = 0; j < RUN_GAUGES; j++) {
        const char *name = run_family[j];
        family(f, name, "gauge", run_help[j]);
        for (int i = 0; i < nrun; i++) {
            if (!have[i][j])
                continue;
            fprintf(f, "%s{run=\"%lld\"} ", name, (long long)runs[i].id);
            value(f, g[i][j]);
            fputc('\n', f);
        }
    }
    family(f, "ganctl_http_requests_total", "counter",
           "HTTP responses sent since the daemon started, by status code.");
    /* this response is counted too, so the family is never empty */
    atomic_fetch_add(&srv->http_counts[200], 1);
    for (int c = 100; c < 600; c++) {
        long long n = atomic_load(&srv->http_counts[c]);
        if (n)
            fprintf(f, "ganctl_http_requests_total{code=\"%d\"} %lld\n", c, n);
    }
    family(f, "ganctl_store_bytes", "gauge", "Size of the SQLite store in bytes.");
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
