/* projection.c — the projection discriminator's class term (see projection.h). */
#include "core/projection.h"

#include <stddef.h>

void gc_projection_forward(float *out, const float *feat, const float *emb, int n, int o, int c,
                           int p)
{
    for (int i = 0; i < n; i++) {
        const float *f = feat + (size_t)i * c * p;
        for (int k = 0; k < o; k++) {
            const float *e = emb + ((size_t)i * o + k) * c;
            float *y = out + ((size_t)i * o + k) * p;
            for (int q = 0; q < p; q++) {
                float s = 0.0f;
                for (int j = 0; j < c; j++)
                    s += e[j] * f[(size_t)j * p + q];
                y[q] += s;
            }
        }
    }
}

void gc_projection_backward(float *dfeat, float *demb, const float *dout, const float *feat,
                            const float *emb, int n, int o, int c, int p)
{
    for (int i = 0; i < n; i++) {
        const float *f = feat + (size_t)i * c * p;
        float *df = dfeat ? dfeat + (size_t)i * c * p : NULL;
        for (int k = 0; k < o; k++) {
            const float *e = emb + ((size_t)i * o + k) * c;
            float *de = demb ? demb + ((size_t)i * o + k) * c : NULL;
            const float *dy = dout + ((size_t)i * o + k) * p;
            for (int j = 0; j < c; j++) {
                const float *fj = f + (size_t)j * p;
                float s = 0.0f;
                for (int q = 0; q < p; q++) {
                    s += dy[q] * fj[q];
                    if (df)
                        df[(size_t)j * p + q] += dy[q] * e[j];
                }
                if (de)
                    de[j] += s;
            }
        }
    }
}
