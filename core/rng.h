/* rng.h — seedable random numbers with small, serializable state.
 *
 * xoshiro256** seeded through splitmix64 from (seed, stream): each stream of one seed
 * is an independent sequence (one for a model's init, one per data loader, ...).
 * Integer arithmetic only, apart from the normal draw's log/sqrt/cos in double, so
 * the same seed gives the same numbers on every machine. No globals: the caller owns
 * the state and passes it in; a state is not thread-safe, give each thread its own. */
#ifndef GC_RNG_H
#define GC_RNG_H

#include <stddef.h>
#include <stdint.h>

struct gc_rng {
    uint64_t s[4];
    double spare; /* second Box-Muller value */
    int has_spare;
};

/* Serialized size of a state in bytes (gc_rng_save / gc_rng_load). */
#define GC_RNG_BYTES 48

void gc_rng_init(struct gc_rng *r, uint64_t seed, uint64_t stream);
uint64_t gc_rng_u64(struct gc_rng *r);
/* Uniform in [0, 1) with 24 bits (float) or 53 bits (double). */
float gc_rng_uniform(struct gc_rng *r);
double gc_rng_uniform_d(struct gc_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t gc_rng_below(struct gc_rng *r, uint64_t n);
/* Standard normal. */
float gc_rng_normal(struct gc_rng *r);
void gc_rng_fill_uniform(struct gc_rng *r, float *x, size_t n, float lo, float hi);
void gc_rng_fill_normal(struct gc_rng *r, float *x, size_t n, float mean, float std);
/* Fisher-Yates shuffle of idx[0..n). */
void gc_rng_shuffle(struct gc_rng *r, uint32_t *idx, size_t n);
/* Little-endian, GC_RNG_BYTES bytes. */
void gc_rng_save(const struct gc_rng *r, uint8_t out[GC_RNG_BYTES]);
void gc_rng_load(struct gc_rng *r, const uint8_t in[GC_RNG_BYTES]);

#endif
