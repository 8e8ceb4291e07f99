/* rng.c — xoshiro256** with splitmix64 seeding; see rng.h. */
#include "core/rng.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void gc_rng_init(struct gc_rng *r, uint64_t seed, uint64_t stream)
{
    /* mix the stream in through its own splitmix pass so that (seed, stream) pairs
     * that differ only a little still start far apart */
    uint64_t x = seed;
    uint64_t y = stream ^ 0x5851f42d4c957f2dULL;
    uint64_t k = splitmix64(&y);
    x ^= k;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1;
    r->spare = 0;
    r->has_spare = 0;
}

uint64_t gc_rng_u64(struct gc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float gc_rng_uniform(struct gc_rng *r)
{
    return (float)(gc_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

double gc_rng_uniform_d(struct gc_rng *r)
{
    return (double)(gc_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t gc_rng_below(struct gc_rng *r, uint64_t n)
{
    /* rejection: draw until the value falls below the largest multiple of n */
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = gc_rng_u64(r);
    while (x >= lim);
    return x % n;
}

float gc_rng_normal(struct gc_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return (float)r->spare;
    }
    double u1 = gc_rng_uniform_d(r);
    double u2 = gc_rng_uniform_d(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586 * u2;
    r->spare = rad * sin(th);
    r->has_spare = 1;
    return (float)(rad * cos(th));
}

void gc_rng_fill_uniform(struct gc_rng *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * gc_rng_uniform(r);
}

void gc_rng_fill_normal(struct gc_rng *r, float *x, size_t n, float mean, float std)
{
    for (size_t i = 0; i < n; i++)
        x[i] = mean + std * gc_rng_normal(r);
}

void gc_rng_shuffle(struct gc_rng *r, uint32_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)gc_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void gc_rng_save(const struct gc_rng *r, uint8_t out[GC_RNG_BYTES])
{
    for (int i = 0; i < 4; i++)
        put64(out + 8 * i, r->s[i]);
    uint64_t bits;
    memcpy(&bits, &r->spare, 8);
    put64(out + 32, bits);
    put64(out + 40, (uint64_t)r->has_spare);
}

void gc_rng_load(struct gc_rng *r, const uint8_t in[GC_RNG_BYTES])
{
    for (int i = 0; i < 4; i++)
        r->s[i] = get64(in + 8 * i);
    uint64_t bits = get64(in + 32);
    memcpy(&r->spare, &bits, 8);
    r->has_spare = get64(in + 40) != 0;
}
