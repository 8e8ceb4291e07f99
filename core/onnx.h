/* onnx.h — writing an ONNX model (a ModelProto in protobuf's wire format) without a
 * protobuf library.
 *
 * A struct gc_onnx collects a graph: initializers (float or int64 tensors), nodes of
 * the default domain with their attributes, one input and one output; gc_onnx_finish
 * encodes it as a ModelProto of IR version 7 importing opset GC_ONNX_OPSET of the
 * default domain. Field numbers and types are those of onnx/onnx.proto (proto2):
 * every message is written as length-delimited bytes, integers as varints, floats as
 * fixed32, tensors' contents as raw little-endian bytes. What ganctl exports is
 * documented in docs/api.md (export).
 *
 * A graph is used by one thread; no globals. Errors: GC_ENOMEM; after one, later calls
 * do nothing and gc_onnx_finish returns it. */
#ifndef GC_ONNX_H
#define GC_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define GC_ONNX_OPSET 13
#define GC_ONNX_IR_VERSION 7

/* An attribute of a node: a float, an int or a list of ints (names as the operator's
 * page in the ONNX operator docs spells them). */
enum gc_onnx_attr_type { GC_ONNX_ATTR_FLOAT, GC_ONNX_ATTR_INT, GC_ONNX_ATTR_INTS };
struct gc_onnx_attr {
    const char *name;
    enum gc_onnx_attr_type type;
    float f;
    int64_t i;
    const int64_t *ints;
    int nints;
};

struct gc_onnx;

/* The caller owns the graph; NULL when out of memory. */
struct gc_onnx *gc_onnx_create(const char *graph_name);
void gc_onnx_destroy(struct gc_onnx *g);

/* A float tensor of shape dims (ndims of them) holding data (copied), named name. */
void gc_onnx_initializer(struct gc_onnx *g, const char *name, const int64_t *dims, int ndims,
                         const float *data);
/* An int64 tensor (a Reshape's shape). */
void gc_onnx_initializer_i64(struct gc_onnx *g, const char *name, const int64_t *dims, int ndims,
                             const int64_t *data);
/* A node of op_type with inputs (nin names; "" for an optional input left out), one
 * output, and nattrs attributes. */
void gc_onnx_node(struct gc_onnx *g, const char *op_type, const char *name,
                  const char *const *inputs, int nin, const char *output,
                  const struct gc_onnx_attr *attrs, int nattrs);

/* The graph's float input and output: shape dims, a dimension < 0 being symbolic and
 * named "N" (the batch). */
struct gc_onnx_value {
    const char *name;
    const int64_t *dims;
    int ndims;
    const char *doc;
};

/* Encodes the model into *out (malloc'ed, the caller frees): producer "ganctl" of
 * producer_version, a doc string, metadata (nmeta key/value pairs). */
int gc_onnx_finish(struct gc_onnx *g, const struct gc_onnx_value *input,
                   const struct gc_onnx_value *output, const char *producer_version,
                   const char *doc, const char *const (*meta)[2], int nmeta, uint8_t **out,
                   size_t *len, struct gc_error *err);

#endif
