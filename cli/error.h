/* error.h — the error type of the command-line client and its exit codes.
 *
 * Same shape as the rest of the project: functions return 0 or a negative CTL_E*
 * code and take a `struct ctl_error *` last, filled by ctl_error_set(). cli/ links
 * nothing of core/, so it has its own copy of the idea rather than gc_error.
 * main() turns the code into the process's exit status with ctl_exit_status(). */
#ifndef CTL_ERROR_H
#define CTL_ERROR_H

enum {
    CTL_OK = 0,
    CTL_EFAIL = -1,      /* the request failed; the API said why (exit 1) */
    CTL_EUSAGE = -2,     /* bad command line (exit 2) */
    CTL_ENOTFOUND = -3,  /* 404 (exit 3) */
    CTL_EAUTH = -4,      /* 401 or 403 (exit 4) */
    CTL_ERUNFAILED = -5, /* the watched run failed or was canceled (exit 5) */
    CTL_ECONNECT = -6,   /* the daemon cannot be reached (exit 1) */
    CTL_ENOMEM = -7,     /* out of memory (exit 1) */
    CTL_EIO = -8,        /* a local file could not be read or written (exit 1) */
    CTL_ESTOPPED = -9,   /* a stream was stopped on purpose (not an error to the user) */
    CTL_EINTR = -10,     /* interrupted by a signal (exit 130) */
    CTL_ENOTSAME = -11,  /* a reproduction's final checkpoint differs (exit 6) */
};

/* Exit statuses of ganctl, documented in ganctl.1. */
enum {
    CTL_EXIT_OK = 0,
    CTL_EXIT_ERROR = 1,
    CTL_EXIT_USAGE = 2,
    CTL_EXIT_NOTFOUND = 3,
    CTL_EXIT_AUTH = 4,
    CTL_EXIT_RUNFAILED = 5,
    CTL_EXIT_NOTSAME = 6,
    CTL_EXIT_INTERRUPTED = 130,
};

struct ctl_error {
    int code;
    char msg[256];
};

/* Sets err (when not NULL) to code and the formatted message; returns code. */
int ctl_error_set(struct ctl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The exit status for a return code (0 for CTL_OK). */
int ctl_exit_status(int code);

#endif
