/* conv.h — 2D convolution and transposed convolution, NCHW, float32.
 *
 * A struct gc_conv holds the shape of one layer; gc_conv2d_init / gc_convt2d_init
 * validate it (returning GC_EINVAL with a message for bad shapes) and compute the
 * output size and the workspace the kernels need. Kernels take raw pointers.
 *
 * conv2d:   inp (N,C,H,W) -> out (N,OC,OH,OW), weight (OC,C,K,K), bias (OC) or NULL,
 *           OH = (H + 2P - K)/S + 1.
 * convt2d:  inp (N,C,H,W) -> out (N,OC,OH,OW), weight (C,OC,K,K) as PyTorch's
 *           ConvTranspose2d, bias (OC) or NULL, OH = (H - 1)S - 2P + K.
 * Backward passes accumulate (+=) into dweight and dbias, and into dinp when add_dinp;
 * without it they write dinp (=), which need not be zeroed: a model's first gradient
 * into a tensor skips the zeroing pass. Each may be NULL. */
#ifndef GC_CONV_H
#define GC_CONV_H

#include <stddef.h>

#include "core/error.h"

struct gc_conv {
    int n, c, h, w; /* input */
    int oc, k, stride, pad;
    int oh, ow; /* output */
    int transposed;
    int bf16; /* GEMMs on bfloat16 inputs (core/blas.h gc_gemm); init sets 0, the owner may
                 set 1 */
};

int gc_conv2d_init(struct gc_conv *L, int n, int c, int h, int w, int oc, int k, int stride,
                   int pad, struct gc_error *err);
int gc_convt2d_init(struct gc_conv *L, int n, int c, int h, int w, int oc, int k, int stride,
                    int pad, struct gc_error *err);
/* Floats of scratch memory forward and backward need for a batch of L->n. */
size_t gc_conv_workspace(const struct gc_conv *L);
/* Samples the kernels put side by side in one GEMM (1: one GEMM per sample). */
int gc_conv_group(const struct gc_conv *L);

/* n <= L->n is the batch of this call. */
void gc_conv2d_forward(const struct gc_conv *L, int n, float *out, const float *inp,
                       const float *weight, const float *bias, float *ws);
void gc_conv2d_backward(const struct gc_conv *L, int n, float *dinp, int add_dinp, float *dweight,
                        float *dbias, const float *dout, const float *inp, const float *weight,
                        float *ws);
void gc_convt2d_forward(const struct gc_conv *L, int n, float *out, const float *inp,
                        const float *weight, const float *bias, float *ws);
void gc_convt2d_backward(const struct gc_conv *L, int n, float *dinp, int add_dinp, float *dweight,
                         float *dbias, const float *dout, const float *inp, const float *weight,
                         float *ws);

/* The weight packed ahead (core/gemm.h gc_gemm_pack_a_part), so that the threads that
 * run one layer on their shares of a batch pack it once between them instead of once
 * each: a forward's (GC_CONV_FORWARD) or a backward's input gradient's (GC_CONV_DINP).
 * gc_conv_pack_words is the room it takes in either precision; gc_conv_pack_weight
 * packs thread ith of nth's part into buf (cap 32-bit words), and once every part is
 * done, out (the same on every thread) is the packed weight. Passes given it through
 * the _packed calls use it where it matches the layer, its weight and its precision,
 * and pack their own otherwise (a conv2d forward with a bias always does: the bias
 * rides in the packed operand). Their results are the same bits either way. */
enum gc_conv_use { GC_CONV_FORWARD, GC_CONV_DINP };
struct gc_gemm_packed_a;
size_t gc_conv_pack_words(const struct gc_conv *L, enum gc_conv_use use);
void gc_conv_pack_weight(const struct gc_conv *L, enum gc_conv_use use, const float *weight,
                         void *buf, size_t cap, int ith, int nth, struct gc_gemm_packed_a *out);
/* gc_conv2d_forward or gc_convt2d_forward (by L->transposed) with w packed ahead */
void gc_conv_forward_packed(const struct gc_conv *L, int n, float *out, const float *inp,
                            const float *weight, const float *bias,
                            const struct gc_gemm_packed_a *w, float *ws);
/* gc_conv2d_backward or gc_convt2d_backward with w (GC_CONV_DINP) packed ahead */
void gc_conv_backward_packed(const struct gc_conv *L, int n, float *dinp, int add_dinp,
                             float *dweight, float *dbias, const float *dout, const float *inp,
                             const float *weight, const struct gc_gemm_packed_a *w, float *ws);

/* The second-order passes (double backward) of the input gradients, which are bilinear
 * in (dout, weight) and do not depend on inp or the bias: given ggx = dP/d(dinp)
 * (N,C,H,W) for a scalar P, ggout = dP/d(dout) (N,OC,OH,OW) is WRITTEN (the layer's
 * forward of ggx without bias) and dweight += the weight gradient of the forward at
 * input ggx and output gradient dout. Either output may be NULL. */
void gc_conv2d_backward2(const struct gc_conv *L, int n, float *ggout, float *dweight,
                         const float *ggx, const float *dout, const float *weight, float *ws);
void gc_convt2d_backward2(const struct gc_conv *L, int n, float *ggout, float *dweight,
                          const float *ggx, const float *dout, const float *weight, float *ws);

#endif
