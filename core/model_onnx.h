/* model_onnx.h — a model as ONNX operators, for exporting a trained generator.
 *
 * Threads: reads the model; the caller owns it and the graph (one thread). */
#ifndef GC_MODEL_ONNX_H
#define GC_MODEL_ONNX_H

#include "core/error.h"
#include "core/onnx.h"

struct gc_model;

/* Appends m's layers to g as nodes from the tensor named input to the one named output,
 * with the eval-mode meaning of each layer (batch norm with its running statistics).
 * Weights come from params (gc_model_params order; NULL: the model's own) and go in as
 * initializers named "PREFIX.lI.weight", "PREFIX.lI.bias", ... GC_EUNSUPPORTED for a
 * layer with no operator. */
int gc_model_onnx_nodes(const struct gc_model *m, const float *params, struct gc_onnx *g,
                        const char *prefix, const char *input, const char *output,
                        struct gc_error *err);

#endif
