/* catalog.c — what a client needs to know before it submits: the vocabulary and the
 * defaults.
 *
 *   GET /api/v1/catalog                       the names of every metric (with label,
 *       help, goal and format, from core/metrics.h) and of every enumerated spec value
 *       (datasets, architectures, losses, optimizers, decay shapes, presets, gradient
 *       penalties, augmentations, watchdog actions, conditionings)
 *   GET /api/v1/spec/defaults?dataset=NAME[&loss=NAME][&preset=NAME]
 *       the whole normalized spec that {"dataset":{"name":NAME},"loss":NAME,
 *       "preset":NAME} gets: every default, computed by core's gc_spec_defaults_for,
 *       nothing checked against the disk (a png-dir or idx set still needs its path
 *       when submitted)
 *
 * The dashboard's launch form and its labels come from these two, so the daemon is the
 * one place that spells them out. */
#include "api/catalog.h"

#include <stdio.h>
#include <string.h>

#include "api/reply.h"
#include "api/request.h"
#include "api/spec_json.h"
#include "core/data.h"
#include "core/metrics.h"
#include "core/spec_fields.h"

/* The JSON names of an ENUM field of the spec, from its row in core/spec_fields.c. */
static json_t *names_of(const char *path)
{
    const struct gc_spec_field *f = gc_spec_field_find(path);
    json_t *a = json_array();
    for (int i = 0; a && f && i < f->n_names; i++)
        json_array_append_new(a, json_string(f->names[i]));
    return a;
}

static json_t *metric_object(const struct gc_metric_info *m)
{
    const char *goal = gc_metric_goal_name(m->goal);
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:o}", "name", m->name, "kind",
                     gc_metric_kind_name(m->kind), "label", m->label, "help", m->help, "goal",
                     goal ? json_string(goal) : json_null(), "format",
                     gc_metric_format_name(m->format), "out_of",
                     m->out_of ? json_string(m->out_of) : json_null());
}

enum MHD_Result ga_route_catalog(struct ga_req *r)
{
    json_t *metrics = json_array();
    for (int i = 0; metrics && i < GC_M_COUNT; i++)
        json_array_append_new(metrics, metric_object(gc_metric_info((enum gc_metric_id)i)));
    json_t *datasets = json_array();
    const struct gc_spec_field *ds = gc_spec_field_find("dataset.name");
    for (int i = 0; datasets && ds && i < ds->n_names; i++) {
        enum gc_dataset_kind k = (enum gc_dataset_kind)i;
        int modes = gc_dataset_kind_modes(k);
        json_array_append_new(datasets, json_pack("{s:s,s:b,s:o}", "name", ds->names[i], "points",
                                                  gc_dataset_is_2d(k), "modes",
                                                  modes ? json_integer(modes) : json_null()));
    }
    return ga_reply_json(
        r, 200,
        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "metrics", metrics,
                  "datasets", datasets, "archs", names_of("model.arch"), "losses", names_of("loss"),
                  "optimizers", names_of("optimizer.g.kind"), "decay_shapes",
                  names_of("train.lr_decay.shape"), "precisions", names_of("train.precision"),
                  "presets", names_of("preset"), "penalties",
                  names_of("tricks.gradient_penalty.kind"), "augmentations",
                  names_of("tricks.diffaugment"), "tasks", names_of("task.kind"), "masks",
                  names_of("task.mask"), "watch_actions", names_of("watch.action"), "conditionings",
                  names_of("model.conditioning")));
}

/* [{"field": param, "message": "must be one of: a, b, c"}] for a query parameter that
 * takes the values of the spec's ENUM field at path. */
static json_t *one_of_error(const char *param, const char *path)
{
    char names[200], msg[256];
    gc_spec_field_names(gc_spec_field_find(path), names, sizeof names);
    snprintf(msg, sizeof msg, "must be one of: %s", names);
    return ga_field_error(param, msg);
}

enum MHD_Result ga_route_spec_defaults(struct ga_req *r)
{
    const char *ds = ga_query(r, "dataset");
    const char *loss = ga_query(r, "loss");
    int kind = ds ? gc_dataset_from_name(ds) : -1;
    if (!ds)
        return ga_reply_problem(r, 400, one_of_error("dataset", "dataset.name"),
                                "dataset: the query needs ?dataset=NAME");
    if (kind < 0)
        return ga_reply_problem(r, 400, one_of_error("dataset", "dataset.name"),
                                "dataset: unknown dataset '%.40s'", ds);
    int l = loss ? gc_loss_from_name(loss) : -1;
    if (loss && l < 0)
        return ga_reply_problem(r, 400, one_of_error("loss", "loss"), "loss: unknown loss '%.40s'",
                                loss);
    const char *preset = ga_query(r, "preset");
    int p = preset ? gc_preset_from_name(preset) : GC_PRESET_NONE;
    if (preset && p < 0)
        return ga_reply_problem(r, 400, one_of_error("preset", "preset"),
                                "preset: unknown preset '%.40s'", preset);
    const char *task = ga_query(r, "task");
    int tk = task ? gc_task_from_name(task) : -1;
    if (task && tk < 0)
        return ga_reply_problem(r, 400, one_of_error("task", "task.kind"),
                                "task: unknown task '%.40s'", task);
    struct gc_spec spec;
    gc_spec_defaults_for(&spec, (enum gc_dataset_kind)kind, l, p);
    struct gc_task_spec ts = spec.task;
    ts.on = task != NULL;
    ts.kind = tk < 0 ? ts.kind : (enum gc_task_kind)tk;
    gc_spec_task_defaults(&spec, &ts);
    return ga_reply_json(r, 200, ga_spec_to_value(&spec, NULL));
}
