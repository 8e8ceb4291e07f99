/* commands.c — the table of ganctl's commands with all their help (see commands.h).
 *
 * Every text a user reads from --help is here, so the texts stay alike and in step
 * with ganctl.1; what each command does lives in the cmd_*.c files. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

#include "cli/cmd_export.h"
#include "cli/cmd_files.h"
#include "cli/cmd_metrics.h"
#include "cli/cmd_runs.h"
#include "cli/cmd_submit.h"
#include "cli/cmd_sweeps.h"
#include "cli/cmd_workers.h"

/* The global options, listed by every help text. */
#define GLOBAL_OPTS                                                                                \
    "  --addr URL          the daemon (default $GANCTL_ADDR, else " CTL_DEFAULT_ADDR ")\n"         \
    "  --token-file FILE   read the API token from FILE (default $GANCTL_TOKEN)\n"                 \
    "  --json              print the API's objects as JSON on stdout\n"

/* How each command's help ends. */
#define GLOBAL_HELP "\nGlobal options:\n" GLOBAL_OPTS "  -h, --help          show this help\n"

const struct ctl_command ctl_commands[] = {
    {"submit", ctl_cmd_submit, "queue a new training run",
     "Usage: ganctl submit [SPEC.json|-] [options]\n"
     "\n"
     "Queues a run and prints its id (the run object with --json). The spec is read from\n"
     "SPEC.json (- for stdin) when given; the options below apply on top of it, in order.\n"
     "\n"
     "Options:\n"
     "  --dataset NAME          fashion-mnist, idx, png-dir, ring8 or grid25\n"
     "  --preset P              dcgan, wgan-gp, sngan or lsgan: a published recipe's\n"
     "                          settings as defaults (the other options still win)\n"
     "  --loss L                minimax, nonsaturating, wasserstein, least-squares, hinge\n"
     "  --arch A                mlp or dcgan\n"
     "  --steps N               training steps\n"
     "  --batch-size N          batch size\n"
     "  --seed N                random seed\n"
     "  --label-smoothing LO,HI real labels drawn from [LO,HI] (or one fixed number)\n"
     "  --feature-matching      train G to match D's features\n"
     "  --unrolled-steps K      unroll D K steps for G's loss\n"
     "  --generators K          K generators (MAD-GAN)\n"
     "  --patch                 PatchGAN discriminator\n"
     "  --name S                the run's name\n"
     "  --set PATH=VALUE        set any spec field, e.g. --set every.sample=50; VALUE is\n"
     "                          read as JSON (numbers, true, false, null, [..]) or else a\n"
     "                          string; may be repeated\n"
     "  --dry-run               print the spec that would be sent and stop\n"
     "  -w, --watch             follow the new run like 'ganctl watch'\n" GLOBAL_HELP},
    {"ls", ctl_cmd_ls, "list runs, newest first",
     "Usage: ganctl ls [--status S] [--limit N]\n"
     "\n"
     "Lists runs, newest first: id, name, status, progress, latest losses and age.\n"
     "\n"
     "Options:\n"
     "  -s, --status S   only runs in status S (queued, running, paused, succeeded,\n"
     "                   failed, canceled)\n"
     "  --limit N        at most N runs\n" GLOBAL_HELP},
    {"show", ctl_cmd_show, "show one run with its spec and latest figures",
     "Usage: ganctl show ID\n\nShows the run: status, progress, times, latest metrics, "
     "evaluation and spec.\n" GLOBAL_HELP},
    {"watch", ctl_cmd_watch, "follow a run's progress until it ends",
     "Usage: ganctl watch ID [--retry-for SECONDS]\n"
     "\n"
     "Follows the run's event stream. On a terminal: a progress bar with step, rate, ETA\n"
     "and the latest losses; otherwise one line per event (--json: each event as a JSON\n"
     "line on stdout). A dropped connection is resumed where it left off.\n"
     "Exits 0 when the run succeeds and 5 when it fails or is canceled.\n"
     "\n"
     "Options:\n"
     "  --retry-for SECONDS   give up when the daemon stays unreachable this long\n"
     "                        (default 300; 0: never)\n" GLOBAL_HELP},
    {"cancel", ctl_cmd_cancel, "cancel a queued, running or paused run",
     "Usage: ganctl cancel ID\n\nCancels the run.\n" GLOBAL_HELP},
    {"pause", ctl_cmd_pause, "pause a running run (it keeps a checkpoint)",
     "Usage: ganctl pause ID\n\nPauses the run after a checkpoint; 'ganctl resume' goes "
     "on from there.\n" GLOBAL_HELP},
    {"resume", ctl_cmd_resume, "queue a paused run again",
     "Usage: ganctl resume ID\n\nQueues the paused run again.\n" GLOBAL_HELP},
    {"rm", ctl_cmd_rm, "delete a finished run and everything it stored",
     "Usage: ganctl rm ID\n\nDeletes the run with its metrics, samples and checkpoints.\n"
     "A queued or running run must be canceled first.\n" GLOBAL_HELP},
    {"metrics", ctl_cmd_metrics, "print a run's metrics as a table or CSV",
     "Usage: ganctl metrics ID [NAME...] [--csv] [--from-step N] [--to-step N]\n"
     "                      [--max-points N]\n"
     "\n"
     "Prints the run's metrics (all, or the NAMEs: loss_d, loss_g, d_real, d_fake, ...),\n"
     "one row per step.\n"
     "\n"
     "Options:\n"
     "  --csv             CSV: step,NAME1,NAME2,...\n"
     "  --from-step N     from step N on\n"
     "  --to-step N       up to step N\n"
     "  --max-points N    downsample to at most N points per metric\n" GLOBAL_HELP},
    {"samples", ctl_cmd_samples, "list or download a run's sample grids",
     "Usage: ganctl samples ID [--step N] -o FILE.png\n"
     "       ganctl samples ID\n"
     "\n"
     "Downloads the sample grid of step N (default: the newest) to FILE.png (- for\n"
     "stdout); without -o lists the steps that have one.\n"
     "\n"
     "Options:\n"
     "  --step N          the sample of step N\n"
     "  -o, --output FILE where to write it\n" GLOBAL_HELP},
    {"generate", ctl_cmd_generate, "draw new samples from a run's newest checkpoint",
     "Usage: ganctl generate ID [-n N] [--seed S] [--format png|idx|json]\n"
     "                         [--class C]... -o FILE\n"
     "\n"
     "Generates N samples (default 64) from the newest checkpoint: a PNG grid (a scatter\n"
     "plot for 2D sets), an IDX file of the images, or JSON points (2D sets). The\n"
     "format follows FILE's extension (.png, .idx, .json) unless --format says; JSON\n"
     "goes to stdout without -o.\n"
     "\n"
     "A conditional run draws the classes asked: one --class gives N samples of it;\n"
     "several (repeated, or a comma list) give N of each, a PNG row per class with the\n"
     "same noise down each column. A class is its index or its name (ganctl show ID\n"
     "lists them).\n"
     "\n"
     "Options:\n"
     "  -n, --count N     how many samples (of each class)\n"
     "  --seed S          the noise seed\n"
     "  -f, --format F    png, idx or json\n"
     "  -c, --class C     a class by index or name; repeat it or list several: 3,7\n"
     "  -o, --output FILE where to write them (- for stdout)\n" GLOBAL_HELP},
    {"translate", ctl_cmd_translate, "turn an image into another with a task run",
     "Usage: ganctl translate ID IN.png -o OUT.png\n"
     "\n"
     "Sends IN.png (- for stdin) through the generator of an image-to-image run (one\n"
     "with a task) at its newest checkpoint and writes what it makes to OUT.png (- for\n"
     "stdout). IN is what a user has: for super-resolution the small image (7x7 for\n"
     "28x28 at factor 4); for inpainting the image with its hole as the alpha channel\n"
     "(transparent pixels are the hole); for edges an edge map, black lines on white;\n"
     "for colorize a gray image; for paired an input image; each at the run's size.\n"
     "\n"
     "Options:\n"
     "  -o, --output FILE where to write the output PNG (- for stdout)\n" GLOBAL_HELP},
    {"checkpoint", ctl_cmd_checkpoint, "list or download a run's checkpoints",
     "Usage: ganctl checkpoint ID [--step N] -o FILE\n"
     "       ganctl checkpoint ID\n"
     "\n"
     "Downloads the checkpoint of step N (default: the newest) to FILE (- for stdout);\n"
     "without -o lists the checkpoints kept.\n"
     "\n"
     "Options:\n"
     "  --step N          the checkpoint of step N\n"
     "  -o, --output FILE where to write it\n" GLOBAL_HELP},
    {"sweep", ctl_cmd_sweep, "queue a sweep: every configuration of some axes, with seeds",
     "Usage: ganctl sweep FILE\n"
     "\n"
     "Submits the sweep in FILE (- for stdin), a JSON object:\n"
     "  {\"name\": \"lr\", \"spec\": {...a run spec...},\n"
     "   \"axes\": {\"optimizer.g.lr\": [1e-4, 2e-4], \"tricks.unrolled_steps\": [0, 5]},\n"
     "   \"seeds\": 3, \"objective\": {\"metric\": \"modes_covered\", \"goal\": \"max\"},\n"
     "   \"early_stopping\": \"successive_halving\"}\n"
     "A grid trains every combination of the axes' values; with \"random\": N, N\n"
     "configurations are drawn, an axis being a list or a range {\"min\", \"max\",\n"
     "\"scale\": \"log\"|\"linear\"} (log by default for learning rates). Every run is\n"
     "created and checked at once: one bad value refuses the sweep, naming it\n"
     "(axes.optimizer.g.lr[1]). Prints the sweep's id.\n" GLOBAL_HELP},
    {"sweeps", ctl_cmd_sweeps, "list sweeps, or show one ranked by its objective",
     "Usage: ganctl sweeps [ID]\n"
     "\n"
     "Without ID: every sweep with its status and best configuration so far. With ID:\n"
     "its configurations ranked by the objective's mean over their seeds, with the\n"
     "standard deviation, the best run's value, the runs and whether successive\n"
     "halving stopped them.\n" GLOBAL_HELP},
    {"export", ctl_cmd_export, "download a run's generator as an ONNX model",
     "Usage: ganctl export ID [-o FILE] [--generator K]\n"
     "\n"
     "Downloads the generator of the run's newest checkpoint as an ONNX model (opset 13):\n"
     "input \"z\" (N, z_dim) noise from N(0, 1), output \"x\" (N, C, H, W) images in\n"
     "[-1, 1], or (N, 2) points for 2D sets; the same samples as 'ganctl generate' for the\n"
     "same noise (with tricks.ema, the averaged weights).\n"
     "\n"
     "Options:\n"
     "  -o, --output FILE   where to write it (default run-ID.onnx; - for stdout)\n"
     "  -g, --generator K   which generator of a MAD-GAN run (default 0)\n" GLOBAL_HELP},
    {"reproduce", ctl_cmd_reproduce, "train a run's spec again and compare the results",
     "Usage: ganctl reproduce ID [--retry-for SECONDS]\n"
     "\n"
     "Submits the spec of run ID (which must have succeeded) again on this daemon,\n"
     "follows the new run to its end, and says whether its final checkpoint is byte for\n"
     "byte the same as the original's; if not, which recorded inputs differ (version,\n"
     "commit, compiler, blas, threads, spec_hash: the runs' provenance).\n"
     "Exits 0 when identical, 6 when not, 5 when the new run fails.\n"
     "\n"
     "Options:\n"
     "  --retry-for SECONDS   give up when the daemon stays unreachable this long\n"
     "                        (default 300; 0: never)\n" GLOBAL_HELP},
    {"workers", ctl_cmd_workers, "list the daemons that train the store's runs",
     "Usage: ganctl workers\n"
     "\n"
     "Lists the daemons sharing the daemon's store (one with SQLite, every daemon on the\n"
     "database with PostgreSQL): name (* the daemon asked), alive or silent (no\n"
     "heartbeat within its lease), the runs it trains, its workers and threads, and the\n"
     "age of its newest heartbeat.\n" GLOBAL_HELP},
    {NULL, NULL, NULL, NULL},
};

const struct ctl_command *ctl_command_find(const char *name)
{
    /* A few names people type from habit (gh, kubectl, docker). */
    static const char *const aliases[][2] = {
        {"list", "ls"},
        {"get", "show"},
        {"delete", "rm"},
        {"create", "submit"},
        {"checkpoints", "checkpoint"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(name, aliases[i][0]) == 0)
            name = aliases[i][1];
    }
    for (const struct ctl_command *c = ctl_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

void ctl_commands_help(FILE *out)
{
    fputs("Usage: ganctl [--addr URL] [--token-file FILE] [--json] COMMAND [ARGS]\n"
          "\n"
          "The command-line client of ganctld, the GAN training daemon.\n"
          "\n"
          "Commands:\n",
          out);
    for (const struct ctl_command *c = ctl_commands; c->name; c++)
        fprintf(out, "  %-12s%s\n", c->name, c->summary);
    fputs("\n"
          "Global options:\n" GLOBAL_OPTS
          "  -h, --help          show help (also 'ganctl COMMAND --help')\n"
          "  --version           print the version\n"
          "\n"
          "Exit status: 0 ok, 1 error, 2 usage error, 3 not found, 4 authentication\n"
          "required, 5 the watched run failed or was canceled, 6 a reproduction differs.\n",
          out);
}
