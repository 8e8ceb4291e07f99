/* catalog.c — what a client needs to know before it submits: the vocabulary and the
 * defaults.
 *
 *   GET /api/v1/catalog                       the names of every metric (with label,
 *       help, goal and format, from core/metrics.h) and of every enumerated spec value
 *       (datasets, architectures, losses, optimizers, decay shapes)
 *   GET /api/v1/spec/defaults?dataset=NAME[&loss=NAME]
 *       the whole normalized spec that {"dataset":{"name":NAME},"loss":NAME} gets:
 *       every default, computed by core's gc_spec_defaults, nothing checked against the
 *       disk (a png-dir or idx set still needs its path when submitted)
 *
 * The dashboard's launch form and its labels come from these two, so the daemon is the
 * one place that spells them out. */
#include "api/catalog.h"

#include <string.h>

#include "api/reply.h"
#include "api/request.h"
#include "api/spec_json.h"
#include "core/metrics.h"

/* The names of an enum, in order, from its name function: names(i) for i = 0, 1, ...
 * until it answers "?". */
static json_t *names_of(const char *(*name)(int))
{
    json_t *a = json_array();
    for (int i = 0; a && i < 64; i++) {
        const char *s = name(i);
        if (strcmp(s, "?") == 0)
            break;
        json_array_append_new(a, json_string(s));
    }
    return a;
}

static const char *dataset_name(int i)
{
    return gc_dataset_name((enum gc_dataset_kind)i);
}
static const char *arch_name(int i)
{
    return gc_arch_name((enum gc_arch)i);
}
static const char *loss_name(int i)
{
    return gc_loss_name((enum gc_loss)i);
}
static const char *optim_name(int i)
{
    return gc_optim_name((enum gc_optim_kind)i);
}
static const char *decay_name(int i)
{
    return gc_decay_shape_name((enum gc_decay_shape)i);
}

static json_t *metric_object(const struct gc_metric_info *m)
{
    const char *goal = gc_metric_goal_name(m->goal);
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "name", m->name, "kind",
                     gc_metric_kind_name(m->kind), "label", m->label, "help", m->help, "goal",
                     goal ? json_string(goal) : json_null(), "format",
                     gc_metric_format_name(m->format));
}

enum MHD_Result ga_route_catalog(struct ga_req *r)
{
    json_t *metrics = json_array();
    for (int i = 0; metrics && i < GC_M_COUNT; i++)
        json_array_append_new(metrics, metric_object(gc_metric_info((enum gc_metric_id)i)));
    json_t *datasets = json_array();
    for (int i = 0; datasets; i++) {
        const char *s = dataset_name(i);
        if (strcmp(s, "?") == 0)
            break;
        json_array_append_new(datasets, json_pack("{s:s,s:b}", "name", s, "points",
                                                  gc_dataset_is_2d((enum gc_dataset_kind)i)));
    }
    return ga_reply_json(r, 200,
                         json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "metrics", metrics, "datasets",
                                   datasets, "archs", names_of(arch_name), "losses",
                                   names_of(loss_name), "optimizers", names_of(optim_name),
                                   "decay_shapes", names_of(decay_name)));
}

/* "must be one of a, b, c" from an enum's names. */
static json_t *one_of_error(const char *field, const char *(*name)(int))
{
    char msg[256] = "must be one of ";
    for (int i = 0; i < 64; i++) {
        const char *s = name(i);
        if (strcmp(s, "?") == 0)
            break;
        if (i)
            strncat(msg, ", ", sizeof msg - strlen(msg) - 1);
        strncat(msg, s, sizeof msg - strlen(msg) - 1);
    }
    return ga_field_error(field, msg);
}

enum MHD_Result ga_route_spec_defaults(struct ga_req *r)
{
    const char *ds = ga_query(r, "dataset");
    const char *loss = ga_query(r, "loss");
    int kind = ds ? gc_dataset_from_name(ds) : -1;
    if (!ds)
        return ga_reply_problem(r, 400, one_of_error("dataset", dataset_name),
                                "dataset: the query needs ?dataset=NAME");
    if (kind < 0)
        return ga_reply_problem(r, 400, one_of_error("dataset", dataset_name),
                                "dataset: unknown dataset '%.40s'", ds);
    int l = loss ? gc_loss_from_name(loss) : GC_LOSS_NONSATURATING;
    if (l < 0)
        return ga_reply_problem(r, 400, one_of_error("loss", loss_name),
                                "loss: unknown loss '%.40s'", loss);
    struct gc_spec spec;
    gc_spec_defaults(&spec, (enum gc_dataset_kind)kind, (enum gc_loss)l);
    return ga_reply_json(r, 200, ga_spec_to_value(&spec, NULL));
}
