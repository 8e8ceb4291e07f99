/* linear.c — fully connected layer as two GEMMs (PyTorch's (O,I) weight layout).
 *
 * out (N,O) = inp (N,I) · weightᵀ + bias. Backward accumulates: dinp += dout · weight,
 * dweight += doutᵀ · inp, dbias += column sums of dout; NULL skips a gradient. The
 * second-order pass is the same two GEMMs with the roles swapped (see linear.h). */
#include "core/linear.h"

#include <stddef.h>
#include <string.h>

#include "core/blas.h"
#include "core/vec.h"

void gc_linear_forward(float *out, const float *inp, const float *weight, const float *bias, int n,
                       int in, int out_features, int bf16)
{
    const int o = out_features;
    if (bias) {
        /* seed the rows with the bias so that one GEMM with beta = 1 finishes the job */
        for (int i = 0; i < n; i++)
            memcpy(out + (size_t)i * o, bias, (size_t)o * sizeof *bias);
    }
    gc_gemm(bf16, 0, 1, n, o, in, 1.0f, inp, in, weight, in, bias ? 1.0f : 0.0f, out, o);
}

void gc_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, int n, int in, int out_features,
                        int bf16)
{
    const int o = out_features;
    if (dinp)
        gc_gemm(bf16, 0, 0, n, in, o, 1.0f, dout, o, weight, in, 1.0f, dinp, in);
    if (dweight)
        gc_gemm(bf16, 1, 0, o, in, n, 1.0f, dout, o, inp, in, 1.0f, dweight, in);
    if (dbias) {
        /* column sums in vector lanes: each column adds its rows in the same order */
        for (int i = 0; i < n; i++)
            gc_add_row(dbias, dout + (size_t)i * o, o);
    }
}

void gc_linear_backward2(float *ggout, float *dweight, const float *ggx, const float *dout,
                         const float *weight, int n, int in, int out_features)
{
    const int o = out_features;
    if (ggout)
        gc_sgemm(0, 1, n, o, in, 1.0f, ggx, in, weight, in, 0.0f, ggout, o);
    if (dweight)
        gc_sgemm(1, 0, o, in, n, 1.0f, dout, o, ggx, in, 1.0f, dweight, in);
}
