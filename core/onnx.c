/* onnx.c — a ModelProto in protobuf's wire format (see onnx.h).
 *
 * The wire format: every field is a key (field number << 3 | wire type) followed by
 * its value; wire type 0 is a varint (int32, int64, enums), 2 is length-delimited
 * (strings, bytes, embedded messages, packed repeated scalars), 5 is fixed32 (float).
 * Messages are built inside out: a sub-message is written into a buffer of its own,
 * then appended to its parent as length-delimited bytes. The graph's nodes and
 * initializers are kept encoded as they come, so finishing is a few appends. */
#include "core/onnx.h"

#include <stdlib.h>
#include <string.h>

#include "core/serial.h"

/* onnx.proto's field numbers. */
enum {
    MODEL_IR_VERSION = 1,
    MODEL_PRODUCER_NAME = 2,
    MODEL_PRODUCER_VERSION = 3,
    MODEL_DOC_STRING = 6,
    MODEL_GRAPH = 7,
    MODEL_OPSET_IMPORT = 8,
    MODEL_METADATA_PROPS = 14,
    OPSET_DOMAIN = 1,
    OPSET_VERSION = 2,
    ENTRY_KEY = 1,
    ENTRY_VALUE = 2,
    GRAPH_NODE = 1,
    GRAPH_NAME = 2,
    GRAPH_INITIALIZER = 5,
    GRAPH_INPUT = 11,
    GRAPH_OUTPUT = 12,
    NODE_INPUT = 1,
    NODE_OUTPUT = 2,
    NODE_NAME = 3,
    NODE_OP_TYPE = 4,
    NODE_ATTRIBUTE = 5,
    ATTR_NAME = 1,
    ATTR_F = 2,
    ATTR_I = 3,
    ATTR_INTS = 8,
    ATTR_TYPE = 20,
    TENSOR_DIMS = 1,
    TENSOR_DATA_TYPE = 2,
    TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9,
    VALUE_NAME = 1,
    VALUE_TYPE = 2,
    VALUE_DOC_STRING = 3,
    TYPE_TENSOR = 1,
    TENSOR_TYPE_ELEM = 1,
    TENSOR_TYPE_SHAPE = 2,
    SHAPE_DIM = 1,
    DIM_VALUE = 1,
    DIM_PARAM = 2,
};
/* AttributeProto.AttributeType and TensorProto.DataType values. */
enum { ATTR_TYPE_FLOAT = 1, ATTR_TYPE_INT = 2, ATTR_TYPE_INTS = 7 };
enum { DTYPE_FLOAT = 1, DTYPE_INT64 = 7 };
enum { WIRE_VARINT = 0, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

struct gc_onnx {
    struct gc_buf graph; /* the GraphProto's fields so far: name, nodes, initializers */
};

static void put_varint(struct gc_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    int n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    gc_buf_put(b, tmp, (size_t)n);
}

static void put_key(struct gc_buf *b, int field, int wire)
{
    put_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

static void put_int(struct gc_buf *b, int field, int64_t v)
{
    put_key(b, field, WIRE_VARINT);
    put_varint(b, (uint64_t)v); /* a negative int64 is its two's complement, 10 bytes */
}

static void put_bytes(struct gc_buf *b, int field, const void *p, size_t n)
{
    put_key(b, field, WIRE_LEN);
    put_varint(b, n);
    gc_buf_put(b, p, n);
}

static void put_str(struct gc_buf *b, int field, const char *s)
{
    put_bytes(b, field, s, strlen(s));
}

static void put_float(struct gc_buf *b, int field, float f)
{
    put_key(b, field, WIRE_FIXED32);
    uint32_t u;
    memcpy(&u, &f, 4);
    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    gc_buf_put(b, le, 4);
}

/* Appends the message sub as field of b and empties sub. */
static void put_msg(struct gc_buf *b, int field, struct gc_buf *sub)
{
    if (sub->oom)
        b->oom = 1;
    put_bytes(b, field, sub->data ? sub->data : (const uint8_t *)"", sub->len);
    gc_buf_fini(sub);
    gc_buf_init(sub);
}

struct gc_onnx *gc_onnx_create(const char *graph_name)
{
    struct gc_onnx *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    gc_buf_init(&g->graph);
    put_str(&g->graph, GRAPH_NAME, graph_name);
    return g;
}

void gc_onnx_destroy(struct gc_onnx *g)
{
    if (!g)
        return;
    gc_buf_fini(&g->graph);
    free(g);
}

static void tensor(struct gc_onnx *g, const char *name, const int64_t *dims, int ndims, int dtype,
                   const void *data, size_t elem)
{
    struct gc_buf t;
    gc_buf_init(&t);
    size_t count = 1;
    for (int i = 0; i < ndims; i++) {
        put_int(&t, TENSOR_DIMS, dims[i]);
        count *= (size_t)dims[i];
    }
    put_int(&t, TENSOR_DATA_TYPE, dtype);
    put_str(&t, TENSOR_NAME, name);
    /* raw_data is little-endian, which is this machine's order (x86-64) */
    put_bytes(&t, TENSOR_RAW_DATA, data, count * elem);
    put_msg(&g->graph, GRAPH_INITIALIZER, &t);
}

void gc_onnx_initializer(struct gc_onnx *g, const char *name, const int64_t *dims, int ndims,
                         const float *data)
{
    tensor(g, name, dims, ndims, DTYPE_FLOAT, data, sizeof(float));
}

void gc_onnx_initializer_i64(struct gc_onnx *g, const char *name, const int64_t *dims, int ndims,
                             const int64_t *data)
{
    tensor(g, name, dims, ndims, DTYPE_INT64, data, sizeof(int64_t));
}

void gc_onnx_node(struct gc_onnx *g, const char *op_type, const char *name,
                  const char *const *inputs, int nin, const char *output,
                  const struct gc_onnx_attr *attrs, int nattrs)
{
    struct gc_buf n, a;
    gc_buf_init(&n);
    gc_buf_init(&a);
    for (int i = 0; i < nin; i++)
        put_str(&n, NODE_INPUT, inputs[i]);
    put_str(&n, NODE_OUTPUT, output);
    put_str(&n, NODE_NAME, name);
    put_str(&n, NODE_OP_TYPE, op_type);
    for (int i = 0; i < nattrs; i++) {
        const struct gc_onnx_attr *at = &attrs[i];
        put_str(&a, ATTR_NAME, at->name);
        switch (at->type) {
        case GC_ONNX_ATTR_FLOAT:
            put_float(&a, ATTR_F, at->f);
            put_int(&a, ATTR_TYPE, ATTR_TYPE_FLOAT);
            break;
        case GC_ONNX_ATTR_INT:
            put_int(&a, ATTR_I, at->i);
            put_int(&a, ATTR_TYPE, ATTR_TYPE_INT);
            break;
        case GC_ONNX_ATTR_INTS:
            for (int k = 0; k < at->nints; k++)
                put_int(&a, ATTR_INTS, at->ints[k]);
            put_int(&a, ATTR_TYPE, ATTR_TYPE_INTS);
            break;
        }
        put_msg(&n, NODE_ATTRIBUTE, &a);
    }
    put_msg(&g->graph, GRAPH_NODE, &n);
    gc_buf_fini(&a);
}

/* A ValueInfoProto of a float tensor. */
static void value_info(struct gc_buf *b, int field, const struct gc_onnx_value *v)
{
    struct gc_buf vi, type, tt, shape, dim;
    gc_buf_init(&vi);
    gc_buf_init(&type);
    gc_buf_init(&tt);
    gc_buf_init(&shape);
    gc_buf_init(&dim);
    for (int i = 0; i < v->ndims; i++) {
        if (v->dims[i] < 0)
            put_str(&dim, DIM_PARAM, "N");
        else
            put_int(&dim, DIM_VALUE, v->dims[i]);
        put_msg(&shape, SHAPE_DIM, &dim);
    }
    put_int(&tt, TENSOR_TYPE_ELEM, DTYPE_FLOAT);
    put_msg(&tt, TENSOR_TYPE_SHAPE, &shape);
    put_msg(&type, TYPE_TENSOR, &tt);
    put_str(&vi, VALUE_NAME, v->name);
    put_msg(&vi, VALUE_TYPE, &type);
    if (v->doc)
        put_str(&vi, VALUE_DOC_STRING, v->doc);
    put_msg(b, field, &vi);
    gc_buf_fini(&dim);
    gc_buf_fini(&shape);
    gc_buf_fini(&tt);
    gc_buf_fini(&type);
    gc_buf_fini(&vi);
}

int gc_onnx_finish(struct gc_onnx *g, const struct gc_onnx_value *input,
                   const struct gc_onnx_value *output, const char *producer_version,
                   const char *doc, const char *const (*meta)[2], int nmeta, uint8_t **out,
                   size_t *len, struct gc_error *err)
{
    struct gc_buf m, sub;
    gc_buf_init(&m);
    gc_buf_init(&sub);
    value_info(&g->graph, GRAPH_INPUT, input);
    value_info(&g->graph, GRAPH_OUTPUT, output);
    put_int(&m, MODEL_IR_VERSION, GC_ONNX_IR_VERSION);
    put_str(&m, MODEL_PRODUCER_NAME, "ganctl");
    put_str(&m, MODEL_PRODUCER_VERSION, producer_version ? producer_version : "");
    if (doc)
        put_str(&m, MODEL_DOC_STRING, doc);
    put_msg(&m, MODEL_GRAPH, &g->graph);
    put_str(&sub, OPSET_DOMAIN, "");
    put_int(&sub, OPSET_VERSION, GC_ONNX_OPSET);
    put_msg(&m, MODEL_OPSET_IMPORT, &sub);
    for (int i = 0; i < nmeta; i++) {
        put_str(&sub, ENTRY_KEY, meta[i][0]);
        put_str(&sub, ENTRY_VALUE, meta[i][1]);
        put_msg(&m, MODEL_METADATA_PROPS, &sub);
    }
    gc_buf_fini(&sub);
    if (m.oom) {
        gc_buf_fini(&m);
        return gc_error_set(err, GC_ENOMEM, "onnx: out of memory");
    }
    *out = m.data;
    *len = m.len;
    return 0;
}
