/* progress.h — the one line `ganctl watch` redraws on a terminal:
 *
 *   run 3 [#######.....] 500/1500 33%  360 steps/s  ETA 0:03  loss_d 1.352  loss_g 0.7262
 *
 * The bar takes the room the figures leave on the line, 8 to 30 cells, and is sized
 * for the longest usual figures rather than the current ones so that it does not jump
 * as they change; the line is cut to the terminal's width. This only lays the line
 * out; watch.c writes it. */
#ifndef CTL_PROGRESS_H
#define CTL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* What the line shows of a run. */
struct ctl_progress {
    int64_t run;
    const char *status;  /* shown after the id unless it is "running"; borrowed */
    int reconnecting;    /* "reconnecting" instead of the status, and no rate */
    int64_t step, steps; /* steps 0: the length is unknown, and there is no bar */
    double rate;         /* steps per second, smoothed; 0: unknown */
    double loss_d, loss_g;
    int have_loss_d, have_loss_g;
};

/* The line for p on a terminal width columns wide, without '\r' or escapes. */
void ctl_progress_line(const struct ctl_progress *p, int width, char *out, size_t cap);

/* The width of the terminal on fd; 80 when it cannot tell or says less than 20. */
int ctl_term_width(int fd);

#endif
