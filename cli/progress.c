/* progress.c — the layout of watch's progress line (see progress.h). */
#include "cli/progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cli/buf.h"

/* The room kept after the bar for the usual figures (progress, rate, ETA, losses),
 * whatever they are at the moment, so the bar keeps its width as they change. */
#define FIGURES_WIDTH 62

int ctl_term_width(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* "m:ss", or "h:mm:ss" from an hour on. */
static void fmt_duration(double s, char *out, size_t cap)
{
    long t = s < 0 ? 0 : (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

void ctl_progress_line(const struct ctl_progress *p, int width, char *out, size_t cap)
{
    char head[64], tail[256], eta[32];
    size_t nh = 0, nt = 0, n = 0;
    int running = strcmp(p->status, "running") == 0;

    ctl_appendf(head, sizeof head, &nh, "run %lld", (long long)p->run);
    if (p->reconnecting)
        ctl_appendf(head, sizeof head, &nh, " reconnecting");
    else if (!running)
        ctl_appendf(head, sizeof head, &nh, " %s", p->status);
    double frac = 0;
    if (p->steps > 0) {
        frac = (double)p->step / (double)p->steps;
        frac = frac > 1 ? 1 : frac;
        ctl_appendf(tail, sizeof tail, &nt, " %lld/%lld %d%%", (long long)p->step,
                    (long long)p->steps, (int)(frac * 100));
    } else {
        ctl_appendf(tail, sizeof tail, &nt, " step %lld", (long long)p->step);
    }
    if (p->rate > 0 && running && !p->reconnecting) {
        ctl_appendf(tail, sizeof tail, &nt, "  %.0f steps/s", p->rate);
        if (p->steps > p->step) {
            fmt_duration((double)(p->steps - p->step) / p->rate, eta, sizeof eta);
            ctl_appendf(tail, sizeof tail, &nt, "  ETA %s", eta);
        }
    }
    if (p->have_loss_d)
        ctl_appendf(tail, sizeof tail, &nt, "  loss_d %.4g", p->loss_d);
    if (p->have_loss_g)
        ctl_appendf(tail, sizeof tail, &nt, "  loss_g %.4g", p->loss_g);

    int cells = width - 1 - (int)nh - (int)strlen(" []") - FIGURES_WIDTH;
    cells = cells > 30 ? 30 : cells < 8 ? 8 : cells;
    out[0] = '\0';
    ctl_appendf(out, cap, &n, "%s", head);
    if (p->steps > 0) {
        int full = (int)(frac * cells);
        ctl_appendf(out, cap, &n, " [");
        for (int i = 0; i < cells; i++)
            ctl_appendf(out, cap, &n, "%c", i < full ? '#' : '.');
        ctl_appendf(out, cap, &n, "]");
    }
    ctl_appendf(out, cap, &n, "%s", tail);
    if ((int)n > width - 1)
        out[width - 1] = '\0';
}
