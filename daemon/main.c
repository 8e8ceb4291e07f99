/* main.c — ganctld's entry point: read the command line into a struct gd_config, then
 * serve (serve.c) or, for `ganctld train SPEC.json`, train one run in the foreground
 * (train.c). Flags and the config file are config.c's, the log is log.c's. */
#include "core/blas.h"
#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/serve.h"
#include "daemon/train.h"

int main(int argc, char **argv)
{
    gd_log_init();
    struct gd_config c;
    int rc = gd_config_parse(&c, argc, argv);
    if (rc >= 0)
        return rc;

    /* Settings for the whole process that must come before any thread of ours starts
     * go here, once, now that the flags are known: OpenBLAS runs on one thread, every
     * parallel split is our own pools'. */
    gc_blas_init();

    rc = c.command == GD_CMD_TRAIN ? gd_train_main(&c) : gd_serve_main(&c);
    gd_config_fini(&c);
    return rc;
}
