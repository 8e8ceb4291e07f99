/* model_onnx.c — a model's layers as nodes of an ONNX graph (see model_onnx.h).
 *
 * Each layer becomes the ONNX operator that computes what its eval-mode forward
 * computes: linear -> Gemm (weight (O,I) with transB = 1, as our kernel multiplies by
 * its transpose; a Flatten first when the input is an image), conv2d -> Conv,
 * convt2d -> ConvTranspose (weight (C,OC,K,K), the layout both use), batchnorm ->
 * BatchNormalization with the running statistics (inference mode), relu, leaky_relu
 * (alpha), tanh, sigmoid -> their operators, reshape -> Reshape to (-1, C, H, W).
 * Parameters are copied out of the params block (or the caller's copy of it) by each
 * layer's offsets, so what the graph holds is what gc_model_forward would use. */
#include "core/model_onnx.h"

#include <stdio.h>

#include "core/model_internal.h"

#define NAME_MAX_LEN 96

int gc_model_onnx_nodes(const struct gc_model *m, const float *params, struct gc_onnx *g,
                        const char *prefix, const char *input, const char *output,
                        struct gc_error *err)
{
    if (!m->finalized)
        return gc_error_set(err, GC_ESTATE, "onnx: the model is not finalized");
    const float *p = params ? params : m->params;
    char cur[NAME_MAX_LEN], next[NAME_MAX_LEN], w[NAME_MAX_LEN], b[NAME_MAX_LEN];
    snprintf(cur, sizeof cur, "%s", input);
    /* rank of the tensor flowing through: 2 for (N, F), 4 for (N, C, H, W) */
    int rank = m->h * m->w > 1 ? 4 : 2;
    for (int i = 0; i < m->nlayers; i++) {
        const struct gc_layer *l = &m->layers[i];
        if (i == m->nlayers - 1)
            snprintf(next, sizeof next, "%s", output);
        else
            snprintf(next, sizeof next, "%s.l%d", prefix, i);
        char node[NAME_MAX_LEN];
        snprintf(node, sizeof node, "%s.l%d.%s", prefix, i, gc_model_kind_name(l->kind));
        snprintf(w, sizeof w, "%s.l%d.weight", prefix, i);
        snprintf(b, sizeof b, "%s.l%d.bias", prefix, i);
        switch (l->kind) {
        case GC_LAYER_LINEAR: {
            if (rank == 4) {
                char flat[NAME_MAX_LEN];
                snprintf(flat, sizeof flat, "%s.l%d.flat", prefix, i);
                const char *in[] = {cur};
                struct gc_onnx_attr axis = {"axis", GC_ONNX_ATTR_INT, 0, 1, NULL, 0};
                gc_onnx_node(g, "Flatten", flat, in, 1, flat, &axis, 1);
                snprintf(cur, sizeof cur, "%s", flat);
                rank = 2;
            }
            int64_t wd[2] = {l->oc, (int64_t)l->in_size};
            gc_onnx_initializer(g, w, wd, 2, p + l->w_off);
            int64_t bd[1] = {l->oc};
            if (l->bias)
                gc_onnx_initializer(g, b, bd, 1, p + l->b_off);
            const char *in[] = {cur, w, b};
            struct gc_onnx_attr tb = {"transB", GC_ONNX_ATTR_INT, 0, 1, NULL, 0};
            gc_onnx_node(g, "Gemm", node, in, l->bias ? 3 : 2, next, &tb, 1);
            break;
        }
        case GC_LAYER_CONV2D:
        case GC_LAYER_CONVT2D: {
            int64_t wd[4];
            if (l->kind == GC_LAYER_CONV2D)
                wd[0] = l->oc, wd[1] = l->c;
            else
                wd[0] = l->c, wd[1] = l->oc;
            wd[2] = wd[3] = l->k;
            gc_onnx_initializer(g, w, wd, 4, p + l->w_off);
            int64_t bd[1] = {l->oc};
            if (l->bias)
                gc_onnx_initializer(g, b, bd, 1, p + l->b_off);
            int64_t ks[2] = {l->k, l->k}, st[2] = {l->stride, l->stride};
            int64_t pads[4] = {l->pad, l->pad, l->pad, l->pad};
            struct gc_onnx_attr at[3] = {
                {"kernel_shape", GC_ONNX_ATTR_INTS, 0, 0, ks, 2},
                {"strides", GC_ONNX_ATTR_INTS, 0, 0, st, 2},
                {"pads", GC_ONNX_ATTR_INTS, 0, 0, pads, 4},
            };
            const char *in[] = {cur, w, b};
            gc_onnx_node(g, l->kind == GC_LAYER_CONV2D ? "Conv" : "ConvTranspose", node, in,
                         l->bias ? 3 : 2, next, at, 3);
            break;
        }
        case GC_LAYER_BATCHNORM: {
            char mean[NAME_MAX_LEN], var[NAME_MAX_LEN];
            snprintf(mean, sizeof mean, "%s.l%d.running_mean", prefix, i);
            snprintf(var, sizeof var, "%s.l%d.running_var", prefix, i);
            int64_t cd[1] = {l->c};
            const float *stats = m->bn + l->bn_off;
            gc_onnx_initializer(g, w, cd, 1, p + l->w_off);
            gc_onnx_initializer(g, b, cd, 1, p + l->b_off);
            gc_onnx_initializer(g, mean, cd, 1, stats);
            gc_onnx_initializer(g, var, cd, 1, stats + l->c);
            const char *in[] = {cur, w, b, mean, var};
            struct gc_onnx_attr eps = {"epsilon", GC_ONNX_ATTR_FLOAT, l->eps, 0, NULL, 0};
            gc_onnx_node(g, "BatchNormalization", node, in, 5, next, &eps, 1);
            break;
        }
        case GC_LAYER_RELU:
        case GC_LAYER_TANH:
        case GC_LAYER_SIGMOID: {
            const char *in[] = {cur};
            const char *op = l->kind == GC_LAYER_RELU   ? "Relu"
                             : l->kind == GC_LAYER_TANH ? "Tanh"
                                                        : "Sigmoid";
            gc_onnx_node(g, op, node, in, 1, next, NULL, 0);
            break;
        }
        case GC_LAYER_LEAKY_RELU: {
            const char *in[] = {cur};
            struct gc_onnx_attr alpha = {"alpha", GC_ONNX_ATTR_FLOAT, l->slope, 0, NULL, 0};
            gc_onnx_node(g, "LeakyRelu", node, in, 1, next, &alpha, 1);
            break;
        }
        case GC_LAYER_RESHAPE: {
            char shape[NAME_MAX_LEN];
            snprintf(shape, sizeof shape, "%s.l%d.shape", prefix, i);
            int64_t sd[1] = {4}, sv[4] = {-1, l->oc, l->oh, l->ow};
            gc_onnx_initializer_i64(g, shape, sd, 1, sv);
            const char *in[] = {cur, shape};
            gc_onnx_node(g, "Reshape", node, in, 2, next, NULL, 0);
            rank = 4;
            break;
        }
        default:
            return gc_error_set(err, GC_EUNSUPPORTED, "onnx: no operator for a %s layer",
                                gc_model_kind_name(l->kind));
        }
        if (l->kind == GC_LAYER_CONV2D || l->kind == GC_LAYER_CONVT2D)
            rank = 4;
        snprintf(cur, sizeof cur, "%s", next);
    }
    if (m->nlayers == 0)
        return gc_error_set(err, GC_EINVAL, "onnx: the model has no layers");
    return 0;
}
