/* linear.h — fully connected layer.
 *
 * out (N,O) = inp (N,I) · weight(O,I)ᵀ + bias (O); weight is (O,I) as in PyTorch.
 * Backward passes accumulate (+=) into dinp, dweight and dbias; any of them may be
 * NULL to skip it. bf16: the GEMMs take bfloat16 inputs (core/blas.h gc_gemm). Kernels take raw
 * pointers and assume valid sizes: shapes are validated by whoever builds the layer (core/model.c).
 */
#ifndef GC_LINEAR_H
#define GC_LINEAR_H

void gc_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int n,
                       int in, int out_features, int bf16);
void gc_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int n, int in, int out_features,
                        int bf16);

#endif
