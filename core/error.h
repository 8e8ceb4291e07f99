/* error.h — the one error type of ganctl.
 *
 * Fallible functions return an int status (0 ok, a negative GC_E* code) and take a
 * `struct gc_error *` last, filled by gc_error_set(). The struct is fixed-size and
 * never allocates; err may be NULL when the caller does not want the message.
 * api/ maps codes to HTTP statuses in one table. */
#ifndef GC_ERROR_H
#define GC_ERROR_H

enum {
    GC_OK = 0,
    GC_EINVAL = -1,    /* bad argument, shape, spec field or user input (HTTP 400) */
    GC_ENOMEM = -2,    /* out of memory (500) */
    GC_EIO = -3,       /* I/O failed: file, disk, store (500) */
    GC_ECORRUPT = -4,  /* bad magic, version, size or checksum; malformed file (400/500) */
    GC_ENOTFOUND = -5, /* no such run, step, file (404) */
    GC_ESTATE = -6,    /* not allowed in the current state (409) */
    GC_ENUMERIC = -7,  /* NaN or Inf during training */
    GC_ESTOPPED = -8,  /* training stopped on request (pause, cancel, shutdown) */
    GC_ETOOBIG = -9,   /* too large (413) */
    GC_EUNSUPPORTED = -10,
    GC_EUNAVAIL = -11, /* a service needed cannot be reached now, e.g. the store's server (503) */
    GC_ESTALE = -12,   /* acting on something another process took over (409) */
    GC_ECOMM = -13,    /* a rank of a multi-rank run died, hung past the timeout or disagreed */
};

struct gc_error {
    int code;
    char msg[256];
};

/* Sets err (when not NULL) to code and the formatted message; returns code. */
int gc_error_set(struct gc_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes err->msg with "prefix: " (context while unwinding); returns err->code. */
int gc_error_prefix(struct gc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void gc_error_clear(struct gc_error *err);
/* A short name of the code ("invalid argument"). */
const char *gc_strerror(int code);

#endif
