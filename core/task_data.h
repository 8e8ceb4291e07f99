/* task_data.h — the datasets of image-to-image runs: pairs of images read from two
 * folders (task paired), and the held-out split an evaluation translates.
 *
 * A pair is one dataset item of 2C channels: the input's C planes, then the target's.
 * Errors as core/data.h's; messages name the folder or file. Nothing here keeps state:
 * any thread. */
#ifndef GC_TASK_DATA_H
#define GC_TASK_DATA_H

#include "core/data.h"
#include "core/spec.h"

/* Every *.png of spec->dataset.path (byte order of the names) with a namesake in
 * spec->task.source_path, both scaled and cropped to image_size and converted to
 * channels as png-dir does. A file without its namesake, or one that does not decode,
 * is skipped with a warning; no pair at all is GC_ECORRUPT. The caller owns the set. */
struct gc_dataset *gc_task_open_paired(const struct gc_spec *spec, gc_warn_fn warn, void *ctx,
                                       struct gc_error *err);

/* Splits all into the images training keeps (*train) and every tenth one (image i with
 * i mod 10 = 9) held out for the evaluation (*held). Sets of fewer than 10 images hold
 * out their last. The caller owns both; all is left as it was. */
int gc_task_split(const struct gc_dataset *all, struct gc_dataset **train, struct gc_dataset **held,
                  struct gc_error *err);

#endif
