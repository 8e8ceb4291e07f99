/* data_classes.c — the classes of labelled datasets (see data.h): from an opened set,
 * from a spec without reading its images, lookups, and the text form the store keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/data_internal.h"

/* Fashion-MNIST's class names, as its README gives them. */
static const char *const fashion_names[GC_FASHION_MNIST_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

static void add(struct gc_class_list *l, int label, const char *name)
{
    struct gc_class *c = &l->c[l->n++];
    c->label = label;
    if (name)
        snprintf(c->name, sizeof c->name, "%s", name);
    else
        snprintf(c->name, sizeof c->name, "%d", label);
}

/* The labels of the first count entries of lab that occur, in label order. */
static void from_labels(struct gc_class_list *out, const uint8_t *lab, size_t count)
{
    uint8_t seen[256] = {0};
    for (size_t i = 0; i < count; i++)
        seen[lab[i]] = 1;
    for (int k = 0; k < 256; k++)
        if (seen[k])
            add(out, k, NULL);
}

void gc_dataset_classes(const struct gc_dataset *d, struct gc_class_list *out)
{
    out->n = 0;
    switch (d->kind) {
    case GC_DATA_FASHION_MNIST: {
        uint8_t seen[GC_FASHION_MNIST_CLASSES] = {0};
        for (size_t i = 0; i < d->count; i++)
            seen[d->labels[i]] = 1;
        for (int k = 0; k < GC_FASHION_MNIST_CLASSES; k++)
            if (seen[k])
                add(out, k, fashion_names[k]);
        return;
    }
    case GC_DATA_IDX:
        if (d->labels)
            from_labels(out, d->labels, d->count);
        return;
    case GC_DATA_PNG_DIR:
        for (int k = 0; d->names && k < d->nclasses; k++)
            add(out, k, d->names[k]);
        return;
    case GC_DATA_RING8:
    case GC_DATA_GRID25:
        for (int k = 0; k < d->nmodes; k++)
            add(out, k, NULL);
        return;
    }
}

int gc_dataset_spec_classes(const struct gc_dataset_spec *spec, struct gc_class_list *out,
                            struct gc_error *err)
{
    out->n = 0;
    switch (spec->kind) {
    case GC_DATA_FASHION_MNIST:
        for (int k = 0; k < GC_FASHION_MNIST_CLASSES; k++)
            if (!spec->classes || (spec->classes >> k & 1))
                add(out, k, fashion_names[k]);
        return 0;
    case GC_DATA_IDX: {
        if (!spec->labels_path[0])
            return gc_error_set(err, GC_EINVAL,
                                "idx: %s has no labels without dataset.labels_path (an IDX1 "
                                "file of one label per image)",
                                spec->path);
        /* the images too: a labels file of another length is refused now, not later */
        struct gc_dataset *d = gc_dataset_open(spec, NULL, NULL, err);
        if (!d)
            return err ? err->code : GC_EINVAL;
        gc_dataset_classes(d, out);
        gc_dataset_destroy(d);
        return 0;
    }
    case GC_DATA_PNG_DIR:
        return gc_data_png_classes(spec, out, err);
    case GC_DATA_RING8:
    case GC_DATA_GRID25:
        for (int k = 0; k < gc_dataset_kind_modes(spec->kind); k++)
            add(out, k, NULL);
        return 0;
    }
    return gc_error_set(err, GC_EINVAL, "dataset: unknown kind %d", (int)spec->kind);
}

int gc_class_list_find_label(const struct gc_class_list *l, int label)
{
    for (int i = 0; i < l->n; i++)
        if (l->c[i].label == label)
            return i;
    return -1;
}

int gc_class_list_find_name(const struct gc_class_list *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->c[i].name, name) == 0)
            return i;
    return -1;
}

int gc_class_list_equal(const struct gc_class_list *a, const struct gc_class_list *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->c[i].label != b->c[i].label || strcmp(a->c[i].name, b->c[i].name) != 0)
            return 0;
    return 1;
}

char *gc_class_list_to_text(const struct gc_class_list *l)
{
    size_t cap = 1;
    for (int i = 0; i < l->n; i++)
        cap += 12 + strlen(l->c[i].name) + 1;
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    *p = '\0';
    for (int i = 0; i < l->n; i++)
        p += snprintf(p, cap - (size_t)(p - s), "%d %s\n", l->c[i].label, l->c[i].name);
    return s;
}

int gc_class_list_from_text(const char *text, struct gc_class_list *out, struct gc_error *err)
{
    out->n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            return gc_error_set(err, GC_ECORRUPT, "classes: line %d has no end", out->n + 1);
        char *end;
        long label = strtol(p, &end, 10);
        size_t len = (size_t)(nl - end) - 1;
        if (end == p || *end != ' ' || label < 0 || label > 255 || len >= GC_CLASS_NAME_MAX ||
            out->n == GC_MAX_CLASSES)
            return gc_error_set(err, GC_ECORRUPT, "classes: line %d is not 'LABEL NAME'",
                                out->n + 1);
        struct gc_class *c = &out->c[out->n++];
        c->label = (int)label;
        memcpy(c->name, end + 1, len);
        c->name[len] = '\0';
        p = nl + 1;
    }
    return 0;
}
