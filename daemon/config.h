/* config.h — ganctld's command line and config file, read into one struct.
 *
 * `ganctld [FLAGS]` serves; `ganctld train SPEC.json [FLAGS]` trains one run in the
 * foreground, and `ganctld train --run ID [FLAGS]` a stored one (how the daemon runs a
 * run of several ranks under mpirun). The config file (--config) holds 'key = value' lines with the
 * long flag names; flags win over it. Paths left out get their defaults ($STATE_DIRECTORY, the web
 * folder next to the binary, ...), and the API token is read from --token-file or
 * $CREDENTIALS_DIRECTORY/api-token when serving. */
#ifndef GD_CONFIG_H
#define GD_CONFIG_H

#include <limits.h>
#include <stdint.h>

#include "daemon/version.h"

enum gd_command { GD_CMD_SERVE, GD_CMD_TRAIN };

struct gd_config {
    enum gd_command command;
    const char *spec_path; /* train: the spec file (borrowed from argv), or NULL with run */
    int64_t run;           /* train --run: the stored run to train; 0 when none */
    int control_stdin;     /* train: pause / cancel / stop commands arrive on stdin */
    int64_t claim;         /* train --run --claim: the launching daemon's claim on the run, which
                            * fences this process's writes (0: none) */
    char listen[256];
    char data[PATH_MAX];
    char datasets[PATH_MAX];
    char web[PATH_MAX];
    char token_file[PATH_MAX];
    char config[PATH_MAX];
    char store[1024];         /* --store: a PostgreSQL URI, "" for the SQLite file in data */
    char name[128];           /* --name: this daemon among the store's workers, "" for HOST:PORT */
    int heartbeat;            /* --heartbeat seconds (default 10) */
    int lease;                /* --lease seconds (default 30) */
    char alert_webhook[1200]; /* "" when none */
    int workers, threads, keep_checkpoints;
    int max_connections; /* 0: the server's default */
    int http_timeout;    /* seconds; 0: the server's default */
    int verbose;
    char mpirun[1024]; /* serve: the command that starts the ranks of a run; "" none */
    int rank_timeout;  /* seconds a rank waits for the others in one collective call */
    char *token;       /* serve: the API token, NULL when none; wiped by gd_config_fini */
};

/* Reads the command line (and the config file and token file it names) into c.
 * Returns -1 when the command is to run; otherwise the exit status for the process:
 * 0 after --help or --version (printed on stdout), 2 after a bad command line, config
 * file or token file (said on stderr). */
int gd_config_parse(struct gd_config *c, int argc, char **argv);
/* Wipes and frees the token. */
void gd_config_fini(struct gd_config *c);

#endif
