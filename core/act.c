/* act.c — elementwise activations (relu, leaky relu, tanh, sigmoid).
 *
 * Forwards may run in place. Backwards add into dinp or write it (act.h); relu and leaky relu
 * read the forward's input, tanh and sigmoid its output (cheaper than recomputing).
 * tanh and sigmoid also have second-order passes (act.h). */
#include "core/act.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The relus run eight floats at a time in GCC/clang vector types (the build's -O2 does
 * not vectorize these loops, and the branchy scalar form mispredicted on the random
 * signs of a layer's output: a fifth of a DCGAN step). Each lane computes exactly what
 * the scalar form does (x * 1 is x), so results are the same bits. Loads and stores go
 * through memcpy: no alignment is assumed, and the forward may run in place since a
 * block is read whole before it is written. */
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

static inline v8f load8(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void store8(float *p, v8f v)
{
    memcpy(p, &v, sizeof v);
}

/* lanes of x > 0 take a, the others b */
static inline v8f select_pos(v8f x, v8f a, v8f b)
{
    v8i pos = x > (v8f){0};
    return (v8f)((pos & (v8i)a) | (~pos & (v8i)b));
}

void gc_relu_forward(float *out, const float *inp, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f x = load8(inp + i);
        store8(out + i, select_pos(x, x, (v8f){0}));
    }
    for (; i < n; i++)
        out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

/* What a backward adds to, per lane: dinp's value, or 0 (written: 0 + v, as adding v
 * into a zeroed dinp gave, so a -0 still comes out +0). */
static inline v8f base8(const float *dinp, int add)
{
    return add ? load8(dinp) : (v8f){0};
}

void gc_relu_backward(float *dinp, int add, const float *dout, const float *inp, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        store8(dinp + i,
               base8(dinp + i, add) + select_pos(load8(inp + i), load8(dout + i), (v8f){0}));
    for (; i < n; i++)
        dinp[i] = (add ? dinp[i] : 0.0f) + (inp[i] > 0.0f ? dout[i] : 0.0f);
}

void gc_leaky_relu_forward(float *out, const float *inp, size_t n, float slope)
{
    const v8f one = {1, 1, 1, 1, 1, 1, 1, 1}, sl = one * slope;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f x = load8(inp + i);
        store8(out + i, select_pos(x, x, sl * x));
    }
    for (; i < n; i++)
        out[i] = inp[i] > 0.0f ? inp[i] : slope * inp[i];
}

void gc_leaky_relu_backward(float *dinp, int add, const float *dout, const float *inp, size_t n,
                            float slope)
{
    const v8f one = {1, 1, 1, 1, 1, 1, 1, 1}, sl = one * slope;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f d = load8(dout + i);
        store8(dinp + i, base8(dinp + i, add) + select_pos(load8(inp + i), d, sl * d));
    }
    for (; i < n; i++)
        dinp[i] = (add ? dinp[i] : 0.0f) + (inp[i] > 0.0f ? dout[i] : slope * dout[i]);
}

/* tanh of eight lanes, to about 1e-7 relative: below |x| = 0.55 the odd Taylor series
 * to x^17 (alternating: the first term left out is under 6e-9 of tanh there); above,
 * 1 - 2/(exp(2|x|) + 1) with exp(y) = 2^k exp(r), |r| <= ln2/2, from its Taylor series to
 * r^7 (error under 6e-9), and the sign put back; from |x| = 9.1 on the float is 1
 * exactly, and NaN stays NaN. libm's tanhf, one call a value, was a twentieth of a
 * 64x64 generator's forward. */
typedef int32_t v8i32 __attribute__((vector_size(32)));

static inline v8f tanh8(v8f x)
{
    const v8f one = {1, 1, 1, 1, 1, 1, 1, 1};
    const v8i32 sign = (v8i32){0} + (int32_t)0x80000000;
    const v8i32 bits = (v8i32)x;
    const v8f ax = (v8f)(bits & ~sign);
    /* x (1 - z/3 + 2z^2/15 - 17z^3/315 + ...), z = x^2 */
    const v8f z = ax * ax;
    v8f q = one * (6404582.0f / 10854718875.0f);
    q = q * z - 929569.0f / 638512875.0f;
    q = q * z + 21844.0f / 6081075.0f;
    q = q * z - 1382.0f / 155925.0f;
    q = q * z + 62.0f / 2835.0f;
    q = q * z - 17.0f / 315.0f;
    q = q * z + 2.0f / 15.0f;
    q = q * z - 1.0f / 3.0f;
    q = q * z + 1.0f;
    const v8f small = ax * q;
    /* 2|x| clamped to 18.2, where 2/(e^y + 1) is far below half an ulp of 1 */
    v8f y = ax * 2.0f;
    const v8i32 big = (v8i32)(y > one * 18.2f);
    y = (v8f)((~big & (v8i32)y) | (big & (v8i32)(one * 18.2f)));
    const v8i32 k = __builtin_convertvector(y * 1.44269504f + 0.5f, v8i32);
    const v8f kf = __builtin_convertvector(k, v8f);
    const v8f r = y - kf * 0.693145752f - kf * 1.42860677e-06f; /* ln 2 in two parts */
    v8f e = one * (1.0f / 5040);
    e = e * r + 1.0f / 720;
    e = e * r + 1.0f / 120;
    e = e * r + 1.0f / 24;
    e = e * r + 1.0f / 6;
    e = e * r + 0.5f;
    e = e * r + 1.0f;
    e = e * r + 1.0f;
    e = (v8f)((v8i32)e + (k << 23)); /* times 2^k */
    const v8f large = one - 2.0f / (e + one);
    const v8i32 use_small = (v8i32)(ax < one * 0.55f);
    v8i32 t = (use_small & (v8i32)small) | (~use_small & (v8i32)large);
    t |= bits & sign;
    const v8i32 nan = (v8i32)(x != x);
    return (v8f)((nan & bits) | (~nan & t));
}

void gc_tanh_forward(float *out, const float *inp, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        store8(out + i, tanh8(load8(inp + i)));
    for (; i < n; i++)
        out[i] = tanhf(inp[i]);
}

void gc_tanh_backward(float *dinp, int add, const float *dout, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dinp[i] = (add ? dinp[i] : 0.0f) + dout[i] * (1.0f - out[i] * out[i]);
}

void gc_sigmoid_forward(float *out, const float *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        /* both branches keep exp() from overflowing for large |x| */
        if (x >= 0.0f) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
}

void gc_sigmoid_backward(float *dinp, int add, const float *dout, const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dinp[i] = (add ? dinp[i] : 0.0f) + dout[i] * out[i] * (1.0f - out[i]);
}

/* tanh' = 1 - y^2, tanh'' = -2 y (1 - y^2) */
void gc_tanh_backward2(float *ggout, float *ggin, const float *ggx, const float *dout,
                       const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float y = out[i], d1 = 1.0f - y * y;
        if (ggout)
            ggout[i] = ggx[i] * d1;
        if (ggin)
            ggin[i] += ggx[i] * dout[i] * (-2.0f * y * d1);
    }
}

/* sigmoid' = y (1 - y), sigmoid'' = y (1 - y)(1 - 2y) */
void gc_sigmoid_backward2(float *ggout, float *ggin, const float *ggx, const float *dout,
                          const float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float y = out[i], d1 = y * (1.0f - y);
        if (ggout)
            ggout[i] = ggx[i] * d1;
        if (ggin)
            ggin[i] += ggx[i] * dout[i] * d1 * (1.0f - 2.0f * y);
    }
}
